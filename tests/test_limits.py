"""No screen fails silently (issue 24): JSON nested 10,000 deep is shown raw in the cell and
record views (they raised RecursionError, and the record view said "reading the row…" for
ever); the record view shows a 1,600-column row (two targets a column passed PostgreSQL's
1,664); the structure pane opens on it quickly; a partitioned table's size is never
negative."""

from __future__ import annotations

import time

import psycopg2
import pytest
from textual.widgets import TextArea

from pgbrowse.db.catalog.structure import read_structure
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.session import Session
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.cell_screen import CellScreen
from pgbrowse.ui.record_screen import RecordScreen
from pgbrowse.ui.structure_screen import structure_text
from tests.helpers import fixed_memory, open_table, relation, wait_for

SIZE = (100, 30)
DEPTH = 10_000


@pytest.fixture(scope="module")
def deep_dsn(scratch_dsn: str) -> str:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS deep")
        cur.execute(
            "CREATE TABLE deep AS SELECT g AS id, CASE WHEN g = 2 THEN"
            f" (repeat('[', {DEPTH}) || repeat(']', {DEPTH}))::jsonb"
            " ELSE jsonb_build_object('a', g) END AS j FROM generate_series(1, 20) g"
        )
        cur.execute("ALTER TABLE deep ADD PRIMARY KEY (id)")
    conn.close()
    return scratch_dsn


async def test_deep_json_is_shown_raw_in_the_cell_and_record_views(deep_dsn: str) -> None:
    factory = ConnectionFactory(deep_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "public.deep"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("down", "right")
        await wait_for(pilot, lambda: view.cursor_row == 1 and view.cursor_col == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CellScreen))
        assert app.screen.query_one(TextArea).text == "[" * DEPTH + "]" * DEPTH
        await pilot.press("escape")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen))
        record = app.screen
        await wait_for(pilot, lambda: bool(record.values))
        assert "[" * 100 in record.query_one(TextArea).text
        assert not app.crashes


async def test_a_1600_column_row_in_the_record_view(ident_dsn: str) -> None:
    factory = ConnectionFactory(ident_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "ident.wide1600"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_table(app, pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen))
        record = app.screen
        await wait_for(pilot, lambda: bool(record.values), timeout=20)
        assert len(record.values) == 1600
        assert [record.values[i].text for i in (0, 799, 1599)] == ["1", "2", "3"]
        assert not app.crashes


def test_the_record_of_1600_columns_is_one_snapshot_in_two_statements(ident_dsn: str) -> None:
    factory = ConnectionFactory(ident_dsn)
    pager = CursorPager(factory, relation(factory, "ident.wide1600"), page_size=10)
    try:
        row = pager.load(0)[0]
        before = len(pager.statements)
        values = pager.fetch_record(row)
        assert len(values) == 1600 and values[1599].text == "3"
        sent = [s.sql for s in pager.statements][before:]
        assert len(sent) == 2 and all(s.startswith("SELECT") for s in sent)
    finally:
        pager.close()


def test_structure_of_1600_columns_and_of_a_partitioned_table(ident_dsn: str) -> None:
    factory = ConnectionFactory(ident_dsn)
    for name in ("ident.wide1600", "ident.part"):
        session = Session(factory)
        try:
            started = time.perf_counter()
            text = structure_text(read_structure(session, relation(factory, name)))
            took = time.perf_counter() - started
        finally:
            session.close()
        assert took < 5  # (0.05 s measured: the bound is 1 s)
        assert "-" not in "".join(line for line in text.splitlines() if " KB" in line)
        if name == "ident.part":
            assert "its rows and their sizes are in its partitions" in text
        else:
            assert "  c1600  integer" in text


async def test_the_table_error_line_marks_controls(scratch_dsn: str) -> None:
    """A view that cannot be read says why on its error line, with the controls the message
    quotes made visible (they were dropped silently)."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE FUNCTION public.boom() RETURNS int LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION E'bad \\x1b]52;c;eA==\\x07 value'; END $$"
        )
        cur.execute("CREATE OR REPLACE VIEW public.boom_v AS SELECT public.boom() AS x")
    conn.close()
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "public.boom_v"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        from pgbrowse.ui.table_view import TableView

        await wait_for(pilot, lambda: bool(app.screen.query(TableView)))
        view = app.screen.query_one(TableView)
        await wait_for(pilot, lambda: "bad" in view.render_line(0).text)
        assert "bad ␛]52;c;eA==␇ value" in view.render_line(0).text
