"""The catalog: relations with estimates and sizes, and a relation's columns, each in one query."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.errors import QueryError

KIND_NAMES = {
    "r": "table",
    "p": "partitioned",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}
QUERY_KIND = "q"  # not in pg_class: a query the user typed, browsed like a relation
QUERY_ALIAS = "pgbrowse_query"
FIRST_WORDS = ("select", "with", "values", "table")

# One query for the whole catalog: no per-table round trips, no count(*), and no lock on
# any relation (pg_total_relation_size would take one on each, so a single table locked by
# a migration would stall the whole list): sizes come from relpages (table, TOAST, indexes)
# as of the last VACUUM or ANALYZE.
RELATIONS_SQL = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::float8,
       (greatest(c.relpages, 0)::int8 + greatest(coalesce(t.relpages, 0), 0)
        + coalesce((SELECT sum(greatest(ic.relpages, 0)) FROM pg_catalog.pg_index i
                    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                    WHERE i.indrelid = c.oid), 0))
       * current_setting('block_size')::int8,
       c.relispartition, obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
WHERE {only} c.relkind = ANY(%s)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname NOT LIKE 'pg\\_toast%%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY n.nspname, c.relname
"""

COLUMNS_SQL = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       t.typcategory = 'N' AS numeric
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


@dataclass(frozen=True)
class Relation:
    """A table-like relation as listed in the catalog."""

    schema: str
    name: str
    kind: str
    estimated_rows: int | None
    size_bytes: int
    is_partition: bool = False
    comment: str | None = None
    query: str | None = None  # for a query: its text (kind "q")

    @classmethod
    def of_query(cls, text: str) -> Relation:
        return cls("", QUERY_ALIAS, QUERY_KIND, None, 0, query=check_query(text))

    @property
    def kind_name(self) -> str:
        return "query" if self.kind == QUERY_KIND else KIND_NAMES.get(self.kind, self.kind)

    @property
    def qualified(self) -> str:
        """schema.name exactly as stored (for display; SQL uses identifier())."""
        if self.query is not None:
            return "query"
        return f"{self.schema}.{self.name}"

    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    def source(self) -> sql.Composable:
        """What a FROM names: the relation, or the query as a subquery."""
        if self.query is not None:
            # (a newline before the parenthesis: the query may end in a -- comment)
            return sql.SQL("({}\n) AS {}").format(sql.SQL(self.query), sql.Identifier(QUERY_ALIAS))
        return self.identifier()

    def qualifier(self) -> tuple[str, ...]:
        """What column references are qualified with (the relation, or the query's alias)."""
        return (QUERY_ALIAS,) if self.query is not None else (self.schema, self.name)


def check_query(text: str) -> str:
    """``text`` if it reads rows (SELECT, WITH … SELECT, VALUES, TABLE), without a trailing
    semicolon; raises QueryError for anything else. The read-only transaction is the real
    guard: this is the plain message for the common mistakes."""
    body = text.strip().rstrip(";").strip()
    stripped = re.sub(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/|\()+", "", body, flags=re.S)
    word = re.match(r"[a-zA-Z]+", stripped)
    first = word.group().lower() if word else ""
    if first not in FIRST_WORDS:
        shown = first.upper() or "this"
        raise QueryError(
            "Not a query",
            f"only SELECT, WITH … SELECT, VALUES or TABLE can be browsed; {shown} is not read"
            " here (the session is read-only)",
        )
    return body


@dataclass(frozen=True)
class Column:
    """A column of a relation: name, type as PostgreSQL prints it, and whether it is a number."""

    name: str
    type_name: str
    numeric: bool


def list_relations(conn: psycopg2.extensions.connection) -> list[Relation]:
    """Every user relation (tables, views, matviews, partitioned and foreign tables)."""
    with conn.cursor() as cur:
        cur.execute(RELATIONS_SQL.format(only=""), (list(KIND_NAMES),))
        rows = cur.fetchall()
    conn.rollback()
    return [_relation(row) for row in rows]


def _relation(row: tuple) -> Relation:
    schema, name, kind, tuples, size, partition, comment = row
    return Relation(
        schema=schema,
        name=name,
        kind=kind,
        # reltuples is -1 for a table never vacuumed or analyzed (PostgreSQL 14+), and
        # always 0 or -1 for views: "unknown" rather than a wrong number.
        estimated_rows=int(tuples) if tuples >= 0 and kind not in "vf" else None,
        size_bytes=size,
        is_partition=bool(partition),
        comment=comment,
    )


def find_relation(conn: psycopg2.extensions.connection, name: str) -> Relation | None:
    """Look up ``schema.table`` (or a bare name on the search path), as psql's \\d would."""
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT %s::regclass::oid", (name,))
        except psycopg2.Error:
            conn.rollback()
            return None
        (oid,) = cur.fetchone()
        cur.execute(RELATIONS_SQL.format(only="c.oid = %s AND"), (oid, list(KIND_NAMES)))
        row = cur.fetchone()
    conn.rollback()
    return None if row is None else _relation(row)


def list_columns(conn: psycopg2.extensions.connection, relation: Relation) -> list[Column]:
    """The visible columns of ``relation`` in table order (a query's, by describing it)."""
    if relation.query is not None:
        return _query_columns(conn, relation)
    with conn.cursor() as cur:
        cur.execute(COLUMNS_SQL, (sql.Identifier(relation.schema, relation.name).as_string(conn),))
        rows = cur.fetchall()
    return [Column(name, type_name, bool(numeric)) for name, type_name, numeric in rows]


def _query_columns(conn: psycopg2.extensions.connection, relation: Relation) -> list[Column]:
    """A query's columns: its result's description (no rows), their types from pg_type."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation.source()))
        described = [(d.name, d.type_code) for d in cur.description or ()]
        cur.execute(
            "SELECT t.oid, pg_catalog.format_type(t.oid, NULL), t.typcategory = 'N'"
            " FROM pg_catalog.pg_type t WHERE t.oid = ANY(%s)",
            ([oid for _, oid in described],),
        )
        types = {oid: (name, bool(numeric)) for oid, name, numeric in cur.fetchall()}
    return [Column(name, *types.get(oid, ("unknown", False))) for name, oid in described]
