"""Issue 26: several views open at once. Ctrl+T opens a relation (or the editor's query)
beside the others, F2 lists them, Ctrl+PgDn/Ctrl+PgUp go from one to the next, Ctrl+W (or
Esc on its first view) closes one; a view in the background holds no snapshot, no lock and
no connection."""

from __future__ import annotations

from textual.widgets import Input

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.choose import ChooseScreen
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import choose_in_list, direct, fixed_memory, listed, rows_shown, wait_for


def locks_on(dsn: str, name: str) -> int:
    """Locks pgbrowse's sessions hold on relation ``name`` now."""
    ((count,),) = direct(
        dsn,
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " JOIN pg_class c ON c.oid = l.relation"
        " WHERE a.application_name = 'pgbrowse' AND c.relname = %s",
        (name,),
    )
    return int(count)


async def test_views_beside_each_other(demo_factory: ConnectionFactory, demo_dsn: str) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0, timeout=20)
        await choose_in_list(pilot, "shop.orders")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        orders = app.screen
        assert isinstance(orders, TableScreen) and app.current_mode != "_default"
        await wait_for(pilot, lambda: rows_shown(orders.view), timeout=20)
        assert orders.pager.holds_transaction and locks_on(demo_dsn, "orders") > 0
        # to the list: the view behind gives back its snapshot, its lock, its connection
        await pilot.press("ctrl+pagedown")
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        await wait_for(pilot, lambda: not orders.pager.holds_transaction, timeout=10)
        await wait_for(pilot, lambda: locks_on(demo_dsn, "orders") == 0, timeout=10)
        assert orders.pager.session._conn is None  # (rested: no connection)
        # a second view beside it
        app.screen.query_one("#filter", Input).value = ""
        await choose_in_list(pilot, "lab.samples")
        await pilot.press("ctrl+t")
        await wait_for(
            pilot, lambda: app.screen is not orders and isinstance(app.screen, TableScreen)
        )
        samples = app.screen
        assert isinstance(samples, TableScreen) and len(app.buffers) == 3
        await wait_for(pilot, lambda: rows_shown(samples.view), timeout=20)
        # F2 lists them; Enter goes to the one chosen, which reads its rows again
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseScreen))
        labels = app.screen.labels  # type: ignore[attr-defined]
        assert [label.split("   ")[0] for label in labels] == [
            "1. relations",
            "2. shop.orders",
            "3. lab.samples",
        ]
        await pilot.press("down", "enter")  # (from the first: the second)
        await wait_for(pilot, lambda: app.screen is orders)
        await pilot.press("end")  # (a page not in sight: read in a new snapshot)
        await wait_for(pilot, lambda: orders.pager.holds_transaction, timeout=10)
        await wait_for(pilot, lambda: not samples.pager.holds_transaction, timeout=10)
        # Ctrl+W closes the one in front, its pager with it
        await pilot.press("ctrl+w")
        await wait_for(pilot, lambda: len(app.buffers) == 2)
        await wait_for(pilot, lambda: orders.pager.session._conn is None, timeout=10)
        assert isinstance(app.screen, RelationListScreen)
        # Esc on the first view of a view beside: it closes
        await pilot.press("ctrl+pagedown")
        await wait_for(pilot, lambda: app.screen is samples)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.buffers) == 1)
        assert isinstance(app.screen, RelationListScreen)
