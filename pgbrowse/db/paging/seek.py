"""Planning a view from the catalog: its identity, its order, and how it seeks there
(the strategies themselves are in ``strategy.py``).

``MOVE ABSOLUTE n`` walks n rows on the server. A seek starts a new cursor at the right
place instead, at a cost that does not grow with the table:

- **keyset**: the relation is read ``ORDER BY`` its primary key (for a view: a column that
  is a unique, NOT NULL column of a table under it, when the planner can follow it there).
  A seek to a fraction f of the rows starts at ``WHERE key >= k``, k read from the
  ``pg_stats`` histogram of the key (interpolated for integer keys); the rows before it come
  from ``WHERE key < k ORDER BY key DESC``.
- **ctid**: a table without a key is read in physical order. A seek starts at
  ``WHERE ctid >= '(b,0)'`` with b = f x the table's blocks: a TID range scan, PostgreSQL 14+.
- **walk**: nothing to seek on (a view without a usable key, a partitioned table or a table
  with children and no primary key, a foreign table, ctid on a server older than 14): far
  jumps ``MOVE`` over the rows on the server, as a plain cursor does. The UI says so.

A table with children (inheritance, partitions) is never read or found by ctid alone: its
ctids repeat across the children, so its identity is ``(tableoid, ctid)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.catalog.citus import (
    CITUS_PRESENT_SQL,
    DISTRIBUTION_SQL,
    SHARD_HISTOGRAM_SQL,
    VIEW_DISTRIBUTION_SQL,
    Distribution,
    distribution_from,
)
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.paging.strategy import Ctid, Keyset, Strategy, Walk

TID_RANGE_SCAN_VERSION = 140000  # PostgreSQL 14 added TID range scans

PRIMARY_KEY_SQL = """
SELECT a.attname, a.atttypid = ANY('{int2,int4,int8}'::regtype[])
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s::regclass AND i.indisprimary AND k.ord <= i.indnkeyatts
ORDER BY k.ord
"""

# A distributed table without a primary key: its smallest unique index over NOT NULL columns
# (Citus makes a unique index hold the distribution column), its columns in order.
UNIQUE_KEY_SQL = """
SELECT array_agg(a.attname::text ORDER BY k.ord)
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s::regclass AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
GROUP BY i.indexrelid HAVING bool_and(a.attnotnull)
ORDER BY count(*), i.indexrelid LIMIT 1
"""

# The key of a view: the columns of a unique index (no predicate, no expression) of a table
# the view reads, every one NOT NULL there and shown by the view under the same name and
# type; a single column before several, then the view's earliest. One row per column, in
# the index's order, with the table it comes from.
VIEW_KEY_SQL = """
WITH shown AS (
  SELECT DISTINCT va.attnum AS at, va.attname, va.atttypid, ba.attrelid, ba.attnum
  FROM pg_catalog.pg_rewrite r
  JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
  JOIN pg_catalog.pg_attribute ba
    ON ba.attrelid = d.refobjid AND ba.attnum = d.refobjsubid AND ba.attnotnull
  JOIN pg_catalog.pg_attribute va
    ON va.attrelid = r.ev_class AND va.attname = ba.attname AND va.atttypid = ba.atttypid
   AND va.attnum > 0 AND NOT va.attisdropped
  WHERE r.ev_class = %s::regclass
), keys AS (
  SELECT i.indexrelid, i.indrelid, i.indnkeyatts, k.n, s.at, s.attname, s.atttypid
  FROM pg_catalog.pg_index i
  CROSS JOIN LATERAL generate_series(0, i.indnkeyatts - 1) AS k(n)
  JOIN shown s ON s.attrelid = i.indrelid AND s.attnum = i.indkey[k.n]
  WHERE i.indrelid IN (SELECT attrelid FROM shown) AND i.indisunique AND i.indisvalid
    AND i.indpred IS NULL AND i.indexprs IS NULL
), best AS (
  SELECT indexrelid FROM keys GROUP BY indexrelid, indnkeyatts
  HAVING count(DISTINCT n) = indnkeyatts
  ORDER BY indnkeyatts, min(at), indexrelid LIMIT 1
)
SELECT DISTINCT ON (k.n) k.attname, k.atttypid = ANY('{int2,int4,int8}'::regtype[]),
       bn.nspname, bc.relname
