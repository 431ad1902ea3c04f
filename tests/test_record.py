"""The record view (issue 15): one row as a vertical list, every value whole, at 80x24 on
the demo's 49-column lab.wide; n and p move through the view's rows without leaving."""

from __future__ import annotations

from textual.widgets import TextArea

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.record_screen import RecordScreen
from tests.helpers import fixed_memory, open_table, relation, wait_for


async def test_the_record_view_of_a_wide_row_at_80x24(demo_factory: ConnectionFactory) -> None:
    wide = relation(demo_factory, "lab.wide")
    app = PgBrowseApp(demo_factory, initial=wide, memory_probe=fixed_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)
        table = app.screen
        columns = [c.name for c in view.state.columns]
        assert len(columns) > 40
        fetched = view.statements[-1]
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen))
        record = app.screen
        await wait_for(pilot, lambda: record.row_number == 0)
        text = record.query_one(TextArea).text
        heads = [line.split()[0] for line in text.splitlines() if not line.startswith(" ")]
        assert heads == columns  # every column, in order, one after another
        sent = [s.sql for s in view.statements]
        assert sum(s.startswith("SELECT") and "LIMIT 2" in s for s in sent) == 1  # one read
        first = text
        await pilot.press("n")
        await wait_for(pilot, lambda: record.row_number == 1)
        assert record.query_one(TextArea).text != first and view.cursor_row == 1
        await pilot.press("p")
        await wait_for(pilot, lambda: record.row_number == 0)
        assert record.query_one(TextArea).text == first
        await pilot.press("escape")
        assert app.screen is table and fetched in view.statements


async def test_the_record_view_says_when_a_row_cannot_be_found_again(
    scratch, scratch_dsn: str
) -> None:
    with scratch.cursor() as cur:  # a view without a key: rows cannot be found again
        cur.execute(
            "CREATE OR REPLACE VIEW keyless_record AS"
            " SELECT g % 3 AS n FROM generate_series(1, 9) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "keyless_record"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_table(app, pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen))
        title = app.screen.query_one("#record-title")
        await wait_for(pilot, lambda: "no unique key" in str(title.render()))
