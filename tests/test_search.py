"""Search: the next row whose text contains a string, found on the server (issue 4)."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import relation


def matching_ids(dsn: str, table: str, text: str, limit: int = 3) -> list[int]:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {table} t WHERE strpos(lower(concat_ws(' ', t.*)), lower(%s)) > 0"
            " ORDER BY id LIMIT %s",
            (text, limit),
        )
        got = [r[0] for r in cur.fetchall()]
    conn.close()
    return got


@pytest.mark.parametrize("name", ["shop.orders", "heap_1m"])
def test_search_jumps_to_the_match_fetching_only_its_page(
    name: str, demo_dsn: str, seek_dsn: str
) -> None:
    dsn = demo_dsn if name == "shop.orders" else seek_dsn
    factory = ConnectionFactory(dsn)
    pager = CursorPager(factory, relation(factory, name))
    try:
        first = pager.load(0)
        # First matches far from the top: the rows in between must stay on the server.
        needle = "2021-02-14 07:" if name == "shop.orders" else "ABCDEF"
        want = matching_ids(dsn, name, needle, 3)
        assert len(want) == 3 and want[0] > 10_000, (needle, want)
        fetched = pager.rows_fetched
        found = pager.search(0, first[0], needle)
        assert found == want[0] - 1  # ids are positions + 1 in both tables
        assert pager.positions_exact
        row = pager.rows(found, 1)[0]
        assert int(row[0]) == want[0] and needle.lower() in " ".join(v or "" for v in row).lower()
        # The page around the match (a straddling page reads a window each side), no more.
        assert pager.rows_fetched - fetched <= 3 * pager.page_size
        again = pager.search(found, pager.load(found // 100)[found % 100], needle)  # n
        assert again == want[1] - 1
        back = pager.search(again, pager.load(again // 100)[again % 100], needle, backward=True)
        assert back == want[0] - 1  # N: the previous match
        assert pager.search(0, first[0], "no such text anywhere 42") is None
    finally:
        pager.close()


async def test_search_from_the_app(demo_factory: ConnectionFactory, demo_dsn: str) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from tests.helpers import fixed_memory, open_table, rows_shown, wait_for

    want = matching_ids(demo_dsn, "shop.orders", "2021-02-14 07:", 2)
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("slash", *"2021-02-14 07:", "enter")
        await wait_for(pilot, lambda: view.cursor_row == want[0] - 1 and rows_shown(view))
        await pilot.press("n")
        await wait_for(pilot, lambda: view.cursor_row == want[1] - 1 and rows_shown(view))
        await pilot.press("N")
        await wait_for(pilot, lambda: view.cursor_row == want[0] - 1)
        assert view.pager.positions_exact
        await pilot.press("slash", "ctrl+a", *"nothing like this", "enter")
        await wait_for(pilot, lambda: any("Not found" in n.message for n in app._notifications))
        assert view.cursor_row == want[0] - 1  # unmoved
