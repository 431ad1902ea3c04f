"""Issue 26: completion as pgcli does it: columns through the aliases of the relations in
FROM, join conditions from foreign keys, functions, and suggestions as you type that never
take Enter from you."""

from __future__ import annotations

from pgbrowse.db.catalog.completion import Catalog, from_items
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.query_screen import QueryScreen
from tests.helpers import fixed_memory, open_table, wait_for


def test_from_items_are_read_with_their_aliases() -> None:
    text = 'SELECT 1 FROM shop.orders o JOIN "Ed [x]".readings AS r ON x, lab.samples WHERE'
    assert from_items(text) == [
        ("shop.orders", "o"),
        ('"Ed [x]".readings', "r"),
        ("lab.samples", "samples"),
    ]
    assert from_items("SELECT * FROM t WHERE a = 1") == [("t", "t")]


async def open_editor(app: PgBrowseApp, pilot) -> QueryScreen:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, QueryScreen))
    screen = app.screen
    assert isinstance(screen, QueryScreen)
    return screen


async def test_aliases_joins_functions_as_you_type(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_editor(app, pilot)
        editor = screen.editor
        catalog: Catalog = app.completion
        await wait_for(pilot, lambda: bool(catalog.relations) and bool(catalog.functions))
        editor.set_text("SELECT  FROM shop.orders o JOIN shop.customers c ON ")
        await wait_for(pilot, lambda: ("shop", "customers") in catalog.columns, timeout=10)
        assert (("shop", "orders"), ("customer_id",), ("shop", "customers"), ("id",)) in (
            catalog.keys
        )
        # after ON: the condition the foreign key gives, at Tab
        editor.move_cursor(editor.document.end)
        await pilot.press("tab")
        assert editor.text.endswith("ON c.id = o.customer_id")
        # o.sta -> o.status, through the alias (typed: shown as you type, Tab takes it)
        editor.move_cursor((0, len("SELECT ")))
        await pilot.press("o", ".", "s", "t", "a")
        await wait_for(pilot, lambda: editor.completing)
        assert [str(o.prompt) for o in editor.popup.options] == ["o.status"]
        assert editor.popup.highlighted is None  # (shown, not chosen)
        await pilot.press("tab")
        assert editor.text.startswith("SELECT o.status FROM")
        # c. offers the customers' columns
        await pilot.press(",", "space", "c", ".", "n", "a")
        await wait_for(pilot, lambda: editor.completing)
        assert "c.name" in [str(o.prompt) for o in editor.popup.options]
        # Enter while a list is only shown: a new line, not a word
        await pilot.press("enter")
        assert not editor.completing and "c.na\n" in editor.text
        # functions complete too
        editor.set_text("SELECT date_tr")
        editor.move_cursor(editor.document.end)
        await pilot.press("tab")
        assert editor.text == "SELECT date_trunc"
        # and the query with a completed join runs
        editor.set_text(
            "SELECT o.id, c.name FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id"
        )
        await pilot.press("ctrl+r")
        view = await open_table(app, pilot)
        assert [c.name for c in view.state.columns] == ["id", "name"]
