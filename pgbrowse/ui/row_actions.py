"""RowActions: what the table screen does with the cursor's row and cell: open the cell
whole, copy it or the row, and the record view. A mixin of TableScreen (kept apart so each
module stays readable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from pgbrowse.crashlog import unexpected
from pgbrowse.db.catalog.relations import Column
from pgbrowse.db.connection.errors import PgBrowseError, UserCancelled
from pgbrowse.db.paging.pager import CellValue, CursorPager, Row
from pgbrowse.db.paging.state import ViewState
from pgbrowse.ui.cells import tsv_line
from pgbrowse.ui.safe import copy_safely
from pgbrowse.ui.table_view import TableView

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory


T = TypeVar("T")


class RowActions(Screen[None]):
    """Enter, y, Y, r, p and d of the table screen (TableScreen is one of these)."""

    HELP_GROUP = "The row and its column"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "record", "Record view"),
        Binding("p", "profile", "Column profile"),
        Binding("d", "structure", "Structure"),
    ]

    view: TableView  # (set by TableScreen.compose)
    factory: ConnectionFactory  # (set by TableScreen: connections of their own)

    @property
    def state(self) -> ViewState:
        """The view as the loader last reported it (the UI never reads the pager back)."""
        return self.view.state

    def cursor_row_values(self) -> tuple[Row, int] | None:
        view = self.query_one(TableView)
        rows = view.cache.get(self.state.frame, view.cursor_row // self.state.page_size)
        index = view.cursor_row % self.state.page_size
        if not rows or index >= len(rows):
            return None  # not here yet
        return rows[index], view.cursor_col

    def on_loader(
        self,
        work: Callable[[CursorPager], T],
        then: Callable[[T], object],
        doing: str,
        cancelled: str = "",
    ) -> None:
        """``work(pager)`` on the view's loader thread (``doing`` says what it does while it
        is slow), its result to ``then`` here; a failure is one notification, and the user's
        cancel (Esc) the plain ``cancelled`` line where one is given."""

        def task(pager: CursorPager) -> None:
            try:
                try:
                    result = work(pager)
                except PgBrowseError:
                    raise
                except Exception as failed:  # said, never lost on the loader's thread
                    raise unexpected(failed) from None
            except PgBrowseError as error:
                if cancelled and isinstance(error, UserCancelled):
                    self.app.call_from_thread(self.notify, cancelled)
                else:
                    self.app.call_from_thread(
                        self.notify, error.message, title=error.title, severity="error"
                    )
                return
            self.app.call_from_thread(then, result)

        self.query_one(TableView).loader.submit(task, doing=doing)

    def _fetch_cell(self, then: Callable[[Column, CellValue], None]) -> None:
        """The cursor's cell, whole, fetched on the loader thread; ``then`` gets it here."""
        found = self.cursor_row_values()
        if found is None:
            return
        row, col = found
        column = self.state.columns[col]
        self.on_loader(
            lambda pager: pager.fetch_cell(row, col),
            lambda value: then(column, value),
            f"reading the cell {column.name}",
        )

    def action_open_cell(self) -> None:
        """Enter: the cell's whole value (up to 1 MB) in a scrollable view."""

        def show(column: Column, value: CellValue) -> None:
            from pgbrowse.ui.cell_screen import CellScreen

            self.app.push_screen(CellScreen(column, value))

        self._fetch_cell(show)

    def action_record(self) -> None:
        """r: the cursor's row as a vertical list, every value whole (wide tables)."""
        from pgbrowse.ui.record_screen import RecordScreen

        self.app.push_screen(RecordScreen(self))

    def action_copy_cell(self) -> None:
        """y: the cell's whole value to the clipboard (OSC 52, so it works over SSH)."""

        def copy(column: Column, value: CellValue) -> None:
            said = copy_safely(self.app, value.text or "")
            self.notify(f"Copied {column.name}: {value.length:,} characters{said}")

        self._fetch_cell(copy)

    def action_copy_row(self) -> None:
        """Y: the row, tab-separated (tabs and newlines escaped as in COPY's text format)."""
        found = self.cursor_row_values()
        if found is None:
            return
        row = found[0][: len(self.state.columns)]
        said = copy_safely(self.app, tsv_line(row))
        cut = any(v is not None and len(v) > self.state.truncate for v in row)
        self.notify(
            "Copied the row" + (" (long values cut: Enter shows one whole)" if cut else "") + said
        )

    def action_profile(self) -> None:
        """p: what the cursor's column holds, from the statistics (or a bounded sample)."""
        state = self.state
        if not state.columns:
            return
        column = state.columns[min(self.view.cursor_col, len(state.columns) - 1)]
        from pgbrowse.ui.profile_screen import ProfileScreen

        self.app.push_screen(ProfileScreen(self.factory, state.relation, column))

    def action_structure(self) -> None:
        """d: the relation's structure from the catalog (a query has none)."""
        relation = self.state.relation
        if relation.query is not None:
            self.notify("A query has no structure in the catalog", severity="warning")
            return
        from pgbrowse.ui.structure_screen import StructureScreen

        self.app.push_screen(StructureScreen(self.factory, relation))
