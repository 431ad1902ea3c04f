"""ReportScreen: a text read on a connection of its own, off the UI thread (the column
profile, the structure pane): the screen says it is reading, shows the text or the error in
plain words, and Esc closes it, cancelling a read still running."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget

from pgbrowse.crashlog import unexpected
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.connection.session import Session
from pgbrowse.ui.safe import SafeStatic

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory

T = TypeVar("T")


class ReportScreen(ModalScreen[None], Generic[T]):
    DEFAULT_CSS = """
    ReportScreen { align: center middle; }
    ReportScreen > Vertical {
        width: 100%; height: 100%; border: round $accent; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, factory: ConnectionFactory) -> None:
        super().__init__()
        self.session = Session(factory)
        self.result: T | None = None

    def waiting(self) -> str:
        """What the screen says while it reads."""
        return " reading…"

    def fetch(self, session: Session) -> T:
        """The read (on a worker thread); raises PgBrowseError."""
        raise NotImplementedError

    def text(self, result: T) -> str:
        """The result as the screen shows it."""
        raise NotImplementedError

    def charts(self, result: T) -> list[Widget]:
        """Charts drawn under the text (none by default)."""
        return []

    def compose(self) -> ComposeResult:
        with Vertical(), VerticalScroll():
            yield SafeStatic(self.waiting(), id="report-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.read()

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def read(self) -> None:
        try:
            result = self.fetch(self.session)
        except Exception as error:  # said here, never a screen waiting for ever
            said = error if isinstance(error, PgBrowseError) else unexpected(error)
            self.app.call_from_thread(self._say, f" {said.title}: {said.message}")
            return
        finally:
            self.session.close()
        self.app.call_from_thread(self._show, result)

    def _say(self, text: str) -> None:
        self.query_one("#report-text", SafeStatic).update(text)

    def _show(self, result: T) -> None:
        self.result = result
        try:
            text = self.text(result)
        except Exception as error:  # (a result it cannot present: said, with its log)
            failed = unexpected(error)
            text = f" {failed.title}: {failed.message}"
        self._say(text + "\n\n(Esc closes)")
        try:
            drawn = self.charts(result)
        except Exception as error:  # (a chart it cannot draw: the text stays, and says so)
            failed = unexpected(error)
            self._say(f"{text}\n\n {failed.title}: {failed.message}\n\n(Esc closes)")
            return
        if drawn:
            self.query_one(VerticalScroll).mount_all(drawn)

    def cancel_running(self) -> str | None:
        """Ctrl+C (as in psql): the read still running is cancelled on the server; the
        screen stays, saying so."""
        if self.result is not None:
            return None
        self.session.cancel()  # (returns at once; the read's thread ends when it can)
        return "Cancelled on the server"

    def action_close(self) -> None:
        if self.result is None:
            self.session.cancel()  # (returns at once; the read's thread ends when it can)
        self.dismiss()
