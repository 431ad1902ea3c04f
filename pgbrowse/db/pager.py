"""CursorPager: named (server-side) cursors over one relation, read a page at a time.

The pager owns one connection and its ``SCROLL`` cursors inside a read-only transaction. It
is used by one thread at a time (the view's loader thread); only ``cached()``, ``stats()``
and ``cancel()`` may be called from other threads. Every statement it sends is recorded.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.cancel import cancel_connection
from pgbrowse.db.catalog import Column, Relation, describe_query, list_columns
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import QueryError, describe, first_line
from pgbrowse.db.guard import Checked, check_expression
from pgbrowse.db.seek import SeekPlan, plan_seeking, plan_sorted

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
class ServerSide:
    """What the pager's own backend holds: memory (None where it may not be read) and the
    lock modes it has on the relation."""

    memory_bytes: int | None
    locks: tuple[str, ...]
    temp_bytes: int | None = None  # temp files of this backend (a spilled sort), if readable


@dataclass(frozen=True)
class CellValue:
    """One cell's whole value (up to a limit), fetched on demand."""

    text: str | None  # None for NULL
    length: int  # characters in the whole value
    cut: bool  # text holds only the first ``limit`` characters


CELL_LIMIT = 1_000_000  # characters of a value the cell view fetches at most


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


WALK_PAGES = 4  # a jump further than this many pages seeks instead of walking the rows
SMALL_TABLE_ROWS = 10_000  # walking anywhere in fewer rows costs under a millisecond: stay exact
MAX_WINDOW_BLOCKS = 8192  # ctid: the widest span one probe for a non-empty block scans


@dataclass
class _Forward:
    """A cursor from the anchor's key onward: its row i is at ``anchor.base + i``."""

    name: str
    cursor: psycopg2.extensions.cursor
    next: int = 0  # the index of the row the next FETCH returns (end + 1 once past the end)
    end: int | None = None  # the number of rows it has, once seen


@dataclass
class _Backward:
    """A descending cursor over the rows before the anchor: its row i is at base - 1 - i."""

    name: str
    cursor: psycopg2.extensions.cursor
    next: int = 0
    end: int | None = None


@dataclass
class _Blocks:
    """ctid: the rows before the anchor's tid, read a window of blocks at a time."""

    upper: str  # the tid every row not read yet is before: the anchor's, then a window's start
    read: int = 0  # rows read so far: they sit at base - read .. base - 1
    # (first tid, end tid, offset of its first row from the base, rows) for each window
    windows: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def low(self) -> int:
        """The block of ``upper``."""
        return int(self.upper.strip("()").split(",")[0])

    @property
    def done(self) -> bool:
        return self.upper == "(0,0)"


@dataclass
class _Anchor:
    """Where reading starts: a key (or block) and the position of its first row.

    ``frame`` 0 means positions are exact (counted from the first row); any other frame is
    one seek's estimate, and pages cached under it are never mixed with another frame's.
    """

    kind: str  # "start", "seek" or "end"
    base: int  # the position of the first row at or after the key (end: the row count)
    frame: int
    key: Any = None  # keyset: the first key column's value; ctid: a block number
    forward: _Forward | None = None
    backward: _Backward | _Blocks | None = None


