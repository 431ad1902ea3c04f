"""ExportScreen: the current view to a CSV file, with progress, cancellable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from pgbrowse.crashlog import one_line
from pgbrowse.db.catalog import Relation
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import PgBrowseError, QueryError
from pgbrowse.db.export import CsvExport, Exported
from pgbrowse.db.state import ViewState
from pgbrowse.memory import human_bytes
from pgbrowse.ui.safe import UNSAFE, SafeStatic


def default_file_name(relation: Relation) -> str:
    """``schema.name.csv`` (``query.csv`` for a query), made a safe single file name: no
    folder separators, controls or bidi overrides, and never a hidden file."""
    stem = relation.qualified
    safe = "".join("_" if c in "/\\" or UNSAFE.match(c) else c for c in stem)
    return safe.lstrip(".") + ".csv" if safe.lstrip(".") else "export.csv"


class ExportScreen(ModalScreen[None]):
    """Enter starts the export; Esc cancels it (the partial file is removed) or closes."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 80; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1;
    }
    ExportScreen #export-status { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, factory: ConnectionFactory, state: ViewState) -> None:
        super().__init__()
        self.factory = factory  # the export runs on a connection of its own
        self.state = state  # the view as shown: its order and filter
        self.export: CsvExport | None = None
        self.result: Exported | PgBrowseError | None = None
        self._overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        relation = self.state.relation
        order = self.state.order
        how = f", sorted by {order[0]}{' descending' if order[1] else ''}" if order else ""
        with Vertical():
            yield SafeStatic(f"Export {relation.qualified}{how} to a CSV file (COPY, streamed)")
            yield Input(value=default_file_name(relation), id="export-path")
            yield ProgressBar(total=max(self.state.row_count, 1), show_eta=False)
            yield SafeStatic("Enter starts · Esc closes", id="export-status")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.export is not None:
            return
        path = Path(event.value).expanduser()
        status = self.query_one("#export-status", Static)
        if not path.parent.is_dir():
            status.update(f"No such folder: {path.parent}")
            return
        if path.is_dir():
            status.update(f"{path} is a folder: give a file name")
            return
        if path.exists() and self._overwrite != path:
            self._overwrite = path
            status.update(f"{path} exists: Enter again to overwrite it")
            return
        self.export = CsvExport(
            self.factory, self.state.view.export_query(), path, self.state.relation.qualified
        )
        status.update("exporting… (Esc cancels)")
        self._run(self.export)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _run(self, export: CsvExport) -> None:
        try:
            result: Exported | PgBrowseError = export.run(
                lambda written, rows: self.app.call_from_thread(self._progress, written, rows)
            )
        except PgBrowseError as error:
            result = error
        except Exception as error:  # whatever went wrong, the dialog says it and stays usable
            result = QueryError("Export failed", one_line(error))
        self.app.call_from_thread(self._finished, result)

    def _progress(self, written: int, rows: int | None) -> None:
        so_far = f"{rows:,} rows, " if rows is not None else ""
        self.query_one("#export-status", Static).update(
            f"exporting… {so_far}{human_bytes(written)} (Esc cancels)"
        )
        if rows is not None:
            self.query_one(ProgressBar).update(progress=rows)

    def _finished(self, result: Exported | PgBrowseError) -> None:
        self.result = result
        status = self.query_one("#export-status", Static)
        if isinstance(result, PgBrowseError):
            status.update(f"{result.title}: {result.message} (no file written) · Esc closes")
        else:
            bar = self.query_one(ProgressBar)
            bar.update(total=max(result.rows, 1), progress=result.rows)
            status.update(
                f"Exported {result.rows:,} rows ({human_bytes(result.bytes)}) to {result.path}"
                f" in {result.seconds:.1f} s · Esc closes"
            )
        self.export = None

    def action_cancel(self) -> None:
        if self.export is not None:
            self.export.cancel()
            self.query_one("#export-status", Static).update("cancelling…")
        else:
            self.dismiss()
