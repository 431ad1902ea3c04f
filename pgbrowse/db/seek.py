"""How a pager can seek: the order it reads a relation in, and how to start reading anywhere.

``MOVE ABSOLUTE n`` walks n rows on the server. A seek starts a new cursor at the right
place instead, at a cost that does not grow with the table:

- **keyset**: the relation is read ``ORDER BY`` its primary key (for a view: a column that
  is a unique, NOT NULL column of a table under it, when the planner can follow it there).
  A seek to a fraction f of the rows starts at ``WHERE key >= k``, k read from the
  ``pg_stats`` histogram of the key (interpolated for integer keys); the rows before it come
  from ``WHERE key < k ORDER BY key DESC``.
- **ctid**: a table without a key is read in physical order. A seek starts at
  ``WHERE ctid >= '(b,0)'`` with b = f x the table's blocks: a TID range scan, PostgreSQL 14+.
- **walk**: nothing to seek on (a view without a usable key, a partitioned table without a
  primary key, a foreign table, ctid on a server older than 14): far jumps ``MOVE`` over the
  rows on the server, as a plain cursor does. The UI says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.catalog import Relation

Method = Literal["keyset", "ctid", "walk"]

TID_RANGE_SCAN_VERSION = 140000  # PostgreSQL 14 added TID range scans

PRIMARY_KEY_SQL = """
SELECT a.attname, a.atttypid = ANY('{int2,int4,int8}'::regtype[])
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s::regclass AND i.indisprimary AND k.ord <= i.indnkeyatts
ORDER BY k.ord
"""

# Columns of a view that carry, under the same name and type, a unique NOT NULL column of
# a table the view reads (single-column unique index, no predicate, no expression).
VIEW_KEY_SQL = """
SELECT DISTINCT ON (va.attnum) va.attname,
       va.atttypid = ANY('{int2,int4,int8}'::regtype[]), bn.nspname, bc.relname
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_depend d
  ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
JOIN pg_catalog.pg_attribute ba
  ON ba.attrelid = d.refobjid AND ba.attnum = d.refobjsubid AND ba.attnotnull
JOIN pg_catalog.pg_index i
  ON i.indrelid = d.refobjid AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
 AND i.indkey[0] = d.refobjsubid AND i.indpred IS NULL AND i.indexprs IS NULL
JOIN pg_catalog.pg_class bc ON bc.oid = d.refobjid
JOIN pg_catalog.pg_namespace bn ON bn.oid = bc.relnamespace
JOIN pg_catalog.pg_attribute va
  ON va.attrelid = r.ev_class AND va.attname = ba.attname AND va.atttypid = ba.atttypid
 AND va.attnum > 0 AND NOT va.attisdropped
