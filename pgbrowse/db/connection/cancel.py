"""Cancelling a statement on the server, reliably, from any thread, without ever waiting.

``connection.cancel()`` asks the server to stop the statement running *now*; a request that
lands between two statements (before the query starts, or between a DECLARE and its FETCH)
is ignored there. So a cancel the user asked for is sent again, off the UI thread, until
whatever it aimed at has stopped.

psycopg2's ``cancel()`` calls libpq's ``PQcancel`` while holding the GIL: against a server
that does not answer (a stopped postmaster, a dropped network) it freezes every thread of
the process, the UI and the signal handlers included. So the request is sent through libpq
itself with ctypes, which lets go of the GIL, on a daemon thread, one at a time per
connection; a request that never returns is abandoned there. And where even the cancel
cannot help, ``abandon`` shuts the connection's socket, so the thread waiting on it wakes
up with an error instead of waiting for ever.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from functools import cache

import psycopg2
import psycopg2.extensions

_sending: set[int] = set()  # connections with a cancel request on its way
_sending_lock = threading.Lock()
_closing = threading.Lock()  # held while a connection closes or its cancel key is copied


@cache
def _libpq() -> ctypes.CDLL | None:
    """The libpq psycopg2 itself loaded (its PGconn is that library's), or None."""
    import psycopg2._psycopg  # noqa: F401 (loads libpq into the process)

    path = None
    with suppress(OSError), open("/proc/self/maps") as maps:
        for line in maps:
            if "/libpq" in line:
                path = line.split(None, 5)[-1].strip()
                break
    path = path or ctypes.util.find_library("pq")
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)  # (a CDLL call releases the GIL)
        lib.PQgetCancel.restype = ctypes.c_void_p
        lib.PQgetCancel.argtypes = [ctypes.c_void_p]
        lib.PQcancel.restype = ctypes.c_int
        lib.PQcancel.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.PQfreeCancel.restype = None
        lib.PQfreeCancel.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return lib


def _cancel_key(conn: psycopg2.extensions.connection) -> tuple[ctypes.CDLL, int] | None:
    """libpq's cancel request for ``conn`` (a copy of its key; no network), taken while the
    connection cannot be closed under it (see ``close_connection``)."""
    lib = _libpq()
    with _closing:
        if lib is None or conn.closed:
            return None
        request = lib.PQgetCancel(conn.pgconn_ptr)
    return (lib, request) if request else None


def _send(lib: ctypes.CDLL, request: int) -> None:
    try:
        lib.PQcancel(request, ctypes.create_string_buffer(256), 256)
    finally:
        lib.PQfreeCancel(request)


def close_connection(conn: psycopg2.extensions.connection) -> None:
    """``conn.close()``, never while a cancel request is being taken from it."""
    with _closing:
        conn.close()


def cancel_connection(conn: psycopg2.extensions.connection | None) -> None:
    """Ask the server to cancel ``conn``'s running statement (returns at once)."""
    if conn is None or conn.closed:
        return
    key = id(conn)
    with _sending_lock:
        if key in _sending:  # the last request has not come back: the server is not answering
            return
        _sending.add(key)
    try:
        found = _cancel_key(conn)
    except (psycopg2.Error, OSError, ValueError):
        found = None

    def send() -> None:
        try:
            if found is not None:
                _send(*found)
            else:  # (no libpq found: psycopg2's own, which holds the GIL while it waits)
                with suppress(psycopg2.Error):
                    conn.cancel()
        finally:
            with _sending_lock:
                _sending.discard(key)

    threading.Thread(target=send, name="pgbrowse-cancel", daemon=True).start()


def abandon(conn: psycopg2.extensions.connection | None) -> None:
    """Shut ``conn``'s socket (any thread; nothing waits): a statement waiting on a server
    that does not answer fails at once, and the connection is finished for good."""
    if conn is None or conn.closed:
        return
    with suppress(psycopg2.Error, OSError, ValueError):
        fd = conn.fileno()  # (libpq's socket; no lock taken)
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)


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