FROM keys k JOIN best USING (indexrelid)
JOIN pg_catalog.pg_class bc ON bc.oid = k.indrelid
JOIN pg_catalog.pg_namespace bn ON bn.oid = bc.relnamespace
ORDER BY k.n, k.at
"""

NULLS_SQL = """
SELECT a.attnotnull,
       a.attnotnull OR coalesce((SELECT s.null_frac = 0 FROM pg_catalog.pg_stats s
                                 WHERE s.schemaname = %s AND s.tablename = %s
                                   AND s.attname = a.attname
                                 ORDER BY s.inherited DESC LIMIT 1), false)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attname = %s
"""

INTEGER_SQL = """
SELECT a.atttypid = ANY('{int2,int4,int8}'::regtype[])
FROM pg_catalog.pg_attribute a WHERE a.attrelid = %s::regclass AND a.attname = %s
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


IDENTITY_SQL = f"""
SELECT c.relkind, c.relhassubclass OR c.relkind = 'p', c.relrowsecurity, {CITUS_PRESENT_SQL}
FROM pg_catalog.pg_class c WHERE c.oid = %s::regclass
"""


@dataclass(frozen=True)
class Plan:
    """How a view is ordered and seeks, what identifies its rows, and whether the order's
    first key may be NULL (a sort column)."""

    strategy: Strategy
    identity: tuple[str, ...]
    first_key_nullable: bool = False
    row_security: bool = False  # rows may be hidden unevenly: ctid seeks sample first
    distribution: Distribution | None = None  # how Citus holds the relation


def identity_of(conn: psycopg2.extensions.connection, relation: Relation) -> tuple[str, ...]:
    """What finds a row of ``relation`` again, unique in it: the primary key; ``ctid`` for
    a plain table; ``(tableoid, ctid)`` for a table with children (their ctids repeat);
    a view's key column; or nothing (a query, a keyless view, a foreign table)."""
    if relation.query is not None:
        return ()
    name = relation.identifier().as_string(conn)
    with conn.cursor() as cur:
        if relation.kind in "rpm":
            cur.execute(PRIMARY_KEY_SQL, (name,))
            keys = tuple(k for k, _ in cur.fetchall())
            if keys:
                return keys
            cur.execute(IDENTITY_SQL, (name,))
            row = cur.fetchone()
            children = bool(row and row[1])
            return ("tableoid", "ctid") if children else ("ctid",)
        if relation.kind == "v":
            cur.execute(VIEW_KEY_SQL, (name,))
            return tuple(str(column) for column, *_ in cur.fetchall())
    return ()


def plan_seeking(conn: psycopg2.extensions.connection, relation: Relation) -> Plan:
    """The natural order of ``relation`` and how to seek in it (catalog look-ups only); on
    Citus, how it is distributed (a distributed table is read in keyset pages)."""
    identity = identity_of(conn, relation)
    if relation.query is not None:
        return Plan(Walk(why="a query: far jumps walk its rows on the server"), identity)
    name = relation.identifier().as_string(conn)
    with conn.cursor() as cur:
        cur.execute(IDENTITY_SQL, (name,))
        row = cur.fetchone()
        distribution = None
        if row and row[3] and relation.kind in "rpv":
            cur.execute(
                VIEW_DISTRIBUTION_SQL if relation.kind == "v" else DISTRIBUTION_SQL, (name,)
            )
            distribution = distribution_from(cur.fetchone())
        if distribution is not None and distribution.spread:
            return _distributed(cur, relation, name, identity, distribution)
        plan = _natural(conn, cur, relation, name, identity, row)
    return replace(plan, distribution=distribution)


