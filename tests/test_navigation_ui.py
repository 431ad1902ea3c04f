"""Goto, scrollbar jumps, the exact count and its cancel, driven through the real app."""

from __future__ import annotations

import pytest
from textual.scrollbar import ScrollTo

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.goto import GotoScreen, parse_target
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import HEADER_LINES
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


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("1", 0),
        ("1,234", 1233),
        ("1_000", 999),
        ("50%", 5000),
        ("12.5%", 1250),
        ("end", 9999),
        ("$", 9999),
        ("20000", 9999),
        ("100%", 9999),
        (" 7 ", 6),
    ],
)
def test_goto_understands_rows_percentages_and_end(text: str, row: int) -> None:
    assert parse_target(text, 10_000) == row


@pytest.mark.parametrize("text", ["", "abc", "0", "-3", "150%", "x%", "1.5"])
def test_goto_refuses_nonsense_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_target(text, 1000)


async def test_goto_half_way_seeks(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        before = len(view.pager.statements)
        await pilot.press("colon")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"half", "enter")  # nonsense: said inline, the dialog stays
        assert isinstance(app.screen, GotoScreen)
        assert "percentage" in str(app.screen.query_one("#goto-error").render())
        await pilot.press(*["backspace"] * 4, *"50%", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        target = round(0.5 * view.row_count)
        await wait_for(pilot, lambda: rows_shown(view) and view.cursor_row == target)
        first_id = int(line(view, HEADER_LINES).split()[1])
        assert abs(first_id - 500_000) < 20_000  # the estimate is close...
        assert f"≈ row {target + 1:,} of ~" in app.screen.position_text()  # ...and says so
        assert walked(list(view.pager.statements)[before:]) <= 4 * view.pager.page_size
        # Small moves from there stay cheap and consecutive.
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        assert int(line(view, HEADER_LINES).split()[1]) == first_id + view.data_height
        await pilot.press("ctrl+g", "escape")  # Ctrl+G opens it too; Esc changes nothing
        assert isinstance(app.screen, TableScreen) and view.cursor_row == target + view.data_height


async def test_a_click_in_the_scrollbar_track_jumps_there(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: view.vertical_scrollbar.region.height > 2)
        bar = view.vertical_scrollbar.region
        y = bar.y + (bar.height - 1) * 3 // 4
        await pilot.click(offset=(bar.x, y))
        expected = round((y - bar.y) / (bar.height - 1) * (view.row_count - 1))
        await wait_for(pilot, lambda: view.cursor_row == expected and rows_shown(view))
        first_id = int(line(view, HEADER_LINES).split()[1])
        assert abs(first_id - expected) < 20_000
        assert not view.pager.positions_exact


async def test_a_slow_count_can_be_cancelled(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW slow_count AS"
            " SELECT g AS n, CASE WHEN g % 1000 = 0 THEN pg_sleep(0.05)::text END AS nap"
            " FROM generate_series(1, 1000000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "slow_count"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        screen = app.screen
        title = screen.query_one("#title")
        await wait_for(pilot, lambda: "view without a usable key" in str(title.render()))
        await pilot.press("number_sign")
        await wait_for(pilot, lambda: "counting rows" in screen.position_text())
        await pilot.pause(0.3)
        await pilot.press("escape")  # cancels the count, does not leave the table
        await wait_for(pilot, lambda: screen.counter is None, timeout=5)
        assert app.screen is screen and not view.pager.count_exact
        assert "counting" not in screen.position_text()
        await pilot.press("j")  # still browsing
        assert view.cursor_row == 1


async def test_dragging_the_scrollbar_shows_rows_there(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        before = len(view.pager.statements)
        for fraction in (0.1, 0.2, 0.3):  # a drag: the scrollbar posts ScrollTo as it moves
            view.post_message(ScrollTo(y=fraction * view.row_count, animate=False))
            await pilot.pause(0.01)
        target = int(0.3 * view.row_count)
        await wait_for(pilot, lambda: abs(int(view.scroll_y) - target) <= 1 and rows_shown(view))
        first_id = int(line(view, HEADER_LINES).split()[1])
        assert abs(first_id - target) < 20_000
        assert walked(list(view.pager.statements)[before:]) <= 4 * view.pager.page_size
