"""Opening: the first screen's database half, started while the UI is imported.

Importing Textual and the screens takes most of the time to the first screen (about 0.2 s
of 0.4 s, measured on a pty); connecting, finding the relation, and opening it (columns,
plan, cursor and its first page) another 40-60 ms. Done one after the other, they add up;
here the database half runs on a thread of its own meanwhile. The command line waits only
for the relation to be found (a wrong name or DSN is said before any screen starts); the
view's loader then takes the pager over with its first page already in the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pgbrowse.db.catalog.relations import Relation, find_relation
from pgbrowse.db.connection.connect import ConnectionFactory, SafeConnection, where_of
from pgbrowse.db.connection.errors import PgBrowseError

if TYPE_CHECKING:  # (the pager is imported on the opening thread, beside the UI's imports)
    from pgbrowse.db.paging.pager import CursorPager, Row


def resolve_relation(
    factory: ConnectionFactory,
    name: str | None,
    on_connected: Callable[[], None] | None = None,
) -> tuple[str, Relation | None]:
    """Check the connection once (for a one-line error) and find the relation asked for."""
    conn = factory.connect(on_connected=on_connected)
    try:
        return _resolve(conn, name)
    finally:
        conn.close()


def _resolve(conn: SafeConnection, name: str | None) -> tuple[str, Relation | None]:
    where = where_of(conn)
    if name is None:
        return where, None
    relation = find_relation(conn, name)
    if relation is None:
        raise PgBrowseError("No such relation", f"{name!r} is not a table or view here")
    return where, relation


class Opening:
    """``resolve_relation``, then the relation's first page, on a thread ``start`` starts."""

    def __init__(
        self,
        factory: ConnectionFactory,
        name: str | None,
        pager_for: Callable[[Relation], CursorPager],
    ) -> None:
        self.factory = factory
        self.name = name
        self.pager_for = pager_for
        self.pager: CursorPager | None = None  # once the relation is found
        self._resolved: tuple[str, Relation | None] | None = None
        self._failed: BaseException | None = None
        self._first: list[Row] | None = None
        self._first_failed: Exception | None = None
        self._found = threading.Event()
        self.phase = "connecting"  # then "waiting" (let in, the first answer not yet come)
        self._thread = threading.Thread(target=self._run, name="pgbrowse-opening", daemon=True)

    def start(self) -> Opening:
        self._thread.start()
        return self

    def _run(self) -> None:
        conn: SafeConnection | None = None
        try:
            conn = self.factory.connect(on_connected=self._connected)
            self._resolved = _resolve(conn, self.name)
        except BaseException as error:  # (said by the command line, on its thread)
            self._failed = error
            if conn is not None:
                conn.close()
            return
        finally:
            self._found.set()
        relation = self._resolved[1]
        if relation is None:
            conn.close()
            return
        pager = self.pager = self.pager_for(relation)
        # The connection that found the relation reads it too: the view's first page
        # costs no second connection (its round trips: issue 27).
        pager.session.adopt(conn)
        try:
            self._first = pager.load(0)
        except Exception as error:  # (the view reports it, as a page that failed)
            self._first_failed = error
        finally:
            pager.owner = None  # handed over: the view's loader thread owns it from now

    def _connected(self) -> None:
        self.phase = "waiting"

    def found(self, timeout: float) -> bool:
        """Whether the relation was found (or that failed) within ``timeout`` seconds."""
        return self._found.wait(timeout)

    def resolved(self) -> tuple[str, Relation | None]:
        """Where we are connected and the relation found (or None: none was named); raises
        what resolving raised."""
        self._found.wait()
        if self._failed is not None:
            raise self._failed
        assert self._resolved is not None
        return self._resolved

    def first_page(self) -> tuple[list[Row] | None, Exception | None]:
        """The first page's rows, or what reading it raised (waits for the thread); given
        once, and not kept here (the pager's cache holds the rows, the view the error)."""
        self._thread.join()
        taken = self._first, self._first_failed
        self._first = self._first_failed = None
        return taken