def _distributed(
    cur: psycopg2.extensions.cursor,
    relation: Relation,
    name: str,
    identity: tuple[str, ...],
    distribution: Distribution,
) -> Plan:
    """A distributed table: ordered by its primary key (which Citus makes hold the
    distribution column), or else its smallest unique key over NOT NULL columns, each page
    a keyset query. Without either there is no identity: ctid and tableoid repeat across
    shards, and pgbrowse does not guess."""
    if identity and identity[-1] == "ctid":  # (no primary key: a unique key will do)
        cur.execute(UNIQUE_KEY_SQL, (name,))
        found = cur.fetchone()
        identity = tuple(found[0]) if found and found[0] else ()
    if not identity:
        return Plan(Walk(why="no key"), (), distribution=distribution)
    # (the coordinator's own table is empty: no statistics there to ask for)
    keyset = _keyset(cur, identity, relation.schema, relation.name, statistics=False)
    if keyset is None:  # (a view: the shards of the table its key comes from)
        base = name
        if relation.kind == "v":
            base = sql.Identifier(*_view_base(cur, name)).as_string(cur)
        keyset = _shards_keyset(cur, identity, base)
    keys = ", ".join(identity)
    if keyset is None:  # (no ends or histogram: far jumps walk)
        why = f"ordered by {keys}, each page a keyset query; far jumps walk the keys"
        return Plan(Walk(keys=identity, why=why), identity, distribution=distribution)
    why = f"ordered by {keys}, each page a keyset query the shards answer"
    return Plan(replace(keyset, why=why), identity, distribution=distribution)


def _shards_keyset(
    cur: psycopg2.extensions.cursor, keys: tuple[str, ...], name: str
) -> Keyset | None:
    """A keyset from the histogram of keys[0] on one shard (the coordinator's own table is
    empty; rows are spread over the shards by a hash, so any shard's spread of a key is the
    table's)."""
    cur.execute(SHARD_HISTOGRAM_SQL, (name, keys[0]))
    row = cur.fetchone()
    bounds = tuple(row[0]) if row and row[0] else ()
    if len(bounds) < 2:
        return None
    return Keyset(keys=keys, bounds=bounds, integer_key=False)


def _natural(
    conn: psycopg2.extensions.connection,
    cur: psycopg2.extensions.cursor,
    relation: Relation,
    name: str,
    identity: tuple[str, ...],
    row: tuple[Any, ...] | None,
) -> Plan:
    """The natural order of a relation on one server (``row``: IDENTITY_SQL's)."""
    children, security = (bool(row[1]), bool(row[2])) if row else (False, False)
    if relation.kind in "rpm" and identity and identity[-1] != "ctid":  # a primary key
        keyset = _keyset(cur, identity, relation.schema, relation.name)
        if keyset is not None:
            return Plan(keyset, identity)
        return Plan(
            Walk(
                keys=identity,
                why=f"ordered by {', '.join(identity)}; no statistics to seek with yet"
                " (ANALYZE the table): far jumps walk the rows on the server",
            ),
            identity,
        )
    if relation.kind in "rm" and not children:
        if conn.server_version < TID_RANGE_SCAN_VERSION:
            return Plan(
                Walk(
                    why="no primary key, and PostgreSQL before 14 has no TID range scans:"
                    " far jumps walk the rows on the server"
                ),
                identity,
            )
        cur.execute(BLOCKS_SQL, (name,))
        (blocks,) = _one(cur)
        return Plan(
            Ctid(blocks=int(blocks), why="physical order, seeking by ctid"),
            identity,
            row_security=security,
        )
    if relation.kind == "v" and identity:
        keyset = _keyset(cur, identity, *_view_base(cur, name))
        if keyset is not None and _fast_start(cur, relation, identity):
            return Plan(
                Keyset(
                    keys=identity,
                    bounds=keyset.bounds,
                    integer_key=keyset.integer_key,
                    why=f"view ordered by {', '.join(identity)} (unique in the table under"
                    " it), seeking on it",
                ),
                identity,
            )
    what = {
        "v": "a view without a usable key",
        "p": "a partitioned table without a primary key",
        "r": "a table with child tables and no primary key",
    }
    return Plan(
        Walk(
            why=f"{what.get(relation.kind, 'nothing to seek on')}: far jumps walk the rows"
            " on the server"
        ),
        identity,
    )


def _view_base(cur: psycopg2.extensions.cursor, name: str) -> tuple[str, str]:
    """The schema and table a view's key comes from (for its statistics)."""
    cur.execute(VIEW_KEY_SQL, (name,))
    found = cur.fetchone()
    return (str(found[2]), str(found[3])) if found else ("", "")


