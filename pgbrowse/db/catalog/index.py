"""CatalogIndex: every relation of a database in a few compact arrays, filtered in memory.

The relation list must open as fast with 100,000 relations as with 10, and answer each
keystroke at once. So the catalog is read in two steps on a connection of its own: the
first screenful (the first relations by name: one small query), then the whole catalog
through a named cursor in batches, into compact arrays rather than an object per relation
(100,000 relations: about 6 MB). One string holds a line per relation (``line\\tschema.name
\\tkind``) that a compiled regular expression filters, a slice of lines at a time so the
screen is updated before the last line is looked at.

Partitions and inheritance children are lines of their own with a parent line: the list
shows the parents (with the totals of their trees) and, expanded or matching a filter, the
children under them.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions

from pgbrowse.db.catalog.citus import CITUS_PRESENT_SQL, counted
from pgbrowse.db.catalog.relations import KIND_NAMES, SIZE_SQL, USER_SCHEMAS_SQL, Relation

KINDS = "".join(KIND_NAMES)  # the kinds listed, one letter each (pg_class.relkind)
_READABLE = (
    "has_schema_privilege(n.oid, 'USAGE')"
    " AND (has_table_privilege(c.oid, 'SELECT')"
    "      OR has_any_column_privilege(c.oid, 'SELECT'))"
)

# The first screenful: top-level relations (no parent) in name order.
FIRST_SQL = f"""
SELECT n.nspname, c.relname, c.relkind, c.reltuples::float8, {SIZE_SQL}, -1, {_READABLE},
       obj_description(c.oid, 'pg_class')
FROM (SELECT c.oid FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = ANY(%(kinds)s) AND {USER_SCHEMAS_SQL}
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid)
      ORDER BY n.nspname, c.relname LIMIT %(limit)s) AS first
JOIN pg_catalog.pg_class c ON c.oid = first.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
ORDER BY n.nspname, c.relname
"""

# Everything, in name order, each with the line of its (first) parent: the server numbers
# the lines, so the client needs no map from oid to line.
ALL_SQL = f"""
WITH indexes AS (
  SELECT i.indrelid, sum(greatest(ic.relpages, 0))::int8 AS pages
  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  GROUP BY i.indrelid
), listed AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::float8 AS tuples,
         (greatest(c.relpages, 0)::int8 + greatest(coalesce(tc.relpages, 0), 0)
          + coalesce(x.pages, 0)) * current_setting('block_size')::int8 AS size,
         {_READABLE} AS readable,
         row_number() OVER (ORDER BY n.nspname, c.relname) - 1 AS line
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
  LEFT JOIN indexes x ON x.indrelid = c.oid
  WHERE c.relkind = ANY(%(kinds)s) AND {USER_SCHEMAS_SQL}
)
SELECT l.nspname, l.relname, l.relkind, l.tuples, l.size, coalesce(p.line, -1), l.readable,
       d.description
FROM listed l
LEFT JOIN pg_catalog.pg_inherits h ON h.inhrelid = l.oid AND h.inhseqno = 1
LEFT JOIN listed p ON p.oid = h.inhparent
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = l.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
ORDER BY l.line
"""

# On Citus: the distributed tables' figures, summed over their shards' catalog rows on the
# workers (a shard is the table's name, '_' and its shard id, in the same schema).
DISTRIBUTED_SIZES_SQL = """
WITH placed AS (
  SELECT e ->> 0 AS nspname, e ->> 1 AS relname, (e ->> 2)::float8 AS tuples,
         (e ->> 3)::int8 AS size
  FROM run_command_on_workers($$SELECT coalesce(json_agg(json_build_array(n.nspname,
         c.relname, c.reltuples, pg_total_relation_size(c.oid))), '[]') FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND c.relname ~ '_[0-9]+$'$$) AS w,
       json_array_elements(CASE WHEN w.success THEN w.result::json ELSE '[]' END) AS e
)
SELECT n.nspname, c.relname, sum(greatest(p.tuples, 0))::int8, sum(p.size)::int8,
       count(DISTINCT s.shardid)
