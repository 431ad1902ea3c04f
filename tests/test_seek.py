"""Far moves seek instead of walking: proven from the pager's statement record, and the rows
they show checked against direct queries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import WALK_PAGES, CursorPager
from tests.helpers import (
    direct,
    relation,
    walked,
)

PAGE = 100
ROWS = 1_000_000


def ids(rows: list[tuple[str | None, ...]]) -> list[int]:
    return [int(r[0]) for r in rows]  # type: ignore[arg-type]


def open_pager(dsn: str, name: str) -> CursorPager:
    factory = ConnectionFactory(dsn)
    pager = CursorPager(factory, relation(factory, name), page_size=PAGE)
    pager.rows(0, 40)
    return pager


@pytest.fixture(params=["pk", "no key", "view"])
def pager(request: pytest.FixtureRequest, demo_dsn: str, seek_dsn: str) -> Iterator[CursorPager]:
    dsn, name = {
        "pk": (demo_dsn, "shop.orders"),
        "no key": (seek_dsn, "heap_1m"),
        "view": (demo_dsn, "shop.order_details"),
    }[request.param]
    p = open_pager(dsn, name)
    yield p
    p.close()


def test_far_moves_seek_instead_of_walking(pager: CursorPager) -> None:
    assert pager.seeks, pager.plan
    n = pager.row_count
    before = len(pager.statements)
    last_page = (n - 1) // PAGE
    pager.load(last_page - 1)  # End: the view shows the last two pages
    end_rows = pager.load(last_page)
    pager.load(last_page - 2)  # a page up from the end
    middle = pager.rows(n // 2, 40)  # goto 50%
    pager.load(n // 2 // PAGE + 1)  # then page down
    pager.load(n // 2 // PAGE - 1)  # and up, across the seek's key
    for fraction in (0.13, 0.71, 0.9):  # scrollbar jumps
        pager.rows(int(n * fraction), 40)
    new = list(pager.statements)[before:]
    assert walked(new) <= WALK_PAGES * PAGE, [s.sql for s in new]
    assert end_rows and len(middle) == 40
    assert not pager.positions_exact and not pager.count_exact


def test_end_shows_the_last_rows(pager: CursorPager) -> None:
    last_page = (pager.row_count - 1) // PAGE
    rows = pager.load(last_page - 1) + pager.load(last_page)
    tail = ids(rows)
    assert len(tail) > PAGE
    assert tail == list(range(ROWS - len(tail) + 1, ROWS + 1))


def test_rows_around_a_seek_are_consecutive(pager: CursorPager) -> None:
    page = pager.row_count // 2 // PAGE
    rows = []
    for p in (page, page + 1, page - 1, page - 2, page + 2):  # down, then up past the key
        rows += pager.load(p)
    got = sorted(ids(rows))
    assert got == list(range(got[0], got[0] + 5 * PAGE))
    assert abs(got[0] - (page - 2) * PAGE) < ROWS * 0.02  # the estimate is close


def test_an_exact_count_makes_positions_exact(pager: CursorPager) -> None:
    estimated = int(pager.row_count * 0.6) // PAGE * PAGE
    first = pager.load(estimated // PAGE)[0]
    query, token = pager.count_query()
    conn = pager.factory.connect()
    with conn.cursor() as cur:
        cur.execute(query)
        total, before = cur.fetchone()
    conn.close()
    pager.apply_count(total, token, before)
    assert pager.count_exact and pager.row_count == ROWS
    assert pager.positions_exact
    # The row shown at the estimated position moves to its exact one: its id says where.
    exact = int(first[0]) - 1
    assert pager.shift == exact - estimated
    assert pager.load(exact // PAGE)[exact % PAGE] == first


def _stale(scratch, name: str, key: bool) -> None:
    """1,000,000 rows, analyzed, then the first 400,000 deleted: the statistics still say
    the middle is at 50%, but no row is left before it."""
    with scratch.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"CREATE TABLE {name} AS SELECT g AS id FROM generate_series(1, {ROWS}) g")
        if key:
            cur.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
        cur.execute(f"ANALYZE {name}")
        cur.execute(f"DELETE FROM {name} WHERE id <= 400000")


@pytest.mark.parametrize("key", [True, False], ids=["pk", "no key"])
def test_reading_back_to_the_first_row_makes_positions_exact(
    scratch, scratch_dsn: str, key: bool
) -> None:
    name = "stale_pk" if key else "stale_heap"
    _stale(scratch, name, key)
    pager = open_pager(scratch_dsn, name)
    try:
        page = int(pager.row_count * 0.45) // PAGE  # where the statistics put id ~450,000
        rows = pager.load(page)
        assert not pager.positions_exact
        # Scroll up from there: the rows before it run out well before position 0.
        first = int(rows[0][0])  # type: ignore[arg-type]
        for p in range(page - 1, page - 1 - first // PAGE - 2, -1):
            if pager.positions_exact:
                break
            pager.load(p)
        assert pager.positions_exact and pager.shift < 0
        # Now numbered from the first row: position i holds id 400,001 + i.
        exact = first - 400_001
        assert pager.load(exact // PAGE)[exact % PAGE][0] == str(first)
        assert walked(list(pager.statements)) <= WALK_PAGES * PAGE
    finally:
        pager.close()


def test_a_view_without_a_key_walks_and_says_so(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW keyless AS"
            " SELECT g % 1000 AS bucket, count(*) AS n FROM generate_series(1, 50000) g GROUP BY 1"
        )
        cur.execute(
            "CREATE OR REPLACE VIEW big_keyless AS SELECT g AS n FROM generate_series(1, 200000) g"
        )
    pager = open_pager(scratch_dsn, "big_keyless")
    try:
        assert pager.plan is not None and pager.plan.method == "walk"
        assert "view without a usable key" in pager.plan.why and "walk" in pager.plan.why
        assert not pager.seeks
        rows = pager.rows(150_000, 3)  # walks, and says exactly where it is
        assert [r[0] for r in rows] == ["150001", "150002", "150003"]
        assert pager.positions_exact
        pager.find_end()
        assert pager.count_exact and pager.row_count == 200_000
    finally:
        pager.close()


def test_a_view_showing_a_composite_key_seeks_on_it(scratch, scratch_dsn: str) -> None:
    """A view that shows every column of its table's two-column primary key is ordered by
    them and seeks on them; one that shows only one of them has no key and walks."""
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pair_keyed CASCADE")
        cur.execute("CREATE TABLE pair_keyed (a int, b int, v text, PRIMARY KEY (a, b))")
        cur.execute(
            "INSERT INTO pair_keyed SELECT g / 1000, g % 1000, 'v' || g"
            " FROM generate_series(0, 199999) g"
        )
        cur.execute("ANALYZE pair_keyed")
        cur.execute("CREATE VIEW pair_view AS SELECT v, b, a FROM pair_keyed WHERE b < 500")
        cur.execute("CREATE VIEW half_key AS SELECT a, v FROM pair_keyed")
    pager = open_pager(scratch_dsn, "pair_view")
    try:
        assert pager.plan is not None and pager.plan.method == "keyset", pager.plan
        assert pager.view.identity == ("a", "b") and pager.seeks
        rows = pager.rows(60_000, 3)  # (a seek)
        assert walked(pager.statements.snapshot()) < 1000
        a, b = rows[0][2], rows[0][1]
        want = direct(
            scratch_dsn,
            f"SELECT v, b, a FROM pair_view WHERE (a, b) >= ({a}, {b}) ORDER BY a, b LIMIT 3",
        )
        assert [(r[0], int(r[1]), int(r[2])) for r in rows] == want
    finally:
        pager.close()
    half = open_pager(scratch_dsn, "half_key")
    try:
        assert half.plan is not None and half.plan.method == "walk" and not half.view.identity
    finally:
        half.close()


def test_small_tables_stay_exact(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS small_pk")
        cur.execute("CREATE TABLE small_pk AS SELECT g AS id FROM generate_series(1, 5000) g")
        cur.execute("ALTER TABLE small_pk ADD PRIMARY KEY (id); ANALYZE small_pk")
    pager = open_pager(scratch_dsn, "small_pk")
    try:
        assert pager.plan is not None and pager.plan.method == "keyset" and not pager.seeks
        assert pager.rows(4_000, 1)[0][0] == "4001" and pager.positions_exact
    finally:
        pager.close()


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_sorted_by_an_indexed_column_seeks_on_it(scored_dsn: str, descending: bool) -> None:
    pager = open_pager(scored_dsn, "scored")
    try:
        pager.set_order("score", descending)
        assert pager.plan is not None and pager.plan.method == "keyset" and pager.seeks
        assert pager.plan.keys == ("score", "id") and not pager.plan.sorts_everything
        order = "DESC" if descending else ""
        # The first rows are the server's first rows in that order.
        first = [int(r[1]) for r in pager.rows(0, 50)]
        want = direct(scored_dsn, f"SELECT score FROM scored ORDER BY score {order} LIMIT 50")
        assert first == [w[0] for w in want]
        before = len(pager.statements)
        n = pager.row_count
        last = (n - 1) // PAGE
        end = [int(r[1]) for r in pager.load(last - 1) + pager.load(last)]
        middle = [int(r[1]) for r in pager.rows(n // 2, 250)]
        assert walked(list(pager.statements)[before:]) <= WALK_PAGES * PAGE
        reverse = "" if descending else "DESC"
        tail = direct(scored_dsn, f"SELECT score FROM scored ORDER BY score {reverse} LIMIT 150")
        assert end[-len(tail) :] == [t[0] for t in reversed(tail)][-len(end) :]
        op = "<=" if descending else ">="
        run = direct(
            scored_dsn,
            f"SELECT score FROM scored WHERE score {op} {middle[0]} ORDER BY score {order}"
            " LIMIT 250",
        )
        assert middle == [r[0] for r in run]  # consecutive rows of the sorted order
        assert not pager.positions_exact
    finally:
        pager.close()


def test_sorted_by_an_unindexed_column_says_how_it_is_read(scored_dsn: str) -> None:
    pager = open_pager(scored_dsn, "scored")
    try:
        pager.set_order("label", False)
        assert pager.plan is not None and pager.plan.sorts_everything
        assert pager.plan.method == "walk" and "no index to read it from" in pager.plan.why
        assert "the first rows from one pass" in pager.plan.why  # (a top-N: a key breaks ties)
        got = [r[2] for r in pager.rows(0, 5)]
        assert got == [
            r[0] for r in direct(scored_dsn, "SELECT label FROM scored ORDER BY label LIMIT 5")
        ]
        pager.set_order(None)  # back to the natural order: by the primary key
        assert pager.rows(0, 1)[0][0] == "1" and pager.order is None
    finally:
        pager.close()
