"""A relation's structure from the catalog alone (psql's \\d+, and more): columns, indexes,
constraints both ways, triggers, row-level security, partitions and inheritance, sizes from
relpages, and the last vacuum and analyze. No statement reads the relation or locks it:
sizes come from pg_class (as the relation list's do), definitions from the pg_get_*def
functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql

from pgbrowse.db.catalog.citus import CITUS_PRESENT_SQL
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.session import Session

Rows = list[tuple[Any, ...]]

# What reading a relation runs on its owner's behalf: its definition (a view's) and its row
# security policies' expressions, as the server prints them back.
OWNER_SQL = """
SELECT 'view', pg_catalog.pg_get_viewdef(c.oid, true) FROM pg_catalog.pg_class c
WHERE c.oid = {rel} AND c.relkind = 'v'
UNION ALL
SELECT 'policy', pg_catalog.pg_get_expr(p.polqual, p.polrelid)
FROM pg_catalog.pg_policy p WHERE p.polrelid = {rel} AND p.polqual IS NOT NULL"""


def owner_code(session: Session, relation: Relation) -> list[str]:
    """What reading ``relation`` runs of its owner's code that pgbrowse would not call for
    typed SQL (functions outside pg_catalog, VOLATILE ones): its view definition and row
    security policies, checked by the same catalog rule (``pgbrowse.db.guard.allow``). A warning,
    not a refusal: it is the owner's code, as in psql. Direct calls only: a view over a view
    is not followed."""
    from pgbrowse.db.connection.errors import QueryError
    from pgbrowse.db.guard.allow import refusals, resolve
    from pgbrowse.db.guard.parse import check_expression, check_query

    rel = relation.regclass(session.conn)
    said: list[str] = []
    allowed = session.factory.settings.allowed_functions
    for kind, text in session.all(sql.SQL(OWNER_SQL).format(rel=rel)):
        try:
            checked = check_query(text) if kind == "view" else check_expression(text)
        except QueryError:
            continue  # (the server printed it: only a printer's limit lands here)
        said += [
            r for r in refusals(resolve(session.conn, checked.calls), allowed) if r not in said
        ]
    return said


def runs_text(found: list[str]) -> str:
    """What reading the relation runs, in words ("" when nothing to say)."""
    if not found:
        return ""
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    return (
        "reading it runs its owner's code: "
        + "; ".join(found[:3])
        + more
        + " (pgbrowse checks what you type, not what a view or policy calls)"
    )


QUERIES: dict[str, str] = {
    "relation": """
SELECT c.relkind, c.relrowsecurity, c.relforcerowsecurity,
       greatest(c.relpages, 0)::int8 * current_setting('block_size')::int8,
       greatest(coalesce(t.relpages, 0), 0)::int8 * current_setting('block_size')::int8,
       (SELECT coalesce(sum(greatest(ic.relpages, 0)), 0) FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid)::int8
        * current_setting('block_size')::int8,
       c.reltuples::float8,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END,
       obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
WHERE c.oid = {rel}""",
    "columns": """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
       pg_catalog.col_description(a.attrelid, a.attnum),
       EXISTS (SELECT 1 FROM pg_catalog.pg_index i
               WHERE i.indrelid = a.attrelid AND a.attnum = ANY(i.indkey))
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum""",
    "indexes": """
SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid),
       ic.relpages::int8 * current_setting('block_size')::int8, i.indisunique,
       i.indisprimary, am.amname = 'btree' AND i.indisunique AND i.indexprs IS NULL
                       AND i.indpred IS NULL
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = {rel}
ORDER BY i.indisprimary DESC, ic.relname""",
    "constraints": """
SELECT co.conname, co.contype, pg_catalog.pg_get_constraintdef(co.oid, true)
FROM pg_catalog.pg_constraint co WHERE co.conrelid = {rel}
ORDER BY co.contype, co.conname""",
    "referenced_by": """
SELECT co.conrelid::regclass::text, co.conname, pg_catalog.pg_get_constraintdef(co.oid, true)
FROM pg_catalog.pg_constraint co WHERE co.contype = 'f' AND co.confrelid = {rel}
ORDER BY 1, 2""",
    "triggers": """
SELECT tg.tgname, pg_catalog.pg_get_triggerdef(tg.oid, true), tg.tgenabled
FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = {rel} AND NOT tg.tgisinternal
ORDER BY tg.tgname""",
    "policies": """
SELECT p.polname, p.polcmd, p.polpermissive,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid),
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_catalog.pg_policy p WHERE p.polrelid = {rel}
ORDER BY p.polname""",
    "parents": """
SELECT h.inhparent::regclass::text FROM pg_catalog.pg_inherits h
WHERE h.inhrelid = {rel} ORDER BY h.inhseqno""",
    "children": """
SELECT h.inhrelid::regclass::text,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END
FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid
WHERE h.inhparent = {rel} ORDER BY 1 LIMIT 50""",
    "child_count": """
SELECT count(*) FROM pg_catalog.pg_inherits h WHERE h.inhparent = {rel}""",
    "maintenance": """
SELECT s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze
FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = {rel}""",
}


# On Citus: a table's shards and where each is placed (one row a placement; shard_size is
# read from the workers).
CITUS_QUERIES: dict[str, str] = {
    "shards": """
SELECT s.shardid, s.shard_name::text, s.nodename, s.nodeport, s.shard_size
FROM pg_catalog.citus_shards s WHERE s.table_name = {rel}
ORDER BY s.shardid, s.nodename, s.nodeport LIMIT 100""",
    "shard_count": """
SELECT count(DISTINCT s.shardid), count(*), count(DISTINCT (s.nodename, s.nodeport))
FROM pg_catalog.pg_dist_shard d JOIN pg_catalog.citus_shards s ON s.shardid = d.shardid
WHERE d.logicalrelid = {rel}""",
}


@dataclass
class Structure:
    """What the catalog says of one relation: each part as the rows of its query."""

    relation: Relation
    parts: dict[str, Rows] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)  # owner's code reading it runs (owner_code)

    def one(self, part: str) -> tuple[Any, ...] | None:
        rows = self.parts.get(part) or []
        return rows[0] if rows else None


def read_structure(session: Session, relation: Relation) -> Structure:
    """Every part, one catalog statement each (raises PgBrowseError in plain words)."""

    def read() -> Structure:
        rel = relation.regclass(session.conn)
        found = Structure(relation)
        for part, query in QUERIES.items():
            found.parts[part] = session.all(sql.SQL(query).format(rel=rel))
        if session.scalar(sql.SQL(f"SELECT {CITUS_PRESENT_SQL}")):
            for part, query in CITUS_QUERIES.items():
                found.parts[part] = session.all(sql.SQL(query).format(rel=rel))
        found.runs = owner_code(session, relation)
        return found

    return session.run(f"describing {relation.qualified}", read)
