"""Free SQL: any read-only query browsed through the same lazy view (issue 4)."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.guard.parse import check_query
from pgbrowse.db.paging.pager import CursorPager

QUERY = """
-- a comment first, and one at the end
WITH numbers AS (SELECT g, g * 2 AS twice FROM generate_series(1, 100000) g)
SELECT g, twice, g::text || ' apples' AS label, (g % 7 = 0) AS lucky FROM numbers -- end
"""


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1",
        "  (select 1)",
        "values (1, 2)",
        "table shop.orders",
        "with x as (select 1) select * from x;",
    ],
)
def test_queries_that_read_are_accepted(text: str) -> None:
    assert check_query(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("update shop.orders set amount = 0", "UPDATE"),
        ("DELETE FROM x", "DELETE"),
        ("insert into x values (1)", "INSERT"),
        ("drop table x", "DROP"),
        ("vacuum", "VACUUM"),
        ("EXPLAIN ANALYZE DELETE FROM x", "EXPLAIN DELETE"),
    ],
)
def test_statements_of_other_kinds_are_not_sent(text: str, word: str) -> None:
    """The parser names the statement: only a SELECT, an EXPLAIN of one, or SHOW is sent."""
    with pytest.raises(QueryError, match=f"{word} is not run here") as caught:
        check_query(text, ("select", "explain", "show"))
    assert caught.value.title == "Not a query"
    assert "read-only" in caught.value.message


def test_a_query_is_browsed_lazily(demo_factory: ConnectionFactory) -> None:
    pager = CursorPager(demo_factory, Relation.of_query(QUERY), page_size=100)
    try:
        rows = pager.rows(0, 3)
        assert rows == [
            ("1", "2", "1 apples", "f"),
            ("2", "4", "2 apples", "f"),
            ("3", "6", "3 apples", "f"),
        ]
        assert [c.name for c in pager.columns] == ["g", "twice", "label", "lucky"]
        assert [c.type_name for c in pager.columns] == ["integer", "integer", "text", "boolean"]
        assert pager.columns[0].numeric and not pager.columns[2].numeric
        assert 50_000 < pager.row_count < 200_000 and not pager.count_exact  # EXPLAIN's
        assert pager.plan is not None and "a query" in pager.plan.why
        assert pager.rows(70_000, 1)[0][0] == "70001"  # far: walked on the server
        assert pager.rows_fetched <= 3 * 100
        pager.set_order("label", True)  # and sorted, by the server
        assert pager.rows(0, 1)[0][2] == "99999 apples"
        pager.set_filter("lucky")  # and filtered
        assert pager.rows(0, 1)[0][3] == "t"
    finally:
        pager.close()


def test_a_query_that_writes_fails_and_changes_nothing(demo_factory, demo_dsn: str) -> None:
    """One SELECT with a DELETE inside: the parser lets the server judge it, and the server
    refuses it (a cursor cannot hold it; the read-only transaction would not run it)."""
    sneaky = "WITH gone AS (DELETE FROM shop.orders RETURNING *) SELECT * FROM gone"
    pager = CursorPager(demo_factory, Relation.of_query(sneaky))
    try:
        with pytest.raises(QueryError, match="data-modifying"):
            pager.load(0)
    finally:
        pager.close()
    conn = psycopg2.connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM shop.orders")
        assert cur.fetchone()[0] == 1_000_000
    conn.close()


async def test_free_sql_from_the_app(demo_factory: ConnectionFactory) -> None:
    from textual.widgets import TextArea

    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.query_screen import QueryScreen
    from pgbrowse.ui.table_view import HEADER_LINES
    from tests.helpers import fixed_memory, line, open_table, rows_shown, wait_for

    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        box = screen.query_one(TextArea)
        error = screen.query_one("#query-error")
        box.text = "UPDATE shop.orders SET amount = 0"
        await pilot.press("ctrl+r")
        assert "Not a query" in str(error.render())  # refused before it reaches the server
        box.text = "SELECT id, amount FROM shop.orders WHERE amount >"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "syntax error" in str(error.render()))
        assert app.screen is screen  # said inline; nothing opened
        box.text = "SELECT id, amount FROM shop.orders WHERE amount > 999 ORDER BY id"
        await pilot.press("ctrl+r")
        view = await open_table(app, pilot)
        assert "(query)" in str(app.screen.query_one("#title").render())
        assert float(line(view, HEADER_LINES).split()[2]) > 999
        await pilot.press("G")  # the same keys as a table: End walks (a query has no key)
        await wait_for(pilot, lambda: view.pager.count_exact and rows_shown(view))
        await pilot.press("escape")
        assert app.screen is screen and box.text.endswith("ORDER BY id")  # nothing lost
