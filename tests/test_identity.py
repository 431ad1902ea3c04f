"""The right row, every time (issue 12): each row is found again only by an identity that
is unique in its view, on the relations PostgreSQL's own regression database is full of:
inheritance, partitions, NULL and composite sort values, zero and 1,600 columns, rows
spread unevenly, refused opens and killed sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg2
import pytest

from pgbrowse.db.catalog import Relation
from pgbrowse.db.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.errors import ConnectionLost, QueryError, Refused
from pgbrowse.db.pager import CursorPager, WrongThread
from tests.helpers import relation


@pytest.fixture(scope="module")
def ident_dsn(scratch_dsn: str) -> str:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS ident CASCADE")
        cur.execute("CREATE SCHEMA ident")
        # Inheritance: parent and child both start at ctid (0,1).
        cur.execute("CREATE TABLE ident.parent (id int, t text)")
        cur.execute("CREATE TABLE ident.child () INHERITS (ident.parent)")
        cur.execute(
            "INSERT INTO ident.parent SELECT g, 'parent-' || g FROM generate_series(1, 30) g"
        )
        cur.execute(
            "INSERT INTO ident.child SELECT g, 'child-' || g FROM generate_series(31, 60) g"
        )
        # A partitioned table without a primary key, sorted by a column full of repeats.
        cur.execute("CREATE TABLE ident.part (id int, grp int, t text) PARTITION BY RANGE (id)")
        cur.execute("CREATE TABLE ident.part1 PARTITION OF ident.part FOR VALUES FROM (1) TO (501)")
        cur.execute(
            "CREATE TABLE ident.part2 PARTITION OF ident.part FOR VALUES FROM (501) TO (2001)"
        )
        cur.execute(
            "INSERT INTO ident.part SELECT g, g % 7, 'row-' || g FROM generate_series(1, 1000) g"
        )
        # NULL sort values, and composite ones (some with every field NULL).
        cur.execute("CREATE TYPE ident.pair AS (a int, b text)")
        cur.execute("CREATE TYPE ident.nothing AS ()")
        cur.execute(
            "CREATE TABLE ident.vals AS SELECT g AS id,"
            " CASE WHEN g % 3 = 0 THEN NULL ELSE g % 10 END AS v,"
            " CASE WHEN g % 4 = 0 THEN ROW(NULL, NULL)::ident.pair"
            "      ELSE ROW(g % 5, 'b' || g)::ident.pair END AS p,"
            " ROW()::ident.nothing AS e, 'value-' || g AS t FROM generate_series(1, 300) g"
        )
        cur.execute("ALTER TABLE ident.vals ADD PRIMARY KEY (id)")
        # No columns at all, with rows; and a view of none.
        cur.execute("CREATE TABLE ident.zero ()")
        cur.execute("INSERT INTO ident.zero SELECT FROM generate_series(1, 250)")
        cur.execute("CREATE VIEW ident.zero_v AS SELECT FROM generate_series(1, 5)")
        # 1,600 columns.
        cur.execute(
            "DO $$ BEGIN EXECUTE 'CREATE TABLE ident.wide1600 ('"
            " || (SELECT string_agg(format('c%s int', g), ', ') FROM generate_series(1, 1600) g)"
            " || ')'; END $$"
        )
        cur.execute(
            "INSERT INTO ident.wide1600 (c1, c800, c1600)"
            " SELECT g, g * 2, g * 3 FROM generate_series(1, 120) g"
        )
        cur.execute("ANALYZE")
    conn.close()
    return scratch_dsn


@pytest.fixture
def factory(ident_dsn: str) -> ConnectionFactory:
    return ConnectionFactory(ident_dsn)


@pytest.fixture
def open_pager(factory: ConnectionFactory) -> Iterator:
    made: list[CursorPager] = []

    def make(name: str, page_size: int = 10) -> CursorPager:
        pager = CursorPager(factory, relation(factory, name), page_size=page_size)
        made.append(pager)
        return pager

    yield make
    for pager in made:
        pager.close()


def column(pager: CursorPager, name: str) -> int:
    return [c.name for c in pager.columns].index(name)


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


def test_a_refused_open_says_so_and_every_key_retries(ident_dsn: str) -> None:
    admin = psycopg2.connect(ident_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS ident_reader")
        cur.execute("CREATE ROLE ident_reader LOGIN")
        cur.execute("GRANT USAGE ON SCHEMA ident TO ident_reader")
        cur.execute("REVOKE ALL ON ident.vals FROM ident_reader")
    factory = ConnectionFactory(psycopg2.extensions.make_dsn(ident_dsn, user="ident_reader"))
    pager = CursorPager(factory, Relation("ident", "vals", "r", None, 0))
    try:
        for _ in range(3):  # every key: the same plain refusal, never an AssertionError
            with pytest.raises(QueryError) as refused:
                pager.load(0)
            assert refused.value.title == "Permission denied"
        with pytest.raises(QueryError, match="Permission denied"):
            pager.find_end()
        with admin.cursor() as cur:
            cur.execute("GRANT SELECT ON ident.vals TO ident_reader")
        assert len(pager.load(0)) == 100  # the whole open, retried
    finally:
        pager.close()
        with admin.cursor() as cur:
            cur.execute("REVOKE ALL ON ident.vals FROM ident_reader")
            cur.execute("REVOKE ALL ON SCHEMA ident FROM ident_reader")
            cur.execute("DROP ROLE ident_reader")
        admin.close()


def test_a_table_locked_during_open_is_retried(ident_dsn: str) -> None:
    locker = psycopg2.connect(ident_dsn)
    with locker.cursor() as cur:
        cur.execute("LOCK TABLE ident.vals IN ACCESS EXCLUSIVE MODE")
    factory = ConnectionFactory(ident_dsn, SessionSettings(lock_timeout_s=0.2))
    pager = CursorPager(factory, Relation("ident", "vals", "r", None, 0))
    try:
        with pytest.raises(QueryError) as locked:
            pager.load(0)
        assert locked.value.title == "Locked"
        locker.rollback()
        pager.find_end()  # End: opens again, then reads to the end
        assert pager.count_exact and pager.row_count == 300
    finally:
        pager.close()
        locker.close()


def terminate(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'pgbrowse' AND pid <> pg_backend_pid()"
        )
    conn.close()


@pytest.mark.parametrize(
    "operation", ["load", "set_order", "set_filter", "search", "fetch_cell", "find_end"]
)
def test_every_operation_survives_a_terminated_session(
    ident_dsn: str, factory: ConnectionFactory, operation: str
) -> None:
    pager = CursorPager(factory, relation(factory, "ident.vals"), page_size=10)
    try:
        first = pager.load(0)
        terminate(ident_dsn)
        if operation == "load":
            assert pager.load(5)
        elif operation == "set_order":
            pager.set_order("v")
            assert pager.rows(0, 1)
        elif operation == "set_filter":
            pager.set_filter("id > 200")
            assert pager.rows(0, 1)[0][0] == "201"
        elif operation == "search":
            assert pager.search(0, first[0], "value-7") == 6
        elif operation == "fetch_cell":
            assert pager.fetch_cell(first[2], column(pager, "t")).text == "value-3"
        else:
            pager.find_end()
            assert pager.row_count == 300
        assert pager.reconnects == 1
    finally:
        pager.close()


def test_errors_are_classified_by_sqlstate(factory: ConnectionFactory) -> None:
    many = ", ".join(str(n) for n in range(101))
    for query, title in [
        (f"SELECT concat({many})", "Server limit"),  # 54023, not "Connection lost"
        ("SELECT 1 / 0 AS x", "Bad value"),
    ]:
        pager = CursorPager(factory, Relation.of_query(query))
        try:
            with pytest.raises(QueryError) as failed:
                pager.load(0)
            assert failed.value.title == title and not isinstance(failed.value, ConnectionLost)
        finally:
            pager.close()


def test_the_pager_refuses_calls_from_another_thread(open_pager) -> None:
    pager = open_pager("ident.vals")
    pager.load(0)
    caught: list[BaseException] = []

    def other() -> None:
        try:
            pager.load(1)
        except BaseException as error:
            caught.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert caught and isinstance(caught[0], WrongThread)


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


async def test_a_zero_column_table_opens_in_the_app(factory: ConnectionFactory) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.table_view import HEADER_LINES
    from tests.helpers import fixed_memory, line, open_table, wait_for

    app = PgBrowseApp(factory, initial=relation(factory, "ident.zero"), memory_probe=fixed_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)  # not "loading…" forever
        assert line(view, HEADER_LINES).split() == ["1"]
        assert "row 1 of" in app.screen.position_text()  # type: ignore[attr-defined]
        await pilot.press("G")
        await wait_for(pilot, lambda: view.cursor_row == 249)
        await pilot.press("slash", *"x", "enter")
        await wait_for(pilot, lambda: any("no columns" in n.message for n in app._notifications))