WHERE r.ev_class = %s::regclass
ORDER BY va.attnum
"""

NULLS_SQL = """
SELECT a.attnotnull OR coalesce((SELECT s.null_frac = 0 FROM pg_catalog.pg_stats s
                                 WHERE s.schemaname = %s AND s.tablename = %s
                                   AND s.attname = a.attname
                                 ORDER BY s.inherited DESC LIMIT 1), false),
       a.atttypid = ANY('{int2,int4,int8}'::regtype[])
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attname = %s
"""

HISTOGRAM_SQL = """
SELECT histogram_bounds::text::text[] FROM pg_catalog.pg_stats
WHERE schemaname = %s AND tablename = %s AND attname = %s AND histogram_bounds IS NOT NULL
ORDER BY inherited DESC LIMIT 1
"""

BLOCKS_SQL = (
    "SELECT pg_catalog.pg_relation_size(%s::regclass)"
    " / pg_catalog.current_setting('block_size')::int"
)


@dataclass(frozen=True)
class SeekPlan:
    """The order a relation is read in and how far jumps reach a place in it."""

    method: Method
    keys: tuple[str, ...] = ()  # keyset: the ORDER BY columns
    bounds: tuple[Any, ...] = ()  # keyset: histogram bounds of keys[0] (ints or texts)
    blocks: int = 0  # ctid: the relation's size in blocks when it was opened
    why: str = ""  # for the UI: how jumps work here, in plain words
    integer_key: bool = False
    descending: bool = False  # keyset/walk: the order is the keys descending
    sorts_everything: bool = False  # the server must sort every row before the first

    @property
    def seeks(self) -> bool:
        return self.method != "walk"

    def key_at(self, fraction: float) -> Any:
        """The key value about ``fraction`` of the way through the rows (keyset)."""
        bounds = self.bounds
        if self.descending:
            fraction = 1.0 - fraction
        x = min(max(fraction, 0.0), 1.0) * (len(bounds) - 1)
        i = min(int(x), len(bounds) - 2)
        lo, hi = bounds[i], bounds[i + 1]
        if self.integer_key:
            return int(lo + (hi - lo) * (x - i))
        return lo if x - i < 0.5 else hi

    def block_at(self, fraction: float) -> int:
        """The block about ``fraction`` of the way through the table (ctid)."""
        return min(self.blocks, max(0, math.floor(fraction * self.blocks)))


def plan_seeking(conn: psycopg2.extensions.connection, relation: Relation) -> SeekPlan:
    """Find the best way to seek in ``relation`` (a few catalog look-ups, no table scan)."""
    if relation.query is not None:
        return SeekPlan("walk", why="a query: far jumps walk its rows on the server")
    name = relation.identifier().as_string(conn)
    with conn.cursor() as cur:
        if relation.kind in "rpm":
            cur.execute(PRIMARY_KEY_SQL, (name,))
            keys = cur.fetchall()
            if keys:
                columns = tuple(k for k, _ in keys)
                plan = _keyset(cur, columns, bool(keys[0][1]), relation.schema, relation.name)
                if plan is not None:
                    return plan
                return SeekPlan(
                    "walk",
                    keys=columns,
                    why=f"ordered by {', '.join(columns)}; no statistics to seek with yet"
                    " (ANALYZE the table): far jumps walk the rows on the server",
                )
        if relation.kind in "rm":
            if conn.server_version < TID_RANGE_SCAN_VERSION:
                return SeekPlan(
                    "walk",
                    why="no primary key, and PostgreSQL before 14 has no TID range scans:"
                    " far jumps walk the rows on the server",
                )
            cur.execute(BLOCKS_SQL, (name,))
            (blocks,) = cur.fetchone()
            return SeekPlan("ctid", blocks=int(blocks), why="physical order, seeking by ctid")
        if relation.kind == "v":
            cur.execute(VIEW_KEY_SQL, (name,))
            for column, integer, base_schema, base_table in cur.fetchall():
                plan = _keyset(cur, (column,), bool(integer), base_schema, base_table)
                if plan is not None and _fast_start(cur, relation, (column,)):
                    return SeekPlan(
                        "keyset",
                        keys=plan.keys,
                        bounds=plan.bounds,
                        integer_key=plan.integer_key,
                        why=f"view ordered by {column} (unique in {base_table}), seeking on it",
                    )
    what = {"v": "a view without a usable key", "p": "a partitioned table without a primary key"}
    return SeekPlan(
        "walk",
        why=f"{what.get(relation.kind, 'nothing to seek on')}: far jumps walk the rows"
        " on the server",
    )


def _keyset(
    cur: psycopg2.extensions.cursor,
    keys: tuple[str, ...],
    integer: bool,
    schema: str,
    table: str,
) -> SeekPlan | None:
    """A keyset plan from the histogram of keys[0] (or its min and max, for integers)."""
    cur.execute(HISTOGRAM_SQL, (schema, table, keys[0]))
    row = cur.fetchone()
    bounds: tuple[Any, ...] = tuple(row[0]) if row else ()
    if integer and len(bounds) < 2:
        # Never analyzed: an integer key's ends are two index look-ups away.
        query = sql.SQL("SELECT min({k})::int8, max({k})::int8 FROM {t}").format(
            k=sql.Identifier(keys[0]), t=sql.Identifier(schema, table)
        )
        cur.execute(query)
        low, high = cur.fetchone()
        bounds = () if low is None else (low, high)
    if len(bounds) < 2:
        return None
    if integer:
        bounds = tuple(int(b) for b in bounds)
    return SeekPlan(
        "keyset",
        keys=keys,
        bounds=bounds,
        integer_key=integer,
        why=f"ordered by {', '.join(keys)} (primary key), seeking on it",
    )


def plan_sorted(
    conn: psycopg2.extensions.connection,
    relation: Relation,
    column: str,
    descending: bool,
    natural: SeekPlan,
) -> SeekPlan:
    """How to read ``relation`` sorted by ``column`` (ties in its natural key order), and
    whether far jumps can still seek: only when the planner reads that order from an index
    (no sort of every row), the column has statistics, and it holds no NULLs."""
    ties = natural.keys if natural.method == "keyset" and relation.kind in "rpm" else ()
    if not ties and relation.kind in "rm":
        ties = ("ctid",)
    keys = (column, *(k for k in ties if k != column))
    arrow = "descending" if descending else "ascending"
    if relation.query is not None:  # a query: sorted by the server, jumps walk
        with conn.cursor() as cur:
            everything = not _fast_start(cur, relation, keys, descending)
        return SeekPlan(
            "walk",
            keys=keys,
            descending=descending,
            sorts_everything=everything,
            why=f"a query sorted by {column} ({arrow}): far jumps walk its rows",
        )
    name = relation.identifier().as_string(conn)
    with conn.cursor() as cur:
        if not _fast_start(cur, relation, keys, descending):
            return SeekPlan(
                "walk",
                keys=keys,
                descending=descending,
                sorts_everything=True,
                why=f"sorted by {column} ({arrow}) with no index to read it from: the server"
                " sorts every row first, and far jumps walk",
            )
        cur.execute(NULLS_SQL, (relation.schema, relation.name, name, column))
        no_nulls, integer = cur.fetchone()
        plan = _keyset(cur, keys, bool(integer), relation.schema, relation.name)
    if plan is None or not no_nulls:
        reason = "it may hold NULLs" if plan is not None else "no statistics on it yet"
        return SeekPlan(
            "walk",
            keys=keys,
            descending=descending,
            why=f"sorted by {column} ({arrow}, from an index); far jumps walk ({reason})",
        )
    return SeekPlan(
        "keyset",
        keys=keys,
        bounds=plan.bounds,
        integer_key=plan.integer_key,
        descending=descending,
        why=f"sorted by {column} ({arrow}, from an index), seeking on it",
    )


def _fast_start(
    cur: psycopg2.extensions.cursor,
    relation: Relation,
    keys: tuple[str, ...],
    descending: bool = False,
) -> bool:
    """Does the planner reach the first rows of ``ORDER BY keys`` without sorting them all?"""
    order = sql.SQL(" DESC, " if descending else ", ").join(map(sql.Identifier, keys))
    query = sql.SQL(
        "EXPLAIN (FORMAT JSON) DECLARE pgbrowse_probe SCROLL CURSOR FOR"
        " SELECT 1 FROM {} ORDER BY {}{}"
    ).format(relation.source(), order, sql.SQL(" DESC" * descending))
    cur.execute(query)
    plan = cur.fetchone()[0][0]["Plan"]
    startup, total = float(plan["Startup Cost"]), float(plan["Total Cost"])
    return startup <= 1000 or startup <= 0.01 * total
