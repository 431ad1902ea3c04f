"""Foreign keys both ways (issue 15): o follows the cursor's key to the referenced row,
found by a seek on its key; Esc comes back to the row and column you left, through a stack
of any depth; R opens the rows that reference this row, as a filtered lazy view. A row that
is gone, or a table you may not read, is one plain line where you were."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.choose import ChooseScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import FOREIGN_MARK, TableView
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
    values = cursor_values_held(view)
    assert values is not None
    return values


def cursor_values_held(view: TableView) -> dict[str, str | None] | None:
    """The cursor row's values, or None while its page is still being read."""
    page = view.cache.get(view.state.frame, view.cursor_row // view.state.page_size)
    if page is None:
        return None
    row = page[view.cursor_row % view.state.page_size]
    return {c.name: row[i] for i, c in enumerate(view.state.columns)}


async def at_row(pilot, view: TableView, position: int, key: str) -> None:
    """Go to ``position`` and wait until its row, whose id is ``key``, is drawn."""
    # goto stops at the last row the view knows of (an estimate until it has counted).
    await wait_for(pilot, lambda: view.row_count > position)
    view.goto(position)

    def there() -> bool:
        values = cursor_values_held(view)
        return rows_shown(view) and values is not None and values["id"] == key

    await wait_for(pilot, there)


async def pushed(pilot, app: PgBrowseApp, below: TableScreen) -> TableView:
    """The table view a key opened on top of ``below``, once its rows are drawn."""
    await wait_for(pilot, lambda: app.screen is not below and isinstance(app.screen, TableScreen))
    view = top(app).view
    await wait_for(pilot, lambda: view.laid_out and rows_shown(view))
    return view


async def landed(pilot, app: PgBrowseApp, below: TableScreen) -> TableView:
    """The view a followed key opened, with the cursor on the row it landed on."""
    view = await pushed(pilot, app, below)
    await wait_for(
        pilot, lambda: view.state.landed is not None and view.cursor_row == view.state.landed
    )
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
        await at_row(pilot, view, 124, "125")
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
        await at_row(pilot, view, 6, "7")
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
        orders = await pushed(pilot, app, source)
        await wait_for(pilot, lambda: orders.state.count_exact)
        ((expected,),) = direct(demo_dsn, "SELECT count(*) FROM shop.orders WHERE customer_id = 7")
        assert orders.state.row_count == expected > 0
        assert orders.state.filter == "\"customer_id\" = '7'"
        assert orders.state.columns[orders.cursor_col].name == "customer_id"
        page = orders.cache.get(orders.state.frame, 0)
        names = [c.name for c in orders.state.columns]
        assert page and all(r[names.index("customer_id")] == "7" for r in page)
        title = str(top(app).query_one("#title").render())
        assert "customers 7 → orders where customer_id = 7" in title
        await pilot.press("escape")
        assert app.screen is source and cursor_values(view)["id"] == "7"


@pytest.fixture
def keyed(scratch, scratch_dsn: str) -> ConnectionFactory:
    """Hostile names, a composite key, an orphan (a key added NOT VALID), a referencing
    column without an index, and a 20,000-row referenced table never analysed."""
    with scratch.cursor() as cur:
        cur.execute(
            """
            DROP TABLE IF EXISTS "fk child [x]", "Fk ""Parent"" [b]", fk_big_kid, fk_big CASCADE;
            CREATE TABLE "Fk ""Parent"" [b]" ("a'1" int, "b [c]" text, label text,
                                             PRIMARY KEY ("a'1", "b [c]"));
            INSERT INTO "Fk ""Parent"" [b]"
            SELECT g, 'k' || g % 3 || E'\\x1b[31m', 'parent ' || g
            FROM generate_series(1, 300) g;
            CREATE TABLE "fk child [x]" (id int PRIMARY KEY, "pa" int, "pb" text);
            INSERT INTO "fk child [x]"
            SELECT g, g, 'k' || g % 3 || E'\\x1b[31m' FROM generate_series(1, 300) g;
            INSERT INTO "fk child [x]" VALUES (1000, 999, 'gone');
            ALTER TABLE "fk child [x]" ADD CONSTRAINT child_parent FOREIGN KEY ("pa", "pb")
                REFERENCES "Fk ""Parent"" [b]" NOT VALID;
            CREATE TABLE fk_big (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = off);
            INSERT INTO fk_big SELECT g, 'v' || g FROM generate_series(1, 20000) g;
            CREATE TABLE fk_big_kid (id int PRIMARY KEY, big int REFERENCES fk_big);
            INSERT INTO fk_big_kid SELECT g, 1 + (g * 7919) % 20000 FROM generate_series(1, 50) g;
            """
        )
    return ConnectionFactory(scratch_dsn)


async def test_a_composite_key_with_hostile_names(keyed: ConnectionFactory) -> None:
    child = relation(keyed, '"fk child [x]"')
    app = PgBrowseApp(keyed, initial=child, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 24)) as pilot:
        view = await open_table(app, pilot)
        assert "pb" + FOREIGN_MARK in line(view, 0) and "pa" + FOREIGN_MARK in line(view, 0)
        await at_row(pilot, view, 41, "42")
        await on_column(pilot, view, "pb")
        source = top(app)
        await pilot.press("o")
        parent = await landed(pilot, app, source)
        here = cursor_values(parent)
        assert (here["a'1"], here["b [c]"]) == ("42", "k0\x1b[31m")
        assert parent.state.columns[parent.cursor_col].name == "a'1"
        screen_text = app.screen.query_one("#title").render()
        assert "\x1b" not in str(screen_text)  # the key's escape is shown, never sent
        # The other way: the rows referencing this parent (both key columns: child 42 only).
        middle = top(app)
        await pilot.press("R")
        kids = await pushed(pilot, app, middle)
        await wait_for(pilot, lambda: kids.state.count_exact)
        assert kids.state.row_count == 1 and cursor_values(kids)["id"] == "42"
        await pilot.press("escape")
        assert app.screen is middle
        await pilot.press("escape")
        assert app.screen is source and cursor_values(view)["id"] == "42"


