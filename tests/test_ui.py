"""The real app driven with Pilot against the demo database."""

from __future__ import annotations

import time

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import HEADER_LINES, TableView
from tests.helpers import (
    SIZE,
    choose_in_list,
    fetch_count,
    fixed_memory,
    line,
    open_from_list,
    open_table,
    pgbrowse_sessions,
    relation,
    rows_shown,
    wait_for,
)


async def test_browse_the_big_table(demo_factory: ConnectionFactory, demo_dsn: str) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        footer = app.screen.query_one(MemoryFooter)
        assert "mem avail 38% (6,144 MB)" in footer.figures()
        assert "rss 123.0 MB" in footer.figures()

        view = await open_from_list(pilot, "shop.orders")
        assert fetch_count(view) <= 2 and view.pager.stats().pages <= 2
        assert "id" in line(view, 0) and "bigint" in line(view, 1)
        assert line(view, HEADER_LINES).split()[:2] == ["1", "1"]

        await pilot.press("pagedown")
        height = view.data_height
        await wait_for(pilot, lambda: rows_shown(view))
        assert view.cursor_row == height
        assert line(view, HEADER_LINES).split()[1] == str(height + 1)

        await pilot.press("j", "j", "k")
        assert view.cursor_row == height + 1

        # End reads the last rows from the end: numbered from the estimate, marked "≈".
        await pilot.press("G")
        bottom = view.scrollable_content_region.height - 1
        await wait_for(pilot, lambda: line(view, bottom).split()[1:2] == ["1000000"])
        assert view.cursor_row == view.row_count - 1 and not view.pager.positions_exact
        assert f"≈ row {view.row_count:,} of ~{view.row_count:,}" in app.screen.position_text()
        assert "≈#" in line(view, 0)
        assert fetch_count(view) <= 5  # first pages, the page after PageDown, the end
        # An exact count, on request and in the background, makes the numbers exact.
        await pilot.press("number_sign")
        await wait_for(pilot, lambda: view.pager.count_exact and view.pager.positions_exact)
        await wait_for(pilot, lambda: line(view, bottom).split()[:2] == ["1,000,000", "1000000"])
        assert view.cursor_row == 999_999
        assert "row 1,000,000 of 1,000,000" in app.screen.position_text()
        assert "≈" not in app.screen.position_text()

        await pilot.pause(1.1)  # the footer ticks every second
        figures = app.screen.query_one(MemoryFooter).figures()
        stats, last = view.pager.stats(), view.pager.last_statement()
        assert f"cache {stats.rows:,} rows" in figures and stats.rows >= 200
        assert last is not None and f"{last.sql} {last.ms:.1f} ms" in figures

        await pilot.press("g")
        await wait_for(pilot, lambda: int(view.scroll_y) == 0 and view.cursor_row == 0)

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        assert not view.pager.is_open
        await wait_for(pilot, lambda: pgbrowse_sessions(demo_dsn) == 0)


async def test_direct_open_then_escape_to_list(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        # NULL is drawn distinctly from an empty string, in its own style.
        label = [c.name for c in view.pager.columns].index("label")
        null_style = view.get_component_rich_style("tableview--null", partial=True)
        rows = view.pager.cached(0) or []
        null_row = next(i for i, r in enumerate(rows) if r[label] is None)
        empty_row = next(i for i, r in enumerate(rows) if r[label] == "")
        assert null_row < view.data_height and empty_row < view.data_height
        null_line = view.render_line(HEADER_LINES + null_row)
        empty_line = view.render_line(HEADER_LINES + empty_row)
        assert any(s.text.strip() == "NULL" and s.style.italic for s in null_line)
        assert null_style.italic
        assert not any(s.text.strip() == "NULL" for s in empty_line)
        # Newlines and tabs in values never break a line of the table.
        assert all("\n" not in line(view, y) for y in range(view.size.height))
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))


async def test_wide_table_scrolls_horizontally(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_from_list(pilot, "lab.wide")
        assert "col_47" not in line(view, 0)
        for _ in range(48):
            await pilot.press("l")
        assert view.cursor_col == 48 and view.scroll_x > 0
        assert "col_48" in line(view, 0)
        assert line(view, HEADER_LINES).lstrip().startswith("1 ")  # row numbers stay put
        await pilot.press("home", "h")
        assert view.cursor_col == 47


async def test_slow_fetch_keeps_the_ui_responsive(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW slow AS"
            " SELECT g AS id, pg_sleep(0.05)::text AS nap FROM generate_series(1, 1000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await choose_in_list(pilot, "public.slow")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        view = app.screen.query_one(TableView)
        started = time.monotonic()
        await wait_for(pilot, lambda: view.loader.in_flight is not None)
        assert "loading" in line(view, 0)  # a placeholder, not a frozen screen
        await pilot.press("escape")  # leaving cancels the statement in flight
        await pilot.pause(0.05)
        if isinstance(app.screen, TableScreen):  # once it ran 0.5 s, the first Esc cancels it
            await pilot.press("escape")  # (and stays), the second leaves
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        assert time.monotonic() - started < 3  # a full page would take 5 s
        await wait_for(pilot, lambda: pgbrowse_sessions(scratch_dsn) == 0)


async def test_catalog_failure_is_shown_not_raised(scratch_dsn: str) -> None:
    factory = ConnectionFactory(psycopg2.extensions.make_dsn(scratch_dsn, dbname="gone_db"))
    app = PgBrowseApp(factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        status = app.screen.query_one("#status")
        await wait_for(pilot, lambda: "does not exist" in str(status.render()))
        await pilot.press("x")  # still alive
        assert app.screen.query_one("#filter").value == "x"


@pytest.mark.parametrize(
    ("name", "analyzed", "real"),
    [("shrunk", 20_000, 1_234), ("grown", 1_000, 5_678)],
)
async def test_end_reaches_the_real_end_whatever_the_estimate(
    scratch, scratch_dsn: str, name: str, analyzed: int, real: int
) -> None:
    with scratch.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"CREATE TABLE {name} AS SELECT g AS id FROM generate_series(1, {analyzed}) g")
        cur.execute(f"ANALYZE {name}")
        cur.execute(f"DELETE FROM {name} WHERE id > {real}")
        cur.execute(f"INSERT INTO {name} SELECT g FROM generate_series({analyzed} + 1, {real}) g")
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, name), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        assert view.row_count != real and "~" in app.screen.position_text()
        await pilot.press("G")
        bottom = view.scrollable_content_region.height - 1
        await wait_for(pilot, lambda: line(view, bottom).split()[1:2] == [str(real)])
        assert view.cursor_row == view.row_count - 1
        await pilot.press("number_sign")  # counted exactly: the numbers follow
        await wait_for(pilot, lambda: view.pager.count_exact and view.pager.positions_exact)
        await wait_for(pilot, lambda: line(view, bottom).split()[:2] == [f"{real:,}", str(real)])
        assert view.cursor_row == real - 1
        assert rows_shown(view)
        assert f"row {real:,} of {real:,}" in app.screen.position_text()
        assert view.pager.rows_fetched <= 6 * view.pager.page_size  # pages, not a walk
