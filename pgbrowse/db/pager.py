"""CursorPager: one named (server-side) cursor over one relation, read a page at a time.

The pager owns one connection and one ``SCROLL`` cursor inside a read-only transaction. It
is used by one thread at a time (the view's loader thread); only ``cached()``, ``stats()``
and ``cancel()`` may be called from other threads. Every statement it sends is recorded.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.catalog import Column, Relation, list_columns
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import describe

Row = tuple[str | None, ...]

DEFAULT_PAGE_SIZE = 100
DEFAULT_CACHE_BYTES = 4 * 1024 * 1024
DEFAULT_TRUNCATE = 500

_cursor_ids = itertools.count(1)


@dataclass(frozen=True)
class Statement:
    """One statement the pager sent: its SQL, the rows it brought back, and its time."""

    sql: str
    rows: int
    ms: float


@dataclass(frozen=True)
class CacheStats:
    """What the client cache holds right now."""

    pages: int
    rows: int
    bytes: int
    budget: int


@dataclass
class _Page:
    rows: list[Row]
    nbytes: int


def row_bytes(row: Row) -> int:
    """What a fetched row costs in client memory (the tuple and its strings)."""
    return sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row if v is not None)


class CursorPager:
    """Rows ``[start, start + count)`` of a relation, fetched lazily through a named cursor."""

    def __init__(
        self,
        factory: ConnectionFactory,
        relation: Relation,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        truncate: int = DEFAULT_TRUNCATE,
        history: int = 500,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if page_size < 1 or cache_bytes < 1 or truncate < 1:
            raise ValueError("page size, cache budget and truncation width must be positive")
        self.factory = factory
        self.clock = clock  # injectable, so screenshots show stable timings
        self.relation = relation
        self.page_size = page_size
        self.cache_budget = cache_bytes
        self.truncate = truncate
        self.columns: list[Column] = []
        self.row_count = 0
        self.count_exact = False
        self.statements: deque[Statement] = deque(maxlen=history)
        self.fetches = 0
        self.rows_fetched = 0
        self._conn: psycopg2.extensions.connection | None = None
        self._cursor: psycopg2.extensions.cursor | None = None
        self._cursor_name = ""
        self._pos = 0  # index of the row the next FETCH FORWARD returns
        self._cache: OrderedDict[int, _Page] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()  # guards the cache and the record across threads

    # -- queries -----------------------------------------------------------------------
    def select(self) -> sql.Composed:
        """The cursor's query: every column as its text output, cut on the server."""
        cut = sql.Literal(self.truncate + 1)  # one more than shown, to know it was cut
        items = sql.SQL(", ").join(
            sql.SQL("left({}::text, {})").format(sql.Identifier(c.name), cut) for c in self.columns
        )
        return sql.SQL("SELECT {} FROM {}").format(items, self.relation.identifier())

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._cursor is not None

    def open(self) -> None:
        """Connect, read the columns and the planner's row estimate, declare the cursor."""
        if self._conn is None or self._conn.closed:
            self._conn = self.factory.connect()
        try:
            if not self.columns:
                started = self.clock()
                self.columns = list_columns(self._conn, self.relation)
                self._record("-- columns of " + self.relation.qualified, 0, started)
                self.row_count = self._estimate()
            self._declare()
        except psycopg2.Error as error:
            self._fail()
            raise describe(error, f"opening {self.relation.qualified}") from None

    def _estimate(self) -> int:
        assert self._conn is not None
        query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT * FROM {}").format(self.relation.identifier())
        with self._timed(query) as cur:
            cur.execute(query)
            plan = cur.fetchone()[0]
        return max(0, int(plan[0]["Plan"]["Plan Rows"]))

    def _declare(self) -> None:
        assert self._conn is not None
        self._cursor_name = f"pgbrowse_{next(_cursor_ids)}"
        cursor = self._conn.cursor(name=self._cursor_name, scrollable=True, withhold=False)
        started = self.clock()
        cursor.execute(self.select())
        self._cursor = cursor
        self._pos = 0
        self._record((cursor.query or b"").decode(errors="replace"), 0, started)

    def close(self) -> None:
        """Close the cursor, end the transaction and close the connection."""
        conn, self._conn, self._cursor = self._conn, None, None
        if conn is not None and not conn.closed:
            started = self.clock()
            try:
                conn.rollback()  # ends the read-only transaction, which closes the cursor
                self._record("ROLLBACK", 0, started)
            except psycopg2.Error:
                pass
            conn.close()

    def cancel(self) -> None:
        """Ask the server to cancel the running statement (safe from any thread)."""
        conn = self._conn
        if conn is not None and not conn.closed:
            with suppress(psycopg2.Error):
                conn.cancel()

    def _fail(self) -> None:
        """After an error the transaction (and the cursor with it) is gone."""
        self._cursor = None
        conn = self._conn
        if conn is None or conn.closed:
            self._conn = None
            return
        try:
            conn.rollback()
        except psycopg2.Error:
            conn.close()
            self._conn = None

    # -- rows --------------------------------------------------------------------------
    def cached(self, page: int) -> list[Row] | None:
        """The rows of ``page`` if the cache holds them (any thread; never touches the server)."""
        with self._lock:
            entry = self._cache.get(page)
            if entry is None:
                return None
            self._cache.move_to_end(page)
            return entry.rows

    def load(self, page: int) -> list[Row]:
        """Fetch ``page`` into the cache (loader thread) and return its rows."""
        rows = self.cached(page)
        if rows is not None:
            return rows
        start = page * self.page_size
        if self.count_exact and start >= self.row_count:
            return []
        if not self.is_open:
            self.open()
        try:
            rows = self._fetch_at(start)
        except psycopg2.Error as error:
            self._fail()
            raise describe(error, f"reading {self.relation.qualified}") from None
        self._store(page, rows)
        return rows

    def rows(self, start: int, count: int) -> list[Row]:
        """Rows ``[start, start + count)``, loading whatever pages they span."""
        out: list[Row] = []
        first, last = start // self.page_size, (start + count - 1) // self.page_size
        for page in range(first, last + 1):
            rows = self.load(page)
            base = page * self.page_size
            lo, hi = max(start, base) - base, min(start + count, base + len(rows)) - base
            out.extend(rows[lo:hi])
        return out

    def _fetch_at(self, start: int) -> list[Row]:
        assert self._cursor is not None
        if start != self._pos:
            self._move_absolute(start)
        statement = f'FETCH FORWARD {self.page_size} FROM "{self._cursor_name}"'
        started = self.clock()
        rows: list[Row] = self._cursor.fetchmany(self.page_size)
        self._record(statement, len(rows), started)
        self.fetches += 1
        self.rows_fetched += len(rows)
        self._pos = start + len(rows)
        if len(rows) == self.page_size:
            if not self.count_exact and self._pos >= self.row_count:
                self._probe_end()
        elif rows or start == 0:
            self.row_count, self.count_exact = self._pos, True
        else:
            # Past the real end: the estimate was high. Moving back over every row counts them.
            self.row_count, self.count_exact = self._move_backward_all(), True
        return rows

    def _move_absolute(self, start: int) -> None:
        assert self._cursor is not None
        started = self.clock()
        self._cursor.scroll(start, mode="absolute")
        self._record(f'MOVE ABSOLUTE {start} FROM "{self._cursor_name}"', 0, started)
        self._pos = start

    def find_end(self) -> None:
        """Make the row count exact by moving the cursor past the last row (no rows sent)."""
        if self.count_exact:
            return
        if not self.is_open:
            self.open()
        try:
            moved = self._move("FORWARD ALL")
        except psycopg2.Error as error:
            self._fail()
            raise describe(error, f"finding the end of {self.relation.qualified}") from None
        self._pos += moved
        self.row_count, self.count_exact = self._pos, True

    def _probe_end(self) -> None:
        """At or past the estimated end with a full page: is there a next row at all?"""
        if self._move("FORWARD 1"):
            # The estimate was low: let the user scroll on, a page at a time.
            self._pos += 1
            self.row_count = self._pos - 1 + self.page_size
        else:
            self.row_count, self.count_exact = self._pos, True

    def _move_backward_all(self) -> int:
        moved = self._move("BACKWARD ALL")
        self._pos = 0
        return moved

    def _move(self, direction: str) -> int:
        """Send ``MOVE <direction>`` on the cursor; the rows it passed, read from its tag."""
        query = sql.SQL("MOVE {} FROM {}").format(
            sql.SQL(direction), sql.Identifier(self._cursor_name)
        )
        with self._timed(query) as cur:
            cur.execute(query)
            return int((cur.statusmessage or "MOVE 0").split()[-1])

    # -- cache -------------------------------------------------------------------------
    def _store(self, page: int, rows: list[Row]) -> None:
        nbytes = sys.getsizeof(rows) + sum(row_bytes(r) for r in rows)
        with self._lock:
            old = self._cache.pop(page, None)
            if old is not None:
                self._cache_bytes -= old.nbytes
            self._cache[page] = _Page(rows, nbytes)
            self._cache_bytes += nbytes
            while self._cache_bytes > self.cache_budget and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._cache_bytes -= evicted.nbytes

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                pages=len(self._cache),
                rows=sum(len(p.rows) for p in self._cache.values()),
                bytes=self._cache_bytes,
                budget=self.cache_budget,
            )

    # -- the record --------------------------------------------------------------------
    def last_statement(self) -> Statement | None:
        with self._lock:
            return self.statements[-1] if self.statements else None

    def _record(self, statement: str, rows: int, started: float) -> None:
        ms = (self.clock() - started) * 1000
        with self._lock:
            self.statements.append(Statement(statement, rows, ms))

    @contextmanager
    def _timed(self, query: sql.Composable) -> Iterator[psycopg2.extensions.cursor]:
        assert self._conn is not None
        started = self.clock()
        with self._conn.cursor() as cur:
            yield cur
            rows = cur.rowcount if cur.description is not None else 0
        self._record(query.as_string(self._conn), max(rows, 0), started)
