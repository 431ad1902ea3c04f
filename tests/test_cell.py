"""The cell view and copy: one value whole, fetched on demand by its row's key (issue 4)."""

from __future__ import annotations

import json

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.paging.pager import CELL_LIMIT, CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.cell_screen import CellScreen
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import direct, fixed_memory, open_table, relation, wait_for


def test_a_cell_is_fetched_whole_by_its_key(demo_factory: ConnectionFactory, demo_dsn) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "lab.samples"))
    try:
        rows = pager.load(0)
        names = [c.name for c in pager.columns]
        body = names.index("body")
        row = rows[6]
        value = pager.fetch_cell(row, body)
        ((want,),) = direct(demo_dsn, f"SELECT body FROM lab.samples WHERE id = {row[0]}")
        assert value.text == want and value.length == len(want) and not value.cut
        assert pager.fetch_cell(rows[4], names.index("label")).text is None  # NULL stays NULL
        big = next(r for r in rows if any(v and len(v) > pager.truncate for v in r))
        col = next(i for i, v in enumerate(big[: len(names)]) if v and len(v) > pager.truncate)
        huge = pager.fetch_cell(big, col)
        assert huge.cut and huge.length >= 20 * 10**6 and len(huge.text or "") == CELL_LIMIT
        assert any(
            s.sql.startswith("SELECT CASE WHEN") and "LIMIT 2" in s.sql for s in pager.statements
        )
    finally:
        pager.close()


def test_a_cell_without_a_key_says_so(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW keyless_cells AS SELECT g AS n FROM generate_series(1, 5) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "keyless_cells"))
    try:
        rows = pager.load(0)
        with pytest.raises(QueryError, match="no unique key"):
            pager.fetch_cell(rows[0], 0)
    finally:
        pager.close()


async def test_open_and_copy_cells_in_the_app(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_table(app, pilot)
        names = [c.name for c in view.pager.columns]
        for _ in range(names.index("doc")):
            await pilot.press("l")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CellScreen))
        text = app.screen.text
        assert "\n  " in text and json.loads(text)["id"] == 1  # pretty-printed JSON
        await pilot.press("y")
        assert json.loads(app.clipboard) == json.loads(text)
        await pilot.press("escape")
        assert isinstance(app.screen, TableScreen)
        await pilot.press("Y")  # the row as TSV
        fields = app.clipboard.split("\t")
        assert len(fields) == len(names) and fields[0] == "1"
        assert "\n" not in app.clipboard
