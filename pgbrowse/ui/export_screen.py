"""ExportScreen: the current view (its filter and order) to a CSV, TSV or JSON lines file,
with progress, cancellable. The format follows the file name's extension, or the choice in
the dialog (which sets the extension)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, RadioButton, RadioSet, Static

from pgbrowse.crashlog import one_line
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError, QueryError
from pgbrowse.db.jobs.export import FORMATS, Export, Exported, format_of
from pgbrowse.db.paging.state import ViewState
from pgbrowse.memory import human_bytes
from pgbrowse.ui.safe import UNSAFE, SafeStatic


def default_file_name(relation: Relation, format: str = "csv") -> str:
    """``schema.name.csv`` (``query.csv`` for a query), made a safe single file name: no
    folder separators, controls or bidi overrides, and never a hidden file."""
    stem = relation.qualified
    safe = "".join("_" if c in "/\\" or UNSAFE.match(c) else c for c in stem)
    return (safe.lstrip(".") or "export") + "." + format


def what_is_written(state: ViewState) -> str:
    """The view an export writes, in words: the relation, its filter and its order."""
    order = state.order
    how = f", sorted by {order[0]}{' descending' if order[1] else ''}" if order else ""
    where = f" where {state.filter}" if state.filter else ""
    return f"{state.relation.qualified}{where}{how}"


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
        self.export: Export | None = None
        self.result: Exported | PgBrowseError | None = None
        self._overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(
                f"Export {what_is_written(self.state)} to a file (COPY, streamed)",
                id="export-title",
            )
            yield Input(value=default_file_name(self.state.relation), id="export-path")
            with RadioSet(id="export-format"):
                for key, name in FORMATS.items():
                    yield RadioButton(name, value=key == "csv", id=f"format-{key}")
            yield ProgressBar(total=max(self.state.row_count, 1), show_eta=False)
            yield SafeStatic("Enter starts · Esc closes", id="export-status")

    @property
    def format(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return (pressed.id or "format-csv").removeprefix("format-") if pressed else "csv"

    def on_input_changed(self, event: Input.Changed) -> None:
        """A known extension typed chooses its format."""
        chosen = format_of(Path(event.value))
        if chosen is not None and chosen != self.format:
            self.query_one(f"#format-{chosen}", RadioButton).value = True

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """A format chosen gives the file name its extension (a known one is replaced)."""
        box = self.query_one("#export-path", Input)
        path = Path(box.value)
        if format_of(path) == self.format:
            return
        stem = box.value[: -len(path.suffix)] if format_of(path) else box.value
        box.value = f"{stem}.{self.format}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.export is not None:
            return
        path = Path(event.value).expanduser().absolute()  # (said whole: where it went)
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
        view, format = self.state.view, self.format
        self.export = Export(
            self.factory,
            view.export_queries(format),
            path,
            self.state.relation.qualified,
            format,
            header=tuple(c.name for c in view.columns),
        )
        status.update("exporting… (Esc cancels)")
        self._run(self.export)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _run(self, export: Export) -> None:
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
