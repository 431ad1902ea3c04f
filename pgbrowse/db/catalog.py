"""The catalog: relations with estimates and sizes, and a relation's columns, each in one query."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql

KIND_NAMES = {
    "r": "table",
    "p": "partitioned",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}

# One query for the whole catalog: no per-table round trips, no count(*), and no lock on
# any relation (pg_total_relation_size would take one on each, so a single table locked by
# a migration would stall the whole list): sizes come from relpages (table, TOAST, indexes)
# as of the last VACUUM or ANALYZE.
RELATIONS_SQL = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::float8,
       (c.relpages::int8 + coalesce(t.relpages, 0)
        + coalesce((SELECT sum(ic.relpages) FROM pg_catalog.pg_index i
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

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def qualified(self) -> str:
        """schema.name exactly as stored (for display; SQL uses identifier())."""
        return f"{self.schema}.{self.name}"

    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


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
    """The visible columns of ``relation`` in table order."""
    with conn.cursor() as cur:
        cur.execute(COLUMNS_SQL, (sql.Identifier(relation.schema, relation.name).as_string(conn),))
        rows = cur.fetchall()
    return [Column(name, type_name, bool(numeric)) for name, type_name, numeric in rows]
