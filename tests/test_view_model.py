"""The pure view model, without a server: the SQL each strategy and identity composes, the
seek arithmetic, and how positions move when an end or a count is learned."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql
from psycopg2.extensions import adapt

from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.guard.parse import check_expression
from pgbrowse.db.paging.cache import PageCache
from pgbrowse.db.paging.reader import Anchor, Place, Reader
from pgbrowse.db.paging.strategy import Ctid, Keyset, Walk
from pgbrowse.db.paging.view import View


def render(part: Any) -> str:
    """A composed statement as text, without a connection (psycopg2 needs one to quote)."""
    if isinstance(part, sql.Composed):
        return "".join(render(p) for p in part.seq)
    if isinstance(part, sql.SQL):
        return part.string
    if isinstance(part, sql.Identifier):
        return ".".join('"' + s.replace('"', '""') + '"' for s in part.strings)
    if isinstance(part, sql.Literal):
        return adapt(part.wrapped).getquoted().decode()
    raise TypeError(type(part))


TABLE = Relation("s", "t", "r", 1000, 0)
INT = Column("id", "integer", True)
V = Column("v", "integer", True)
P = Column("p", "pair", False)
T = Column("t", "text", False)


def view(**kwargs: Any) -> View:
    return View(TABLE, (INT, V, P, T), **kwargs)


def test_a_key_bound_compares_typed_literals_as_a_row() -> None:
    keyed = view(identity=("id",), strategy=Keyset(keys=("id",), bounds=(1, 1000)))
    assert render(keyed.bound(("5",), ">=")) == """("id") >= ('5'::integer)"""
    assert render(keyed.bound(("5",), "<")) == """("id") < ('5'::integer)"""
    down = keyed.with_(strategy=Keyset(keys=("id",), bounds=(1, 1000), descending=True))
    assert render(down.bound(("5",), ">=")) == """("id") <= ('5'::integer)"""


def test_a_nullable_sort_column_bounds_nulls_explicitly() -> None:
    asc = view(identity=("id",), strategy=Walk(keys=("v", "id")), first_key_nullable=True)
    # NULLs sort last ascending: they are after any value, and among themselves by id.
    after = render(asc.bound(("3", "7"), ">="))
    assert after == """(("v", "id") >= ('3'::integer, '7'::integer) OR "v" IS NULL)"""
    assert render(asc.bound(("3", "7"), "<")) == """("v", "id") < ('3'::integer, '7'::integer)"""
    assert render(asc.bound((None, "7"), ">=")) == """("v" IS NULL AND ("id") >= ('7'::integer))"""
    before = render(asc.bound((None, "7"), "<"))
    assert before == """("v" IS NOT NULL OR ("v" IS NULL AND ("id") < ('7'::integer)))"""
    desc = asc.with_(strategy=Walk(keys=("v", "id"), descending=True))
    # Descending, NULLs come first: before any value.
    assert render(desc.bound(("3", "7"), ">=")) == """("v", "id") <= ('3'::integer, '7'::integer)"""
    assert render(desc.bound(("3", "7"), "<")) == (
        """(("v", "id") > ('3'::integer, '7'::integer) OR "v" IS NULL)"""
    )


def test_a_composite_key_is_cast_to_its_type() -> None:
    by_pair = view(identity=("id",), strategy=Walk(keys=("p", "id")))
    assert render(by_pair.bound(("(1,x)", "4"), ">=")) == (
        """("p", "id") >= ('(1,x)'::pair, '4'::integer)"""
    )


def test_identity_decides_the_hidden_columns_and_the_lookup() -> None:
    heap = view(identity=("ctid",), strategy=Ctid(blocks=10))
    assert heap.hidden == ("ctid",) and heap.total_order
    parent = view(identity=("tableoid", "ctid"), strategy=Walk())
    assert parent.hidden == ("tableoid", "ctid") and not parent.total_order
    row = ("1", "2", "(1,x)", "a", "16384", "(0,1)")
    cell = render(parent.cell_query(row, 3))
    assert """WHERE "tableoid" = '16384'::oid AND "ctid" = '(0,1)'::tid LIMIT 2""" in cell
    sorted_parent = parent.with_(strategy=Walk(keys=("v", "tableoid", "ctid")))
    assert sorted_parent.hidden == ("v", "tableoid", "ctid") and sorted_parent.total_order
    keyless = view(strategy=Walk(keys=("v",)))
    assert not keyless.identity and not keyless.total_order


def test_the_select_keeps_null_apart_from_a_composite_of_nulls() -> None:
    select = render(view(identity=("id",), strategy=Walk(keys=("id",))).select())
    assert (
        'CASE WHEN num_nulls("p") = 1 THEN NULL WHEN pg_column_size("p") > 1000000'
        " THEN E'\\001\\002' || pg_size_pretty(pg_column_size(\"p\")::bigint) || ' pair'"
        ' ELSE left(concat("p"), 501) END'
    ) in select  # (a value stored over 1 MB is not converted: its size is drawn instead)
    assert 'CASE WHEN num_nulls("t") = 1 THEN NULL ELSE left("t"::text, 501) END' in select
    assert select.endswith('"id"::text AS "pgbrowse_key_0" FROM "s"."t"')


def test_search_reads_any_number_of_columns() -> None:
    wide = View(TABLE, tuple(Column(f"c{i}", "integer", True) for i in range(1600)))
    haystack = render(wide.haystack())
    # concat(a, ' ', b, ...) in calls of 50 columns (99 arguments), joined by one more call
    # (32 arguments and their 31 spaces): no call passes the server's 100-argument limit.
    assert haystack.count("concat(") == 1600 // 50 + 1
    assert all(haystack.count(f'"c{i}"') == 1 for i in (0, 49, 50, 1599))
    assert haystack.count('"c') == 1600 and "concat_ws" not in haystack
    assert haystack.startswith('concat(concat("c0", \' \', "c1"')


def test_the_filter_is_the_parsed_expression_in_parentheses() -> None:
    filtered = view(filter=check_expression("id > 10 -- and the rest"))
    assert render(filtered.query()).endswith("WHERE (id > 10)")
    assert render(filtered.count_query(None)) == (
        'SELECT count(*), NULL::int8 FROM "s"."t" WHERE (id > 10)'
    )


def test_seek_arithmetic() -> None:
    keys = Keyset(keys=("id",), bounds=(0, 100, 1000), integer_key=True)
    assert [keys.key_at(f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)] == [0, 50, 100, 550, 1000]
    down = Keyset(keys=("id",), bounds=(0, 100, 1000), integer_key=True, descending=True)
    assert down.key_at(0.0) == 1000
    assert Ctid(blocks=200).block_at(0.5) == 100
    assert Ctid(blocks=200, sample=(3, 4, 5, 6)).block_at(0.5) == 5  # where the rows are


def reader(row_count: int) -> Reader:
    made = Reader(None, view(identity=("id",)), 100, PageCache(10**6))  # type: ignore[arg-type]
    made.row_count = row_count
    return made


def test_a_seek_never_shrinks_the_count_for_where_it_landed() -> None:
    r = reader(100_000)
    anchor = Anchor(Place.SEEK, 50_000, 7)
    r.anchor = anchor
    r.cache.put(7, 500, [("x",)])
    assert not r.learn_end(anchor, 10)  # the end came 10 rows after an estimated 50,000
    assert r.row_count == 100_000 and not r.count_exact
    assert anchor.base == 99_990 and anchor.frame != 7 and r.shift == 49_990
    assert r.cache.get(7, 500) is None  # the old numbering's pages are gone
    exact = Anchor(Place.START, 0, 0)
    assert r.learn_end(exact, 1234) and r.row_count == 1234 and r.count_exact


def test_a_rebase_makes_positions_exact() -> None:
    r = reader(1_000_000)
    anchor = Anchor(Place.SEEK, 500_000, 3)
    r.anchor = anchor
    r.rebase(anchor, -1_000)
    assert anchor.base == 499_000 and anchor.frame == 0 and r.shift == -1_000
    assert r.positions_exact


def test_the_cache_holds_one_snapshot() -> None:
    """Issue 25: a page read in a snapshot that has ended is never kept or drawn."""
    cache = PageCache(10**6)
    assert not cache.begin_snapshot()  # the first snapshot: nothing to drop
    cache.put(0, 0, [("a",)], cache.snapshot)
    old = cache.snapshot
    assert cache.begin_snapshot()  # a new one drops the old one's pages
    assert cache.get(0, 0) is None and cache.stats().pages == 0
    cache.put(0, 1, [("late",)], old)  # (read in the old snapshot, handed in after)
    assert cache.get(0, 1) is None
    cache.put(0, 1, [("new",)], cache.snapshot)
    assert cache.get(0, 1) == [("new",)]
