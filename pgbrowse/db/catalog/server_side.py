"""What a view's own backend holds on the server, for the paging inspector: its memory
(pg_backend_memory_contexts, PostgreSQL 14+, where the role may read it), its temp files
(pg_ls_tmpdir, where the role may), and its lock modes on the relation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.session import Session


@dataclass(frozen=True)
class ServerSide:
    memory_bytes: int | None  # None where it may not be read
    locks: tuple[str, ...]
    temp_bytes: int | None = None  # temp files of this backend (a spilled sort), if readable


def read_server_side(session: Session, relation: Relation) -> ServerSide:
    """Plain SELECTs on the session's own connection, inside its transaction (the cursors
    are untouched), kept out of the session's statement log: the inspector shows the
    pager's statements, and its own reads would push them out."""

    def one(query: sql.Composable) -> tuple[Any, ...]:
        row = session.one(query, record=False)
        assert row is not None
        return row

    version = session.server_version
    readable = (
        version >= 140000
        and one(
            sql.SQL("SELECT has_table_privilege('pg_catalog.pg_backend_memory_contexts', 'SELECT')")
        )[0]
    )
    temp_readable = (
        version >= 120000
        and one(sql.SQL("SELECT has_function_privilege('pg_catalog.pg_ls_tmpdir()', 'EXECUTE')"))[0]
    )
    memory = (
        sql.SQL("(SELECT sum(total_bytes)::int8 FROM pg_backend_memory_contexts)")
        if readable
        else sql.SQL("NULL::int8")
    )
    temp = (
        sql.SQL(
            "(SELECT coalesce(sum(size), 0)::int8 FROM pg_ls_tmpdir()"
            " WHERE name LIKE 'pgsql_tmp' || pg_backend_pid() || '.%')"
        )
        if temp_readable
        else sql.SQL("NULL::int8")
    )
    which = (  # a query's locks are on whatever it reads
        sql.SQL("locktype = 'relation'")
        if relation.query is not None
        else sql.SQL("relation = {}::regclass").format(
            sql.Literal(relation.identifier().as_string(session.conn))
        )
    )
    query = sql.SQL(
        "SELECT {}, ARRAY(SELECT DISTINCT mode FROM pg_locks"
        " WHERE pid = pg_backend_pid() AND {} ORDER BY 1), {}"
    ).format(memory, which, temp)
    memory_bytes, locks, temp_bytes = one(query)
    return ServerSide(memory_bytes, tuple(locks), temp_bytes)
