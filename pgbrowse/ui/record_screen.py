"""RecordScreen: one row as a vertical list, column by column (name, type, the value whole
up to RECORD_LIMIT characters, JSON pretty-printed): the answer for wide tables. n and p
(or ↓ ↑ with Ctrl) move to the next and previous row of the view without leaving; y copies
the value under the cursor, Y the row. The row is read in one statement by its identity,
on the view's loader thread, like a cell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import TextArea

from pgbrowse.crashlog import unexpected
from pgbrowse.db.catalog.relations import Column
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.paging.finder import CellValue
from pgbrowse.ui.cell_screen import presented
from pgbrowse.ui.cells import tsv_line
from pgbrowse.ui.safe import SafeStatic, copy_safely, shown
from pgbrowse.ui.table_view import TableView

if TYPE_CHECKING:
    from pgbrowse.db.paging.pager import CursorPager


WAIT_S = 10.0  # for the next row's page to come in


def record_text(columns: Sequence[Column], values: list[CellValue]) -> tuple[str, list[int]]:
    """The record as lines (each column's name and type, then its value indented), and
    the line each column starts on."""
    lines: list[str] = []
    starts: list[int] = []
    width = max((len(c.name) for c in columns), default=0)
    for column, value in zip(columns, values, strict=True):
        starts.append(len(lines))
        cut = f"  (cut: {value.length:,} characters)" if value.cut else ""
        lines.append(f"{shown(column.name):{width}}  {shown(column.type_name)}{cut}")
        text = "NULL" if value.text is None else presented(column, value)
        lines.extend("  " + line for line in shown(text, lines=True).split("\n"))
    return "\n".join(lines), starts


class RecordScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen > Vertical {
        width: 100%; height: 100%; border: round $accent; background: $surface;
    }
    RecordScreen TextArea { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("n,ctrl+down", "step(1)", "Next row"),
        Binding("p,ctrl+up", "step(-1)", "Previous row"),
        Binding("y", "copy_value", "Copy value"),
        Binding("Y", "copy_row", "Copy row (TSV)"),
    ]

    def __init__(self, view: TableView) -> None:
        """``view``: the table it was opened on (its cursor moves with n and p)."""
        super().__init__()
        self.view = view
        self.values: list[CellValue] = []
        self.starts: list[int] = []
        self.row_number = -1  # the view's row shown (0-based)
        self._waited = 0.0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(" reading the row…", id="record-title")
            yield TextArea("", read_only=True, soft_wrap=True, id="record-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self.load()

    def load(self) -> None:
        """The view's cursor row, read whole on the loader thread (once its page is in)."""
        found = self.view.cursor_row_values()
        if found is None:  # its page is on its way
            if self._waited < WAIT_S:
                self._waited += 0.05
                self.set_timer(0.05, self.load)
            return
        self._waited = 0.0
        row = found[0]
        number = self.view.cursor_row

        def task(pager: CursorPager) -> None:
            try:
                values = pager.fetch_record(row)
            except PgBrowseError as error:
                self.app.call_from_thread(self._failed, error)
                return
            except Exception as error:  # said here, never a screen waiting for ever
                self.app.call_from_thread(self._failed, unexpected(error))
                return
            self.app.call_from_thread(self._show, number, values)

        self.view.loader.submit(task, doing=f"reading row {number + 1:,}")

    def _failed(self, error: PgBrowseError) -> None:
        self.query_one("#record-title", SafeStatic).update(f" {error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error")

    def _show(self, number: int, values: list[CellValue]) -> None:
        columns = self.view.state.columns
        try:
            text, starts = record_text(columns, values)
        except Exception as error:  # said here, never a screen waiting for ever
            self._failed(unexpected(error))
            return
        self.values, self.row_number, self.starts = values, number, starts
        area = self.query_one(TextArea)
        area.load_text(text)
        state = self.view.state
        count = f"{'' if state.count_exact else '~'}{state.row_count:,}"
        self.query_one("#record-title", SafeStatic).update(
            f" {shown(state.relation.qualified)} · row {number + 1:,} of {count} ·"
            f" {len(columns)} columns  (n/p next/previous row, y value, Y row, Esc closes)"
        )

    def action_step(self, delta: int) -> None:
        view = self.view
        target = view.cursor_row + delta
        if not 0 <= target < view.row_count:
            self.notify("No more rows that way", severity="warning")
            return
        view.move_to(target)
        self.load()

    def _column_at_cursor(self) -> int | None:
        line = self.query_one(TextArea).cursor_location[0]
        index = None
        for i, start in enumerate(self.starts):
            if start <= line:
                index = i
        return index

    def action_copy_value(self) -> None:
        i = self._column_at_cursor()
        if i is None or i >= len(self.values):
            return
        said = copy_safely(self.app, self.values[i].text or "")
        self.notify(f"Copied {self.view.state.columns[i].name}{said}")

    def action_copy_row(self) -> None:
        if self.values:
            said = copy_safely(self.app, tsv_line(tuple(v.text for v in self.values)))
            self.notify("Copied the row" + said)

    def action_close(self) -> None:
        self.dismiss()
