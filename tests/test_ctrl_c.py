"""Issue 26: Ctrl+C does what it does in psql (cancel the running statement), and says
nothing in markup when nothing runs."""

from __future__ import annotations

import time

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import direct, execute, fixed_memory, relation, rows_shown, wait_for


@pytest.fixture
def sleepy(scratch_dsn: str) -> str:
    """A view whose every row sleeps on the server (its owner's code: pgbrowse refuses
    pg_sleep in what the user types, not in a view's definition)."""
    execute(
        scratch_dsn,
        "DROP VIEW IF EXISTS ctrl_c_sleepy",
        "CREATE VIEW ctrl_c_sleepy AS SELECT n, pg_sleep(0.5)::text AS slept"
        " FROM generate_series(1, 400) n",
    )
    return scratch_dsn


def sleeping(dsn: str) -> int:
    """pgbrowse's statements now running pg_sleep on the server."""
    return int(
        direct(
            dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbrowse'"
            " AND state = 'active' AND wait_event = 'PgSleep'",
        )[0][0]
    )


async def test_ctrl_c_cancels_the_running_statement(sleepy: str) -> None:
    factory = ConnectionFactory(sleepy)
    app = PgBrowseApp(
        factory, initial=relation(factory, "public.ctrl_c_sleepy"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        await wait_for(pilot, lambda: sleeping(sleepy) > 0, timeout=20)  # (a page: 50 s)
        screen = app.screen
        assert isinstance(screen, TableScreen)
        await pilot.press("ctrl+c")
        cancelled_at = time.monotonic()
        await wait_for(pilot, lambda: sleeping(sleepy) == 0, timeout=10)
        assert time.monotonic() - cancelled_at < 10
        assert app.screen is screen  # (psql's Ctrl+C stops the statement, not the session)
        toasts = [n.message for n in app._notifications]
        assert any("Cancelled on the server" in t for t in toasts), toasts
        assert not rows_shown(screen.view)


async def test_ctrl_c_with_nothing_running_says_how_to_quit_plainly(
    demo_factory: ConnectionFactory,
) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        await wait_for(pilot, lambda: rows_shown(app.screen.view))  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
        toasts = [n.message for n in app._notifications]
        assert any("Ctrl+Q quits" in t for t in toasts), toasts
        assert not any("[b]" in t for t in toasts)
        assert app.is_running and isinstance(app.screen, TableScreen)


async def test_ctrl_c_cancels_a_report_being_read(sleepy: str) -> None:
    """The column profile of a slow view (a bounded sample read from it): Ctrl+C stops the
    read on the server, and the screen says so."""
    from pgbrowse.db.catalog.relations import Column
    from pgbrowse.ui.profile_screen import ProfileScreen

    factory = ConnectionFactory(sleepy)
    app = PgBrowseApp(factory, memory_probe=fixed_memory)  # (no table of it: only the report)
    async with app.run_test(size=(100, 30)) as pilot:
        view = relation(factory, "public.ctrl_c_sleepy")
        app.push_screen(ProfileScreen(factory, view, Column("n", "integer", True)))
        await wait_for(pilot, lambda: sleeping(sleepy) > 0, timeout=20)
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: sleeping(sleepy) == 0, timeout=10)
        said = screen.query_one("#report-text")
        await wait_for(pilot, lambda: "Cancelled" in str(said.render()))
        assert app.screen is screen


async def test_ctrl_c_still_copies_selected_text_where_nothing_runs(
    demo_factory: ConnectionFactory,
) -> None:
    from pgbrowse.ui.query_screen import QueryScreen

    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, QueryScreen))
        editor = app.screen.editor  # type: ignore[attr-defined]
        editor.text = "SELECT 42"
        editor.select_all()
        await pilot.press("ctrl+c")
        assert app.clipboard == "SELECT 42"
        assert not any("Nothing is running" in n.message for n in app._notifications)
