"""The connection factory: a DSN/URI or libpq's defaults, plus pgbrowse's session settings."""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

from pgbrowse.db.errors import ConnectError, first_line

APPLICATION_NAME = "pgbrowse"


@dataclass(frozen=True)
class SessionSettings:
    """Per-session settings every pgbrowse connection gets."""

    read_only: bool = True
    statement_timeout_s: float = 30.0
    lock_timeout_s: float = 3.0
    connect_timeout_s: int = 10

    def __post_init__(self) -> None:
        for name in ("statement_timeout_s", "lock_timeout_s", "connect_timeout_s"):
            value = getattr(self, name)
            what = name.removesuffix("_s").replace("_", " ")
            if not math.isfinite(value):
                raise ValueError(f"{what} must be a number of seconds, not {value}")
            if value < 0:
                raise ValueError(f"{what} must not be negative")

    def options(self) -> str:
        """The libpq ``options`` string carrying the server-side session settings."""
        ro = "on" if self.read_only else "off"
        return (
            f"-c default_transaction_read_only={ro}"
            f" -c statement_timeout={round(self.statement_timeout_s * 1000)}"
            f" -c lock_timeout={round(self.lock_timeout_s * 1000)}"
            # A synchronized seq scan starts wherever another scan of the table is, so
            # "row n" of a cursor would depend on what else runs on the server.
            " -c synchronize_seqscans=off"
            # User SQL is sent as PostgreSQL's parser (pglast) read it, which assumes this.
            " -c standard_conforming_strings=on"
        )


class ConnectionFactory:
    """Opens connections to one server, all with the same session settings.

    An empty DSN means libpq's defaults, exactly as psql uses them (PGHOST, PGPORT, PGUSER,
    PGDATABASE, PGPASSWORD, PGSERVICE, ~/.pgpass).
    """

    def __init__(self, dsn: str = "", settings: SessionSettings | None = None) -> None:
        self.settings = settings or SessionSettings()
        try:
            given = psycopg2.extensions.parse_dsn(dsn)
        except psycopg2.ProgrammingError as error:
            raise ConnectError("Bad connection string", first_line(error)) from None
        options = " ".join(filter(None, [given.get("options", ""), self.settings.options()]))
        extra: dict[str, str] = {"options": options, "application_name": APPLICATION_NAME}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = str(self.settings.connect_timeout_s)
        self.dsn = psycopg2.extensions.make_dsn(dsn, **extra)

    def connect(self) -> psycopg2.extensions.connection:
        """A new connection; raises ConnectError with a one-line reason on failure."""
        try:
            return psycopg2.connect(self.dsn)
        except psycopg2.Error as error:
            raise ConnectError("Could not connect", first_line(error)) from None