class CursorPager:
    """Rows ``[start, start + count)`` of a relation, fetched lazily through named cursors.

    Near moves walk a cursor (``MOVE``/``FETCH``). A far move (End, goto, a scrollbar jump)
    on a large relation seeks (see ``pgbrowse.db.seek``): it opens a cursor at a key instead
    of walking to it. The rows it shows are then numbered from the seek's estimate, said
    by ``positions_exact``, until the number of rows before the key becomes known, when
    the positions shift by ``shift`` and become exact.
    """

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
        self.plan: SeekPlan | None = None
        self.row_count = 0
        self.count_exact = False
        self.shift = 0  # how far positions have moved in total when a seek became exact
        self.order: tuple[str, bool] | None = None  # (column, descending) when sorted
        self.filter: str | None = None  # the user's WHERE expression, when filtered
        self._filter: Checked | None = None  # ...as parsed and printed back: what is sent
        self._unfiltered_count: tuple[int, bool] | None = None
        self.order_changes = 0  # how many times the order changed (views start over)
        self._natural: SeekPlan | None = None
        self._last_page: int | None = None  # the page read most recently: where to resume
        self.releases = 0  # how many times an idle pager gave its transaction back
        self.reconnects = 0  # how many times a lost session was replaced by a new one
        self._resume: _Anchor | None = None  # where to start again after an error
        self._connected_once = False
        self._memory_readable: bool | None = None  # may this role read its own memory?
        self._temp_readable: bool | None = None  # ...and list the temp directory?
        self.server_side: ServerSide | None = None  # last read by read_server_side()
        self.statements: deque[Statement] = deque(maxlen=history)
        self.fetches = 0
        self.rows_fetched = 0
        self._conn: psycopg2.extensions.connection | None = None
        self._anchor: _Anchor | None = None
        self._frames = itertools.count(1)
        self._window = 1  # ctid: blocks per page of rows
        self._cache: OrderedDict[tuple[int, int], _Page] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()  # guards the cache and the record across threads

    # -- queries -----------------------------------------------------------------------
    def select(self) -> sql.Composed:
        """The select list and relation: every column as its type's output (as psql and COPY
        print it), cut on the server, then the row's key (or ctid) in full, hidden: where to
        start again from this row."""
        cut = sql.Literal(self.truncate + 1)  # one more than shown, to know it was cut
        # concat() calls the type's output function; ::text would not always (a boolean
        # casts to 'true', not 't'; an inet to '10.0.0.1/32', not '10.0.0.1').
        items = [
            sql.SQL("CASE WHEN {c} IS NULL THEN NULL ELSE left(concat({c}), {n}) END").format(
                c=sql.Identifier(c.name), n=cut
            )
            for c in self.columns
        ]
        # Aliased: ORDER BY "id" would otherwise sort by the output column "id" (the text).
        items += [
            sql.SQL("{}::text AS {}").format(sql.Identifier(k), sql.Identifier(f"pgbrowse_key_{i}"))
            for i, k in enumerate(self.hidden_keys)
        ]
        return sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(items), self.relation.source()
        )

    @property
    def hidden_keys(self) -> tuple[str, ...]:
        """The columns after the visible ones in every row: the order's key, or ctid."""
        if self.plan is None:
            return ()
        return ("ctid",) if self.plan.method == "ctid" else self.plan.keys

    def row_key(self, row: Row) -> tuple[str | None, ...]:
        """The hidden key of a fetched row."""
        return row[len(self.columns) :]

    def _query(self, where: sql.Composable | None, reverse: bool = False) -> sql.Composed:
        """The select, filtered by ``where``, in the plan's order (or its reverse)."""
        parts: list[sql.Composable] = [self.select()]
        conditions = [c for c in (where, self._filter_sql()) if c is not None]
        if conditions:
            parts.append(sql.SQL("WHERE {}").format(sql.SQL(" AND ").join(conditions)))
        order = self._order_by(reverse)
        if order is not None:
            parts.append(order)
        return sql.SQL(" ").join(parts)

    def _order_by(self, reverse: bool = False) -> sql.Composed | None:
        """``ORDER BY`` the plan's keys (None for physical order), or the reverse of it."""
        keys = self.plan.keys if self.plan is not None else ()
        if not keys:
            return None
        descending = reverse != (self.plan is not None and self.plan.descending)
        # Qualified, so a key never resolves to an output column of the same name.
        rel = self.relation.qualifier()
        order = sql.SQL(" DESC, " if descending else ", ").join(
            sql.Identifier(*rel, k) for k in keys
        )
        return sql.SQL("ORDER BY {}{}").format(order, sql.SQL(" DESC" * descending))

    def export_query(self) -> sql.Composed:
        """The view as it is shown (its order), every value whole: for COPY to a file."""
        columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)
        query = sql.SQL("SELECT {} FROM {}").format(columns, self.relation.source())
        if self.filter:
            query = sql.SQL("{} WHERE {}").format(query, self._filter_sql())
        order = self._order_by()
        return query if order is None else sql.SQL("{} {}").format(query, order)

    def _bound(self, anchor: _Anchor, op: str) -> sql.Composable | None:
        """The condition for the rows at or after (``>=``) or before (``<``) the anchor,
        in the order shown (so for a descending order, ``<=`` and ``>`` on the key)."""
        assert self.plan is not None
        if self.plan.descending:
            op = {">=": "<=", "<": ">"}[op]
        if anchor.kind == "start" and self.plan.method != "ctid":
            return None
        if self.plan.method == "ctid":
            return sql.SQL("ctid {} {}::tid").format(sql.SQL(op), sql.Literal(anchor.key))
        if anchor.kind == "end":
            return None
        if isinstance(anchor.key, tuple):  # a whole row's key: (k1, k2) >= (v1, v2)
            keys = sql.SQL(", ").join(map(sql.Identifier, self.plan.keys))
            values = sql.SQL(", ").join(map(sql.Literal, anchor.key))
            return sql.SQL("({}) {} ({})").format(keys, sql.SQL(op), values)
        return sql.SQL("{} {} {}").format(
            sql.Identifier(self.plan.keys[0]), sql.SQL(op), sql.Literal(anchor.key)
        )

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._anchor is not None

    @property
    def positions_exact(self) -> bool:
        """Are row positions counted from the first row (not a seek's estimate)?"""
        anchor = self._anchor
        return anchor is None or anchor.frame == 0

    @property
    def frame(self) -> int:
        anchor = self._anchor or self._resume
        return 0 if anchor is None else anchor.frame

    @property
    def seeks(self) -> bool:
        """Do far moves seek (rather than walk) here?"""
        return self.plan is not None and self.plan.seeks and self.row_count > SMALL_TABLE_ROWS

    def open(self) -> None:
        """Connect, read the columns, the row estimate and how to seek; start at row 0, or
        where reading was when an error (a cancel, a timeout, a lost session) stopped it."""
        if self._conn is None or self._conn.closed:
            self._conn = self.factory.connect()
            if self._connected_once:
                self.reconnects += 1
                self._record("-- reconnected: the server had closed the session", 0, self.clock())
            self._connected_once = True
            # One snapshot for every cursor of the transaction: pages read through different
            # seeks agree with each other even while the table changes.
            self._conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        try:
            if not self.columns:
                started = self.clock()
                self.relation = describe_query(self._conn, self.relation)
                self.columns = list_columns(self._conn, self.relation)
                self._record("-- columns of " + self.relation.qualified, 0, started)
                self.row_count = self._estimate()
                started = self.clock()
                self.plan = self._natural = plan_seeking(self._conn, self.relation)
                self._record(f"-- seeking: {self.plan.method} ({self.plan.why})", 0, started)
                if self.plan.blocks:
                    self._window = max(
                        1, math.ceil(self.page_size * self.plan.blocks / max(self.row_count, 1))
                    )
            self._anchor = self._resume or _Anchor("start", 0, 0, key="(0,0)")
            self._resume = None
        except psycopg2.Error as error:
            self._fail()
            raise self._describe(error, f"opening {self.relation.qualified}") from None

    def _describe(self, error: psycopg2.Error, what: str) -> QueryError:
        return describe(error, what, self.factory.settings)

    def _estimate(self, where: Checked | None = None) -> int:
        """The planner's rows for the relation, or for it filtered by ``where``."""
        assert self._conn is not None
        query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT * FROM {}").format(self.relation.source())
        if where:
            query = sql.SQL("{} WHERE ({})").format(query, sql.SQL(where.sql))
        with self._timed(query) as cur:
            cur.execute(query)
            plan = cur.fetchone()[0]
        return max(0, int(plan[0]["Plan"]["Plan Rows"]))

    def _declare(self, query: sql.Composed) -> tuple[str, psycopg2.extensions.cursor]:
        assert self._conn is not None
        name = f"pgbrowse_{next(_cursor_ids)}"
        cursor = self._conn.cursor(name=name, scrollable=True, withhold=False)
        started = self.clock()
        cursor.execute(query)
        self._record((cursor.query or b"").decode(errors="replace"), 0, started)
        return name, cursor

    def _close_cursors(self, anchor: _Anchor) -> None:
        for reader in (anchor.forward, anchor.backward):
            if isinstance(reader, _Forward | _Backward):
                self._close(reader)
        anchor.forward = anchor.backward = None

    def _close(self, reader: _Forward | _Backward) -> None:
        started = self.clock()
        reader.cursor.close()
        self._record(f'CLOSE "{reader.name}"', 0, started)

    def close(self) -> None:
        """Close the cursors, end the transaction and close the connection."""
        conn, self._conn, self._anchor, self._resume = self._conn, None, None, None
        if conn is not None and not conn.closed:
            started = self.clock()
            try:
                conn.rollback()  # ends the read-only transaction, which closes the cursors
                self._record("ROLLBACK", 0, started)
            except psycopg2.Error:
                pass
            conn.close()

    @property
    def holds_transaction(self) -> bool:
        """Is a transaction open on the server (a snapshot, and locks on the relation)?"""
        conn = self._conn
        return (
            conn is not None
            and not conn.closed
            and conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE
        )

    def release(self) -> bool:
        """Idle: close the cursors and end the transaction, so the session holds no lock and
        no snapshot, but remember where reading was: the next read re-opens a cursor at the
        first row of the page read last (by its key or ctid), at the same position."""
        if not self.holds_transaction or self._anchor is None:
            return False
        resume = self._resume_anchor(self._anchor)
        assert self._conn is not None
        started = self.clock()
        try:
            self._conn.rollback()  # ends the transaction, and every cursor with it
        except psycopg2.Error:
            self._fail()
            return False
        self._record("ROLLBACK -- idle: cursors closed, transaction ended", 0, started)
        self._anchor = resume
        self.releases += 1
        return True

    def _resume_anchor(self, anchor: _Anchor) -> _Anchor:
        """An anchor without cursors where ``anchor``'s readers were last reading."""
        page = self._last_page
        rows = self.cached(page) if page is not None else None
        if page is not None and rows and self.hidden_keys and self.plan is not None:
            key = self.row_key(rows[0])
            if None not in key:
                value: Any = key[0] if self.plan.method == "ctid" else key
                return _Anchor("seek", page * self.page_size, anchor.frame, value)
        return _Anchor(anchor.kind, anchor.base, anchor.frame, anchor.key)

    def read_server_side(self) -> ServerSide | None:
        """Read this backend's memory (pg_backend_memory_contexts, PostgreSQL 14+, where
        the role may) and its locks on the relation, on the pager's own connection, inside
        its transaction (a plain SELECT: the cursors are untouched). Never while released:
        that would start a transaction just to look at it."""
        if not self.holds_transaction:
            self.server_side = None
            return None
        assert self._conn is not None
        try:
            if self._memory_readable is None:
                self._memory_readable = self._conn.server_version >= 140000 and self._scalar(
                    sql.SQL(
                        "SELECT has_table_privilege('pg_catalog.pg_backend_memory_contexts',"
                        " 'SELECT')"
                    )
                )
            if self._temp_readable is None:
                self._temp_readable = self._conn.server_version >= 120000 and self._scalar(
                    sql.SQL("SELECT has_function_privilege('pg_catalog.pg_ls_tmpdir()', 'EXECUTE')")
                )
            memory = (
                sql.SQL("(SELECT sum(total_bytes)::int8 FROM pg_backend_memory_contexts)")
                if self._memory_readable
                else sql.SQL("NULL::int8")
            )
            temp = (
                sql.SQL(
                    "(SELECT coalesce(sum(size), 0)::int8 FROM pg_ls_tmpdir()"
                    " WHERE name LIKE 'pgsql_tmp' || pg_backend_pid() || '.%')"
                )
                if self._temp_readable
                else sql.SQL("NULL::int8")
            )
            relation = (  # a query's locks are on whatever it reads
                sql.SQL("locktype = 'relation'")
                if self.relation.query is not None
                else sql.SQL("relation = {}::regclass").format(
                    sql.Literal(self.relation.identifier().as_string(self._conn))
                )
            )
            query = sql.SQL(
                "SELECT {}, ARRAY(SELECT DISTINCT mode FROM pg_locks"
                " WHERE pid = pg_backend_pid() AND {} ORDER BY 1), {}"
            ).format(memory, relation, temp)
            with self._timed(query) as cur:
                cur.execute(query)
                memory_bytes, locks, temp_bytes = cur.fetchone()
        except psycopg2.Error as error:
            self._fail()
            raise self._describe(error, "reading the server side") from None
        self.server_side = ServerSide(memory_bytes, tuple(locks), temp_bytes)
        return self.server_side

    def search(self, position: int, row: Row, text: str, backward: bool = False) -> int | None:
        """The position of the next row after ``row`` (at ``position``; before it when
        ``backward``) whose visible text contains ``text``, case-insensitive, or None.

        One statement on the server: it scans from the row's key in the view's order, with a
        row_number() beside it, and stops at the first match, so the rows in between never
        reach the client. The view then reads from the match (an anchor at its key, placed
        exactly that many rows away), so only the matching page is fetched.
        """
        if not self.is_open:
            self.open()
        assert self._conn is not None and self.plan is not None and self._anchor is not None
        key = self.row_key(row)
        if not self.hidden_keys or None in key:
            raise QueryError("Cannot search here", "this relation has no key to search from")
        haystack = sql.SQL("concat_ws(' ', {})").format(
            sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)
        )
        ctid = self.plan.method == "ctid"
        probe = _Anchor("seek", position, self.frame, key[0] if ctid else key)
        side = self._bound(probe, "<" if backward else ">=")
        # >= the row itself would find it: step past it with the row number (n > 1).
        if ctid:  # physical order: a TID range scan forward; backward has to sort
            rel = self.relation.qualifier()
            order = sql.SQL("ORDER BY {} DESC").format(sql.Identifier(*rel, "ctid"))
            order = order if backward else None
        else:
            order = self._order_by(reverse=backward)
        conditions = [c for c in (side, self._filter_sql()) if c is not None]
        keys = sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(k)) for k in self.hidden_keys
        )
        inner = sql.SQL(
            "SELECT row_number() OVER ({o}) AS pgbrowse_n, {keys},"
            " strpos(lower({hay}), lower({needle})) > 0 AS pgbrowse_hit"
            " FROM {rel} WHERE {where} {o}"
        ).format(
            o=order or sql.SQL(""),
            keys=keys,
            hay=haystack,
            needle=sql.Literal(text),
            rel=self.relation.source(),
            where=sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true"),
        )
        skip = 0 if backward else 1  # forward, the first row is the cursor's own row
        query = sql.SQL(
            "SELECT * FROM ({}) s WHERE pgbrowse_hit AND pgbrowse_n > {} LIMIT 1"
        ).format(inner, sql.Literal(skip))
        found = self._one(query, f"searching {self.relation.qualified}")
        if found is None:
            return None
        distance, *found_key = found[:-1]
        target = position - int(distance) if backward else position + int(distance) - 1
        if target < 0:
            return None
        anchor = self._anchor
        self._close_cursors(anchor)
        key_value: Any = found_key[0] if ctid else tuple(found_key)
        # Placed exactly that many rows away: the frame's pages stay right, whatever it is.
        self._anchor = _Anchor("seek", target, anchor.frame, key_value)
        return target

    def fetch_cell(self, row: Row, column: int, limit: int = CELL_LIMIT) -> CellValue:
        """The whole value of ``column`` in a fetched ``row`` (loader thread), found again by
        its hidden key (or ctid) in this transaction's snapshot; cut at ``limit`` characters
        on the server, with its full length. A row without a key (a keyless view) cannot be
        found again: QueryError says so."""
        key = self.row_key(row)
        if not self.hidden_keys or None in key:
            raise QueryError("Cannot open the cell", "this row has no key to find it again by")
        if not self.is_open:
            self.open()
        name = sql.Identifier(self.columns[column].name)
        value = sql.SQL("CASE WHEN {c} IS NULL THEN NULL ELSE left(concat({c}), {n}) END").format(
            c=name, n=sql.Literal(limit)
        )
        length = sql.SQL("length(concat({}))").format(name)
        # Untyped literals, so the server reads them as the key's own types: an index
        # lookup (or a TID scan), not a scan comparing texts.
        keys = sql.SQL(", ").join(map(sql.Identifier, self.hidden_keys))
        where = sql.SQL("({}) = ({})").format(keys, sql.SQL(", ").join(map(sql.Literal, key)))
        query = sql.SQL("SELECT {}, {} FROM {} WHERE {} LIMIT 1").format(
            value, length, self.relation.source(), where
        )
        found = self._one(query, "reading the cell")
        if found is None:
            raise QueryError("Cannot open the cell", "the row is no longer there")
        text, full = found
        return CellValue(text, int(full or 0), text is not None and int(full) > limit)

    def _one(self, query: sql.Composable, what: str) -> tuple[Any, ...] | None:
        """The first row of ``query``; on a server error the pager fails over and says so."""
        try:
            with self._timed(query) as cur:
                cur.execute(query)
                return cur.fetchone()  # type: ignore[no-any-return]
        except psycopg2.Error as error:
            self._fail()
            raise self._describe(error, what) from None

    def _scalar(self, query: sql.Composable) -> Any:
        with self._timed(query) as cur:
            cur.execute(query)
            return cur.fetchone()[0]

    def cancel(self) -> None:
        """Ask the server to cancel the running statement (safe from any thread)."""
        cancel_connection(self._conn)

    def _fail(self) -> None:
        """After an error the transaction (and the cursors with it) is gone; remember where
        reading was, so the next read starts there again."""
        if self._anchor is not None:
            self._resume = self._resume_anchor(self._anchor)
        self._anchor = None
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
            key = (self.frame, page)
            entry = self._cache.get(key)
            if entry is None:
                return None
            self._cache.move_to_end(key)
            return entry.rows

    def load(self, page: int) -> list[Row]:
        """Fetch ``page`` into the cache (loader thread) and return its rows.

        Returns no rows when positions shifted instead (a seek's estimate became exact):
        the caller asks again for what it now wants.
        """
        rows = self.cached(page)
        if rows is not None:
            return rows
        lo = page * self.page_size
        if self.count_exact and lo >= self.row_count:
            return []
        for attempt in range(2):
            if not self.is_open:
                self.open()
            try:
                anchor = self._anchor_for(lo)
                got = self._read(anchor, lo, lo + self.page_size)
                break
            except psycopg2.Error as error:
                lost = self._conn is None or bool(self._conn.closed)
                self._fail()
                if lost and attempt == 0:
                    continue  # the session was closed under us: a new one, where we were
                raise self._describe(error, f"reading {self.relation.qualified}") from None
        if got is None:
            return []
        self._store(anchor.frame, page, got)
        self._last_page = page
        return got

    def rows(self, start: int, count: int) -> list[Row]:
        """Rows ``[start, start + count)`` (visible columns), loading the pages they span."""
        out: list[Row] = []
        first, last = start // self.page_size, (start + count - 1) // self.page_size
        for page in range(first, last + 1):
            rows = self.load(page)
            base = page * self.page_size
            lo, hi = max(start, base) - base, min(start + count, base + len(rows)) - base
            out.extend(row[: len(self.columns)] for row in rows[lo:hi])
        return out

    # -- choosing where to read from ---------------------------------------------------
    def _anchor_for(self, lo: int) -> _Anchor:
        """The anchor to read rows from ``lo`` with: the current one if it is near."""
        anchor = self._anchor
        assert anchor is not None
        if lo == 0 or (not self.seeks and anchor.kind == "end"):
            return anchor if anchor.kind == "start" else self._new_anchor("start", 0)
        if not self.seeks:
            return anchor  # the start, or where an idle release left off: walk from it
        limit = WALK_PAGES * self.page_size
        if self._reach(anchor, lo, lo + self.page_size) <= limit:
            return anchor
        if lo <= limit:
            return self._new_anchor("start", 0)
        if self.row_count - lo <= limit + self.page_size:
            return self._new_anchor("end", self.row_count)
        return self._new_anchor("seek", lo)

    def _reach(self, anchor: _Anchor, lo: int, hi: int) -> int:
        """How many rows the server would walk to read ``[lo, hi)`` from ``anchor``."""
        if lo >= anchor.base:
            if anchor.kind == "end":
                return 0  # nothing after the end: no rows, no walk
            i = lo - anchor.base
            # From the cursor where it stands, or from a new one at the anchor's key.
            return i if anchor.forward is None else min(i, abs(i - anchor.forward.next))
        j = anchor.base - min(hi, anchor.base)  # index of the page's last row, backward
        back = anchor.backward
        if isinstance(back, _Backward):
            return min(j, abs(j - back.next))
        if isinstance(back, _Blocks):
            return max(0, anchor.base - lo - back.read)
        return j

    def _new_anchor(self, kind: str, lo: int) -> _Anchor:
        assert self.plan is not None and self._conn is not None
        old = self._anchor
        if old is not None:
            self._close_cursors(old)
        frame = 0 if kind == "start" or (kind == "end" and self.count_exact) else next(self._frames)
        anchor = _Anchor(kind, lo, frame)
        fraction = lo / max(self.row_count, 1)
        if self.plan.method == "keyset" and kind == "seek":
            anchor.key = self.plan.key_at(fraction)
        elif self.plan.method == "ctid":
            block = self._blocks_now() if kind == "end" else self.plan.block_at(fraction)
            anchor.key = f"({0 if kind == 'start' else block},0)"
        self._anchor = anchor
        return anchor

    def _blocks_now(self) -> int:
        assert self._conn is not None
        query = sql.SQL(
            "SELECT pg_relation_size({}::regclass) / current_setting('block_size')::int"
        ).format(sql.Literal(self.relation.identifier().as_string(self._conn)))
        with self._timed(query) as cur:
            cur.execute(query)
            return int(cur.fetchone()[0])

    # -- reading -----------------------------------------------------------------------
    def _read(self, anchor: _Anchor, lo: int, hi: int) -> list[Row] | None:
        """Rows ``[lo, hi)`` from ``anchor``: the part before its key, then the part after."""
        rows: list[Row] = []
        if lo < anchor.base:
            if self.plan is not None and self.plan.method == "ctid":
                back = self._read_blocks(anchor, lo, min(hi, anchor.base))
            else:
                back = self._read_backward(anchor, lo, min(hi, anchor.base))
            if back is None:
                return None
            rows = back
        if hi > anchor.base and anchor.kind != "end":
            i = max(lo - anchor.base, 0)
            rows += self._read_forward(anchor, i, hi - anchor.base - i)
        return rows

    def _read_forward(self, anchor: _Anchor, i: int, count: int) -> list[Row]:
        f = anchor.forward
        if f is not None and f.end is not None and i >= f.end:
            return []
        if f is not None and i < abs(i - f.next):  # nearer the key: start again from it
            self._close(f)
            anchor.forward = None
        f = self._forward(anchor)
        if i != f.next:
            moved = self._move(f.name, i - f.next)
            if i > f.next and moved < i - f.next:  # passed the end
                f.end, f.next = f.next + moved, f.next + moved + 1
                self._learn_end(anchor, anchor.base + f.end)
                return []
            f.next = i
        rows = self._fetch(f.name, f.cursor, count)
        f.next = i + len(rows)
        if len(rows) < count:
            f.end, f.next = f.next, f.next + 1
            self._learn_end(anchor, anchor.base + f.end)
        elif not self.count_exact and anchor.base + f.next >= self.row_count:
            # At or past the estimated end with a full page: is there a next row at all?
            if self._move(f.name, 1):
                f.next += 1
                self.row_count = anchor.base + f.next - 1 + self.page_size
            else:
                f.end, f.next = f.next, f.next + 1
                self._learn_end(anchor, anchor.base + f.end)
        return rows

    def _forward(self, anchor: _Anchor) -> _Forward:
        if anchor.forward is None:
            query = self._query(self._bound(anchor, ">="))
            anchor.forward = _Forward(*self._declare(query))
        return anchor.forward

    def _read_backward(self, anchor: _Anchor, lo: int, hi: int) -> list[Row] | None:
        b = anchor.backward
        j, want = anchor.base - hi, hi - lo
        if isinstance(b, _Backward) and j < abs(j - b.next):
            self._close(b)
            b = anchor.backward = None
        if not isinstance(b, _Backward):
            query = self._query(self._bound(anchor, "<"), reverse=True)
            b = anchor.backward = _Backward(*self._declare(query))
        if j != b.next:
            moved = self._move(b.name, j - b.next)
            if j > b.next and moved < j - b.next:
                b.end = b.next + moved
                self._rebase(anchor, b.end - anchor.base)
                return None
            b.next = j
        rows = self._fetch(b.name, b.cursor, want)
        b.next = j + len(rows)
        if len(rows) < want:
            b.end, b.next = b.next, b.next + 1
            if anchor.base != b.end:  # the first row is not at position 0: now we know where
                self._rebase(anchor, b.end - anchor.base)
                return None
        rows.reverse()
        return rows

    def _read_blocks(self, anchor: _Anchor, lo: int, hi: int) -> list[Row] | None:
        b = anchor.backward
        if not isinstance(b, _Blocks):
            b = anchor.backward = _Blocks(upper=str(anchor.key))
        fresh: dict[tuple[str, str], list[Row]] = {}
        while b.read < anchor.base - lo and not b.done:
            first = max(0, b.low - self._window)
            rows = self._select_blocks(f"({first},0)", b.upper)
            if not rows:  # empty blocks (deleted rows, free space): skip to the next row
                first = self._row_block_below(first) + 1 if first else 0
            start = f"({first},0)"
            b.windows.append((start, b.upper, -(b.read + len(rows)), len(rows)))
            fresh[(start, b.upper)] = rows
            b.read += len(rows)
            b.upper = start
        if b.done and b.read != anchor.base:
            self._rebase(anchor, b.read - anchor.base)
            return None
        out: list[Row] = []
        for first, end, offset, count in reversed(b.windows):
            start = anchor.base + offset
            if count == 0 or start >= hi or start + count <= lo:
                continue
            rows = fresh.get((first, end))
            if rows is None:
                rows = self._select_blocks(first, end)
            out.extend(rows[max(lo - start, 0) : min(hi - start, count)])
        return out

    def _row_block_below(self, end: int) -> int:
        """The last block before ``end`` that holds a row (-1 if none), looking back in
        doubling spans so an empty region costs about its own size to cross."""
        assert self._conn is not None
        span = self._window
        while end > 0:
            first = max(0, end - span)
            query = sql.SQL(
                "SELECT max(ctid) FROM {} WHERE ctid >= {}::tid AND ctid < {}::tid AND {}"
            ).format(
                self.relation.identifier(),
                sql.Literal(f"({first},0)"),
                sql.Literal(f"({end},0)"),
                self._filter_sql() or sql.SQL("true"),
            )
            with self._timed(query) as cur:
                cur.execute(query)
                (found,) = cur.fetchone()
            if found is not None:
                return int(found.strip("()").split(",")[0])
            end, span = first, min(span * 2, MAX_WINDOW_BLOCKS)
        return -1

    def _select_blocks(self, first: str, end: str) -> list[Row]:
        """Every row with a tid in ``[first, end)``, in physical order: a TID range scan."""
        assert self._conn is not None
        where = sql.SQL("ctid >= {}::tid AND ctid < {}::tid").format(
            sql.Literal(first), sql.Literal(end)
        )
        query = self._query(where)
        with self._timed(query) as cur:
            cur.execute(query)
            rows: list[Row] = cur.fetchall()
        self.fetches += 1
        self.rows_fetched += len(rows)
        return rows

    def _fetch(self, name: str, cursor: psycopg2.extensions.cursor, count: int) -> list[Row]:
        started = self.clock()
        rows: list[Row] = cursor.fetchmany(count)
        self._record(f'FETCH FORWARD {count} FROM "{name}"', len(rows), started)
        self.fetches += 1
        self.rows_fetched += len(rows)
        return rows

    def _move(self, name: str, delta: int) -> int:
        """``MOVE`` a cursor by ``delta`` rows; the rows it passed, read from its tag."""
        direction = sql.SQL(f"FORWARD {delta}" if delta >= 0 else f"BACKWARD {-delta}")
        return self._send_move(direction, name)

    def _send_move(self, direction: sql.Composable, name: str) -> int:
        query = sql.SQL("MOVE {} FROM {}").format(direction, sql.Identifier(name))
        with self._timed(query) as cur:
            cur.execute(query)
            return int((cur.statusmessage or "MOVE 0").split()[-1])

    # -- what is known about the end and the positions ---------------------------------
    def _learn_end(self, anchor: _Anchor, end: int) -> None:
        self.row_count = end
        if anchor.frame == 0:
            self.count_exact = True

    def _rebase(self, anchor: _Anchor, delta: int) -> None:
        """The anchor's first row is really at ``base + delta``: its positions become exact."""
        old = anchor.frame
        anchor.base += delta
        anchor.frame = 0
        self.shift += delta
        with self._lock:
            for key in [k for k in self._cache if k[0] == old]:
                self._cache_bytes -= self._cache.pop(key).nbytes
        if anchor.kind == "end":
            self.row_count, self.count_exact = anchor.base, True
        elif anchor.forward is not None and anchor.forward.end is not None:
            self.row_count, self.count_exact = anchor.base + anchor.forward.end, True

    def find_end(self) -> None:
        """Make the row count exact by walking the cursor past the last row (no rows sent).

        For relations that cannot seek; on the others the end is read from the end.
        """
        if self.count_exact:
            return
        if not self.is_open:
            self.open()
        try:
            anchor = self._anchor_for(0)
            f = self._forward(anchor)
            if f.end is None:
                moved = self._send_move(sql.SQL("FORWARD ALL"), f.name)
                f.end = f.next + moved
                f.next = f.end + 1
            self._learn_end(anchor, f.end)
        except psycopg2.Error as error:
            self._fail()
            raise self._describe(error, f"finding the end of {self.relation.qualified}") from None

    def _filter_sql(self) -> sql.Composable | None:
        # The user's expression as PostgreSQL's parser read it, printed back (guard.py):
        # exactly one expression, without comments, so it cannot reach pgbrowse's clauses.
        return sql.SQL("({})").format(sql.SQL(self._filter.sql)) if self._filter else None

    def set_filter(self, where: str | None) -> None:
        """Show only the rows where ``where`` (an SQL expression) holds; None or '' for all.

        The expression is checked with EXPLAIN inside a savepoint first: a syntax or type
        error raises QueryError("Filter error", …) and changes nothing (the cursors and the
        cache stay). The row count becomes the planner's estimate for the filtered query.
        """
        where = (where or "").strip() or None
        checked = None if where is None else check_expression(where)  # before anything is sent
        if not self.is_open:
            self.open()
        assert self._conn is not None
        estimate = None
        if checked is not None:
            with self._conn.cursor() as cur:
                cur.execute("SAVEPOINT pgbrowse_filter")
                try:
                    estimate = self._estimate(checked)
                except psycopg2.Error as error:
                    cur.execute("ROLLBACK TO SAVEPOINT pgbrowse_filter")
                    raise QueryError("Filter error", first_line(error)) from None
                cur.execute("RELEASE SAVEPOINT pgbrowse_filter")
        if self.filter is None:
            self._unfiltered_count = (self.row_count, self.count_exact)
        self._restart()
        self.filter = where
        self._filter = checked
        if where is None and self._unfiltered_count is not None:
            self.row_count, self.count_exact = self._unfiltered_count
        else:
            self.row_count, self.count_exact = estimate or 0, False

    def _restart(self) -> None:
        """Close the cursors and empty the cache: reading starts over at row 0."""
        old = self._anchor
        if old is not None:
            self._close_cursors(old)
        self._resume = None
        self.order_changes += 1
        with self._lock:
            self._cache.clear()
            self._cache_bytes = 0
        self._anchor = _Anchor("start", 0, 0, key="(0,0)")

    def set_order(self, column: str | None, descending: bool = False) -> None:
        """Read in another order (loader thread): sorted by ``column`` on the server, or the
        natural order for None. The cursors close, the cache empties, positions restart."""
        if not self.is_open:
            self.open()
        assert self._conn is not None and self._natural is not None
        try:
            if column is None:
                plan = self._natural
            else:
                started = self.clock()
                plan = plan_sorted(self._conn, self.relation, column, descending, self._natural)
                self._record(f"-- seeking: {plan.method} ({plan.why})", 0, started)
        except psycopg2.Error as error:
            self._fail()
            raise self._describe(error, f"sorting {self.relation.qualified}") from None
        self._restart()
        self.plan = plan
        self.order = None if column is None else (column, descending)

    def count_query(self) -> tuple[sql.Composed, object]:
        """A query for the exact row count, and the rows before the current seek's key.

        Run it on another connection (it scans the relation); hand its result and the token
        to ``apply_count`` on the loader thread.
        """
        anchor = self._anchor
        before: sql.Composable = sql.SQL("NULL::int8")
        if anchor is not None and anchor.frame != 0 and anchor.kind == "seek":
            bound = self._bound(anchor, "<")
            if bound is not None:
                before = sql.SQL("count(*) FILTER (WHERE {})").format(bound)
        query = sql.SQL("SELECT count(*), {} FROM {}").format(before, self.relation.source())
        if self.filter:
            query = sql.SQL("{} WHERE {}").format(query, self._filter_sql())
        return query, anchor

    def apply_count(self, total: int, token: object, before: int | None) -> None:
        """The exact count arrived: the count is exact, and so are the current positions."""
        self.row_count, self.count_exact = total, True
        anchor = self._anchor
        if anchor is None or anchor.frame == 0:
            return
        if anchor.kind == "end":
            self._rebase(anchor, total - anchor.base)
        elif anchor is token and before is not None:
            self._rebase(anchor, before - anchor.base)

    # -- cache -------------------------------------------------------------------------
    def _store(self, frame: int, page: int, rows: list[Row]) -> None:
        nbytes = sys.getsizeof(rows) + sum(row_bytes(r) for r in rows)
        with self._lock:
            old = self._cache.pop((frame, page), None)
            if old is not None:
                self._cache_bytes -= old.nbytes
            self._cache[(frame, page)] = _Page(rows, nbytes)
            self._cache_bytes += nbytes
            while self._cache_bytes > self.cache_budget and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._cache_bytes -= evicted.nbytes

    def cached_pages(self) -> dict[int, int]:
        """The pages of the current frame the cache holds, with their rows (any thread)."""
        with self._lock:
            frame = self.frame
            return {page: len(e.rows) for (f, page), e in self._cache.items() if f == frame}

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
