"""TableScreen: one relation in a TableView, its position line, and the memory footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from pgbrowse.db.pager import CursorPager
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.table_view import TableView

if TYPE_CHECKING:
    from pgbrowse.ui.app import PgBrowseApp


class TableScreen(Screen[None]):
    """Browse one relation; Esc or q goes back to the list and closes the cursor."""

    BINDINGS: list[BindingType] = [  # noqa: RUF012
        Binding("escape,q", "back", "Back"),
    ]

    def __init__(self, pager: CursorPager) -> None:
        super().__init__()
        self.pager = pager

    @property
    def browser(self) -> PgBrowseApp:
        from pgbrowse.ui.app import PgBrowseApp

        assert isinstance(self.app, PgBrowseApp)
        return self.app

    def compose(self) -> ComposeResult:
        relation = self.pager.relation
        yield Static(f" {relation.qualified}  ({relation.kind_name})", id="title")
        yield TableView(self.pager, id="table")
        yield Static("", id="position")
        yield MemoryFooter(self.browser.memory_probe, self.pager)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TableView).focus()

    def position_text(self) -> str:
        view = self.query_one(TableView)
        pager = self.pager
        if not pager.columns:
            return " opening…"
        approx = "" if pager.count_exact else "~"
        count = f"{approx}{pager.row_count:,}"
        column = pager.columns[view.cursor_col] if pager.columns else None
        where = f" row {view.cursor_row + 1:,} of {count}" if pager.row_count else " no rows"
        if column is not None:
            where += f"  │ column {view.cursor_col + 1}/{len(pager.columns)}: {column.name}"
        if not pager.count_exact:
            where += "  │ ~ row count is the planner's estimate"
        return where

    def on_table_view_cursor_moved(self, message: TableView.CursorMoved) -> None:
        self.query_one("#position", Static).update(self.position_text())

    def on_table_view_failed(self, message: TableView.Failed) -> None:
        self.query_one("#position", Static).update(
            f" {message.error.title}: {message.error.message}"
        )
        self.notify(message.error.message, title=message.error.title, severity="error")

    def action_back(self) -> None:
        self.dismiss()
