"""pgbrowse's own exceptions: a short title and a plain message, safe to show to a user."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg2
from psycopg2 import errorcodes

if TYPE_CHECKING:
    from pgbrowse.db.connect import SessionSettings


class PgBrowseError(Exception):
    """An error with a short title and a one-line plain message."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message


class ConnectError(PgBrowseError):
    """The server could not be reached or refused the login."""


class QueryError(PgBrowseError):
    """A statement failed on the server."""


def first_line(error: BaseException) -> str:
    """The first non-empty line of a driver error, without libpq's prefixes."""
    text = str(error).strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("FATAL:").removeprefix("ERROR:").strip()
    return type(error).__name__


def describe(
    error: psycopg2.Error, what: str, settings: SessionSettings | None = None
) -> QueryError:
    """Wrap a driver error raised while doing ``what`` into a plain QueryError."""
    code = getattr(error, "pgcode", None)
    reason = first_line(error)
    if code == errorcodes.QUERY_CANCELED and "statement timeout" in reason:
        after = f" after {settings.statement_timeout_s:g} s" if settings else ""
        return QueryError(
            "Timed out",
            f"{what}: timed out{after} (the statement timeout; --statement-timeout sets it)",
        )
    if code == errorcodes.LOCK_NOT_AVAILABLE:
        after = f"; gave up after {settings.lock_timeout_s:g} s" if settings else ""
        return QueryError(
            "Locked",
            f"{what}: it is locked by another session (a migration? a long transaction?)"
            f"{after} rather than wait in the lock queue",
        )
    if code == errorcodes.QUERY_CANCELED:
        title = "Cancelled"
    elif code == errorcodes.INSUFFICIENT_PRIVILEGE:
        title = "Permission denied"
    elif code == errorcodes.UNDEFINED_TABLE:
        title = "No such relation"
    elif isinstance(error, psycopg2.OperationalError):
        title = "Connection lost"
    else:
        title = "Query failed"
    return QueryError(title, f"{what}: {first_line(error)}")
