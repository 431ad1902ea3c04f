"""pgbrowse's own exceptions: a short title and a plain message, safe to show to a user.

A driver error becomes one of these in one place (``describe``), classified by its SQLSTATE
and by whether the connection is still there, never by its Python class alone: a
recovery-conflict cancel on a standby, a missing file of file_fdw or a server limit is
said as what it is, and only a connection that is really gone is "Connection lost". Code
that reacts to a kind of error tests its class (``FilterError``, ``ConnectionLost``…),
never its title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg2

if TYPE_CHECKING:
    from pgbrowse.db.connection.settings import SessionSettings


class PgBrowseError(Exception):
    """An error with a short title and a one-line plain message."""

    def __init__(self, title: str, message: str, sqlstate: str | None = None) -> None:
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.sqlstate = sqlstate


class ConnectError(PgBrowseError):
    """The server could not be reached or refused the login."""


class QueryError(PgBrowseError):
    """A statement failed on the server, or was refused before it was sent. ``position``:
    where in the user's text (0-based), when the parser or the server says."""

    def __init__(
        self,
        title: str,
        message: str,
        sqlstate: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(title, message, sqlstate)
        self.position = position


class FilterError(QueryError):
    """A filter was refused (by the parser) or rejected (by the server): nothing changed."""

    def __init__(
        self, message: str, sqlstate: str | None = None, position: int | None = None
    ) -> None:
        super().__init__("Filter error", message, sqlstate, position)


class ConnectionLost(QueryError):
    """The session is gone (a restart, pg_terminate_backend, the network)."""


class Cancelled(QueryError):
    """The statement was cancelled (by the user, or by the server for a reason it gave)."""


class UserCancelled(Cancelled):
    """Cancelled on request: pgbrowse's own cancel (Esc), or pg_cancel_backend."""


class TimedOut(Cancelled):
    """The statement ran past the statement timeout."""


class Refused(QueryError):
    """The view cannot do that here (no identity to find a row by, nothing to search)."""


def first_line(error: BaseException) -> str:
    """The first non-empty line of a driver error, without libpq's prefixes."""
    text = str(error).strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("FATAL:").removeprefix("ERROR:").strip()
    return type(error).__name__


# SQLSTATE -> title, for the codes that need no more than a title.
_TITLES = {
    "42501": "Permission denied",
    "42P01": "No such relation",
    "42703": "No such column",
    "40P01": "Deadlock",
    "58P01": "Missing file",  # e.g. file_fdw's file is gone
    "53100": "Server disk full",
    "53200": "Server out of memory",
    "53300": "Too many connections",
}
# SQLSTATE class (first two characters) -> title.
_CLASSES = {
    "08": "Connection lost",
    "22": "Bad value",
    "23": "Constraint violated",
    "25": "Transaction state",
    "28": "Login refused",
    "42": "Query failed",
    "53": "Server out of resources",
    "54": "Server limit",  # e.g. 54023: more than 100 arguments to a function
    "55": "Not possible now",
    "57": "Server shutting down",
    "58": "Server system error",
    "XX": "Server internal error",
}


def describe(
    error: psycopg2.Error,
    what: str,
    settings: SessionSettings | None = None,
    *,
    lost: bool = False,
) -> QueryError:
    """Wrap a driver error raised while doing ``what`` into a plain QueryError of the right
    class; ``lost``: the connection is gone (it was closed under the statement)."""
    code: str | None = getattr(error, "pgcode", None)
    reason = first_line(error)
    if code == "57014":  # query_canceled: the user, or the statement timeout
        if "statement timeout" in reason:
            after = f" after {settings.statement_timeout_s:g} s" if settings else ""
            return TimedOut(
                "Timed out",
                f"{what}: timed out{after} (the statement timeout; --statement-timeout sets it)",
                code,
            )
        if "user request" in reason:  # pgbrowse's own cancel (Esc), or pg_cancel_backend
            return UserCancelled("Cancelled", f"{what}: cancelled", code)
        return Cancelled("Cancelled", f"{what}: {reason}", code)
    if code == "25006":  # read_only_sql_transaction: something in it writes
        return QueryError(
            "Refused: read-only",
            f"{what}: the server refused it ({reason}); pgbrowse's session is read-only, so"
            " nothing was changed",
            code,
        )
    if code == "55P03":
        after = f"; gave up after {settings.lock_timeout_s:g} s" if settings else ""
        return QueryError(
            "Locked",
            f"{what}: it is locked by another session (a migration? a long transaction?)"
            f"{after} rather than wait in the lock queue",
            code,
        )
    if code == "40001":
        if "recovery" in reason:  # a hot standby removed rows this snapshot still needed
            return Cancelled(
                "Cancelled by the standby",
                f"{what}: the standby cancelled it to apply replication (a recovery"
                f" conflict): {reason}. Moving again starts a new snapshot.",
                code,
            )
        return Cancelled("Serialization failure", f"{what}: {reason}", code)
    if lost or (code is not None and code[:2] == "08") or code in ("57P01", "57P02", "57P03"):
        return ConnectionLost("Connection lost", f"{what}: {reason}", code)
    if code is None and isinstance(error, psycopg2.InterfaceError):
        return ConnectionLost("Connection lost", f"{what}: {reason}", code)
    title = _TITLES.get(code or "") or _CLASSES.get((code or "")[:2]) or "Query failed"
    return QueryError(title, f"{what}: {reason}", code)
