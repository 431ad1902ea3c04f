"""Cancelling a statement on the server, reliably, from any thread.

``connection.cancel()`` asks the server to stop the statement running *now*; a request that
lands between two statements (before the query starts, or between a DECLARE and its FETCH)
is ignored there. So a cancel the user asked for is sent again, off the UI thread, until
whatever it aimed at has stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress

import psycopg2
import psycopg2.extensions


def cancel_connection(conn: psycopg2.extensions.connection | None) -> None:
    """Ask the server to cancel ``conn``'s running statement, if it has a live one."""
    if conn is not None and not conn.closed:
        with suppress(psycopg2.Error):
            conn.cancel()


def keep_cancelling(
    cancel: Callable[[], None],
    stopped: Callable[[], bool],
    every_s: float = 0.1,
    tries: int = 100,
) -> None:
    """Call ``cancel`` every ``every_s`` on a daemon thread until ``stopped()`` (returns at
    once; gives up after ``tries``)."""

    def run() -> None:
        for _ in range(tries):
            if stopped():
                return
            cancel()
            time.sleep(every_s)

    threading.Thread(target=run, daemon=True).start()
