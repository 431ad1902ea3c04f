"""Session: one connection, its read-only snapshot transaction, and the statement log.

Every statement a view sends goes through a Session, and every operation runs inside
``Session.run``: the one place where a psycopg2 error becomes a pgbrowse error (by SQLSTATE,
``errors.describe``) and where a lost connection is replaced, once, after which the
operation runs again from where it was (the caller's ``on_reset`` remembers where). So
paging, sorting, filtering, searching, a cell, the end, and the inspector's reads all
behave alike after ``pg_terminate_backend`` or a restart.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.connection.cancel import abandon, cancel_connection, close_connection
from pgbrowse.db.connection.connect import ConnectionFactory, SafeConnection
from pgbrowse.db.connection.errors import Cancelled, ConnectionLost, QueryError, describe

T = TypeVar("T")
TRANSACTION_INTRANS = psycopg2.extensions.TRANSACTION_STATUS_INTRANS
TRANSACTION_INERROR = psycopg2.extensions.TRANSACTION_STATUS_INERROR
RECOVERY_CONFLICT = "the standby ended it: terminating connection due to conflict with recovery"
_cursor_ids = itertools.count(1)


@dataclass(frozen=True)
class Statement:
    """One statement sent: its SQL, the rows it brought back, and its time."""

    sql: str
    rows: int
    ms: float


class StatementLog:
    """The statements a session sent, newest last (safe to read from any thread)."""

    def __init__(self, history: int = 500) -> None:
        self._items: deque[Statement] = deque(maxlen=history)
        self._lock = threading.Lock()

    def add(self, statement: Statement) -> None:
        with self._lock:
            self._items.append(statement)

    def last(self) -> Statement | None:
        with self._lock:
            return self._items[-1] if self._items else None

    def snapshot(self) -> list[Statement]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> Statement:
        with self._lock:
            return self._items[index]


class Session:
    """A connection in a ``REPEATABLE READ, READ ONLY`` transaction, opened on demand."""

    def __init__(
        self,
        factory: ConnectionFactory,
        *,
        history: int = 500,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.log = StatementLog(history)
        self.reconnects = 0  # lost sessions replaced by new ones
        self.lost_because = ""  # the error that lost the last one
        self.fetches = 0
        self.rows_fetched = 0
        self._conn: SafeConnection | None = None
        self._connected_once = False
        self._abandoned = False
        self._conflicts = 0  # the standby's recovery conflicts when last connected
        self._described = ""  # how the last connection went (kept while released)
        self._powers = ""  # what its role can do beyond reading (SafeConnection.powers)
        self._connecting = False  # in factory.connect (nothing of the view's has run)
        self._rested = False  # closed on purpose when idle: the next connect is no reconnect
        self._left: SafeConnection | None = None  # the connection closed then
        self._pending: dict[str, sql.Composable] = {}  # DECLAREs sent with their first read

    # -- the connection ----------------------------------------------------------------
    @property
    def conn(self) -> SafeConnection:
        """The live connection (connecting, or reconnecting, as needed)."""
        if self._conn is None or self._conn.closed:
            if self._abandoned:
                raise Cancelled("Cancelled", "the session was given up")
            self._connecting = True
            try:
                conn = self._conn = self.factory.connect(self._left if self._rested else None)
            finally:
                self._connecting = False
            if self._connected_once and not self._rested:
                self.reconnects += 1
                if conn.standby and conn.conflicts > self._conflicts:
                    self.lost_because = RECOVERY_CONFLICT
                self.note("-- reconnected: the server had closed the session")
            self._conflicts = conn.conflicts
            self._described, self._powers = conn.described, conn.powers
            self._connected_once = True
            self._rested = False
            # One snapshot for every cursor of the transaction: pages read through
            # different seeks agree with each other even while the table changes.
            self._conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        return self._conn

    def adopt(self, conn: SafeConnection) -> None:
        """Take ``conn``, a connection of this session's factory that has done its own short
        work (finding the relation), as this session's: one connection fewer to open, and
        its round trips. Its transaction is ended first (no lock or snapshot carried over)."""
        if self._conn is not None or conn.closed:
            conn.close()
            return
        conn.rollback()
        self._conn = conn
        self._conflicts = conn.conflicts
        self._described, self._powers = conn.described, conn.powers
        self._connected_once = True
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)

    @property
    def lost(self) -> bool:
        return self._conn is None or bool(self._conn.closed)

    @property
    def holds_transaction(self) -> bool:
        """Is a transaction open on the server (a snapshot, and locks)?"""
        conn = self._conn
        return (
            conn is not None
            and not conn.closed
            and conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE
        )

    @property
    def pooled(self) -> bool:
        """Behind a pooler (as far as the connection open now tells)."""
        return bool(getattr(self._conn, "pooled", False))

    @property
    def standby(self) -> bool:
        return bool(getattr(self._conn, "standby", False))

    @property
    def powers(self) -> str:
        """What the role can do beyond reading, as the title line says it ("" nothing)."""
        return self._powers

    @property
    def described(self) -> str:
        """How the open connection goes (``SafeConnection.described``); "" when none is."""
        conn = self._conn
        return conn.described if conn is not None and not conn.closed else self._described

    @property
    def server_version(self) -> int:
        return int(self.conn.server_version)

    def run(
        self,
        what: str,
        action: Callable[[], T],
        on_reset: Callable[[], None] | None = None,
    ) -> T:
        """``action()``; on a server error the transaction is reset (``on_reset`` is told)
        and the error raised as a plain QueryError; if the connection was lost, it is
        replaced and ``action`` runs once more, from where ``on_reset`` left things."""
        for attempt in (0, 1):
            try:
                self.conn  # noqa: B018 (connect first: a login error is a ConnectError)
                return action()
            except psycopg2.Error as error:
                lost = self.lost or isinstance(error, psycopg2.InterfaceError)
                if self._abandoned:
                    self.reset()
                    raise Cancelled("Cancelled", f"{what}: given up") from None
                if lost:
                    self.lost_because = describe(error, what, lost=True).message
                self.reset()
                if on_reset is not None:
                    on_reset()
                if lost and attempt == 0:
                    continue
                raise describe(error, what, self.factory.settings, lost=lost) from None
        raise ConnectionLost("Connection lost", what)  # (not reached)

    def reset(self) -> None:
        """After an error: end the failed transaction (its cursors go with it); a broken
        connection is dropped, and the next statement opens a new one."""
        self._pending.clear()
        conn = self._conn
        if conn is None or conn.closed:
            self._conn = None
            return
        try:
            conn.rollback()
        except psycopg2.Error:
            close_connection(conn)
            self._conn = None

    def end_transaction(self, note: str = "ROLLBACK") -> bool:
        """End the transaction (cursors, snapshot and locks go); False if none was open."""
        if not self.holds_transaction:
            return False
        assert self._conn is not None
        self._pending.clear()
        started = self.clock()
        try:
            self._conn.rollback()
        except psycopg2.Error:
            self.reset()
            return False
        self.record(note, 0, started)
        return True

    def close(self) -> None:
        """End the transaction and close the connection."""
        self._pending.clear()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            started = self.clock()
            try:
                conn.rollback()
                self.record("ROLLBACK", 0, started)
            except psycopg2.Error:
                pass
            close_connection(conn)

    def rest(self, why: str = "idle behind a pooler") -> None:
        """Close the connection on purpose (idle behind a pooler, whose session-mode pool
        slot is the connection itself; or a view covered by another); the next statement
        connects again, and that is not counted as a reconnect. ``why`` goes in the log."""
        conn, pooled = self._conn, self.pooled
        if conn is not None and not conn.closed and not self.holds_transaction:
            self._conn = None
            close_connection(conn)
            self._rested, self._left = True, conn
            given = "the pool slot is free" if pooled else "the connection is given back"
            self.note(f"-- {why}: disconnected ({given})")

    def waiting(self) -> str:
        """What the session waits on before anything of its own runs on the server (any
        thread): "connecting", "pool slot" (behind a pooler, a transaction's first
        statement waits for a server connection), or "" (a statement may be running)."""
        if self._connecting:
            return "connecting"
        conn = self._conn
        return "pool slot" if conn is not None and conn.waiting_for_slot else ""

    def cancel(self) -> None:
        """Ask the server to cancel the running statement (any thread; returns at once)."""
        cancel_connection(self._conn)

    def abandon(self) -> None:
        """Give the session up (any thread; returns at once): the running statement is
        cancelled, and its socket shut, so whatever waits on it stops now even if the
        server never answers; it never connects again."""
        self._abandoned = True
        conn = self._conn
        cancel_connection(conn)
        abandon(conn)

    # -- statements --------------------------------------------------------------------
    @contextmanager
    def catalog_reads(self) -> Iterator[None]:
        """pgbrowse's own catalog reads inside the view's transaction, in a savepoint
        rolled back after them: the locks they took on pg_class, pg_attribute… go with it
        (rolling a subtransaction back releases its locks), while the snapshot and the
        cursors stay. An idle view then holds only what its rows need. A statement that
        failed in it is rolled back with it, so the view's transaction goes on (a bad
        filter's estimate); a lost connection is left to ``reset``."""
        conn = self.conn
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT pgbrowse_catalog")
        failed = True
        try:
            yield
            failed = False
        finally:
            status = conn.info.transaction_status if not conn.closed else None
            if status in (TRANSACTION_INTRANS, TRANSACTION_INERROR):
                try:
                    with conn.cursor() as cur:
                        cur.execute(
                            "ROLLBACK TO SAVEPOINT pgbrowse_catalog;"
                            " RELEASE SAVEPOINT pgbrowse_catalog"
                        )
                except psycopg2.Error:
                    if not failed:  # (else the first error is the one to say)
                        raise

    def note(self, text: str) -> None:
        """A line in the log that was not sent (it starts with ``--``)."""
        self.record(text, 0, self.clock())

    def record(self, statement: str, rows: int, started: float) -> None:
        self.log.add(Statement(statement, rows, (self.clock() - started) * 1000))

    @contextmanager
    def cursor(
        self, query: sql.Composable, record: bool = True
    ) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor that has executed ``query``; the statement is logged with its rows
        (unless ``record`` is False: the inspector's own reads stay out of the log)."""
        conn = self.conn
        started = self.clock()
        text = query.as_string(conn)  # (once: sent and logged)
        with conn.cursor() as cur:
            cur.execute(text)
            yield cur
            rows = cur.rowcount if cur.description is not None else 0
        if record:
            self.record(text, max(rows, 0), started)

    def one(self, query: sql.Composable, record: bool = True) -> tuple[Any, ...] | None:
        with self.cursor(query, record) as cur:
            return cur.fetchone()

    def all(self, query: sql.Composable) -> list[tuple[Any, ...]]:
        with self.cursor(query) as cur:
            rows: list[tuple[Any, ...]] = cur.fetchall()
        self.fetches += 1
        self.rows_fetched += len(rows)
        return rows

    def scalar(self, query: sql.Composable) -> Any:
        row = self.one(query)
        if row is None:
            raise QueryError("Query failed", "no row came back")
        return row[0]

    def declare(self, query: sql.Composable) -> tuple[str, psycopg2.extensions.cursor]:
        """A named ``SCROLL`` cursor over ``query``, in the transaction. Its DECLARE is sent
        with the cursor's first FETCH or MOVE, in one round trip (issue 27): an error in it
        is raised there, in the same operation."""
        name = f"pgbrowse_{next(_cursor_ids)}"
        self._pending[name] = sql.SQL("DECLARE {} SCROLL CURSOR WITHOUT HOLD FOR {}").format(
            sql.Identifier(name), query
        )
        return name, self.conn.cursor()

    def _with_declare(self, name: str, statement: sql.Composable) -> sql.Composable:
        """``statement`` on cursor ``name``, after its DECLARE if that is not sent yet."""
        pending = self._pending.pop(name, None)
        if pending is None:
            return statement
        self.record(pending.as_string(self.conn), 0, self.clock())
        return sql.SQL("{}; {}").format(pending, statement)

    def fetch(self, name: str, cursor: psycopg2.extensions.cursor, count: int) -> list[Any]:
        started = self.clock()
        fetch = sql.SQL("FETCH FORWARD {} FROM {}").format(sql.Literal(count), sql.Identifier(name))
        cursor.execute(self._with_declare(name, fetch))
        rows: list[Any] = cursor.fetchall()
        self.record(f'FETCH FORWARD {count} FROM "{name}"', len(rows), started)
        self.fetches += 1
        self.rows_fetched += len(rows)
        return rows

    def move(self, name: str, delta: int | None) -> int:
        """``MOVE`` a cursor by ``delta`` rows (None: to the end); the rows it passed."""
        if delta is None:
            direction = sql.SQL("FORWARD ALL")
        else:
            direction = sql.SQL(f"FORWARD {delta}" if delta >= 0 else f"BACKWARD {-delta}")
        query = sql.SQL("MOVE {} FROM {}").format(direction, sql.Identifier(name))
        started = self.clock()
        with self.cursor(self._with_declare(name, query), record=False) as cur:
            moved = int((cur.statusmessage or "MOVE 0").split()[-1])
        self.record(query.as_string(self.conn), 0, started)
        return moved

    def close_cursor(self, name: str, cursor: psycopg2.extensions.cursor) -> None:
        started = self.clock()
        if self._pending.pop(name, None) is None and self.holds_transaction:
            with contextlib.suppress(psycopg2.Error):  # (as psycopg2's own close did)
                cursor.execute(sql.SQL("CLOSE {}").format(sql.Identifier(name)))
            self.record(f'CLOSE "{name}"', 0, started)
        cursor.close()
