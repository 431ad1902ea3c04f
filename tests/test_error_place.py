"""Issue 26: the editor points at the error's place (the token selected, the caret there),
for the parser's errors and the server's, and a typo reads "Syntax error"."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.guard.parse import map_position
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.query_screen import QueryScreen
from tests.helpers import fixed_memory, wait_for


def selected(area: TextArea) -> str:
    return area.selected_text


@pytest.mark.parametrize(
    ("text", "title", "marked"),
    [
        ("SELEC id FROM shop.orders", "Syntax error", "SELEC"),
        ("SELECT id,\n  amount\nFROM shop.orders\nWHERE amount > > 3", "Syntax error", ">"),
        ("SELECT o.id, o.sta\n  FROM shop.orders o", "No such column", "o.sta"),
        ("select id from shop.ordrs", "No such relation", "shop.ordrs"),
    ],
)
async def test_the_editor_marks_where_the_error_is(
    demo_factory: ConnectionFactory, text: str, title: str, marked: str
) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        area = screen.query_one(TextArea)
        area.text = text
        await pilot.press("ctrl+r")
        error = screen.query_one("#query-error")
        await wait_for(pilot, lambda: str(error.render()).strip() != "", timeout=10)
        await wait_for(pilot, lambda: str(error.render()) != "checking…", timeout=10)
        said = str(error.render())
        assert said.startswith(title), said
        assert "Not a query" not in said
        await wait_for(pilot, lambda: selected(area) == marked, timeout=5)
        start = text.index(marked) if marked != ">" else text.rindex(">")
        line = text[:start].count("\n")
        assert area.cursor_location[0] == line  # (the caret on the error's line)
        assert app.screen is screen


def test_a_server_position_maps_to_the_same_token_in_the_users_text() -> None:
    printed = "SELECT a, b FROM t AS x WHERE x.b > 1 AND x.b < 2"
    mine = "select a,  b\nfrom t x\nwhere x.b > 1\n  and x.b < 2"
    assert mine[map_position(printed, mine, printed.rindex("x.b")) :].startswith("x.b < 2")
    assert map_position(printed, mine, printed.index("t AS")) == mine.index("t x")
    assert map_position(printed, "select 1", printed.index("x.b")) is None