def _keyset(
    cur: psycopg2.extensions.cursor,
    keys: tuple[str, ...],
    schema: str,
    table: str,
    statistics: bool = True,
) -> Keyset | None:
    """A keyset strategy from the histogram of keys[0] (or its min and max, for integers;
    only those where the table has no ``statistics``)."""
    cur.execute(INTEGER_SQL, (sql.Identifier(schema, table).as_string(cur), keys[0]))
    row = cur.fetchone()
    integer = bool(row and row[0])
    bounds: tuple[Any, ...] = ()
    if statistics:
        cur.execute(HISTOGRAM_SQL, (schema, table, keys[0]))
        row = cur.fetchone()
        bounds = tuple(row[0]) if row else ()
    ends_read = False
    if integer and len(bounds) < 2:
        # Never analyzed: an integer key's ends are two index look-ups away.
        query = sql.SQL("SELECT min({k})::int8, max({k})::int8 FROM {t}").format(
            k=sql.Identifier(keys[0]), t=sql.Identifier(schema, table)
        )
        cur.execute(query)
        low, high = _one(cur)
        bounds, ends_read = (() if low is None else (low, high)), True
    if len(bounds) < 2:
        return None
    if integer:
        bounds = tuple(int(b) for b in bounds)
    return Keyset(
        keys=keys,
        bounds=bounds,
        integer_key=integer,
        ends_read=ends_read,
        why=f"ordered by {', '.join(keys)} (primary key), seeking on it",
    )


def plan_sorted(
    conn: psycopg2.extensions.connection,
    relation: Relation,
    column: str,
    descending: bool,
    natural: Plan,
) -> Plan:
    """How to read ``relation`` sorted by ``column``, ties broken by its identity (so the
    order is total), and whether far jumps can still seek: only when the planner reads that
    order from an index (no sort of every row), the column has statistics, and it holds no
    NULLs."""
    identity = natural.identity
    keys = (column, *(k for k in identity if k != column))
    arrow = "descending" if descending else "ascending"
    if relation.query is not None:  # a query: sorted by the server, jumps walk
        with conn.cursor() as cur:
            everything = not _fast_start(cur, relation, keys, descending)
        return Plan(
            Walk(
                keys=keys,
                descending=descending,
                sorts_everything=everything,
                why=f"a query sorted by {column} ({arrow}): far jumps walk its rows",
            ),
            identity,
            first_key_nullable=True,
        )
    name = relation.identifier().as_string(conn)
    with conn.cursor() as cur:
        cur.execute(NULLS_SQL, (relation.schema, relation.name, name, column))
        row = cur.fetchone()
        not_null, no_nulls = (bool(row[0]), bool(row[1])) if row else (False, False)
        if not _fast_start(cur, relation, keys, descending):
            return Plan(
                Walk(
                    keys=keys,
                    descending=descending,
                    sorts_everything=True,
                    why=f"sorted by {column} ({arrow}) with no index to read it from: "
                    + (
                        "the first rows from one pass, the rest sorted meanwhile; far jumps walk"
                        if identity  # (a total order: reader.py's top-N first pages)
                        else "the server sorts every row first, and far jumps walk"
                    ),
                ),
                identity,
                first_key_nullable=not not_null,
            )
        keyset = _keyset(cur, keys, relation.schema, relation.name)
    if keyset is None or not no_nulls:
        reason = "it may hold NULLs" if keyset is not None else "no statistics on it yet"
        return Plan(
            Walk(
                keys=keys,
                descending=descending,
                why=f"sorted by {column} ({arrow}, from an index); far jumps walk ({reason})",
            ),
            identity,
            first_key_nullable=not not_null,
        )
    return Plan(
        Keyset(
            keys=keys,
            bounds=keyset.bounds,
            integer_key=keyset.integer_key,
            descending=descending,
            why=f"sorted by {column} ({arrow}, from an index), seeking on it",
        ),
        identity,
        first_key_nullable=not not_null,
    )


def _one(cur: psycopg2.extensions.cursor) -> tuple[Any, ...]:
    row = cur.fetchone()
    assert row is not None
    return row


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
    plan = _one(cur)[0][0]["Plan"]
    startup, total = float(plan["Startup Cost"]), float(plan["Total Cost"])
    return startup <= 1000 or startup <= 0.01 * total
