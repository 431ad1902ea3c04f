"""CursorPager against a real server: laziness proven from its own statement record."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import relation

PAGE = 100


def fetches(pager: CursorPager) -> list[str]:
    return [s.sql for s in pager.statements if s.sql.startswith("FETCH")]


@pytest.fixture
def orders(demo_factory: ConnectionFactory):
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"), page_size=PAGE)
    yield pager
    pager.close()


def test_opening_a_million_rows_fetches_two_pages(orders: CursorPager) -> None:
    orders.rows(0, 40)  # what a 40-line screen shows
    orders.load(1)  # and the view's one page of prefetch
    assert len(fetches(orders)) <= 2
    assert orders.stats().pages <= 2
    assert orders.rows_fetched == 2 * PAGE
    assert any(
        s.sql.startswith('DECLARE "pgbrowse_') and "SCROLL CURSOR" in s.sql
        for s in orders.statements
    )
    assert orders.row_count > 900_000 and not orders.count_exact


def test_a_near_move_walks_only_the_rows_between(orders: CursorPager) -> None:
    orders.rows(0, 40)
    before = len(orders.statements)
    fetched_before = orders.rows_fetched
    rows = orders.rows(300, 40)
    new = list(orders.statements)[before:]
    assert rows[0][0] == "301" and rows[-1][0] == "340"
    assert [s.sql.split(" FROM")[0] for s in new] == ["MOVE FORWARD 200", f"FETCH FORWARD {PAGE}"]
    assert new[0].rows == 0
    assert orders.rows_fetched - fetched_before == PAGE
    assert orders.positions_exact


def test_scrolling_100000_rows_stays_in_budget(demo_factory: ConnectionFactory) -> None:
    budget = 256 * 1024
    pager = CursorPager(
        demo_factory, relation(demo_factory, "shop.orders"), page_size=PAGE, cache_bytes=budget
    )
    try:
        peak = 0
        for page in range(100_000 // PAGE):
            pager.load(page)
            peak = max(peak, pager.stats().bytes)
        assert peak <= budget
        assert pager.rows_fetched == 100_000  # each row exactly once, sequentially
        assert not any(s.sql.startswith("MOVE") for s in pager.statements)
        assert pager.stats().pages < 100_000 // PAGE
    finally:
        pager.close()


def test_rows_are_the_rows_of_the_table(orders: CursorPager, demo_dsn: str) -> None:
    got = orders.rows(256, 5) + orders.rows(17, 3)
    conn = psycopg2.connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id::text, customer_id::text, amount::text, status::text FROM shop.orders"
            " WHERE id BETWEEN 257 AND 261 OR id BETWEEN 18 AND 20"
            " ORDER BY id < 100, id"
        )
        want = cur.fetchall()
    conn.close()
    assert [r[:4] for r in got] == want


def test_row_positions_do_not_depend_on_other_scans(orders: CursorPager, demo_dsn: str) -> None:
    """A concurrent seq scan must not shift where the cursor's scan starts."""
    conn = psycopg2.connect(demo_dsn)
    with conn.cursor(name="elsewhere") as other:  # another session, mid-way through a scan
        other.execute("SELECT * FROM shop.orders")
        other.fetchmany(300_000)
        assert orders.rows(0, 1)[0][0] == "1"
    conn.close()


def test_a_50mb_value_arrives_truncated(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS huge")
        cur.execute(
            "CREATE TABLE huge AS SELECT g AS id, repeat('x', 50 * 1024 * 1024) AS v"
            " FROM generate_series(1, 2) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "huge"), truncate=200)
    try:
        rows = pager.rows(0, 2)
        assert [len(r[1]) for r in rows] == [201, 201]  # one more than shown marks the cut
        assert pager.stats().bytes < 10_000
        assert pager.count_exact and pager.row_count == 2
    finally:
        pager.close()


def test_count_is_corrected_when_the_estimate_is_wrong(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS grows, shrinks")
        cur.execute("CREATE TABLE grows AS SELECT g AS id FROM generate_series(1, 1000) g")
        cur.execute("CREATE TABLE shrinks AS SELECT g AS id FROM generate_series(1, 5000) g")
        cur.execute("ANALYZE grows, shrinks")
        cur.execute("INSERT INTO grows SELECT g FROM generate_series(1001, 1250) g")
        cur.execute("DELETE FROM shrinks WHERE id > 230")
    factory = ConnectionFactory(scratch_dsn)
    for name, real in (("grows", 1250), ("shrinks", 230)):
        pager = CursorPager(factory, relation(factory, name), page_size=PAGE)
        try:
            pager.rows(0, 1)
            page = 0
            while not pager.count_exact and page < 100:
                page = max(page + 1, (pager.row_count - 1) // PAGE)
                pager.load(page)
            assert pager.count_exact and pager.row_count == real, name
        finally:
            pager.close()


def test_hostile_identifiers_are_quoted(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute('CREATE SCHEMA IF NOT EXISTS "My Schema.x"')
        cur.execute('DROP TABLE IF EXISTS "My Schema.x"."select ""quoted"" table"')
        cur.execute(
            'CREATE TABLE "My Schema.x"."select ""quoted"" table" AS'
            ' SELECT g AS "Order", g * 2 AS "a b; drop table x" FROM generate_series(1, 3) g'
        )
    factory = ConnectionFactory(scratch_dsn)
    rel = Relation("My Schema.x", 'select "quoted" table', "r", None, 0)
    pager = CursorPager(factory, rel)
    try:
        assert pager.rows(0, 3) == [("1", "2"), ("2", "4"), ("3", "6")]
        assert [c.name for c in pager.columns] == ["Order", "a b; drop table x"]
    finally:
        pager.close()


def test_a_missing_relation_is_a_plain_error(demo_factory: ConnectionFactory) -> None:
    pager = CursorPager(demo_factory, Relation("shop", "no_such_table", "r", None, 0))
    with pytest.raises(QueryError) as caught:
        pager.load(0)
    assert "no_such_table" in caught.value.message
    pager.close()


def test_session_is_read_only_and_named(orders: CursorPager, demo_dsn: str) -> None:
    orders.rows(0, 1)
    conn = psycopg2.connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT backend_xmin IS NOT NULL, state FROM pg_stat_activity"
            " WHERE application_name = 'pgbrowse'"
        )
        assert cur.fetchall() == [(True, "idle in transaction")]
    conn.close()
    orders.close()
    assert not orders.is_open


def test_a_key_named_like_an_output_column_still_orders_by_the_key(
    scratch, scratch_dsn: str
) -> None:
    with scratch.cursor() as cur:
        cur.execute('DROP TABLE IF EXISTS "left"')
        cur.execute(
            'CREATE TABLE "left" AS SELECT g AS "left", g::text AS pgbrowse_key_0'
            " FROM generate_series(1, 20000) g"
        )
        cur.execute('ALTER TABLE "left" ADD PRIMARY KEY ("left"); ANALYZE "left"')
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "public.left"), page_size=PAGE)
    try:
        assert [r[0] for r in pager.rows(0, 12)] == [str(i) for i in range(1, 13)]
        last = (pager.row_count - 1) // PAGE
        assert pager.load(last)[-1][0] == "20000"  # End: descending by the number, not text
    finally:
        pager.close()