async def test_a_row_that_is_gone_is_one_plain_line(keyed: ConnectionFactory) -> None:
    child = relation(keyed, '"fk child [x]"')
    app = PgBrowseApp(keyed, initial=child, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 24)) as pilot:
        view = await open_table(app, pilot)
        # The orphan, 1000 → (999, 'gone'), allowed in by NOT VALID.
        await at_row(pilot, view, 300, "1000")
        await on_column(pilot, view, "pa")
        source = top(app)
        await pilot.press("o")
        await wait_for(pilot, lambda: any("no row" in n.message for n in app._notifications))
        await wait_for(pilot, lambda: app.screen is source)
        message = next(n.message for n in app._notifications if "no row" in n.message)
        assert "\n" not in message and "a'1 = 999, b [c] = gone" in message


async def test_a_forbidden_referenced_table_is_one_plain_line(
    keyed: ConnectionFactory, scratch_dsn: str
) -> None:
    execute(
        scratch_dsn,
        "DROP ROLE IF EXISTS fk_reader",
        "CREATE ROLE fk_reader LOGIN",
        'GRANT SELECT ON "fk child [x]" TO fk_reader',
    )
    try:
        dsn = psycopg2.extensions.make_dsn(scratch_dsn, user="fk_reader")
        factory = ConnectionFactory(dsn)
        child = relation(factory, '"fk child [x]"')
        app = PgBrowseApp(factory, initial=child, memory_probe=fixed_memory)
        async with app.run_test(size=(100, 24)) as pilot:
            view = await open_table(app, pilot)
            await on_column(pilot, view, "pa")
            source = top(app)
            await pilot.press("o")
            await wait_for(pilot, lambda: any("denied" in n.message for n in app._notifications))
            await wait_for(pilot, lambda: app.screen is source)
            message = next(n.message for n in app._notifications if "denied" in n.message)
            assert "\n" not in message
            await pilot.press("down")  # the view goes on
            assert view.cursor_row == 1
    finally:
        execute(
            scratch_dsn,
            'REVOKE ALL ON "fk child [x]" FROM fk_reader',
            "DROP ROLE fk_reader",
        )