FROM pg_catalog.pg_dist_partition d
JOIN pg_catalog.pg_class c ON c.oid = d.logicalrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = d.logicalrelid
JOIN placed p ON p.nspname = n.nspname AND p.relname = c.relname || '_' || s.shardid
WHERE d.partmethod = 'h'
GROUP BY n.nspname, c.relname
"""

# Sizes are kept in units of 8 KB (sizes are multiples of the block size) in 4 bytes:
# up to 32 TB a line; a larger one is drawn as "≥ 32 TB" (SIZE_CAPPED), never as less.
SIZE_UNIT = 8192
SIZE_MAX = 2**32 - 1
SIZE_CAPPED = SIZE_MAX * SIZE_UNIT
_FIELD = re.compile(r"[\t\n\r\\]")  # what a line's text may not hold as it is


@dataclass(frozen=True)
class Entry:
    """One line of the list, as drawn."""

    line: int
    schema: str
    name: str
    kind: str
    rows: int | None  # the estimate (summed over a tree for a parent); None: unknown
    size: int
    readable: bool
    comment: str | None
    children: int  # how many lines have it as their parent
    held: str | None = None  # on Citus, how a distributed table is held ("8 shards")

    @property
    def kind_name(self) -> str:
        kind = KIND_NAMES.get(self.kind, self.kind)
        return f"{kind}, {self.held}" if self.held else kind

    def relation(self) -> Relation:
        return Relation(
            schema=self.schema,
            name=self.name,
            kind=self.kind,
            estimated_rows=self.rows,
            size_bytes=self.size,
            comment=self.comment,
        )


class CatalogIndex:
    """The relations of one database: line ``i`` is the i-th by (schema, name)."""

    def __init__(self) -> None:
        self.count = 0
        self.complete = False  # every relation is in (not only the first screenful)
        self.text = ""  # "0000042\tschema.name\tkind\n" for each line, in line order
        self._parts: list[str] = []
        self._starts = array("I")  # where each line's text starts in ``text``
        self._kind = bytearray()
        self._rows = array("q")  # -1: unknown
        self._size = array("I")  # in units of 8 KB (4 bytes a line: up to 32 TB a line)
        self.parent = array("i")  # the parent's line, -1 for none
        self._readable = bytearray()
        self._comments: dict[int, str] = {}
        self._exotic: dict[int, tuple[str, str]] = {}  # names a line's text cannot hold
        self._held: dict[int, str] = {}  # Citus: "distributed, 8 shards" by line
        self.children: dict[int, array[int]] = {}
        self.tops = array("i")  # the lines without a parent, in line order

    # -- loading -----------------------------------------------------------------------
    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Append catalog rows (FIRST_SQL's or ALL_SQL's columns), in line order."""
        offset = self._starts[-1] + len(self._last) if self.count else 0
        batch: list[str] = []  # (joined per batch: no str object per relation is kept)
        for schema, name, kind, tuples, size, parent, readable, comment in rows:
            i = self.count
            if _FIELD.search(schema) or _FIELD.search(name) or "." in schema:
                self._exotic[i] = (schema, name)  # (also: where schema.name splits is unsure)
                schema, name = _FIELD.sub("?", schema), _FIELD.sub("?", name)
            kind_name = KIND_NAMES.get(kind, kind)
            self._last = f"{i:07d}\t{schema}.{name}\t{kind_name}\n"
            batch.append(self._last)
            self._starts.append(offset)
            offset += len(self._last)
            self._kind.append(ord(kind))
            # reltuples is -1 for a table never analysed, and 0 or -1 for views: unknown.
            self._rows.append(int(tuples) if tuples >= 0 and kind not in "vf" else -1)
            self._size.append(min(int(size) // SIZE_UNIT, SIZE_MAX))
            self.parent.append(int(parent))
            self._readable.append(bool(readable))
            if comment:
                self._comments[i] = comment
            self.count += 1
        self._parts.append("".join(batch))

    _last = ""

    def finish(self, complete: bool = True) -> None:
        """All rows are in: join the text, link children to parents, sum the trees."""
        self.text = "".join(self._parts)
        self._parts = [self.text]
        self.complete = complete
        children: dict[int, list[int]] = {}
        tops = array("i")
        for i, parent in enumerate(self.parent):
            if parent < 0:
                tops.append(i)
            else:
                children.setdefault(parent, []).append(i)
        self.tops = tops
        self.children = {p: array("i", kids) for p, kids in children.items()}
        # A parent shows its tree's totals: each line adds its own figures to its ancestors.
        # (A partitioned table's own reltuples already counts its partitions, as ANALYZE
        # sets it: only its partitions count.)
        for parent in self.children:
            if self._kind[parent] == ord("p"):
                self._rows[parent] = -1
        own_rows, own_size = array("q", self._rows), array("I", self._size)
        for i, parent in enumerate(self.parent):
            seen = 0
            while parent >= 0 and seen < 100:  # (multiple inheritance cannot loop, but…)
                if own_rows[i] >= 0:
                    self._rows[parent] = max(self._rows[parent], 0) + own_rows[i]
                self._size[parent] = min(self._size[parent] + own_size[i], SIZE_MAX)
                parent, seen = self.parent[parent], seen + 1

    # -- reading -----------------------------------------------------------------------
    def entry(self, i: int) -> Entry:
        start = self._starts[i]
        end = self._starts[i + 1] if i + 1 < self.count else len(self.text)
        qualified = self.text[start + 8 : end - 1].split("\t", 1)[0]
        if i in self._exotic:
            schema, name = self._exotic[i]
        else:
            schema, _, name = qualified.partition(".")
        rows = self._rows[i]
        return Entry(
            line=i,
            schema=schema,
            name=name,
            kind=chr(self._kind[i]),
            rows=None if rows < 0 else rows,
            size=self._size[i] * SIZE_UNIT,
            readable=bool(self._readable[i]),
            comment=self._comments.get(i),
            children=len(self.children.get(i, ())),
            held=self._held.get(i),
        )

    def line_of(self, schema: str, name: str) -> int | None:
        """The line of ``schema.name`` (None: not listed, or a name a line cannot hold)."""
        at = self.text.find(f"\t{schema}.{name}\t")
        if at < 7 or _FIELD.search(schema + name):
            return None
        return int(self.text[at - 7 : at])

    def set_distributed(self, line: int, rows: int, size: int, shards: int) -> None:
        """A distributed table's figures, from its shards (the coordinator's are 0)."""
        self._rows[line] = rows
        self._size[line] = min(size // SIZE_UNIT, SIZE_MAX)
        self._held[line] = f"distributed, {counted(shards, 'shard')}"

    def depth(self, i: int) -> int:
        depth, parent = 0, self.parent[i]
        while parent >= 0 and depth < 100:
            depth, parent = depth + 1, self.parent[parent]
        return depth

    def size_of(self, i: int) -> int:
        return self._size[i] * SIZE_UNIT

    def rows_of(self, i: int) -> int:
        return self._rows[i]

    def matcher(self, text: str) -> re.Pattern[str] | None:
        """A pattern whose matches' first group is the line number of each line holding
        every word of ``text`` (case-insensitive) in its schema.name or kind; None: all."""
        words = text.split()
        if not words:
            return None
        ahead = "".join(f"(?=[^\\n]*?{re.escape(word)})" for word in words)
        return re.compile(f"^(\\d{{7}})\\t{ahead}", re.MULTILINE | re.IGNORECASE)

    def matching(
        self, pattern: re.Pattern[str], chunk: int = 20_000, first_chunk: int = 2_000
    ) -> Iterator[array[int]]:
        """The lines ``pattern`` matches, a slice of ``chunk`` lines at a time (the first
        slice smaller: it is what the screen waits for)."""
        bounds = [0, *range(min(first_chunk, chunk), self.count, chunk), self.count]
        for first, last in itertools.pairwise(bounds):
            if first >= last:
                continue
            end = self._starts[last] if last < self.count else len(self.text)
            found = pattern.findall(self.text, self._starts[first], end)
            yield array("i", map(int, found))


def read_first(conn: psycopg2.extensions.connection, limit: int) -> CatalogIndex:
    """The first ``limit`` top-level relations by name (one small query)."""
    index = CatalogIndex()
    with conn.cursor() as cur:
        cur.execute(FIRST_SQL, {"kinds": list(KINDS), "limit": limit})
        index.add(cur.fetchall())
    conn.rollback()
    index.finish(complete=False)
    return index


def read_all(conn: psycopg2.extensions.connection, batch: int = 5_000) -> CatalogIndex:
    """Every relation, through a named cursor, ``batch`` rows at a time (client memory
    stays at the compact arrays plus one batch, about 2 MB). Each batch is a round trip:
    100,000 relations in batches of 500 were 200 of them, 10 s over a 50 ms link."""
    index = CatalogIndex()
    with conn.cursor() as cur:  # (the catalog's sorts stay in memory; and is it Citus?)
        cur.execute(f"SET LOCAL work_mem = '64MB'; SELECT {CITUS_PRESENT_SQL}")
        (citus,) = cur.fetchone() or (False,)
    with conn.cursor(name="pgbrowse_catalog") as cur:
        cur.itersize = batch
        cur.execute(ALL_SQL, {"kinds": list(KINDS)})
        while rows := cur.fetchmany(batch):
            index.add(rows)
    index.finish()
    if citus:  # (on the whole index: a line is found by its text)
        _read_distributed(conn, index)
    conn.rollback()
    _give_back_memory()
    return index


def _read_distributed(conn: psycopg2.extensions.connection, index: CatalogIndex) -> None:
    """On Citus: each distributed table's rows, size and shard count, from its shards (one
    question to each worker: the catalog rows of the shards it holds)."""
    with conn.cursor() as cur:
        cur.execute(DISTRIBUTED_SIZES_SQL)
        for schema, name, rows, size, shards in cur.fetchall():
            line = index.line_of(schema, name)
            if line is not None:
                index.set_distributed(line, int(rows), int(size), int(shards))


def _give_back_memory() -> None:
    """Hand the batches' freed memory back to the system: glibc otherwise keeps it in the
    reading thread's arena, several MB of RSS for nothing (elsewhere: nothing to do)."""
    import ctypes
    import ctypes.util
    from contextlib import suppress

    with suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
