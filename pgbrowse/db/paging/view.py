"""View: what one table view is, and every statement it composes. Pure: no connection, no
threads, no Textual; unit tests check its SQL without a server.

A view is a relation (or a query), its visible columns, its order (a ``Strategy``), its
filter, and its **identity**: the hidden columns, unique in the view, that find a row again
(a primary key; ``ctid`` for a plain table; ``(tableoid, ctid)`` for a table with children,
whose ctids repeat across them; none for a view or query without a unique key). A sorted
view orders by the sort column and then by its identity, so its order is total and a row's
place in it can be named. Each fetched row carries, after its visible values, the text of
its hidden columns (``hidden``): the order's keys, then the identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from psycopg2 import sql

from pgbrowse.db.catalog.citus import Distribution
from pgbrowse.db.catalog.references import NO_REFERENCES, References
from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.guard.parse import Checked
from pgbrowse.db.paging.strategy import Keyset, Strategy, Walk

Row = tuple[str | None, ...]
SYSTEM_TYPES = {"ctid": "tid", "tableoid": "oid"}
EXPORT_RANGES = 64  # a distributed table's export: batches by ranges of the first key
HAYSTACK_CHUNK = 50  # columns per concat() of a search's row text (2n - 1 arguments <= 100)
TOP_ALIAS = "pgbrowse_sorted"  # the subquery of a sort of every row
CELL_LIMIT = 1_000_000  # characters of a value the cell view fetches at most
WALK = Walk()
SLICED_TYPES = ("text", "character varying")  # binary-coercible to text: sliced as stored
FAT_BYTES = CELL_LIMIT  # a value stored larger is not converted for the table's pages


def text_of(column: Column) -> sql.Composable:
    """A column's value as text, as psql shows it. text and varchar are their text, cast
    without conversion, so ``left()`` of it reads only the first TOAST chunks of a huge
    value (and decompresses only its start, PostgreSQL 13+); every other type goes through
    its output function (``concat``), whole (json too: its cast to text is its output
    function, measured to read every chunk)."""
    name = sql.Identifier(column.name)
    if _sliced(column):
        return sql.SQL("{}::text").format(name)
    return sql.SQL("concat({})").format(name)


def value_text(column: Column, limit: int | None = None, fat: bool = False) -> sql.Composable:
    """A column's value as psql shows it (cut at ``limit`` characters on the server, or
    whole), NULL only for a NULL value: a composite of NULL fields is ``(,)``, as psql
    prints it (``c IS NULL`` would be true for it).

    Cut before conversion where the type allows: text and varchar are sliced as stored, a
    bytea's first bytes are hex-encoded (as its output function does, ``bytea_output =
    hex``). Any other type goes through its output function whole, so with ``fat`` (the
    table's pages) a value stored larger than ``FAT_BYTES`` (``pg_column_size``, which
    reads no TOAST data) is not converted at all: its size and type come instead, marked
    (``fat_placeholder``), and the table draws it as "512 MB jsonb" in guillemets. The mark
    is ASCII, so it travels in any database encoding."""
    name = sql.Identifier(column.name)
    text = text_of(column)
    if limit is not None:
        text = sql.SQL("left({}, {})").format(text, sql.Literal(limit))
        if _base(column) == "bytea":
            sliced = sql.SQL(
                "left('\\x' || encode(substring({} FROM 1 FOR {}), 'hex'), {})"
            ).format(name, sql.Literal(limit // 2 + 1), sql.Literal(limit))
            text = sql.SQL(
                "CASE WHEN current_setting('bytea_output') = 'hex' THEN {} ELSE {} END"
            ).format(sliced, text)
    cases = sql.SQL("WHEN num_nulls({}) = 1 THEN NULL").format(name)
    if fat and limit is not None and not _sliced(column):
        cases = sql.SQL("{} WHEN pg_column_size({}) > {} THEN {}").format(
            cases,
            name,
            sql.Literal(FAT_BYTES),
            sql.SQL("E'\\001\\002' || pg_size_pretty(pg_column_size({})::bigint) || {}").format(
                name, sql.Literal(" " + column.type_name)
            ),
        )
    return sql.SQL("CASE {} ELSE {} END").format(cases, text)


FAT_MARK = "\x01\x02"  # a value not converted (value_text's fat): no output function makes it


def fat_placeholder(value: str, column: Column) -> str | None:
    """What the table draws for a value ``value_text`` did not convert; None for a value."""
    if value.startswith(FAT_MARK) and not _sliced(column):
        return "\u2039" + value[len(FAT_MARK) :] + "\u203a"
    return None


def value_length(column: Column) -> sql.Composable:
    """How many characters a column's whole value has as text (a bytea's counted from its
    stored length, in hex: never converted)."""
    name = sql.Identifier(column.name)
    if _base(column) == "bytea":
        return sql.SQL(
            "CASE WHEN current_setting('bytea_output') = 'hex' THEN 2 + 2 * octet_length({})"
            " ELSE length(concat({})) END"
        ).format(name, name)
    return sql.SQL("length(concat({}))").format(name)


def _base(column: Column) -> str:
    return "" if column.type_name.endswith("]") else column.type_name.split("(")[0]


def _sliced(column: Column) -> bool:
    return _base(column) in SLICED_TYPES


def _as_text(names: tuple[str, ...]) -> sql.Composable:
    """``a::text, b::text``: columns read as their texts (a row's keys, its identity)."""
    return sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(n)) for n in names)


