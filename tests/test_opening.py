"""A table named on the command line is opened while the UI is imported (``Opening``): the
view takes the pager over with its first page read once, or its error said, and a wrong
name is still one line before any screen."""

from __future__ import annotations

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.opening import Opening
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES
from tests.helpers import direct, execute, fixed_memory, line, open_table, run_cli, wait_for

SIZE = (100, 30)


def opening_for(dsn: str, name: str) -> Opening:
    factory = ConnectionFactory(dsn)
    return Opening(factory, name, lambda relation: CursorPager(factory, relation)).start()


async def test_the_view_takes_over_the_pager_with_its_first_page(demo_dsn: str) -> None:
    opening = opening_for(demo_dsn, "shop.orders")
    where, relation = opening.resolved()
    assert relation is not None and relation.qualified == "shop.orders" and where
    rows, failed = opening.first_page()
    assert failed is None and rows is not None
    assert [r[0] for r in rows] == [
        str(i) for (i,) in direct(demo_dsn, "SELECT id FROM shop.orders ORDER BY id LIMIT 100")
    ]
    pager = opening.pager
    assert pager is not None and pager.owner is None  # (handed over)
    app = PgBrowseApp(opening.factory, initial=relation, opening=opening, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        assert view.pager is pager
        assert line(view, HEADER_LINES).split()[1] == "1"
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_for(pilot, lambda: view.loader.in_flight is None)
        fetched = [s.sql for s in view.statements if s.sql.startswith("FETCH")]
        # Page 0 was read once, on the opening thread; the loader read on from it.
        declares = [s.sql for s in view.statements if s.sql.startswith("DECLARE")]
        assert len(declares) == 1 and len(fetched) >= 2
        assert view.pager.owner is not None and view.pager.owner == view.loader._thread.ident


async def test_a_first_page_that_fails_is_said_in_the_view(scratch_dsn: str) -> None:
    execute(
        scratch_dsn,
        "CREATE OR REPLACE VIEW divides AS SELECT g, 1 / (g - 3) AS x"
        " FROM generate_series(1, 10) g",
    )
    opening = opening_for(scratch_dsn, "divides")
    _, relation = opening.resolved()
    rows, failed = opening.first_page()
    assert rows is None and failed is not None
    app = PgBrowseApp(opening.factory, initial=relation, opening=opening, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: "division by zero" in str(app.screen.query_one("#table").error)
        )
        await pilot.press("q")


def test_a_wrong_name_is_one_line_before_any_screen(demo_dsn: str) -> None:
    done = run_cli(demo_dsn, "shop.no_such_table")
    assert done.returncode != 0
    assert "No such relation" in done.stderr and "Traceback" not in done.stderr


class CountingFactory(ConnectionFactory):
    """A real factory that counts the connections it opens."""

    opened = 0

    def connect(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        type(self).opened += 1
        return super().connect(*args, **kwargs)


def test_the_first_page_is_read_on_the_connection_that_found_the_relation(
    demo_dsn: str,
) -> None:
    """Issue 27: one connection to the first screen, not two (each costs its round trips)."""
    factory = CountingFactory(demo_dsn)
    opening = Opening(factory, "shop.orders", lambda r: CursorPager(factory, r)).start()
    _, found = opening.resolved()
    rows, failed = opening.first_page()
    pager = opening.pager
    assert pager is not None and found is not None and failed is None and rows
    try:
        assert CountingFactory.opened == 1
        assert pager.holds_transaction  # (its own read-only snapshot, begun after the check)
        pid = pager.session.conn.get_backend_pid()
        ((locks,),) = direct(
            demo_dsn,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = %s AND c.relname = 'pg_class'",
            (pid,),
        )
        assert locks == 0  # (the lookup's catalog locks ended with its transaction)
    finally:
        pager.close()
