"""ErrorScreen: an unexpected error, in plain words, with where its traceback went."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen

from pgbrowse.ui.safe import SafeStatic


class ErrorScreen(ModalScreen[None]):
    """q quits (exit status 1); Esc goes back to where you were (the action failed, nothing
    else did)."""

    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical {
        width: 76; max-width: 100%; height: auto; border: heavy $error;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("escape", "carry_on", "Carry on"),
    ]

    def __init__(self, message: str, log: Path | None) -> None:
        super().__init__()
        self.message = message
        self.log_path = log

    def compose(self) -> ComposeResult:
        where = (
            f"The full traceback is in {self.log_path}"
            if self.log_path
            else "No log could be written."
        )
        with Vertical():
            yield SafeStatic(Content.styled("pgbrowse hit an unexpected error", "bold"))
            yield SafeStatic(self.message, id="error-message")
            yield SafeStatic(where, id="error-log")
            yield SafeStatic("q quits · Esc goes back to where you were")

    def action_quit(self) -> None:
        self.app.exit(return_code=1)

    def action_carry_on(self) -> None:
        self.dismiss()
