"""Sorting through the real app: on the server, seeking on an indexed column, cancellable."""

from __future__ import annotations

import psycopg2

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import HEADER_LINES, TableView
from tests.helpers import (
    SIZE,
    fixed_memory,
    line,
    open_table,
    relation,
    rows_shown,
    wait_for,
    walked,
)


def scores(view: TableView) -> list[int]:
    """The score column of the rows on screen."""
    return [int(line(view, y).split()[2]) for y in range(HEADER_LINES, HEADER_LINES + 10)]


def top_scores(dsn: str, order: str) -> list[int]:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute(f"SELECT score FROM scored ORDER BY score {order} LIMIT 10")
        got = [r[0] for r in cur.fetchall()]
    conn.close()
    return got


async def test_sort_cycles_and_keeps_seeking(scored_dsn: str) -> None:
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "scored"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("l", "s")  # the score column, ascending
        await wait_for(pilot, lambda: view.pager.order == ("score", False) and rows_shown(view))
        await wait_for(pilot, lambda: scores(view) == top_scores(scored_dsn, ""))
        assert "▲score" in line(view, 0) and view.cursor_row == 0
        title = app.screen.query_one("#title")
        await wait_for(pilot, lambda: "seeking on it" in str(title.render()))
        before = len(view.pager.statements)
        await pilot.press("G")  # End, sorted: the highest scores, read from the end
        bottom = view.scrollable_content_region.height - 1
        await wait_for(pilot, lambda: line(view, bottom).split()[2:3] == ["1000002"])
        assert walked(list(view.pager.statements)[before:]) <= 4 * view.pager.page_size
        await pilot.press("s")  # descending
        await wait_for(pilot, lambda: view.pager.order == ("score", True) and rows_shown(view))
        await wait_for(pilot, lambda: scores(view) == top_scores(scored_dsn, "DESC"))
        assert "▼score" in line(view, 0) and view.cursor_row == 0
        await pilot.press("s")  # and back to the natural order
        await wait_for(pilot, lambda: view.pager.order is None and rows_shown(view))
        await wait_for(pilot, lambda: line(view, HEADER_LINES).split()[1] == "1")
        assert "▲" not in line(view, 0) and "▼" not in line(view, 0)


async def test_an_unindexed_sort_warns_and_can_be_cancelled(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        # Every 10,000th row sleeps: sorting all 1,000,000 takes 20 s, the first page none.
        cur.execute(
            "CREATE OR REPLACE VIEW slow_sort AS SELECT g AS n,"
            " coalesce(CASE WHEN g % 10000 = 0 THEN pg_sleep(0.2)::text END, '')"
            " || md5(g::text) AS label FROM generate_series(1, 1000000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "slow_sort"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        screen = app.screen
        view = screen.query_one(TableView)
        await wait_for(pilot, lambda: rows_shown(view))
        await pilot.press("l", "s")
        await wait_for(pilot, lambda: "sorting by label" in screen.position_text())
        await wait_for(pilot, lambda: any("sorts" in n.message for n in app._notifications))
        await pilot.pause(0.3)
        await pilot.press("escape")  # cancels the sort; does not leave the table
        await wait_for(pilot, lambda: view.pager.order is None and rows_shown(view), timeout=5)
        assert app.screen is screen and view.sorting is None
        assert line(view, HEADER_LINES).split()[1] == "1"  # the natural order again
        await pilot.press("j")
        assert view.cursor_row == 1
