"""RowCounter: the exact row count, on a connection of its own, cancellable from any thread.

Counting scans the whole relation, so it never runs on the pager's connection (scrolling
goes on meanwhile) and never runs unless asked for.
"""

from __future__ import annotations

import threading
from typing import Any

from psycopg2 import sql

from pgbrowse.db.connection.cancel import keep_cancelling
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import Cancelled
from pgbrowse.db.connection.session import Session


class RowCounter:
    """Runs one count query on a session of its own; ``cancel()`` stops it on the server."""

    def __init__(self, factory: ConnectionFactory, what: str) -> None:
        self.session = Session(factory)  # errors said, and a lost session replaced, as for views
        self.what = what
        self._cancelled = threading.Event()
        self._done = threading.Event()

    def run(self, query: sql.Composed) -> tuple[int, int | None]:
        """``(count, rows before the seek's key or None)``; raises PgBrowseError."""

        def count() -> tuple[Any, ...] | None:
            if self._cancelled.is_set():  # cancelled while connecting
                raise Cancelled("Cancelled", f"counting the rows of {self.what}: cancelled")
            return self.session.one(query)

        try:
            row = self.session.run(f"counting the rows of {self.what}", count)
        finally:
            self._done.set()
            self.session.close()
        assert row is not None
        total, before = row
        return int(total), None if before is None else int(before)

    def cancel(self) -> None:
        """Stop the count (any thread; returns at once). A cancel request that reaches the
        server between statements is ignored there, so it is sent again every 0.1 s until
        the count has stopped."""
        self._cancelled.set()
        keep_cancelling(self.session.cancel, self._done.is_set)
