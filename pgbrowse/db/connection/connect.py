"""The connection factory: a DSN/URI or libpq's defaults, plus pgbrowse's session settings."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extensions

from pgbrowse.db.connection.errors import ConnectError, first_line
from pgbrowse.db.connection.settings import SessionSettings

__all__ = ["APPLICATION_NAME", "ConnectionFactory", "SafeConnection", "SessionSettings"]

APPLICATION_NAME = "pgbrowse"


# A SQL_ASCII database stores bytes, not characters: PostgreSQL checks none of them, so names
# and values may hold any byte >= 0x80, which psycopg2's ascii codec refuses (the relation
# list failed with a UnicodeDecodeError). Such a byte is read as a lone surrogate
# (surrogateescape), shown as \x9b (pgbrowse.text), and sent back as the same byte, so a
# name read from the catalog still names its relation.
def _sql_ascii_codec(name: str) -> codecs.CodecInfo | None:
    if name != "pgbrowse_sql_ascii":
        return None

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return text.encode("ascii", "surrogateescape"), len(text)

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:
        return bytes(data).decode("ascii", "surrogateescape"), len(data)

    return codecs.CodecInfo(encode, decode, name="pgbrowse_sql_ascii")


codecs.register(_sql_ascii_codec)
for _name in ("SQL_ASCII", "SQLASCII"):
    psycopg2.extensions.encodings[_name] = "pgbrowse_sql_ascii"
_quote_ident = psycopg2.extensions.quote_ident


def _quote_any_ident(ident: str | bytes, scope: Any) -> str:
    """psycopg2's quote_ident, which encodes as UTF-8 whatever the connection's encoding:
    a name holding a byte read from a SQL_ASCII database (a lone surrogate) is quoted here
    by the same rule (PQescapeIdentifier's: double quotes doubled), and sent as that byte by
    the connection's codec."""
    if isinstance(ident, str) and any("\udc80" <= char <= "\udcff" for char in ident):
        return '"' + ident.replace('"', '""') + '"'
    return str(_quote_ident(ident, scope))


psycopg2.extensions.quote_ident = _quote_any_ident  # (psycopg2.sql.Identifier's, too)


class SafeCursor(psycopg2.extensions.cursor):
    """A cursor whose first statement in a transaction is preceded by pgbrowse's settings."""

    def _starts_transaction(self) -> bool:
        conn = self.connection
        return (
            isinstance(conn, SafeConnection)
            and not conn.autocommit
            and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        )

    def _begin(self) -> None:
        if self._starts_transaction():
            conn = self.connection
            assert isinstance(conn, SafeConnection)
            with psycopg2.extensions.cursor(conn) as cur:
                # (it begins the transaction: BEGIN READ ONLY; behind a pooler, the wait for
                # a server connection is here, and nothing has run on the server yet)
                conn.waiting_for_slot = conn.pooled
                try:
                    cur.execute(conn.settings_sql)
                finally:
                    conn.waiting_for_slot = False

    def execute(self, query: Any, vars: Any = None) -> None:
        conn = self.connection
        if not isinstance(conn, SafeConnection):
            super().execute(query, vars)
            return
        conn.prefix_chars = 0
        # The settings travel with the transaction's first statement: one round trip fewer
        # per transaction (issue 27). Not behind a pooler (they go first, alone: the wait
        # for a pool slot is then theirs, and Esc says nothing ran), not for a named cursor
        # (psycopg2's DECLARE takes one statement), and only on PostgreSQL 13+ (before, a
        # message's first statement ran under the timeout armed before the settings).
        merges = self.name is None and not conn.pooled and conn.server_version >= 130000
        if not (merges and self._starts_transaction()):
            self._begin()
            super().execute(query, vars)
            return
        statement = self.mogrify(query, vars)
        conn.prefix_chars = len(conn.settings_sql) + 2  # (a server error's position counts them)
        super().execute(conn.settings_sql.encode() + b"; " + statement)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        self._begin()
        super().copy_expert(sql, file, size)


class SafeConnection(psycopg2.extensions.connection):
    """A connection whose transactions are read only (BEGIN READ ONLY, as psycopg2 sends it
    after ``set_session``) and start with pgbrowse's settings."""

    settings_sql = ""
    pooled = False  # behind a pooler: each transaction may run on another server session
    standby = False  # a hot standby (in recovery)
    conflicts = 0  # on a standby: its database's recovery conflicts so far, when connected
    powers = ""  # what the role can do beyond reading, as the title line says it ("" none)
    waiting_for_slot = False  # a transaction's first statement waits on a pooler's slot
    prefix_chars = 0  # characters of settings sent before the last statement, in its message

    @property
    def described(self) -> str:
        """How the connection goes, for the title line: encrypted or not (as psql's banner
        says it), and through a pooler or to a standby."""
        info = self.info
        if info.ssl_in_use:
            protocol = info.ssl_attribute("protocol") or "TLS"
            cipher = info.ssl_attribute("cipher")
            transport = f"{protocol} {cipher}" if cipher else protocol
        elif (info.host or "").startswith("/"):
            transport = "Unix socket"
        else:
            transport = "not encrypted"
        return " · ".join(
            [
                *(["standby"] if self.standby else []),
                *(["pooled"] if self.pooled else []),
                transport,
            ]
        )

    def learn(self, settings: SessionSettings) -> None:
        """Find out where the connection leads, and name it without leaking the name.

        A pooler (PgBouncer, Pgpool) hands the client a cancel key of its own, so the
        backend pid libpq was told differs from the server's. Directly connected, the
        session is pgbrowse's own and is named once; behind a pooler, a startup
        ``application_name`` would be tracked by the pooler and set on server connections
        that other clients then get, so it is set for each transaction instead (``SET
        LOCAL``). A name the user gave (PGAPPNAME, a service's) is left as it is.
        """
        named = bool(self.info.parameter_status("application_name"))
        # Named in the same round trip as the questions (issue 27): only where the server's
        # pid is the one libpq was told, that is, directly connected.
        name_it = (
            "SELECT CASE WHEN pg_backend_pid() = %s"
            f" THEN set_config('application_name', '{APPLICATION_NAME}', false) END; "
        )
        self.autocommit = True
        try:
            with psycopg2.extensions.cursor(self) as cur:
                if named:
                    cur.execute(LEARN_SQL, (settings.role,))
                else:
                    cur.execute(name_it + LEARN_SQL, (self.get_backend_pid(), settings.role))
                row = cur.fetchone() or (0, False, 0, False, "")
                pid, standby, conflicts, citus, user, *role = row
                self.powers = powers(settings.role, user, *role)
                self.pooled = pid != self.get_backend_pid()
                self.standby = bool(standby)
                self.conflicts = int(conflicts or 0)
        finally:
            self.autocommit = False
        name = "" if named or not self.pooled else APPLICATION_NAME
        self.settings_sql = settings.per_transaction(self.server_version, name, bool(citus))

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", SafeCursor)
        return super().cursor(*args, **kwargs)


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
        # Nothing the user set is overridden: no ``options`` (PGOPTIONS and a service's stay,
        # and poolers need none), and no name at startup (see SafeConnection.learn).
        extra: dict[str, str] = {}
        if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
            extra["connect_timeout"] = str(self.settings.connect_timeout_s)
        for key, value in KEEPALIVES.items():  # a dropped network is noticed, not waited on
            if key not in given:
                extra[key] = value
        self.dsn = psycopg2.extensions.make_dsn(dsn, **extra)

    def with_password(self, password: str) -> ConnectionFactory:
        """The same connections, with a password the user typed."""
        made = ConnectionFactory.__new__(ConnectionFactory)
        made.settings = self.settings
        made.dsn = psycopg2.extensions.make_dsn(self.dsn, password=password)
        return made

    def with_database(self, name: str) -> ConnectionFactory:
        """The same connections to another database of the server (psql's \\c)."""
        made = ConnectionFactory.__new__(ConnectionFactory)
        made.settings = self.settings
        made.dsn = psycopg2.extensions.make_dsn(self.dsn, dbname=name)
        return made

    def target(self) -> str:
        """Where connections go, as a waiting screen says it: host:port/database (libpq's
        defaults where the DSN names none)."""
        given = psycopg2.extensions.parse_dsn(self.dsn)
        host = given.get("host") or os.environ.get("PGHOST") or "the local socket"
        port = given.get("port") or os.environ.get("PGPORT") or "5432"
        database = given.get("dbname") or os.environ.get("PGDATABASE") or self.user()
        return f"{host}:{port}/{database}"

    def user(self) -> str:
        """The role libpq will log in as (the DSN's, PGUSER, or the OS user), as psql says it."""
        import getpass

        given = psycopg2.extensions.parse_dsn(self.dsn)
        return given.get("user") or os.environ.get("PGUSER") or getpass.getuser()

    def connect(
        self, like: SafeConnection | None = None, on_connected: Callable[[], None] | None = None
    ) -> SafeConnection:
        """A new connection; raises ConnectError with libpq's reason on failure. ``like``:
        a connection of this factory closed on purpose (idle behind a pooler), whose
        findings hold for this one too, so it is not asked again (one statement less).
        ``on_connected``: told once the server (or a pooler) has let us in, before the first
        question is asked (which a pooler with every slot taken makes wait)."""
        try:
            conn: SafeConnection = psycopg2.connect(self.dsn, connection_factory=SafeConnection)
        except psycopg2.Error as error:
            raise ConnectError("Could not connect", connect_reason(error)) from None
        if on_connected is not None:
            on_connected()
        try:
            if like is not None:
                conn.pooled, conn.standby, conn.conflicts, conn.powers = (
                    like.pooled,
                    like.standby,
                    like.conflicts,
                    like.powers,
                )
                conn.settings_sql = like.settings_sql
            else:
                conn.learn(self.settings)
        except psycopg2.Error as error:
            conn.close()
            raise ConnectError("Could not connect", connect_reason(error)) from None
        except ConnectError:
            conn.close()
            raise
        conn.set_session(readonly=self.settings.read_only)
        return conn


def powers(
    role: str | None,
    user: str,
    found: bool,
    may_use: bool,
    superuser: bool,
    bypass_rls: bool,
    server_files: bool,
    server_programs: bool,
    signals: bool,
    writes: bool,
) -> str:
    """What the role pgbrowse's transactions run as can do beyond reading, for the title
    line; raises ConnectError when ``role`` (--role) cannot be used."""
    if role and not found:
        raise ConnectError("Could not use the role", f"role {role!r} does not exist")
    if role and not may_use:
        raise ConnectError(
            "Could not use the role",
            f"{user} is not a member of {role}, so pgbrowse cannot SET ROLE to it"
            f" (GRANT {role} TO {user} allows it)",
        )
    who = f"as {role}" if role else ""
    if superuser:
        said = "superuser: typed SQL is checked by pgbrowse only"
    else:
        can = [
            text
            for held, text in (
                (writes, "can write tables"),
                (bypass_rls, "bypasses row security"),
                (server_files, "can write server files"),
                (server_programs, "can run server programs"),
                (signals, "can signal sessions"),
            )
            if held
        ]
        said = (
            f"role {', '.join(can)}: the read-only transaction and pgbrowse's check guard"
            if can
            else ""
        )
    return " ".join(part for part in (who, said) if part)


# Who answers: the server's pid (a pooler's differs from the one libpq was told), whether it
# is a standby, and there the recovery conflicts its database had so far: a session the
# standby ends for one is closed without a word reaching the client ("server closed the
# connection unexpectedly"), so the next connection tells it by this count having grown.
LEARN_SQL = """SELECT pg_backend_pid(), pg_is_in_recovery(),
  CASE WHEN pg_is_in_recovery() THEN (
    SELECT confl_tablespace + confl_lock + confl_snapshot + confl_bufferpin + confl_deadlock
    FROM pg_stat_database_conflicts WHERE datname = current_database()) END,
  to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL,
  current_user::text, r.oid IS NOT NULL,
  r.oid IS NOT NULL AND pg_has_role(current_user, r.oid, 'MEMBER'),
  coalesce(r.rolsuper, false), coalesce(r.rolbypassrls, false),
  coalesce(pg_has_role(r.oid, to_regrole('pg_write_server_files'), 'MEMBER'), false),
  coalesce(pg_has_role(r.oid, to_regrole('pg_execute_server_program'), 'MEMBER'), false),
  coalesce(pg_has_role(r.oid, to_regrole('pg_signal_backend'), 'MEMBER'), false),
  r.oid IS NOT NULL AND (
    r.rolsuper
    OR coalesce(pg_has_role(r.oid, to_regrole('pg_write_all_data'), 'USAGE'), false)
    OR EXISTS (  -- a relation it owns (through a role it is), or one whose ACL grants a write
      SELECT 1 FROM pg_class c
      WHERE c.relkind IN ('r', 'p', 'v', 'f')
        AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace)
        AND (c.relowner = ANY(mine.oids) OR (c.relacl IS NOT NULL
             AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')))))
FROM (SELECT 1) AS one
LEFT JOIN pg_roles r ON r.rolname = coalesce(%s, current_user)
LEFT JOIN LATERAL (
  SELECT array_agg(m.oid) AS oids FROM pg_roles m WHERE pg_has_role(r.oid, m.oid, 'USAGE')
) AS mine ON true"""

KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


def where_of(conn: psycopg2.extensions.connection) -> str:
    """user@host:port/database, as the title lines say it."""
    info = conn.info
    return f"{info.user}@{info.host or 'local'}:{info.port}/{info.dbname}"


def connect_reason(error: psycopg2.Error) -> str:
    """libpq's whole message in one line (its hints included: "Is the server running
    locally…"), and where no server answers at all, how to try pgbrowse without one."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(line.removeprefix("FATAL:").removeprefix("ERROR:").strip() for line in lines)
    if "Connection refused" in text or "No such file or directory" in text:
        text += " (no server? pgbrowse --demo starts one of its own)"
    return text or type(error).__name__
