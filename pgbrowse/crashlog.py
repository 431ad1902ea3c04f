"""Unexpected errors: the full traceback goes to a log file, the user sees one line and its path.

The file lives in ``$XDG_STATE_HOME/pgbrowse/`` (else ``~/.local/state/pgbrowse/``), one per
error, named by time (and a counter: never one over another), so a user can attach it
to a bug report.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.private import create_new, private_folder
from pgbrowse.version import __version__


def log_dir() -> Path:
    """The platform's user state folder (platformdirs: ``$XDG_STATE_HOME/pgbrowse`` or
    ``~/.local/state/pgbrowse`` on Linux)."""
    import platformdirs

    return platformdirs.user_state_path("pgbrowse")


def write_crash_log(error: BaseException) -> Path | None:
    """Write ``error``'s traceback to a new log file; its path, or None if none could be written."""
    try:
        folder = private_folder(log_dir())
        stamp = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        for n in range(1000):  # never over another log: two errors in one second get two
            path = folder / (f"{stamp}.log" if n == 0 else f"{stamp}-{n}.log")
            try:
                # Only a new file (0600), and any text: a lone surrogate from undecodable
                # data once left a log empty.
                with create_new(path, encoding="utf-8", errors="backslashreplace") as file:
                    file.write(f"pgbrowse {__version__}\n{text}")
            except FileExistsError:
                continue
            return path
        return None
    except OSError:
        return None


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def unexpected(error: BaseException) -> PgBrowseError:
    """An error no one expected, as a screen says it: in one line, with where its
    traceback was written (the screen that met it says so instead of waiting for ever)."""
    log = write_crash_log(error)
    where = f" (the traceback is in {log})" if log else ""
    return PgBrowseError("Unexpected error", one_line(error) + where)
