"""SessionSettings: what every pgbrowse connection's sessions and transactions are set to.

Apart from the connection factory (``pgbrowse.db.connection.connect``), so that the error classes,
which name a setting in their messages, need not import the factory (an import cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionSettings:
    """Per-session settings every pgbrowse connection gets."""

    read_only: bool = True
    statement_timeout_s: float = 30.0
    lock_timeout_s: float = 3.0
    connect_timeout_s: int = 10
    # Functions of other schemas (or VOLATILE built-ins) typed SQL may call, by name or
    # pattern ("public.st_*"): pgbrowse.db.guard.allow.
    allowed_functions: tuple[str, ...] = ()
    # A role every transaction runs as (SET LOCAL ROLE), so the server itself refuses what
    # that role may not do (pg_read_all_data: it can read everything and write nothing).
    role: str | None = None

    def __post_init__(self) -> None:
        for name in ("statement_timeout_s", "lock_timeout_s", "connect_timeout_s"):
            value = getattr(self, name)
            what = name.removesuffix("_s").replace("_", " ")
            if not math.isfinite(value):
                raise ValueError(f"{what} must be a number of seconds, not {value}")
            if value < 0:
                raise ValueError(f"{what} must not be negative")

    def per_transaction(
        self, server_version: int = 160000, name: str = "", citus: bool = False
    ) -> str:
        """The settings pgbrowse applies at the start of each of its transactions (``SET
        LOCAL``): they end with the transaction, so nothing of pgbrowse's outlives it on a
        pooled server connection, a pooler that drops startup ``options`` (PgBouncer)
        cannot drop them, and the user's own options (PGOPTIONS, a service's) stay.
        ``name``: an application_name for the transaction (behind a pooler); ``citus``: the
        server is a Citus coordinator."""
        role = ""
        if self.role:
            quoted = '"' + self.role.replace('"', '""') + '"'
            role = f"SET LOCAL ROLE {quoted}; "
        return (
            role
            + (f"SET LOCAL application_name = '{name}'; " if name else "")
            + f"SET LOCAL statement_timeout = {round(self.statement_timeout_s * 1000)};"
            f" SET LOCAL lock_timeout = {round(self.lock_timeout_s * 1000)};"
            # A synchronized seq scan starts wherever another scan of the table is, so
            # "row n" of a cursor would depend on what else runs on the server.
            " SET LOCAL synchronize_seqscans = off;"
            # User SQL is sent as PostgreSQL's parser (pglast) read it, which assumes this.
            " SET LOCAL standard_conforming_strings = on"
            # A cursor fetches a page at a time: JIT compilation never pays off for it (a
            # 2,000-partition table took 8.6 s for its first FETCH with Debian's jit = on).
            + ("; SET LOCAL jit = off" if server_version >= 110000 else "")
            # Citus opens another connection to a worker when a statement's tasks wait more
            # than 10 ms: a new session's first statements over every shard (each shard
            # opened cold on its worker) opened several, each costing more than it saved
            # (a first screen's min and max: 34 ms -> 21 ms with 100). Fewer connections to
            # the workers, too, from a browser.
            + ("; SET LOCAL citus.executor_slow_start_interval = 100" if citus else "")
        )