def _spaced(parts: list[sql.Composable]) -> sql.Composable:
    """``concat(a, ' ', b, …)``: the texts joined by spaces, NULL as ''."""
    return sql.SQL("concat({})").format(sql.SQL(", ' ', ").join(parts))


@dataclass(frozen=True)
class View:
    relation: Relation
    columns: tuple[Column, ...]
    identity: tuple[str, ...] = ()  # unique in the view: finds a row again; () = none
    strategy: Strategy = WALK
    truncate: int = 500
    filter: Checked | None = None
    sort: tuple[str, bool] | None = None  # the user's (column, descending), if sorted
    first_key_nullable: bool = False  # the order's first key may be NULL (a sort column)
    references: References = NO_REFERENCES  # foreign keys both ways (a table's)
    distribution: Distribution | None = None  # how Citus holds it (None: not a Citus table)

    @property
    def filter_text(self) -> str | None:
        """The filter as the user typed it (None: unfiltered)."""
        return self.filter.text if self.filter else None

    def with_(self, **changes: Any) -> View:
        return replace(self, **changes)

    # -- the shape of a row ------------------------------------------------------------
    @property
    def hidden(self) -> tuple[str, ...]:
        """The hidden columns after the visible ones: the order's keys, then the identity."""
        keys = ("ctid",) if self.strategy.by_ctid else self.strategy.keys
        return tuple(dict.fromkeys((*keys, *self.identity)))

    @property
    def total_order(self) -> bool:
        """Is the order total (so a row's place can be named by its keys)?"""
        if self.strategy.by_ctid:
            return True
        keys = self.strategy.keys
        return bool(self.identity) and keys[len(keys) - len(self.identity) :] == self.identity

    def hidden_values(self, row: Row, names: tuple[str, ...]) -> tuple[str | None, ...]:
        base = len(self.columns)
        hidden = self.hidden
        return tuple(row[base + hidden.index(n)] for n in names)

    def place_of(self, hidden: tuple[str | None, ...] | list[Any]) -> Any:
        """A row's place in the order, as an anchor keeps it, from the texts of its hidden
        columns (``hidden``, in that order): its ctid in physical order, else its values of
        the order's keys."""
        values = dict(zip(self.hidden, hidden, strict=True))
        if self.strategy.by_ctid:
            return values["ctid"]
        return tuple(values[k] for k in self.strategy.keys)

    def type_of(self, name: str) -> str:
        if name in SYSTEM_TYPES and not any(c.name == name for c in self.columns):
            return SYSTEM_TYPES[name]
        return next(c.type_name for c in self.columns if c.name == name)

    def literal(self, name: str, value: str | None) -> sql.Composable:
        """``value`` (the text of a hidden column) as a literal of the column's own type, so
        the server compares it as that type (an index lookup; composites round-trip)."""
        if value is None:
            return sql.SQL("NULL")
        return sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(self.type_of(name)))

    # -- composing ---------------------------------------------------------------------
    def column(self, name: str) -> sql.Composable:
        return sql.Identifier(name)

    def select(self) -> sql.Composed:
        """The page select's ``SELECT … FROM`` the relation (``select_list``)."""
        return self._select

    @cached_property
    def _select(self) -> sql.Composed:
        # (composed once a view: a distributed table's pages each send it)
        return sql.SQL("SELECT {} FROM {}").format(self.select_list(), self.relation.source())

    def select_list(self) -> sql.Composable:
        """Every visible column as its type's output (as psql and COPY print it), cut on the
        server; then the hidden columns as text. NULL is only a NULL value: a composite of
        NULL fields is ``(,)``, as psql prints it (``c IS NULL`` would be true for it)."""
        # (one character more than shown, to know it was cut)
        items: list[sql.Composable] = [
            value_text(c, self.truncate + 1, fat=True) for c in self.columns
        ]
        items += [
            sql.SQL("{}::text AS {}").format(sql.Identifier(k), sql.Identifier(f"pgbrowse_key_{i}"))
            for i, k in enumerate(self.hidden)
        ]
        if not items:
            items = [sql.SQL("NULL")]  # (never reached: a zero-column relation has an identity)
        return sql.SQL(", ").join(items)

    def filter_sql(self) -> sql.Composable | None:
        # The user's expression as PostgreSQL's parser read it, printed back (guard.py).
        return sql.SQL("({})").format(sql.SQL(self.filter.sql)) if self.filter else None

    def where(self, *conditions: sql.Composable | None) -> sql.Composable:
        present = [c for c in (*conditions, self.filter_sql()) if c is not None]
        if not present:
            return sql.SQL("")
        return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(present))

    def order_by(self, reverse: bool = False, within: str | None = None) -> sql.Composable:
        """``ORDER BY`` the strategy's keys, or the reverse of it ('' for physical order);
        ``within``: of the subquery of that alias (``top_query``)."""
        keys = self.strategy.keys
        if not keys:
            return sql.SQL("")
        descending = reverse != self.strategy.descending
        # Qualified: never an output column of that name.
        rel = (within,) if within is not None else self.relation.qualifier()
        order = sql.SQL(" DESC, " if descending else ", ").join(
            sql.Identifier(*rel, k) if within or k not in SYSTEM_TYPES else sql.Identifier(k)
            for k in keys
        )
        return sql.SQL(" ORDER BY {}{}").format(order, sql.SQL(" DESC" * descending))

    def query(self, bound: sql.Composable | None = None, reverse: bool = False) -> sql.Composed:
        """The page select, from ``bound`` on, in the order (or its reverse)."""
        if self.strategy.sorts_everything:
            return self._sorted_first(bound, reverse, sql.SQL(" OFFSET 0"))
        return sql.SQL("{}{}{}").format(self.select(), self.where(bound), self.order_by(reverse))

    def page_query(
        self, bound: sql.Composable | None, after: sql.Composable | None, reverse: bool, limit: int
    ) -> sql.Composed:
        """At most ``limit`` rows from ``bound`` (and ``after``: past the last row read) in
        the order or its reverse, as one bounded statement: where a cursor is eager (a
        distributed table), each page is one of these, pushed to every shard and merged. In
        a sort no index gives, the rows are sorted before they are converted to text
        (``_sorted_first``: x3 faster on 10M rows in 32 shards)."""
        if self.strategy.sorts_everything:
            present = [c for c in (bound, after) if c is not None]
            where = sql.SQL(" AND ").join(present) if present else None
            return self._sorted_first(
                where, reverse, sql.SQL(" LIMIT {}").format(sql.Literal(limit))
            )
        return sql.SQL("{}{}{} LIMIT {}").format(
            self.select(), self.where(bound, after), self.order_by(reverse), sql.Literal(limit)
        )

    @property
    def routed_key(self) -> str | None:
        """A distributed table read in the order of an index that starts with its
        distribution column: that column. The rows of one of its values are all on one
        shard, so a page among them is read from that shard alone (Citus routes a statement
        with ``column = value`` to it: 1 ms, against 15 for asking all 32 shards)."""
        distribution, strategy = self.distribution, self.strategy
        if distribution is None or distribution.kind != "distributed" or not distribution.spread:
            return None
        # (the column alone: one row a value, nothing to read on one shard)
        if len(strategy.keys) < 2 or strategy.keys[0] != distribution.column:
            return None
        if strategy.sorts_everything or self.first_key_nullable:
            return None
        return distribution.column

    def key_is(self, key: str, value: str) -> sql.Composable:
        """The rows whose ``key`` is ``value`` (the text of a hidden column)."""
        return sql.SQL("{} = {}").format(sql.Identifier(key), self.literal(key, value))

    def key_past(self, key: str, value: str, reverse: bool) -> sql.Composable:
        """The rows whose first key ``key`` comes after ``value`` in the order (or its
        reverse)."""
        later = ">" if reverse == self.strategy.descending else "<"
        return sql.SQL("{} {} {}").format(
            sql.Identifier(key), sql.SQL(later), self.literal(key, value)
        )

    def first_value_query(
        self, key: str, bound: sql.Composable | None, after: sql.Composable | None, reverse: bool
    ) -> sql.Composed:
        """The first value of the order's first key ``key`` in the rows from ``bound`` and
        ``after`` (in the order or its reverse): its min or max, as text (NULL: no rows)."""
        edge = "min" if reverse == self.strategy.descending else "max"
        return sql.SQL("SELECT {}({})::text FROM {}{}").format(
            sql.SQL(edge), sql.Identifier(key), self.relation.source(), self.where(bound, after)
        )

    def keys_query(
        self,
        bound: sql.Composable | None,
        after: sql.Composable | None,
        reverse: bool,
        limit: int,
        offset: int = 0,
    ) -> sql.Composed:
        """The order's keys (as text) of the next ``limit`` rows from ``bound`` and
        ``after`` past ``offset`` of them: a walk over rows not shown reads keys only."""
        return sql.SQL("SELECT {} FROM {}{}{} LIMIT {} OFFSET {}").format(
            _as_text(self.strategy.keys),
            self.relation.source(),
            self.where(bound, after),
            self.order_by(reverse),
            sql.Literal(limit),
            sql.Literal(offset),
        )

    def first_match_in_order_query(
        self, bound: sql.Composable, needle: str, backward: bool
    ) -> sql.Composed:
        """``first_match_query`` as one ordered statement with a LIMIT (on a distributed
        table each shard finds its own first match and the coordinator keeps the first)."""
        return sql.SQL("SELECT {} FROM {}{}{} LIMIT 1").format(
            _as_text(self.hidden),
            self.relation.source(),
            self.where(bound, self._hit(needle)),
            self.order_by(reverse=backward),
        )

    def top_query(self, bound: sql.Composable | None, limit: int) -> sql.Composed:
        """The first ``limit`` rows of ``query(bound)``: a top-N sort (the server keeps
        ``limit`` rows while it reads the table once, nothing written to disk)."""
        return self._sorted_first(bound, False, sql.SQL(" LIMIT {}").format(sql.Literal(limit)))

    def _sorted_first(
        self, bound: sql.Composable | None, reverse: bool, cut: sql.Composable
    ) -> sql.Composed:
        """A sort of every row, done on the table's own rows in a subquery and converted to
        text only as rows are read (``cut``: ``LIMIT n``, or ``OFFSET 0``, which keeps the
        planner from merging the subquery back). Under the sort, the page select's
        conversions cost each row of the table its output functions (measured on 10M rows:
        the top-N x15 one scan instead of x1.2, the whole sort 18 s instead of 7 s)."""
        rel = sql.Identifier(*self.relation.qualifier())
        system = [
            sql.SQL(", {}.{} AS {}").format(rel, sql.Identifier(k), sql.Identifier(k))
            for k in self.hidden
            if k in SYSTEM_TYPES and not any(c.name == k for c in self.columns)
        ]
        inner = sql.SQL("SELECT {}.*{} FROM {}{}{}{}").format(
            rel,
            sql.SQL("").join(system),
            self.relation.source(),
            self.where(bound),
            self.order_by(reverse),
            cut,
        )
        return sql.SQL("SELECT {} FROM ({}) AS {}{}").format(
            self.select_list(),
            inner,
            sql.Identifier(TOP_ALIAS),
            self.order_by(reverse, within=TOP_ALIAS),
        )

    def bound(self, values: tuple[str | None, ...], op: str) -> sql.Composable:
        """The rows at or after (``>=``) or before (``<``) the place named by ``values`` of
        the order's first keys, in the order shown (descending flips the comparison). A
        NULL value of the first key (which sorts last ascending, first descending) is
        handled explicitly; the identity's columns are never NULL."""
        keys = self.strategy.keys[: len(values)]
        after = op == ">="
        flip = self.strategy.descending
        cmp = {(True, False): ">=", (False, False): "<", (True, True): "<=", (False, True): ">"}[
            (after, flip)
        ]
        first, first_value = keys[0], values[0]
        rest, rest_values = keys[1:], values[1:]

        def row_cmp(
            names: tuple[str, ...], vals: tuple[str | None, ...], op: str
        ) -> sql.Composable:
            return sql.SQL("({}) {} ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(op),
                sql.SQL(", ").join(self.literal(n, v) for n, v in zip(names, vals, strict=True)),
            )

        col = sql.Identifier(first)
        if not self.first_key_nullable:
            return row_cmp(keys, values, cmp)
        # NULL is the last value ascending and the first descending.
        nulls_after = not flip  # do NULL-keyed rows come after every non-NULL one?
        if first_value is None:
            same: sql.Composable = sql.SQL("{} IS NULL").format(col)
            if rest:
                same = sql.SQL("({} AND {})").format(same, row_cmp(rest, rest_values, cmp))
            elif not after:
                same = sql.SQL("false")
            other = sql.SQL("{} IS NOT NULL").format(col)
            # The non-NULL rows are all before (nulls last) or all after (nulls first).
            if after == nulls_after:
                return same
            return sql.SQL("({} OR {})").format(other, same)
        plain = row_cmp(keys, values, cmp)
        if after == nulls_after:
            return sql.SQL("({} OR {} IS NULL)").format(plain, col)
        return plain

    def not_at(self, values: tuple[str | None, ...]) -> sql.Composable:
        """Every row but the one at the place named by ``values`` of the order's keys."""
        keys = self.strategy.keys[: len(values)]
        return sql.SQL("NOT (({}) IS NOT DISTINCT FROM ({}))").format(
            sql.SQL(", ").join(map(sql.Identifier, keys)),
            sql.SQL(", ").join(self.literal(n, v) for n, v in zip(keys, values, strict=True)),
        )

    def landing_query(self, columns: tuple[str, ...], values: tuple[str, ...]) -> sql.Composed:
        """The hidden values (the order's keys, the identity) of the row whose ``columns``
        hold ``values``: a foreign key's referenced row, found by its unique index (LIMIT 2:
        a second row says the columns are not unique here)."""
        return sql.SQL("SELECT {} FROM {} WHERE {} LIMIT 2").format(
            _as_text(self.hidden),
            self.relation.source(),
            sql.SQL(" AND ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), self.literal(c, v))
                for c, v in zip(columns, values, strict=True)
            ),
        )

    def before_query(self, bound: sql.Composable, limit: int | None = None) -> sql.Composed:
        """How many rows of the view come before ``bound``, counting at most ``limit`` (a
        row near the start is placed exactly at the cost of that many rows at most)."""
        if limit is None:
            return self.between_query(bound, None)
        # (SELECT 1, not SELECT: Citus gathers the subquery, and a result of no columns
        # fails to read back: "a column definition list is required")
        return sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {}{} LIMIT {}) AS s").format(
            self.relation.source(), self.where(bound), sql.Literal(limit)
        )

    def ctid_bound(self, tid: str, op: str) -> sql.Composable:
        return sql.SQL("ctid {} {}::tid").format(sql.SQL(op), sql.Literal(tid))

    def export_query(
        self, format: str = "csv", within: sql.Composable | None = None
    ) -> sql.Composed:
        """The view as shown (its filter and order), every value whole: for COPY to a file.
        ``jsonl``: one JSON object per row, built on the server: the column names and each
        value's text exactly as CSV has it (the type's output; NULL is null). An array
        constructor, not ``json_build_object``, so more than 50 columns fit (a function
        takes at most 100 arguments)."""
        if format == "jsonl":
            names = sql.SQL(", ").join(sql.Literal(c.name) for c in self.columns)
            values = sql.SQL(", ").join(value_text(c) for c in self.columns)
            columns: sql.Composable = sql.SQL(
                "json_object(ARRAY[{}]::text[], ARRAY[{}]::text[])::text"
            ).format(names, values)
        else:
            columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)
        return sql.SQL("SELECT {} FROM {}{}{}").format(
            columns or sql.SQL(""), self.relation.source(), self.where(within), self.order_by()
        )

    def export_queries(self, format: str = "csv") -> list[sql.Composed]:
        """``export_query`` as the batches to copy one after another: one, but on a
        distributed table (Citus gathers a COPY's whole result on the coordinator before its
        first row) a batch per range of the order's first key, from its ends or a shard's
        histogram (``EXPORT_RANGES`` of them): the coordinator holds one range at a time.
        Where the order has no such ranges (a sort by a column without them), one."""
        distribution, strategy = self.distribution, self.strategy
        whole = self.export_query(format)
        if distribution is None or not distribution.spread or not isinstance(strategy, Keyset):
            return [whole]
        if len(strategy.bounds) < 2 or self.first_key_nullable:
            return [whole]
        bounds = list(strategy.bounds)
        if strategy.integer_key:
            low, high = int(bounds[0]), int(bounds[-1])
            step = max(1, -(-(high - low + 1) // EXPORT_RANGES))
            bounds = list(range(low, high + 1, step))
        key = strategy.keys[0]
        edges = [self.literal(key, str(b)) for b in bounds[1:]]
        ranges: list[sql.Composable] = []
        column = sql.Identifier(key)
        for i in range(len(edges) + 1):
            parts = []
            if i > 0:
                parts.append(sql.SQL("{} >= {}").format(column, edges[i - 1]))
            if i < len(edges):
                parts.append(sql.SQL("{} < {}").format(column, edges[i]))
            ranges.append(sql.SQL(" AND ").join(parts))
        if strategy.descending:
            ranges.reverse()
        return [self.export_query(format, r) for r in ranges]

    def estimate_query(self) -> sql.Composed:
        return sql.SQL("EXPLAIN (FORMAT JSON) SELECT * FROM {}{}").format(
            self.relation.source(), self.where()
        )

    def partitions_estimate_query(self) -> sql.Composed | None:
        """For a whole partitioned table: the sum of its partitions' row estimates from the
        catalog (NULL when one was never analysed), which neither plans nor locks each of
        its partitions as EXPLAIN does (170 ms for 2,000 partitions)."""
        if self.relation.kind != "p" or self.filter is not None:
            return None
        return sql.SQL(
            "SELECT CASE WHEN bool_and(c.reltuples >= 0) THEN sum(c.reltuples)::int8 END"
            " FROM pg_partition_tree(format('%I.%I', {}, {})::regclass) t"
            " JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf"
        ).format(sql.Literal(self.relation.schema), sql.Literal(self.relation.name))

    def count_query(self, before: sql.Composable | None) -> sql.Composed:
        """The exact count, and the rows before ``before`` (a seek's place) if given."""
        counted = (
            sql.SQL("count(*) FILTER (WHERE {})").format(before)
            if before is not None
            else sql.SQL("NULL::int8")
        )
        return sql.SQL("SELECT count(*), {} FROM {}{}").format(
            counted, self.relation.source(), self.where()
        )

    def haystack(self) -> sql.Composable:
        """A row's visible text, as the grid shows it (each value's output, NULL as ''),
        joined by spaces, for search: ``concat(a, ' ', b, …)``, nested in calls of at most
        ``HAYSTACK_CHUNK`` columns (a call takes at most 100 arguments; a table has up to
        1,600 columns). Measured on the demo's 1M orders: 0.99 s a search that finds
        nothing, against 1.35 s with array_to_string(ARRAY[concat(a), …], ' ')."""
        parts: list[sql.Composable] = [sql.Identifier(c.name) for c in self.columns]
        while len(parts) > HAYSTACK_CHUNK:
            parts = [
                _spaced(parts[i : i + HAYSTACK_CHUNK]) for i in range(0, len(parts), HAYSTACK_CHUNK)
            ]
        return _spaced(parts)

    def search_query(
        self,
        bound: sql.Composable | None,
        needle: str,
        backward: bool,
        skip: int,
        near: int | None = None,
    ) -> sql.Composed:
        """The first row from ``bound`` (in the order, or its reverse) whose text holds
        ``needle``: its distance in rows and its hidden values. The rows before it never
        leave the server. ``near``: look at that many rows at most (the walk in the order
        stops there: a near match costs only the rows up to it)."""
        if self.strategy.by_ctid:  # physical order: forward is a TID range scan
            order: sql.Composable = sql.SQL(" ORDER BY ctid DESC") if backward else sql.SQL("")
        else:
            order = self.order_by(reverse=backward)
        inner = sql.SQL(
            "SELECT row_number() OVER ({o}) AS pgbrowse_n, {keys},"
            " {hit} AS pgbrowse_hit FROM {rel}{where}{o}{cut}"
        ).format(
            o=order,
            keys=self._hidden_keys(),
            hit=self._hit(needle),
            rel=self.relation.source(),
            where=self.where(bound),
            cut=sql.SQL("") if near is None else sql.SQL(" LIMIT {}").format(sql.Literal(near)),
        )
        return sql.SQL(
            "SELECT * FROM ({}) s WHERE pgbrowse_hit AND pgbrowse_n > {} LIMIT 1"
        ).format(inner, sql.Literal(skip))

    def first_match_query(self, bound: sql.Composable, needle: str, backward: bool) -> sql.Composed:
        """The keys (as text, ``hidden``'s names apart) of the first row from ``bound``, in
        the order or its reverse, whose text holds ``needle``: the rows are matched as the
        table is read (a sequential scan where the bound leaves most of it), and only the
        matches are sorted, a top-1 that keeps one row. Walking the order's index and
        numbering every row instead cost x2 a scan of the table for a text no row holds."""
        rel = sql.Identifier(*self.relation.qualifier())
        inner = sql.SQL("SELECT {} FROM {}{} OFFSET 0").format(
            sql.SQL(", ").join(
                sql.SQL("{}.{} AS {}").format(rel, sql.Identifier(k), sql.Identifier(k))
                for k in self.hidden
            ),
            self.relation.source(),
            self.where(bound, self._hit(needle)),
        )
        return sql.SQL("SELECT {} FROM ({}) AS s{} LIMIT 1").format(
            sql.SQL(", ").join(
                sql.SQL("s.{}::text").format(sql.Identifier(k)) for k in self.hidden
            ),
            inner,
            self.order_by(reverse=backward, within="s"),
        )

    def between_query(
        self, start: sql.Composable | None, end: sql.Composable | None
    ) -> sql.Composed:
        """How many rows of the view are within both bounds."""
        return sql.SQL("SELECT count(*) FROM {}{}").format(
            self.relation.source(), self.where(start, end)
        )

    def _hidden_keys(self) -> sql.Composable:
        """The hidden columns as text, named apart (``pgbrowse_key_0``…): an output column
        named ``ctid`` would be what an unqualified ORDER BY ctid sorts by, in text order,
        while row_number() counts in the column's own order (a search then skipped nearer
        matches)."""
        return sql.SQL(", ").join(
            sql.SQL("{}::text AS {}").format(sql.Identifier(k), sql.Identifier(f"pgbrowse_key_{i}"))
            for i, k in enumerate(self.hidden)
        )

    def _hit(self, needle: str) -> sql.Composable:
        """Whether a row's text holds ``needle``, case-insensitive (``ILIKE``, the needle's
        ``%``, ``_`` and ``\\`` taken literally: x1.3 faster than ``strpos(lower(...))`` on
        1M rows). The text is taken in the database's default collation: columns of
        different collations (C and an ICU one) left the match none to use."""
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", needle) + "%"
        return sql.SQL('({}) COLLATE "default" ILIKE {}').format(
            self.haystack(), sql.Literal(pattern)
        )

    def search_by_position_query(self, needle: str, position: int, backward: bool) -> sql.Composed:
        """For a view whose order is not total (physical order over children, say): the
        first row after (before) ``position`` holding ``needle``, by its row number in the
        order the cursors read, with its identity, to be checked where the view lands."""
        inner = sql.SQL(
            "SELECT row_number() OVER () AS pgbrowse_n, {keys},"
            " {hit} AS pgbrowse_hit FROM {rel}{where}{o}"
        ).format(
            keys=self._hidden_keys(),
            hit=self._hit(needle),
            rel=self.relation.source(),
            where=self.where(),
            o=self.order_by(),
        )
        if backward:
            return sql.SQL(
                "SELECT * FROM ({}) s WHERE pgbrowse_hit AND pgbrowse_n <= {}"
                " ORDER BY pgbrowse_n DESC LIMIT 1"
            ).format(inner, sql.Literal(position))
        return sql.SQL(
            "SELECT * FROM ({}) s WHERE pgbrowse_hit AND pgbrowse_n > {} LIMIT 1"
        ).format(inner, sql.Literal(position + 1))

    def cell_query(self, row: Row, column: int, limit: int = CELL_LIMIT) -> sql.Composed:
        """The whole value of ``column`` (cut at ``limit`` characters) and its length, for
        the row found again by its identity."""
        return self.record_query(row, limit, (column,))

    def record_query(
        self, row: Row, limit: int, columns: tuple[int, ...] | None = None
    ) -> sql.Composed:
        """Each of ``columns`` (all by default) whole, cut at ``limit`` characters, with
        its length, for the row found again by its identity (LIMIT 2: a second row says
        the identity is not unique)."""
        values = self.hidden_values(row, self.identity)
        where = sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(sql.Identifier(n), self.literal(n, v))
            for n, v in zip(self.identity, values, strict=True)
        )
        wanted = range(len(self.columns)) if columns is None else columns
        targets: sql.Composable = sql.SQL(", ").join(
            sql.SQL("{}, {}").format(
                value_text(self.columns[i], limit), value_length(self.columns[i])
            )
            for i in wanted
        )
        if columns is None and not self.columns:
            targets = sql.SQL("1")  # (a relation without columns: its row, found)
        return sql.SQL("SELECT {} FROM {} WHERE {} LIMIT 2").format(
            targets, self.relation.source(), where
        )
