"""The catalog: relations with estimates and sizes, and a relation's columns, each in one query."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.guard.parse import Calls, Checked, check_query

KIND_NAMES = {
    "r": "table",
    "p": "partitioned",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}
QUERY_KIND = "q"  # not in pg_class: a query the user typed, browsed like a relation
QUERY_ALIAS = "pgbrowse_query"

# The schemas of the user's relations (the same in every catalog read; in SQL sent with
# parameters, so % is doubled).
USER_SCHEMAS_SQL = """n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname NOT LIKE 'pg\\_toast%%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%%'"""
# A relation's size (pg_class c, its TOAST table tc) without a lock on any relation
# (pg_total_relation_size would take one on each, so a single table locked by a migration
# would stall the whole list): from relpages (table, TOAST, indexes) as of the last VACUUM
# or ANALYZE.
SIZE_SQL = """(greatest(c.relpages, 0)::int8 + greatest(coalesce(tc.relpages, 0), 0)
       + coalesce((SELECT sum(greatest(ic.relpages, 0)) FROM pg_catalog.pg_index i
                   JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                   WHERE i.indrelid = c.oid), 0))
       * current_setting('block_size')::int8"""

# One query for the whole catalog: no per-table round trips, no count(*), no lock.
RELATIONS_SQL = (
    """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::float8,
       """
    + SIZE_SQL
    + """,
       c.relispartition, obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
WHERE {only} c.relkind = ANY(%s)
  AND """
    + USER_SCHEMAS_SQL
    + """
ORDER BY n.nspname, c.relname
"""
)

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
    # For a query (kind "q"): the SQL sent, which is the user's text as PostgreSQL's parser
    # read it, printed back (pgbrowse.db.guard.parse), and the unique names its columns get.
    query: str | None = None
    query_columns: tuple[str, ...] | None = None
    # A query the user typed: what it calls, decided against the catalog when it is opened
    # (pgbrowse.db.guard.allow). None for pgbrowse's own SQL.
    calls: Calls | None = field(default=None, compare=False)

    @classmethod
    def of_query(cls, text: str) -> Relation:
        """A relation for a free query; raises QueryError ("Not a query") unless ``text``
        is exactly one SELECT that only reads."""
        return cls.of_checked(check_query(text))

    @classmethod
    def of_checked(cls, checked: Checked) -> Relation:
        """A relation for a query the user typed, as the guard passed it."""
        return replace(cls.of_sql(checked.sql), calls=checked.calls)

    @classmethod
    def of_sql(cls, query: str) -> Relation:
        """A relation for one SELECT that is already checked (``check_query``'s tree printed
        back) or composed by pgbrowse (a view's own SELECT)."""
        return cls("", QUERY_ALIAS, QUERY_KIND, None, 0, query=query)

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

    def regclass(self, conn: psycopg2.extensions.connection) -> sql.Composed:
        """The relation's oid, as catalog queries compare it (``'"s"."t"'::regclass``)."""
        return sql.SQL("{}::regclass").format(sql.Literal(self.identifier().as_string(conn)))

    def source(self) -> sql.Composable:
        """What a FROM names: the relation, or the query as a subquery."""
        if self.query is not None:
            alias: sql.Composable = sql.Identifier(QUERY_ALIAS)
            if self.query_columns:  # unique names: SELECT 1, 2 has two "?column?"
                alias = sql.SQL("{}({})").format(
                    alias, sql.SQL(", ").join(map(sql.Identifier, self.query_columns))
                )
            return sql.SQL("({}) AS {}").format(sql.SQL(self.query), alias)
        return self.identifier()

    def qualifier(self) -> tuple[str, ...]:
        """What column references are qualified with (the relation, or the query's alias)."""
        return (QUERY_ALIAS,) if self.query is not None else (self.schema, self.name)


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
    return [relation_of_row(row) for row in rows]


def relation_of_row(row: tuple[Any, ...]) -> Relation:
    """A Relation from a catalog row: schema, name, relkind, reltuples, size in bytes,
    relispartition, comment."""
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
        found = cur.fetchone()
        assert found is not None
        (oid,) = found
        cur.execute(RELATIONS_SQL.format(only="c.oid = %s AND"), (oid, list(KIND_NAMES)))
        row = cur.fetchone()
    conn.rollback()
    return None if row is None else relation_of_row(row)


def unique_names(names: list[str]) -> tuple[str, ...]:
    """``names`` with each repeat renamed ``name_2``, ``name_3``… (never to a name in use)."""
    taken = set(names)
    seen: set[str] = set()
    unique = []
    for name in names:
        if name in seen:
            n = 2
            while f"{name}_{n}" in taken:
                n += 1
            name = f"{name}_{n}"
            taken.add(name)
        seen.add(name)
        unique.append(name)
    return tuple(unique)


def describe_query(conn: psycopg2.extensions.connection, relation: Relation) -> Relation:
    """A query relation whose output columns have unique names (no rows are read), so every
    column can be named: ``SELECT 1, 2`` or ``SELECT *`` over a join repeat names."""
    if relation.query is None or relation.query_columns is not None:
        return relation
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation.source()))
        names = [d.name for d in cur.description or ()]
    return replace(relation, query_columns=unique_names(names))


def list_columns(conn: psycopg2.extensions.connection, relation: Relation) -> list[Column]:
    """The visible columns of ``relation`` in table order (a query's, by describing it)."""
    if relation.query is not None:
        return _query_columns(conn, describe_query(conn, relation))
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
