"""The paging inspector shows what the pager really sent (issue 6)."""

from __future__ import annotations

import io

import psycopg2
from rich.console import Console

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.inspector import Inspector, row_ranges
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.welcome import WelcomeScreen
from tests.helpers import fixed_memory, open_table, relation, rows_shown, wait_for


def test_row_ranges_merge_neighbouring_pages() -> None:
    assert row_ranges({0: 100, 1: 100, 2: 100, 50: 100}, 100) == "1-300, 5,001-5,100"
    assert row_ranges({9: 100, 10: 37, 11: 0}, 100) == "901-1,037"  # a short last page
    assert row_ranges({}, 100) == "none"


def shown(inspector: Inspector) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(inspector.drawn)  # what the panel draws
    return console.export_text()


async def test_the_inspector_lists_the_statements_sent(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_table(app, pilot)
        inspector = app.screen.query_one(Inspector)
        assert not inspector.display
        await pilot.press("i")
        assert inspector.display and inspector.region.width > 0
        await pilot.press("G")  # a seek: a new cursor, read from the end
        await wait_for(pilot, lambda: rows_shown(view) and view.cursor_row == view.row_count - 1)
        await pilot.pause(0.6)
        record = [" ".join(s.sql.split()) for s in reversed(view.pager.statements)]
        assert [line for line, _, _ in inspector.lines()] == record[: len(inspector.lines())]
        text = shown(inspector)
        assert "DECLARE" in text and "FETCH FORWARD 100" in text and "CLOSE" in text
        assert "holds a transaction" in text
        assert row_ranges(view.pager.cached_pages(), 100) in text
        newest = inspector.lines()[0]
        assert newest[0].startswith(("FETCH", "MOVE"))
        assert newest[1] == view.pager.statements[-1].rows
        await pilot.press("i")
        assert not inspector.display


async def test_the_demo_starts_on_a_welcome_screen(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory, welcome_rows=1_000_000)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        text = str(app.screen.query_one("#welcome-text").render())
        assert "1,000,000 rows" in text and "server-side cursor" in text
        for key in ("G", ": 50%", "s sort", "i see every", "? all keys"):
            assert key in text, key
        assert app.screen.query_one("WelcomeScreen > Vertical").region.width <= 80
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))


def test_the_server_side_is_read_on_the_pagers_own_backend(scored_dsn: str, scratch) -> None:
    factory = ConnectionFactory(scored_dsn)
    pager = CursorPager(factory, relation(factory, "scored"))
    try:
        pager.load(0)
        side = pager.read_server_side()
        assert side is not None and side.memory_bytes is not None
        assert 100_000 < side.memory_bytes < 1_000_000_000  # a backend's memory: a real figure
        assert side.locks == ("AccessShareLock",)
        pager.load(1)  # the cursor is untouched by it
        pager.release()
        sent = len(pager.statements)
        assert pager.read_server_side() is None  # released: nothing to read, nothing sent
        assert len(pager.statements) == sent
    finally:
        pager.close()
    with scratch.cursor() as cur:  # a role that may not read backend memory: it is hidden
        cur.execute("DROP ROLE IF EXISTS pgbrowse_plain")
        cur.execute("CREATE ROLE pgbrowse_plain LOGIN")
        cur.execute("GRANT SELECT ON scored TO pgbrowse_plain")
    try:
        plain = ConnectionFactory(psycopg2.extensions.make_dsn(scored_dsn, user="pgbrowse_plain"))
        pager = CursorPager(plain, relation(factory, "scored"))
        pager.load(0)
        side = pager.read_server_side()
        assert side is not None and side.memory_bytes is None and side.locks
        pager.load(1)  # and the cursor still works
        pager.close()
    finally:
        with scratch.cursor() as cur:
            cur.execute("REVOKE ALL ON scored FROM pgbrowse_plain; DROP ROLE pgbrowse_plain")


async def test_the_inspector_shows_the_server_side(scored_dsn: str) -> None:
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "scored"), memory_probe=fixed_memory)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_table(app, pilot)
        await pilot.press("i")
        inspector = app.screen.query_one(Inspector)
        await wait_for(pilot, lambda: "server memory:" in shown(inspector), timeout=6)
        assert "locks: AccessShareLock" in shown(inspector)


async def test_the_inspector_never_keeps_the_transaction_alive(scored_dsn: str) -> None:
    """Its reads every 2 s are not the user's activity: with idle release at 3 s the view
    still gives its transaction back, and the reads stay out of the statement list."""
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(
        factory,
        initial=relation(factory, "scored"),
        memory_probe=fixed_memory,
        idle_release_s=3.0,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("i")
        inspector = app.screen.query_one(Inspector)
        await wait_for(pilot, lambda: "server memory:" in shown(inspector), timeout=6)
        await wait_for(pilot, lambda: "no transaction (released)" in shown(inspector), timeout=10)
        assert not view.state.holds_transaction
        assert not any("pg_backend_memory_contexts" in s.sql for s in view.statements)
        await pilot.pause(2.5)  # released, it reads nothing through the view's session
        assert not view.state.holds_transaction


def test_a_spilled_sort_shows_its_temp_files(demo_factory: ConnectionFactory) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)
        side = pager.read_server_side()
        assert side is not None and side.temp_bytes == 0  # an index scan: nothing on disk
        pager.set_order("note", False)  # no index: 1,000,000 rows sorted past work_mem
        pager.load(0)  # (the first pages from a top-N: a heap of 300 rows, nothing on disk)
        side = pager.read_server_side()
        assert side is not None and side.temp_bytes == 0
        pager.prepare_sort()  # (the app runs it in the background): every row sorted
        side = pager.read_server_side()
        assert side is not None and side.temp_bytes is not None
        assert side.temp_bytes > 1_000_000  # the sort's runs, held while the cursor is open
    finally:
        pager.close()
