"""RowActions: what the table screen does with the cursor's row and cell: open the cell
whole, copy it or the row, the record view, the column's profile and the structure.

A part of TableScreen, not a base class: it holds the table's view (the cursor, the cache,
the loader) and the connection factory, and nothing of the screen; the screen binds its keys
and calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType

from pgbrowse.db.catalog.relations import Column
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CellValue
from pgbrowse.db.paging.state import ViewState
from pgbrowse.ui.cells import tsv_line
from pgbrowse.ui.safe import copy_safely
from pgbrowse.ui.table_view import TableView


class RowActions:
    """Enter, y, Y, r, p and d of the table screen."""

    HELP_GROUP = "The row and its column"
    BINDINGS: ClassVar[list[BindingType]] = [  # (the screen binds them: help groups them)
        Binding("r", "record", "Record view"),
        Binding("p", "profile", "Column profile"),
        Binding("d", "structure", "Structure"),
    ]

    def __init__(self, view: TableView, factory: ConnectionFactory) -> None:
        """``factory``: connections of their own (the profile and the structure)."""
        self.view = view
        self.factory = factory

    @property
    def state(self) -> ViewState:
        """The view as the loader last reported it (the UI never reads the pager back)."""
        return self.view.state

    def _fetch_cell(self, then: Callable[[Column, CellValue], None]) -> None:
        """The cursor's cell, whole, fetched on the loader thread; ``then`` gets it here."""
        found = self.view.cursor_row_values()
        if found is None:
            return
        row, col = found
        column = self.state.columns[col]
        self.view.on_loader(
            lambda pager: pager.fetch_cell(row, col),
            lambda value: then(column, value),
            f"reading the cell {column.name}",
        )

    def open_cell(self) -> None:
        """Enter: the cell's whole value (up to 1 MB) in a scrollable view."""

        def show(column: Column, value: CellValue) -> None:
            from pgbrowse.ui.cell_screen import CellScreen

            self.view.app.push_screen(CellScreen(column, value))

        self._fetch_cell(show)

    def record(self) -> None:
        """r: the cursor's row as a vertical list, every value whole (wide tables)."""
        from pgbrowse.ui.record_screen import RecordScreen

        self.view.app.push_screen(RecordScreen(self.view))

    def copy_cell(self) -> None:
        """y: the cell's whole value to the clipboard (OSC 52, so it works over SSH)."""

        def copy(column: Column, value: CellValue) -> None:
            said = copy_safely(self.view.app, value.text or "")
            self.view.notify(f"Copied {column.name}: {value.length:,} characters{said}")

        self._fetch_cell(copy)

    def copy_row(self) -> None:
        """Y: the row, tab-separated (tabs and newlines escaped as in COPY's text format)."""
        found = self.view.cursor_row_values()
        if found is None:
            return
        row = found[0][: len(self.state.columns)]
        said = copy_safely(self.view.app, tsv_line(row))
        cut = any(v is not None and len(v) > self.state.truncate for v in row)
        self.view.notify(
            "Copied the row" + (" (long values cut: Enter shows one whole)" if cut else "") + said
        )

    def profile(self) -> None:
        """p: what the cursor's column holds, from the statistics (or a bounded sample)."""
        state = self.state
        if not state.columns:
            return
        column = state.columns[min(self.view.cursor_col, len(state.columns) - 1)]
        from pgbrowse.ui.profile_screen import ProfileScreen

        self.view.app.push_screen(ProfileScreen(self.factory, state.relation, column))

    def structure(self) -> None:
        """d: the relation's structure from the catalog (a query has none)."""
        relation = self.state.relation
        if relation.query is not None:
            self.view.notify("A query has no structure in the catalog", severity="warning")
            return
        from pgbrowse.ui.structure_screen import StructureScreen

        self.view.app.push_screen(StructureScreen(self.factory, relation))
