"""After a hangup, pgbrowse is gone within 2 s, whatever its UI library is doing.

An SSH disconnect (SIGHUP, or the terminal gone: its ioctls fail with EIO) or SIGTERM asks
the app to exit as usual, and starts a watchdog: if the process has not finished within
``GRACE_S`` (Textual's shutdown can block forever writing to a terminal that is gone), the
watchdog runs the registered cleanups (the embedded server is stopped fast, its files
removed) and ends the process with ``os._exit``. Its connections close with it, so the
server ends their sessions at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable

GRACE_S = 1.2  # then the cleanups (about 0.7 s at most) and the end
TTY_POLL_S = 0.5
EXIT_GRACE_S = 1.0  # after main() has returned: Python's own shutdown gets this long

_cleanups: list[Callable[[], None]] = []
_finished = threading.Event()
_started = threading.Event()
_cleaning = threading.Event()


def register(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` (quickly, best effort) if the watchdog has to end the process."""
    _cleanups.append(cleanup)


def finished(code: int = 0) -> None:
    """The process is ending normally: the watchdog need not act. If it already is (its
    cleanups are running), wait for it to end the process rather than cut them short.
    Whatever then still holds the exit up (a thread that Python's shutdown joins, stuck on
    a terminal that is gone) gets ``EXIT_GRACE_S``, and the process ends with ``code``."""
    _finished.set()
    if _cleaning.is_set():
        while True:
            time.sleep(1)
    threading.Thread(target=_exit_after, args=(code,), name="pgbrowse-exit", daemon=True).start()


def _exit_after(code: int) -> None:
    time.sleep(EXIT_GRACE_S)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def hang_up(code: int = 128 + signal.SIGHUP) -> None:
    """Start the watchdog (once): the process ends within ``GRACE_S`` with ``code``."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_watchdog, args=(code,), name="pgbrowse-hangup", daemon=True).start()


def _watchdog(code: int) -> None:
    if _finished.wait(GRACE_S):
        return
    _cleaning.set()
    for cleanup in _cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(code)


def install() -> None:
    """SIGHUP and SIGTERM start the watchdog (the app's own handlers also exit cleanly), and
    a thread notices a terminal that is gone without a signal."""
    install_signals()
    if sys.stdin is not None and sys.stdin.isatty():
        threading.Thread(target=_watch_tty, name="pgbrowse-tty", daemon=True).start()


def install_signals() -> None:
    """(Again after the app: asyncio leaves SIGHUP and SIGTERM at their defaults, which
    would end the process without its cleanup.)"""
    for sig in (signal.SIGHUP, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: object, previous: object = previous) -> None:
            hang_up(128 + signum)
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        signal.signal(sig, handler)


def _watch_tty() -> None:
    """A hung-up terminal fails its ioctls with EIO: then it is a hangup, signal or not."""
    fd = sys.stdin.fileno()
    while not _finished.is_set():
        try:
            termios.tcgetattr(fd)
        except (termios.error, OSError):
            hang_up()
            return
        time.sleep(TTY_POLL_S)
