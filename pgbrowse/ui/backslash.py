"""psql's backslash commands, run from the SQL editor, the relation list's box or the table
screen's prompt (``\\``): ``\\d [name]``, ``\\dt \\dv \\dm \\di \\ds \\dE \\dn \\df [pattern]``,
``\\l``, ``\\c db``, ``\\x``, ``\\timing``, ``\\?``, ``\\q``.

A list opens in the lazy table view like any query (its SELECT over the catalog is
pgbrowse's own, with the pattern as a literal: ``pgbrowse.db.catalog.backslash``); ``\\d``
of one relation opens its structure; ``\\l`` and ``\\c`` are the databases screen's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen

from pgbrowse.db.catalog.backslash import COMMANDS, BackslashError, list_query, parse_command
from pgbrowse.db.catalog.relations import Relation, find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.jobs.opening import resolve_relation
from pgbrowse.ui.browser import browser_of
from pgbrowse.ui.safe import SafeStatic, shown


class BackslashHelp(ModalScreen[None]):
    """\\?: the commands pgbrowse takes, as psql lists them."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    BackslashHelp { align: center middle; }
    BackslashHelp > VerticalScroll { width: 90%; max-width: 100; height: auto;
                                     max-height: 90%; border: round $accent;
                                     background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        for command, args, what in COMMANDS:
            table.add_row(command, args, what)
        with VerticalScroll():
            yield SafeStatic(" psql's commands in pgbrowse (Esc closes)")
            yield SafeStatic(table)

    def action_close(self) -> None:
        self.dismiss()


def run_command(screen: Screen[Any], text: str) -> None:
    """Run ``text`` (one backslash command) for ``screen``: what it opens goes on top of
    it; a mistake is one plain notification, as psql words it."""
    app = screen.app
    browser = browser_of(app)
    try:
        command = parse_command(text)
        query = list_query(command)
    except BackslashError as error:
        app.notify(str(error), title="Command", severity="error")
        return
    if query is not None:
        browser.open_relation(Relation.of_query(query))
        return
    name, arg = command.name, command.pattern
    if name == "d" and arg is not None:
        _describe(screen, browser.factory, arg)
    elif name == "l":
        from pgbrowse.ui.databases import DatabaseScreen

        app.push_screen(DatabaseScreen())
    elif name == "c":
        if arg is None:
            app.notify(f"You are connected to {browser.where}. \\c DBNAME connects to another.")
        else:
            _connect(screen, browser.factory, arg.strip('"'))
    elif name == "x":
        record = getattr(screen, "action_record", None)
        if callable(record):
            record()
        else:
            app.notify(
                "\\x shows the cursor's row as a record: use it on a table", severity="warning"
            )
    elif name == "timing":
        on = {"on": True, "off": False}.get((arg or "").lower(), not browser.timing)
        browser.timing = on
        app.notify(f"Timing is {'on' if on else 'off'}.")
    elif name == "?":
        app.push_screen(BackslashHelp())
    elif name == "q":
        app.exit()
    else:
        app.notify(
            f"invalid command \\{shown(name)}. Try \\? for help.", title="Command", severity="error"
        )


def _describe(screen: Screen[Any], factory: ConnectionFactory, name: str) -> None:
    """\\d NAME: the relation's structure (found as psql finds it, on the search path)."""
    app = screen.app

    def find() -> None:
        try:
            conn = factory.connect()
            try:
                relation = find_relation(conn, name)
            finally:
                conn.close()
        except PgBrowseError as error:
            app.call_from_thread(app.notify, error.message, title=error.title, severity="error")
            return
        if relation is None:
            said = f'Did not find any relation named "{name}".'
            app.call_from_thread(app.notify, said, severity="error")
            return
        from pgbrowse.ui.structure_screen import StructureScreen

        app.call_from_thread(app.push_screen, StructureScreen(factory, relation))

    screen.run_worker(find, thread=True, group="backslash", exit_on_error=False)


def _connect(screen: Screen[Any], factory: ConnectionFactory, name: str) -> None:
    """\\c DBNAME: connect once to check (a refusal is one line), then browse it."""
    app = screen.app
    other = factory.with_database(name)

    def connect() -> None:
        try:
            where, _ = resolve_relation(other, None)
        except PgBrowseError as error:
            app.call_from_thread(app.notify, error.message, title=error.title, severity="error")
            return
        app.call_from_thread(browser_of(app).switch_database, other, where)

    screen.run_worker(connect, thread=True, group="backslash", exit_on_error=False)
