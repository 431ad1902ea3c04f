"""WelcomeScreen: what ``pgbrowse --demo`` shows, and the keys to try, in a few lines."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

WELCOME = (  # one line per paragraph: the screen wraps them to its width
    "[b]pgbrowse demo[/b]: a throwaway PostgreSQL with shop.orders holding {rows} rows.\n"
    "Open it: the table reads only the rows on screen through a server-side cursor, so it"
    " opens as fast as a 10-row table, and the footer shows memory staying flat however far"
    " you go.\n"
    "Try: [b]G[/b] (the end, by a seek) · [b]:[/b] 50% · [b]s[/b] sort · [b]i[/b] see every"
    " statement · [b]#[/b] count · [b]?[/b] all keys"
)


class WelcomeScreen(ModalScreen[None]):
    """Any of Enter, Esc or Space goes on to the list of relations."""

    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen > Vertical {
        width: 96; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape,space", "close", "Start"),
    ]

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(WELCOME.format(rows=f"{self.rows:,}"), id="welcome-text")  # own markup
            yield Static("[dim]Enter to start[/dim]")

    def action_close(self) -> None:
        self.dismiss()
