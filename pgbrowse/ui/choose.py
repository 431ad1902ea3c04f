"""Small dialogs that pick from a list: one entry (a foreign key to follow) or a set of
columns to show. Every label is outside text, drawn plain (never markup)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from pgbrowse.ui.safe import SafeStatic, plain


class ChooseScreen(ModalScreen[int | None]):
    """Pick one of ``labels`` (Enter); Esc picks none."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ChooseScreen { align: center middle; }
    ChooseScreen > Vertical { width: 90%; max-width: 110; height: auto; max-height: 80%;
                              border: round $accent; background: $surface; padding: 0 1; }
    ChooseScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, labels: list[str], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.labels = labels
        self.hint = hint or "Enter chooses · Esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(self.title_text, id="choose-title")
            yield OptionList(
                *(Option(plain(label), id=str(i)) for i, label in enumerate(self.labels)),
                id="choose-list",
            )
            yield SafeStatic(self.hint, id="choose-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnsScreen(ModalScreen[set[int] | None]):
    """Which columns the table draws: Space toggles one, Enter applies, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "apply", "Apply", priority=True),
        Binding("a", "all", "Show all"),
    ]
    DEFAULT_CSS = """
    ColumnsScreen { align: center middle; }
    ColumnsScreen > Vertical { width: 70; height: 80%; border: round $accent;
                               background: $surface; padding: 0 1; }
    ColumnsScreen SelectionList { height: 1fr; }
    """

    def __init__(self, names: list[str], types: list[str], hidden: set[int]) -> None:
        super().__init__()
        self.names, self.types, self.hidden = names, types, hidden

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(" Columns shown (Space toggles, a shows all, Enter applies)")
            yield SelectionList[int](
                *(
                    Selection(plain(f"{name}  {kind}"), i, i not in self.hidden)
                    for i, (name, kind) in enumerate(zip(self.names, self.types, strict=True))
                ),
                id="columns-list",
            )

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_all(self) -> None:
        self.query_one(SelectionList).select_all()

    def action_apply(self) -> None:
        shown = set(self.query_one(SelectionList).selected)
        if not shown:
            self.notify("At least one column stays shown", severity="warning")
            return
        self.dismiss(set(range(len(self.names))) - shown)

    def action_cancel(self) -> None:
        self.dismiss(None)
