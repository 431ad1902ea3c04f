"""The right row, every time (issue 12): each row is found again only by an identity that
is unique in its view, on the relations PostgreSQL's own regression database is full of:
inheritance, partitions, NULL and composite sort values, zero and 1,600 columns, rows
spread unevenly, refused opens and killed sessions."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import Refused
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import column, relation


def every_cell_matches(pager: CursorPager, rows: list, name: str) -> None:
    i = column(pager, name)
    for position, row in enumerate(rows):
        page = pager.cached(position // pager.page_size)
        assert page is not None
        whole = page[position % pager.page_size]
        assert pager.fetch_cell(whole, i).text == row[i], f"row {position}"


def test_an_inheritance_parent_finds_child_rows_by_tableoid_and_ctid(open_pager) -> None:
    pager = open_pager("ident.parent")
    rows = pager.rows(0, 60)
    assert len(rows) == 60 and len({r[1] for r in rows}) == 60
    assert pager.view.identity == ("tableoid", "ctid")
    every_cell_matches(pager, rows, "t")  # Enter on a child row shows the child's value
    pager.load(3)  # (read last: where reading resumes)
    assert pager.release()
    pager.cache.clear()  # (as if evicted: read again from the server)
    assert pager.rows(0, 60) == rows  # after an idle release: the same rows, none lost


@pytest.mark.parametrize("backward", [False, True])
def test_search_from_a_child_row_lands_on_the_match(open_pager, backward: bool) -> None:
    pager = open_pager("ident.parent")
    rows = pager.rows(0, 60)
    start = next(i for i, r in enumerate(rows) if r[1] == "child-40")
    wanted = "child-55" if not backward else "child-33"
    page = pager.cached(start // pager.page_size)
    assert page is not None
    target = pager.search(start, page[start % pager.page_size], wanted, backward)
    assert target is not None and rows[target][1] == wanted
    assert pager.rows(target, 1)[0][1] == wanted
    assert pager.search(start, page[start % pager.page_size], "no such text") is None


def test_sorting_by_repeating_values_breaks_ties_by_identity(open_pager) -> None:
    pager = open_pager("ident.part", page_size=50)
    pager.set_order("grp")
    assert pager.plan is not None and pager.plan.keys == ("grp", "tableoid", "ctid")
    rows = pager.rows(0, 1000)
    assert len({r[2] for r in rows}) == 1000  # every row once
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    i = column(pager, "t")
    for position in range(0, 1000, 37):
        whole = pager.cached(position // 50)[position % 50]  # type: ignore[index]
        assert pager.fetch_cell(whole, i).text == rows[position][i]
    for page in (3, 11, 18):  # idle release on a page deep in the repeats, then resume
        pager.cache.clear()
        pager.load(page)
        assert pager.release()
        pager.cache.clear()  # (as if evicted: read again from the server, from its keys)
        assert pager.rows(page * 50, 100) == rows[page * 50 : page * 50 + 100]


@pytest.mark.parametrize("descending", [False, True])
def test_rows_whose_sort_value_is_null_keep_their_identity(open_pager, descending: bool) -> None:
    pager = open_pager("ident.vals")
    pager.set_order("v", descending)
    rows = pager.rows(0, 300)
    assert len({r[0] for r in rows}) == 300
    nulls = [i for i, r in enumerate(rows) if r[1] is None]
    assert len(nulls) == 100
    i = column(pager, "t")
    for position in nulls[::9]:
        whole = pager.cached(position // 10)[position % 10]  # type: ignore[index]
        assert pager.fetch_cell(whole, i).text == rows[position][i]
    for position in (nulls[5], nulls[-5], 150):  # resume inside the NULLs and beside them
        page = position // 10
        pager.cache.clear()
        pager.load(page)
        assert pager.release()
        pager.cache.clear()
        assert pager.rows(page * 10, 20) == rows[page * 10 : page * 10 + 20]
    assert pager.rows(0, 300) == rows
    start = nulls[3]  # search from a NULL-sorted row
    whole = pager.cached(start // 10)[start % 10]  # type: ignore[index]
    target = pager.search(start, whole, f"value-{rows[nulls[7]][0]}")
    assert target == nulls[7]
    assert pager.rows(target, 1)[0][0] == rows[nulls[7]][0]


def test_sorting_by_a_composite_column(open_pager) -> None:
    pager = open_pager("ident.vals")
    pager.set_order("p")
    rows = pager.rows(0, 300)
    assert len({r[0] for r in rows}) == 300
    i = column(pager, "t")
    for position in range(0, 300, 29):
        whole = pager.cached(position // 10)[position % 10]  # type: ignore[index]
        assert pager.fetch_cell(whole, i).text == rows[position][i]
    pager.cache.clear()
    pager.load(12)
    assert pager.release()
    pager.cache.clear()
    assert pager.rows(120, 20) == rows[120:140]
    pager.rows(0, 300)
    whole = pager.cached(4)[0]  # type: ignore[index]
    target = pager.search(40, whole, rows[200][column(pager, "t")])
    assert target == 200


def test_null_means_a_null_value_not_a_composite_of_nulls(open_pager) -> None:
    pager = open_pager("ident.vals")
    rows = pager.rows(0, 8)
    p, e = column(pager, "p"), column(pager, "e")
    assert rows[3][p] == "(,)"  # id 4: every field NULL, as psql prints it
    assert rows[0][p] == "(1,b1)" and rows[0][e] == "()"  # a composite with no fields


def test_zero_column_relations_show_their_rows(open_pager) -> None:
    pager = open_pager("ident.zero", page_size=100)
    rows = pager.rows(0, 300)
    assert rows == [()] * 250
    whole = pager.cached(0)[0]  # type: ignore[index]
    with pytest.raises(Refused, match="no columns"):
        pager.search(0, whole, "x")
    view = open_pager("ident.zero_v")
    assert view.rows(0, 10) == [()] * 5


def test_search_works_on_1600_columns(open_pager) -> None:
    pager = open_pager("ident.wide1600", page_size=20)
    rows = pager.rows(0, 120)
    assert len(rows[0]) == 1600 and len(rows) == 120
    target = pager.search(0, pager.cached(0)[0], "297")  # type: ignore[index]
    assert target == 98  # c1600 = 3 * 99
    assert pager.rows(target, 1)[0][1599] == "297"


def test_a_ctid_seek_lands_among_the_rows_of_a_filtered_view(seek_dsn: str) -> None:
    """heap_1m's rows with id <= 100,000 sit in its first tenth of blocks: a goto 50% lands
    among them (not on the last rows), and the count never shrinks for where it landed."""
    factory = ConnectionFactory(seek_dsn)
    pager = CursorPager(factory, relation(factory, "heap_1m"))
    try:
        pager.set_filter("id <= 100000")
        estimate = pager.row_count
        assert estimate > 10_000  # large enough to seek
        middle = estimate // 2
        rows = pager.rows(middle, 5)
        assert rows and 30_000 <= int(rows[0][0]) <= 70_000, rows[0]
        assert not pager.positions_exact and pager.row_count >= estimate
        end = pager.rows(pager.row_count - 3, 3)  # the end of the view: its last rows
        assert end and end[-1][0] == "100000"
    finally:
        pager.close()


def test_row_security_spreads_rows_unevenly_too(seek_dsn: str) -> None:
    admin = psycopg2.connect(seek_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS rls_heap")
        cur.execute(
            "CREATE TABLE rls_heap AS SELECT g AS id, md5(g::text) AS label"
            " FROM generate_series(1, 300000) g"
        )
        cur.execute("ANALYZE rls_heap")
        cur.execute("ALTER TABLE rls_heap ENABLE ROW LEVEL SECURITY")
        cur.execute("CREATE POLICY early ON rls_heap USING (id <= 30000)")
        cur.execute("DROP ROLE IF EXISTS rls_reader")
        cur.execute("CREATE ROLE rls_reader LOGIN")
        cur.execute("GRANT SELECT ON rls_heap TO rls_reader")
    factory = ConnectionFactory(psycopg2.extensions.make_dsn(seek_dsn, user="rls_reader"))
    pager = CursorPager(factory, Relation("public", "rls_heap", "r", None, 0))
    try:
        pager.rows(0, 1)
        estimate = pager.row_count
        rows = pager.rows(estimate // 2, 3)
        assert rows and 5_000 <= int(rows[0][0]) <= 25_000, (estimate, rows[0])
        assert pager.row_count >= estimate
    finally:
        pager.close()
        with admin.cursor() as cur:
            cur.execute("DROP TABLE rls_heap")
            cur.execute("DROP ROLE rls_reader")
        admin.close()


async def test_a_zero_column_table_opens_in_the_app(ident_factory: ConnectionFactory) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.table_view import HEADER_LINES
    from tests.helpers import fixed_memory, line, open_table, wait_for

    factory = ident_factory
    app = PgBrowseApp(factory, initial=relation(factory, "ident.zero"), memory_probe=fixed_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)  # not "loading…" forever
        assert line(view, HEADER_LINES).split() == ["1"]
        assert "row 1 of" in app.screen.position_text()  # type: ignore[attr-defined]
        await pilot.press("G")
        await wait_for(pilot, lambda: view.cursor_row == 249)
        await pilot.press("slash", *"x", "enter")
        await wait_for(pilot, lambda: any("no columns" in n.message for n in app._notifications))


def test_a_partitioned_table_is_estimated_from_the_catalog(open_pager, ident_dsn) -> None:
    """Its estimate is the sum of its partitions' (pg_partition_tree), which neither plans
    nor locks every partition as EXPLAIN of the parent does; never analysed: EXPLAIN."""
    pager = open_pager("ident.part")
    assert len(pager.rows(0, 5)) == 5
    sent = [s.sql for s in pager.statements]
    assert any("pg_partition_tree" in s for s in sent)
    assert not any(s.startswith("EXPLAIN") for s in sent)
    assert pager.row_count == 1000 and not pager.count_exact
    conn = psycopg2.connect(ident_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS ident.fresh")
        cur.execute("CREATE TABLE ident.fresh (id int) PARTITION BY RANGE (id)")
        cur.execute(
            "CREATE TABLE ident.fresh1 PARTITION OF ident.fresh FOR VALUES FROM (1) TO (100)"
        )
        cur.execute("INSERT INTO ident.fresh SELECT generate_series(1, 50)")
    conn.close()
    fresh = open_pager("ident.fresh")
    assert len(fresh.rows(0, 50)) == 50
    assert any(s.sql.startswith("EXPLAIN") for s in fresh.statements)
    fresh.close()
    conn = psycopg2.connect(ident_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE ident.fresh")
    conn.close()