async def test_into_a_table_without_statistics_and_back_without_an_index(
    keyed: ConnectionFactory,
) -> None:
    """fk_big was never analysed (no histogram): the row is found by its key all the same;
    and fk_big_kid.big has no index, which R says."""
    kid = relation(keyed, "fk_big_kid")
    app = PgBrowseApp(keyed, initial=kid, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 24)) as pilot:
        view = await open_table(app, pilot)
        await at_row(pilot, view, 9, "10")
        await on_column(pilot, view, "big")
        wanted = cursor_values(view)["big"]
        source = top(app)
        await pilot.press("o")
        big = await landed(pilot, app, source)
        assert cursor_values(big)["id"] == wanted
        # No histogram: the seek's place is estimated from the key's range (≈), and the
        # row is found without counting or walking the rows before it.
        assert big.cursor_row == big.state.landed and not big.state.positions_exact
        sent = [s.sql for s in big.statements]
        assert not any(s.startswith("MOVE") for s in sent)
        counts = [s for s in sent if "count(" in s]  # at most a bounded count (near the start?)
        assert all("LIMIT 400" in s for s in counts)
        middle = top(app)
        await pilot.press("R")
        kids = await pushed(pilot, app, middle)
        await wait_for(pilot, lambda: any("No index" in n.message for n in app._notifications))
        assert cursor_values(kids)["big"] == wanted


async def test_a_referenced_table_without_an_order_shows_the_row_alone(
    scratch, scratch_dsn: str
) -> None:
    """A partitioned table with a unique key but no primary key is read in physical order
    over its partitions: no order to seek a row in, so the row is shown alone (filtered to
    its key), and the view says so rather than guess a place."""
    execute(
        scratch_dsn,
        "DROP TABLE IF EXISTS fk_parted_kid, fk_parted",
        "CREATE TABLE fk_parted (id int, p int, what text, UNIQUE (id, p)) PARTITION BY LIST (p)",
        "CREATE TABLE fk_parted_0 PARTITION OF fk_parted FOR VALUES IN (0)",
        "CREATE TABLE fk_parted_1 PARTITION OF fk_parted FOR VALUES IN (1)",
        "INSERT INTO fk_parted SELECT g, g % 2, 'row ' || g FROM generate_series(1, 500) g",
        "CREATE TABLE fk_parted_kid (id int PRIMARY KEY, pid int, pp int,"
        " FOREIGN KEY (pid, pp) REFERENCES fk_parted (id, p))",
        "INSERT INTO fk_parted_kid SELECT g, g * 3, (g * 3) % 2 FROM generate_series(1, 100) g",
    )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "fk_parted_kid"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 24)) as pilot:
        view = await open_table(app, pilot)
        await at_row(pilot, view, 4, "5")
        await on_column(pilot, view, "pid")
        source = top(app)
        await pilot.press("o")
        alone = await landed(pilot, app, source)
        await wait_for(pilot, lambda: any("shown alone" in n.message for n in app._notifications))
        assert cursor_values(alone)["what"] == "row 15" and alone.state.filter
        await wait_for(pilot, lambda: alone.state.count_exact)
        assert alone.state.row_count == 1


async def test_a_row_near_the_start_of_a_large_table_is_placed_exactly(
    demo_factory: ConnectionFactory,
) -> None:
    """order_lines (2, 1) → orders 2, in 1,000,000 rows: the histogram would place it at
    row 0; a bounded count (at most 400 rows) places it exactly, on the right row."""
    lines = relation(demo_factory, "shop.order_lines")
    app = PgBrowseApp(demo_factory, initial=lines, memory_probe=fixed_memory)
    async with app.run_test(size=(110, 24)) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("j", "j")
        assert (cursor_values(view)["order_id"], cursor_values(view)["line"]) == ("2", "1")
        source = top(app)
        await pilot.press("o")
        orders = await landed(pilot, app, source)
        assert cursor_values(orders)["id"] == "2" and orders.cursor_row == 1
        assert orders.state.positions_exact
        title = str(top(app).query_one("#title").render())
        assert "order_lines 2, 1 → orders 2" in title
