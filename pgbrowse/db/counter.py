"""RowCounter: the exact row count, on a connection of its own, cancellable from any thread.

Counting scans the whole relation, so it never runs on the pager's connection (scrolling
goes on meanwhile) and never runs unless asked for.
"""

from __future__ import annotations

import threading
from contextlib import suppress

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import QueryError, describe


class RowCounter:
    """Runs one count query; ``cancel()`` stops it on the server."""

    def __init__(self, factory: ConnectionFactory, what: str) -> None:
        self.factory = factory
        self.what = what
        self._conn: psycopg2.extensions.connection | None = None
        self._cancelled = threading.Event()

    def run(self, query: sql.Composed) -> tuple[int, int | None]:
        """``(count, rows before the seek's key or None)``; raises PgBrowseError."""
        conn = self._conn = self.factory.connect()
        try:
            if self._cancelled.is_set():  # cancelled while connecting
                raise QueryError("Cancelled", f"counting the rows of {self.what}: cancelled")
            with conn.cursor() as cur:
                cur.execute(query)
                total, before = cur.fetchone()
            return int(total), None if before is None else int(before)
        except psycopg2.Error as error:
            raise describe(error, f"counting the rows of {self.what}") from None
        finally:
            self._conn = None
            conn.close()

    def cancel(self) -> None:
        self._cancelled.set()
        conn = self._conn
        if conn is not None and not conn.closed:
            with suppress(psycopg2.Error):
                conn.cancel()
