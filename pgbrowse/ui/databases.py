"""DatabaseScreen: the server's databases, as psql's \\l lists them; Enter connects to one
(psql's \\c): the relation list then shows that database, and the title line says which."""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg2
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pgbrowse.db.connection.errors import PgBrowseError, describe
from pgbrowse.db.jobs.opening import resolve_relation
from pgbrowse.memory import human_bytes
from pgbrowse.ui.browser import Browser, browser_of
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.safe import SafeStatic, plain_text

# No size for a database you may not connect to (pg_database_size would refuse).
DATABASES_SQL = """
SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba),
       d.datallowconn AND has_database_privilege(d.oid, 'CONNECT'),
       CASE WHEN has_database_privilege(d.oid, 'CONNECT')
            THEN pg_catalog.pg_database_size(d.oid) END,
       d.datname = current_database()
FROM pg_catalog.pg_database d
WHERE NOT d.datistemplate
ORDER BY d.datname
"""


class DatabaseScreen(Screen[None]):
    HELP_TITLE = "the databases"
    HELP_GROUP = "The databases"

    BINDINGS: ClassVar[list[BindingType]] = [
        # (not a priority binding: the table's own Enter comes after the moves before it,
        # in order; a priority Enter ran before a Down typed just before it had moved)
        Binding("enter", "connect", "Connect"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.allowed: list[bool] = []
        self.status_text = ""

    @property
    def browser(self) -> Browser:
        return browser_of(self.app)

    def compose(self) -> ComposeResult:
        yield SafeStatic(f" databases of {self.browser.where}", id="title")
        table: DataTable[Any] = DataTable(id="databases", cursor_type="row", zebra_stripes=True)
        for label in ("name", "owner", "you may connect", "size"):
            table.add_column(label, key=label)
        yield table
        yield SafeStatic(" listing the databases…", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="databases", exit_on_error=False)
    def load(self) -> None:
        try:
            conn = self.browser.factory.connect()
            try:
                with conn.cursor() as cur:
                    cur.execute(DATABASES_SQL)
                    rows = cur.fetchall()
                conn.rollback()
            except psycopg2.Error as error:
                raise describe(error, "listing the databases") from None
            finally:
                conn.close()
        except PgBrowseError as error:
            self.app.call_from_thread(self._status, f" {error.title}: {error.message}")
            return
        self.app.call_from_thread(self._loaded, rows)

    def _status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#status", Static).update(text)

    def _loaded(self, rows: list[tuple[Any, ...]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.names = [row[0] for row in rows]
        self.allowed = [bool(row[2]) for row in rows]
        for name, owner, allowed, size, here in rows:
            table.add_row(
                plain_text(name + ("  (here)" if here else "")),
                plain_text(owner or ""),
                "yes" if allowed else "no",
                "" if size is None else human_bytes(size),
            )
            if here:
                table.move_cursor(row=table.row_count - 1)
        self._status(f" {len(rows):,} databases  │ Enter connects, Esc goes back")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on the table (its own binding, in key order): connect to that row."""
        event.stop()
        self._connect_row(event.cursor_row)

    def action_connect(self) -> None:
        self._connect_row(self.query_one(DataTable).cursor_row)

    def _connect_row(self, row: int) -> None:
        if 0 <= row < len(self.names):
            self._status(f" connecting to {self.names[row]}…")
            self.connect(self.names[row])

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect(self, name: str) -> None:
        """Connect once to check (a refusal is one plain line, and you stay here)."""
        factory = self.browser.factory.with_database(name)
        try:
            where, _ = resolve_relation(factory, None)
        except PgBrowseError as error:
            self.app.call_from_thread(self._refused, error)
            return
        self.app.call_from_thread(self.browser.switch_database, factory, where)

    def _refused(self, error: PgBrowseError) -> None:
        self._status(f" {error.title}: {error.message}")
        self.notify(error.message, title=error.title, severity="error")
