"""RowCounter: the exact row count, on a connection of its own, cancellable from any thread.

Counting scans the whole relation, so it never runs on the pager's connection (scrolling
goes on meanwhile) and never runs unless asked for.
"""

from __future__ import annotations

import threading

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.cancel import cancel_connection, keep_cancelling
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import QueryError, describe


class RowCounter:
    """Runs one count query; ``cancel()`` stops it on the server."""

    def __init__(self, factory: ConnectionFactory, what: str) -> None:
        self.factory = factory
        self.what = what
        self._conn: psycopg2.extensions.connection | None = None
        self._cancelled = threading.Event()
        self._done = threading.Event()

    def run(self, query: sql.Composed) -> tuple[int, int | None]:
        """``(count, rows before the seek's key or None)``; raises PgBrowseError."""
        try:
            conn = self._conn = self.factory.connect()
        except BaseException:
            self._done.set()
            raise
        try:
            if self._cancelled.is_set():  # cancelled while connecting
                raise QueryError("Cancelled", f"counting the rows of {self.what}: cancelled")
            with conn.cursor() as cur:
                cur.execute(query)
                row = cur.fetchone()
            assert row is not None
            total, before = row
            return int(total), None if before is None else int(before)
        except psycopg2.Error as error:
            raise describe(error, f"counting the rows of {self.what}") from None
        finally:
            self._done.set()
            self._conn = None
            conn.close()

    def cancel(self) -> None:
        """Stop the count (any thread; returns at once). A cancel request that reaches the
        server between statements is ignored there, so it is sent again every 0.1 s until
        the count has stopped."""
        self._cancelled.set()
        keep_cancelling(lambda: cancel_connection(self._conn), self._done.is_set)
