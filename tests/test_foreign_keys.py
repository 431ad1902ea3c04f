"""Foreign keys both ways (issue 15): o follows the cursor's key to the referenced row,
found by a seek on its key; Esc comes back to the row and column you left, through a stack
of any depth; R opens the rows that reference this row, as a filtered lazy view. A row that
is gone, or a table you may not read, is one plain line where you were."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.choose import ChooseScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import FOREIGN_MARK, HEADER_LINES, TableView
from tests.helpers import (
    direct,
    execute,
    fixed_memory,
    line,
    open_table,
    pgbrowse_sessions,
    relation,
    rows_shown,
    wait_for,
)


def top(app: PgBrowseApp) -> TableScreen:
    screen = app.screen
    assert isinstance(screen, TableScreen)
    return screen


async def on_column(pilot, view: TableView, name: str) -> None:
    names = [c.name for c in view.state.columns]
    view.show_column(names.index(name))
    await pilot.pause()


def cursor_values(view: TableView) -> dict[str, str | None]:
    page = view.cache.get(view.state.frame, view.cursor_row // view.state.page_size)
    assert page is not None
    row = page[view.cursor_row % view.state.page_size]
    return {c.name: row[i] for i, c in enumerate(view.state.columns)}


async def landed(pilot, app: PgBrowseApp, below: TableScreen) -> TableView:
    await wait_for(pilot, lambda: app.screen is not below and isinstance(app.screen, TableScreen))
    view = top(app).view
    await wait_for(pilot, lambda: view.laid_out and rows_shown(view))
    await wait_for(pilot, lambda: view.state.landed is not None and view.cursor_row == view.state.landed)
    await pilot.pause()
    return view


async def test_follow_an_order_to_its_customer_and_back(demo_factory: ConnectionFactory) -> None:
    orders = relation(demo_factory, "shop.orders")
    app = PgBrowseApp(demo_factory, initial=orders, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        assert "customer_id" + FOREIGN_MARK in line(view, 0)  # marked in the header
        await pilot.press("down", "down")
        await on_column(pilot, view, "customer_id")
        source = top(app)
        row, col = view.cursor_row, view.cursor_col
        order = cursor_values(view)
        await pilot.press("o")
        customers = await landed(pilot, app, source)
        here = cursor_values(customers)
        assert here["id"] == order["customer_id"]
        assert customers.state.columns[customers.cursor_col].name == "id"
        title = str(top(app).query_one("#title").render())
        assert f"orders {order['id']} → customers {order['customer_id']}" in title
        # A seek on the key: one lookup by id, no walk (no MOVE) and no count of a big table.
        sent = [s.sql for s in customers.statements]
        assert any("LIMIT 2" in s and '"id" = ' in s for s in sent)
        assert not any(s.startswith("MOVE") for s in sent)
        # Back: exactly the row and column left, drawn from what the view kept.
        await pilot.press("escape")
        assert app.screen is source
        assert (view.cursor_row, view.cursor_col) == (row, col)
        assert cursor_values(view) == order


async def test_a_stack_of_keys_there_and_back(
    demo_factory: ConnectionFactory, demo_dsn: str
) -> None:
    """orders → customers → the customer who referred them (a self-reference) → their
    referrer: each step a view of its own on top; the covered ones give their connection
    back; Esc walks the stack down to exactly where each was."""
    customers = relation(demo_factory, "shop.customers")
    app = PgBrowseApp(demo_factory, initial=customers, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        sessions = pgbrowse_sessions(demo_dsn)
        # Customer 125 was referred by 25, who was referred by 5, referred by 1.
        view.goto(124)
        await wait_for(pilot, lambda: rows_shown(view) and cursor_values(view)["id"] == "125")
        await on_column(pilot, view, "referred_by")
        stack = [(top(app), view.cursor_row, view.cursor_col)]
        expected = ["25", "5", "1"]
        for referrer in expected:
            below = top(app)
            await pilot.press("o")
            view = await landed(pilot, app, below)
            assert cursor_values(view)["id"] == referrer
            await on_column(pilot, view, "referred_by")
            stack.append((top(app), view.cursor_row, view.cursor_col))
        title = str(top(app).query_one("#title").render())
        assert "customers 125 → customers 25 → customers 5 → customers 1" in title
        # Customer 1 was referred by no one: a NULL key references nothing, said plainly.
        await pilot.press("o")
        await pilot.pause()
        assert app.screen is stack[-1][0]
        # The covered views gave their connections back: the stack holds the top's only.
        await wait_for(pilot, lambda: pgbrowse_sessions(demo_dsn) <= sessions)
        for screen, row, col in reversed(stack[:-1]):
            await pilot.press("escape")
            assert app.screen is screen
            assert (screen.view.cursor_row, screen.view.cursor_col) == (row, col)
        assert cursor_values(stack[0][0].view)["id"] == "125"


async def test_the_rows_that_reference_this_row(
    demo_factory: ConnectionFactory, demo_dsn: str
) -> None:
    customers = relation(demo_factory, "shop.customers")
    app = PgBrowseApp(demo_factory, initial=customers, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        view.goto(6)
        await wait_for(pilot, lambda: rows_shown(view) and cursor_values(view)["id"] == "7")
        source = top(app)
        await pilot.press("R")  # two keys point at customers: orders' and referred_by
        await wait_for(pilot, lambda: isinstance(app.screen, ChooseScreen))
        labels = app.screen.labels
        assert any("shop.orders(customer_id)" in label for label in labels)
        assert any("shop.customers(referred_by)" in label for label in labels)
        index = next(i for i, label in enumerate(labels) if "orders" in label)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not source and isinstance(app.screen, TableScreen))
        orders = top(app).view
        await wait_for(pilot, lambda: orders.laid_out and rows_shown(orders))
        await wait_for(pilot, lambda: orders.state.count_exact)
        ((expected,),) = direct(demo_dsn, "SELECT count(*) FROM shop.orders WHERE customer_id = 7")
        assert orders.state.row_count == expected > 0
        assert orders.state.filter == '"customer_id" = \'7\''
        assert orders.state.columns[orders.cursor_col].name == "customer_id"
        page = orders.cache.get(orders.state.frame, 0)
        names = [c.name for c in orders.state.columns]
        assert page and all(r[names.index("customer_id")] == "7" for r in page)
        title = str(top(app).query_one("#title").render())
        assert "customers 7 → orders where customer_id = 7" in title
        await pilot.press("escape")
        assert app.screen is source and cursor_values(view)["id"] == "7"
