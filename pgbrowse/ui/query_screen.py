"""QueryScreen: any read-only SELECT, browsed through the same lazy view as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from pgbrowse.db.catalog import Relation, describe_query, list_columns
from pgbrowse.db.errors import PgBrowseError, QueryError, describe
from pgbrowse.ui.safe import SafeStatic

if TYPE_CHECKING:
    from pgbrowse.ui.app import PgBrowseApp

import psycopg2


class QueryScreen(Screen[None]):
    """Ctrl+R runs the query into a table view; Esc goes back. The text stays here."""

    HELP_TITLE = "the SQL query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run"),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    QueryScreen TextArea { height: 1fr; }
    QueryScreen #query-error { color: $error; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(
                " SQL: a SELECT (or WITH … SELECT, VALUES, TABLE), read lazily like a table."
                " Ctrl+R runs it."
            )
            yield TextArea("SELECT ", language=None, id="query-text")
            yield SafeStatic("", id="query-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def browser(self) -> PgBrowseApp:
        from pgbrowse.ui.app import PgBrowseApp

        assert isinstance(self.app, PgBrowseApp)
        return self.app

    def action_run(self) -> None:
        error = self.query_one("#query-error", Static)
        try:
            relation = Relation.of_query(self.query_one(TextArea).text)
        except QueryError as refused:
            error.update(f"{refused.title}: {refused.message}")
            return
        error.update("checking…")
        self._check(relation)

    @work(thread=True, exclusive=True, group="query", exit_on_error=False)
    def _check(self, relation: Relation) -> None:
        """Describe the query (no rows) on a short connection: its errors are said here."""
        try:
            conn = self.browser.factory.connect()
            try:
                relation = describe_query(conn, relation)
                list_columns(conn, relation)
            except psycopg2.Error as failed:
                raise describe(failed, "checking the query") from None
            finally:
                conn.close()
        except PgBrowseError as failed:
            self.app.call_from_thread(
                self.query_one("#query-error", Static).update, f"{failed.title}: {failed.message}"
            )
            return
        self.app.call_from_thread(self._open, relation)

    def _open(self, relation: Relation) -> None:
        self.query_one("#query-error", Static).update("")
        self.browser.open_relation(relation)

    def action_back(self) -> None:
        self.dismiss()
