"""HelpScreen: every key of the screen it was opened from, read from that screen's bindings.

Nothing here is a hand-kept list: the rows come from ``Screen.active_bindings`` (the focused
widget's bindings, its screen's and the app's), so a new binding shows up by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen

from pgbrowse.ui.safe import SafeStatic


@dataclass(frozen=True)
class KeyHelp:
    """The keys of one action, as the user types them."""

    keys: tuple[str, ...]
    description: str
    action: str


def screen_keys(screen: Screen[Any]) -> list[KeyHelp]:
    """Every action bound on ``screen`` (in binding order), with all the keys that run it."""
    app = screen.app
    grouped: dict[tuple[int, str], tuple[list[str], Binding]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        slot = grouped.setdefault((id(active.node), binding.action), ([], binding))
        display = app.get_key_display(binding) if key == binding.key else key
        if display not in slot[0]:
            slot[0].append(display)
    out = []
    for keys, binding in grouped.values():
        description = binding.description or binding.action.replace("_", " ").capitalize()
        out.append(KeyHelp(tuple(keys), description, binding.action))
    return out


class HelpScreen(ModalScreen[None]):
    """Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help"),
    ]

    def __init__(self, origin: Screen[Any]) -> None:
        super().__init__()
        self.origin = origin
        self.keys = screen_keys(origin)

    def table(self) -> Table:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Keys", no_wrap=True)
        table.add_column("Does")
        for item in self.keys:
            table.add_row(", ".join(item.keys), item.description)
        return table

    def compose(self) -> ComposeResult:
        table = self.table()
        title = getattr(self.origin, "HELP_TITLE", type(self.origin).__name__)
        with VerticalScroll():
            yield SafeStatic(
                Content.assemble(
                    (f"Keys: {title}", "bold"), "  (Esc closes; Ctrl+P searches every command)"
                )
            )
            yield SafeStatic(table, id="help-keys")

    def action_close(self) -> None:
        self.dismiss()
