"""WaitingApp: the start-up screen while the server has not answered.

A server that does not answer (stopped, a pooler whose every slot is taken) kept the
terminal blank at start-up, and Ctrl+Q and Esc did nothing, for as long as the connect took
(10 s for a stopped server; a full pool for up to PgBouncer's query_wait_timeout, 120 s).
This screen appears as soon as the first answer is late, says what it waits for with the
seconds counting, and Esc, Ctrl+Q and Ctrl+C leave at once.
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType

from pgbrowse.db.jobs.opening import Opening
from pgbrowse.ui.safe import SafeStatic

TICK_S = 0.1


class WaitingApp(App[bool]):
    """Exits True once the opening has its answer (a relation, or an error to say), False
    when the user gave up waiting."""

    CSS = "#waiting { padding: 1 2; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,ctrl+q,ctrl+c", "give_up", "Quit", priority=True),
    ]

    def __init__(self, opening: Opening, target: str) -> None:
        super().__init__()
        self.opening = opening
        self.target = target
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        yield SafeStatic(self.says(), id="waiting")

    def on_mount(self) -> None:
        self.set_interval(TICK_S, self._tick)

    def says(self) -> str:
        elapsed = time.monotonic() - self.started
        if self.opening.phase == "connecting":
            what = f"connecting to {self.target}…"
        else:
            what = (
                f"connected to {self.target}, waiting for its first answer (behind a pooler"
                " with every slot taken: waiting for a pool slot)…"
            )
        return f"{what} {elapsed:.1f} s\n\nEsc, Ctrl+Q or Ctrl+C quits."

    def _tick(self) -> None:
        if self.opening.found(0):
            self.exit(True)
            return
        self.query_one("#waiting", SafeStatic).update(self.says())

    def action_give_up(self) -> None:
        self.exit(False)
