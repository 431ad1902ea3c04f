"""Go to is never held to an estimate (issue 25): on a view whose count is an estimate far
below the real one (tenk1 filtered by unique1 % 7 = 3: 1,429 rows, estimated ~300), ``:700``
landed on row 300 and the prompt said "1 to ~300". Now the view finds the end first, then
goes to the row, or says there are only N rows."""

from __future__ import annotations

import html
import re

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.goto import GotoScreen, parse_target
from tests.helpers import fixed_memory, open_table, wait_for

QUERY = "SELECT unique1, unique1 % 7 AS m FROM goto_tenk WHERE unique1 % 7 = 3"


@pytest.fixture(scope="module")
def tenk_dsn(scratch_dsn: str) -> str:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS goto_tenk")
        cur.execute("CREATE TABLE goto_tenk AS SELECT g AS unique1 FROM generate_series(0, 9999) g")
        cur.execute("ANALYZE goto_tenk")
    conn.close()
    return scratch_dsn


def test_a_row_past_an_estimate_is_not_clamped() -> None:
    assert parse_target("700", 300, approximate=True) == 699
    assert parse_target("700", 300, approximate=False) == 299
    assert parse_target("50%", 300, approximate=True) == 150  # (of what is known)


async def test_goto_past_the_estimate_goes_there_or_says_so(tenk_dsn: str) -> None:
    app = PgBrowseApp(
        ConnectionFactory(tenk_dsn), initial=Relation.of_query(QUERY), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_table(app, pilot)
        estimate = view.state.row_count
        assert not view.state.count_exact and estimate < 700  # (the planner's guess)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, GotoScreen))
        drawn = html.unescape(re.sub(r"<[^>]*>", "", app.export_screenshot()))
        assert "an estimate" in drawn.replace("\xa0", " ")
        await pilot.press(*"700", "enter")
        await wait_for(pilot, lambda: view.cursor_row == 699, timeout=20)
        assert view.state.count_exact and view.state.row_count == 1429
        screen = app.screen
        await wait_for(pilot, lambda: screen.view.cursor_row_values() is not None, timeout=20)
        assert screen.view.cursor_row_values()[0][0] == str(699 * 7 + 3)
    app = PgBrowseApp(
        ConnectionFactory(tenk_dsn), initial=Relation.of_query(QUERY), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_table(app, pilot)
        view.goto(1999)
        await wait_for(pilot, lambda: view.state.count_exact, timeout=20)
        await wait_for(pilot, lambda: view.cursor_row == 1428, timeout=20)
        toasts = [n.message for n in app._notifications]
        assert any("There are only 1,429 rows: row 2,000 is not there" in t for t in toasts)


async def test_a_failed_open_says_it_once(tenk_dsn: str) -> None:
    """Issue 25: the first page and the one read ahead failed together: two toasts."""
    app = PgBrowseApp(
        ConnectionFactory(tenk_dsn),
        initial=Relation("public", "no_such_table", "r", 0, 0),
        memory_probe=fixed_memory,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(app._notifications))
        await pilot.pause(1.0)
        said = [n.message for n in app._notifications if "does not exist" in n.message]
        assert len(said) == 1, said
