"""Filter: a WHERE expression typed by the user, checked first, applied on the server."""

from __future__ import annotations

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.paging.pager import WALK_PAGES, CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES
from tests.helpers import (
    direct,
    fixed_memory,
    line,
    open_table,
    relation,
    rows_shown,
    wait_for,
    walked,
)

FILTER = "amount > 100 and kind = 'refund'"


def test_each_change_of_filter_or_order_is_reported_once(
    demo_factory: ConnectionFactory,
) -> None:
    """The reordering part tells the pager; the loader's state carries it to the UI, which
    closes the filter box on it (issue 25: the parts meet through the pager)."""
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)
        pager.state()
        for change in (lambda: pager.set_filter(FILTER), lambda: pager.set_order("amount")):
            change()
            assert pager.state().events.count("restarted") == 1
            assert "restarted" not in pager.state().events  # (said once)
        assert pager.state().restarts == 2
    finally:
        pager.close()


def test_a_filter_reads_only_matching_rows(demo_factory: ConnectionFactory, demo_dsn: str) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)
        pager.set_filter(FILTER)
        (estimate,) = direct(
            demo_dsn, f"EXPLAIN (FORMAT JSON) SELECT * FROM shop.orders WHERE {FILTER}"
        )[0]
        assert pager.row_count == estimate[0]["Plan"]["Plan Rows"] and not pager.count_exact
        first = [int(r[0]) for r in pager.rows(0, 150)]
        want = direct(demo_dsn, f"SELECT id FROM shop.orders WHERE {FILTER} ORDER BY id LIMIT 150")
        assert first == [w[0] for w in want]
        before = len(pager.statements)
        middle = [int(r[0]) for r in pager.rows(pager.row_count // 2, 120)]  # a far jump
        assert walked(list(pager.statements)[before:]) <= WALK_PAGES * pager.page_size
        run = direct(
            demo_dsn,
            f"SELECT id FROM shop.orders WHERE {FILTER} AND id >= {middle[0]}"
            " ORDER BY id LIMIT 120",
        )
        assert middle == [r[0] for r in run]  # consecutive matching rows
        pager.set_filter("")  # no filter: every row again, and the count as it was
        assert pager.rows(0, 1)[0][0] == "1" and pager.filter is None
    finally:
        pager.close()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("amount >", "syntax error"),
        ("amount > 'lots'", "invalid input syntax for type numeric"),
        ("no_such_column = 1", 'column "no_such_column" does not exist'),
        ("1; DROP TABLE shop.orders", "2 statements"),
        ("id > 10) --", "syntax error"),
        ("id > 10 ORDER BY 1", "one SQL expression"),
    ],
)
def test_a_bad_filter_changes_nothing(demo_factory: ConnectionFactory, bad: str, says: str) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.set_filter("id <= 500")
        shown = pager.rows(0, 50)
        count = pager.row_count
        with pytest.raises(QueryError) as caught:
            pager.set_filter(bad)
        assert caught.value.title == "Filter error" and says in caught.value.message
        assert pager.filter == "id <= 500" and pager.row_count == count
        assert pager.rows(0, 50) == shown and pager.rows(400, 3)[0][0] == "401"  # cursor alive
    finally:
        pager.close()


async def test_filter_from_the_app(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        screen = app.screen
        await pilot.press("f", "escape")  # Esc closes the box, not the table
        assert not screen.query_one("#filter-bar").display and app.screen is screen
        await pilot.press("f")
        await pilot.press(*"amount >", "enter")  # a syntax error: said inline, the view stays
        bar = screen.query_one("#filter-error")
        await wait_for(pilot, lambda: "syntax error" in str(bar.render()))
        assert line(view, HEADER_LINES).split()[1] == "1" and view.pager.filter is None
        await pilot.press(*" 990 and kind = 'refund'", "enter")
        await wait_for(pilot, lambda: view.pager.filter is not None and rows_shown(view))
        ids = [int(line(view, y).split()[1]) for y in range(HEADER_LINES, HEADER_LINES + 5)]
        assert all(i % 10 == 0 for i in ids)  # refunds: every tenth order
        assert "filter: amount > 990" in str(screen.query_one("#title").render())
        assert "~" in screen.position_text()
        assert not screen.query_one("#filter-bar").display  # taken: the box closed itself
        await pilot.press("j")
        assert view.cursor_row == 1
