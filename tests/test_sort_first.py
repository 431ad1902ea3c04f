"""A sort no index gives: its first pages from one top-N query, the rest from the sorted
cursor prepared in the background, and not one row moving between the two (real server,
every statement the pager sends recorded)."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.db.paging.reader import TOP_PAGES
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES, TableView
from tests.helpers import SIZE, direct, fixed_memory, line, open_table, relation, wait_for

ROWS = 200_000


@pytest.fixture(scope="module")
def buckets_dsn(scratch_dsn: str) -> str:
    """Rows whose bucket has 1,000 ties each (the order is total only by the key after it);
    one table with a primary key, one without (its rows told apart by ctid)."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, key in (("buckets", True), ("buckets_nokey", False)):
            cur.execute(f"DROP TABLE IF EXISTS {name}")
            cur.execute(
                f"CREATE TABLE {name} AS SELECT g AS id, (g * 7919) % 200 AS bucket,"
                f" md5(g::text) AS label FROM generate_series(1, {ROWS}) g"
            )
            if key:
                cur.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
            cur.execute(f"ANALYZE {name}")
    conn.close()
    return scratch_dsn


def ids(rows: list) -> list[int]:
    return [int(r[0]) for r in rows]


@pytest.mark.parametrize("table,tie", [("buckets", "id"), ("buckets_nokey", "ctid")])
def test_the_first_pages_come_from_a_top_n_and_the_cursor_goes_on_from_them(
    buckets_dsn: str, table: str, tie: str
) -> None:
    factory = ConnectionFactory(buckets_dsn)
    pager = CursorPager(factory, relation(factory, table), page_size=100)
    try:
        pager.load(0)
        pager.set_order("bucket", descending=True)
        assert pager.state().sorts_everything
        before = len(pager.statements)
        first = pager.load(0)
        sent = [s.sql for s in list(pager.statements)[before:]]
        # One statement, no cursor: the top-N of the first pages.
        assert len(sent) == 1 and f"LIMIT {TOP_PAGES * 100}" in sent[0], sent
        assert not any(s.startswith("DECLARE") for s in sent)
        expected = ids(
            direct(buckets_dsn, f"SELECT id FROM {table} ORDER BY bucket DESC, {tie} DESC")
        )
        assert ids(first) == expected[:100]
        for page in range(1, TOP_PAGES):  # (the rest of the top-N: nothing sent)
            assert ids(pager.load(page)) == expected[page * 100 : (page + 1) * 100]
        assert len(pager.statements) == before + 1
        pager.prepare_sort()  # (the loader runs it in the background)
        sent = [s.sql for s in list(pager.statements)[before + 1 :]]
        assert sent[0].startswith("DECLARE") and sent[1] == (
            f'MOVE FORWARD {TOP_PAGES * 100} FROM "{sent[0].split()[1].strip(chr(34))}"'
        )
        # On from the cursor: the same order, no row missing, none twice.
        for page in range(TOP_PAGES, TOP_PAGES + 3):
            assert ids(pager.load(page)) == expected[page * 100 : (page + 1) * 100]
        last = list(pager.statements)[-1].sql
        assert last.startswith("FETCH FORWARD 100"), last
    finally:
        pager.close()


def test_a_small_view_sorted_whole_by_the_top_n_has_its_count(buckets_dsn: str) -> None:
    factory = ConnectionFactory(buckets_dsn)
    pager = CursorPager(
        factory, relation(factory, "buckets"), page_size=100, filter="id % 1000 = 0"
    )
    try:
        pager.load(0)
        pager.set_order("label")
        rows = pager.load(0) + pager.load(1) + pager.load(2)
        expected = direct(buckets_dsn, "SELECT id FROM buckets WHERE id % 1000 = 0 ORDER BY label")
        assert ids(rows) == ids(expected)
        state = pager.state()
        assert state.row_count == len(expected) == ROWS // 1000 and state.count_exact
        sent = [s.sql for s in pager.statements.snapshot()[-3:]]
        assert not any(s.startswith("DECLARE") for s in sent), sent
    finally:
        pager.close()


async def test_the_app_sorts_the_rest_in_the_background(buckets_dsn: str) -> None:
    factory = ConnectionFactory(buckets_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "buckets"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("l", "s")  # bucket, ascending
        await wait_for(pilot, lambda: view.pager.order == ("bucket", False))
        await wait_for(
            pilot, lambda: any(s.sql.startswith("MOVE FORWARD") for s in view.statements)
        )
        expected = ids(direct(buckets_dsn, "SELECT id FROM buckets ORDER BY bucket, id"))
        for _ in range(20):  # past the top-N's rows, into the cursor's
            await pilot.press("pagedown")
        target = view.cursor_row
        assert target > TOP_PAGES * 100
        await wait_for(pilot, lambda: _shown_id(view, target) is not None)
        assert _shown_id(view, target) == expected[target]
        assert isinstance(view, TableView)


def _shown_id(view: TableView, row: int) -> int | None:
    y = row - int(view.scroll_y) + HEADER_LINES
    parts = line(view, y).split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


async def test_what_the_user_asks_does_not_wait_behind_the_background_sort(
    scored_dsn: str,
) -> None:
    """A new sort asked for while every row is being sorted for the last one cancels that
    sort on the server (it is not finished first), and no error is shown."""
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "scored"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("l", "l", "s")  # label (no index), ascending
        await wait_for(pilot, lambda: view.loader.doing.startswith("sorting every row"))
        await pilot.press("s")  # descending, while the ascending sort of 1,000,000 rows runs
        await wait_for(pilot, lambda: view.pager.order == ("label", True), timeout=5)
        await wait_for(pilot, lambda: _shown_id(view, 0) is not None)
        sent = [s.sql for s in view.statements]
        tops = [i for i, s in enumerate(sent) if f"LIMIT {TOP_PAGES * 100}" in s]
        assert len(tops) >= 2, sent[-10:]
        between = sent[tops[0] : tops[1]]
        assert not any(s.startswith("MOVE FORWARD") for s in between), between
        assert view.error is None
        first = direct(scored_dsn, "SELECT id FROM scored ORDER BY label DESC, id DESC LIMIT 1")
        assert _shown_id(view, 0) == first[0][0]
