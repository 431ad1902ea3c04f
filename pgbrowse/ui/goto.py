"""GotoScreen: ask where to go (a row number, a percentage, or the end) and answer a row."""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from pgbrowse.ui.safe import SafeStatic

_NUMBER = re.compile(r"[\d,_ ]+")


def parse_target(text: str, row_count: int, approximate: bool = False) -> int:
    """The 0-based row that ``text`` names: ``1234`` or ``1,234`` (1-based, as shown),
    ``50%`` or ``12.5%`` of the rows, ``end`` or ``$`` for the last row. A row number past
    an ``approximate`` count is kept (an estimate never caps where the user can go: the
    view finds out whether the row exists).

    Raises ValueError with a message for the user.
    """
    text = text.strip().lower()
    last = max(row_count - 1, 0)
    if text in ("end", "$", "last"):
        return last
    if text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise ValueError(f"{text!r} is not a percentage") from None
        if not 0 <= percent <= 100:
            raise ValueError("a percentage goes from 0% to 100%")
        return min(last, round(percent / 100 * row_count))
    if not text or not _NUMBER.fullmatch(text):
        raise ValueError("type a row number, a percentage such as 50%, or end")
    row = int(re.sub(r"[,_ ]", "", text))
    if row < 1:
        raise ValueError("rows are numbered from 1")
    return row - 1 if approximate else min(row - 1, last)


class GotoScreen(ModalScreen[int | None]):
    """A one-line dialog: Enter goes there, Esc cancels."""

    DEFAULT_CSS = """
    GotoScreen { align: center middle; }
    GotoScreen > Vertical {
        width: 60; max-width: 100%; height: auto; border: round $accent; background: $surface;
    }
    GotoScreen #goto-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, row_count: int, approximate: bool) -> None:
        super().__init__()
        self.row_count = row_count
        self.approximate = approximate

    def compose(self) -> ComposeResult:
        if self.approximate:
            rows = f"about {self.row_count:,} rows, an estimate"
        else:
            rows = f"1 to {self.row_count:,}"
        with Vertical():
            yield SafeStatic(f"Go to row ({rows}), a percentage (50%) or end")
            yield Input(placeholder="row, 50% or end", id="goto-input")
            yield SafeStatic("", id="goto-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            row = parse_target(event.value, self.row_count, self.approximate)
        except ValueError as error:
            self.query_one("#goto-error", Static).update(str(error))
            return
        self.dismiss(row)

    def action_cancel(self) -> None:
        self.dismiss(None)
