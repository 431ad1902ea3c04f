"""The SQL editor and the waits around queries (issue 16): typing after the prefilled text,
history across restarts, completion from the catalog, a write refused by the server,
EXPLAIN and SHOW, a search cancelled, and compare and export following a filtered view."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.history import QueryHistory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.compare import CompareScreen
from pgbrowse.ui.export_screen import ExportScreen
from pgbrowse.ui.plan_screen import StatementScreen
from pgbrowse.ui.query_screen import HistoryScreen, QueryScreen
from pgbrowse.ui.sql_editor import SqlEditor
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from tests.helpers import (
    SIZE,
    direct,
    execute,
    fixed_memory,
    open_table,
    relation,
    rows_shown,
    wait_for,
)

FILTER = "amount > 990"


def error_line(screen: QueryScreen) -> str:
    return str(screen.query_one("#query-error").render())


async def open_editor(app: PgBrowseApp, pilot) -> QueryScreen:
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, QueryScreen))
    screen = app.screen
    assert isinstance(screen, QueryScreen)
    return screen


async def test_typing_goes_after_the_prefilled_text_and_stays(
    demo_factory: ConnectionFactory,
) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        assert screen.editor.text == "SELECT " and screen.editor.cursor_location == (0, 7)
        await pilot.press(*"id, length(note) FROM shop.orders")
        assert screen.editor.text == "SELECT id, length(note) FROM shop.orders"
        await pilot.press("escape")
        assert not isinstance(app.screen, QueryScreen)
        screen = await open_editor(app, pilot)  # a new screen: the text is still there
        assert screen.editor.text == "SELECT id, length(note) FROM shop.orders"
        assert screen.editor.cursor_location == (0, len(screen.editor.text))
        await pilot.press("ctrl+r")
        view = await open_table(app, pilot)
        assert [c.name for c in view.state.columns] == ["id", "length"]


async def test_history_is_kept_across_restarts_and_searchable(
    demo_factory: ConnectionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    runs = ["SELECT 1 AS one", "SELECT 'two [b]' AS two", "SHOW work_mem"]
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        for text in runs:
            screen.editor.set_text(text)
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: not isinstance(app.screen, QueryScreen))
            if isinstance(app.screen, TableScreen):
                await open_table(app, pilot)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
    saved = tmp_path / "pgbrowse" / "history.jsonl"
    assert [json.loads(line)["sql"] for line in saved.read_text().splitlines()] == runs

    again = PgBrowseApp(demo_factory, memory_probe=fixed_memory)  # a new process's view
    async with again.run_test(size=SIZE) as pilot:
        screen = await open_editor(again, pilot)
        screen.editor.set_text("SELECT now()")  # being written: kept while stepping
        await pilot.press("up")
        assert screen.editor.text == "SHOW work_mem"
        await pilot.press("up", "up")
        assert screen.editor.text == "SELECT 1 AS one"
        await pilot.press("up")  # the oldest stays
        assert screen.editor.text == "SELECT 1 AS one"
        await pilot.press("down", "down", "down")
        assert screen.editor.text == "SELECT now()"
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(again.screen, HistoryScreen))
        await pilot.press(*"TWO")
        history = again.screen
        assert isinstance(history, HistoryScreen) and history.found == [runs[1]]
        await pilot.press("enter")
        await wait_for(pilot, lambda: again.screen is screen)
        assert screen.editor.text == runs[1]


def test_history_keeps_its_limit_and_survives_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"sql": "SELECT 0"}\nnot json\n')
    history = QueryHistory(path, limit=3)
    assert history.entries == ["SELECT 0"]
    for n in range(1, 6):
        history.add(f"SELECT {n}")
        history.add(f"SELECT {n}")  # (twice in a row: once)
    assert history.entries == ["SELECT 3", "SELECT 4", "SELECT 5"]
    assert QueryHistory(path, limit=3).entries == history.entries


async def test_completion_of_a_column_name(scratch, scratch_dsn: str) -> None:
    execute(
        scratch_dsn,
        'CREATE SCHEMA IF NOT EXISTS "Ed [x]"',
        'CREATE TABLE IF NOT EXISTS "Ed [x]".readings'
        ' (id int, "Temperature °C" numeric, temper_note text)',
    )
    app = PgBrowseApp(ConnectionFactory(scratch_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        editor = screen.editor
        await wait_for(pilot, lambda: bool(app.completion.relations))
        await pilot.press(*"* FROM ", "E", "d", "tab")  # one schema fits: inserted, quoted
        assert editor.text == 'SELECT * FROM "Ed [x]"'
        await pilot.press(".", "r", "e", "tab")
        assert editor.text == 'SELECT * FROM "Ed [x]".readings'
        await pilot.press("space", *"WHERE ")
        await wait_for(pilot, lambda: ("Ed [x]", "readings") in app.completion.columns)
        await pilot.press("t", "e", "m", "p", "tab")  # two columns fit: a list to choose from
        assert editor.completing
        offered = [str(o.prompt) for o in editor.popup.options]
        assert offered[:2] == ['"Temperature °C"', "temper_note"]
        await pilot.press("down", "tab")
        assert editor.text == 'SELECT * FROM "Ed [x]".readings WHERE temper_note'
        assert not editor.completing
        await pilot.press(*" IS NULL", "ctrl+r")  # and it runs
        view = await open_table(app, pilot)
        assert [c.name for c in view.state.columns] == ["id", "Temperature °C", "temper_note"]


async def test_a_write_is_refused_by_the_server_with_its_message(scratch, scratch_dsn: str) -> None:
    execute(scratch_dsn, "CREATE SEQUENCE IF NOT EXISTS editor_seq")
    execute(scratch_dsn, "CREATE TABLE IF NOT EXISTS editor_w AS SELECT 1 AS n")
    ((before,),) = direct(scratch_dsn, "SELECT last_value FROM editor_seq")
    app = PgBrowseApp(ConnectionFactory(scratch_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        # A VOLATILE built-in: refused by the catalog check, before anything is sent.
        screen.editor.set_text("SELECT nextval('editor_seq')")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "Refused" in error_line(screen))
        said = error_line(screen)
        assert "pg_catalog.nextval() is VOLATILE" in said and "allowed_functions" in said
        # A write the parser lets through (FOR UPDATE): the read-only transaction says no.
        screen.editor.set_text("SELECT * FROM editor_w FOR UPDATE")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "read-only" in error_line(screen))
        assert app.screen is screen  # back where the text is
        said = error_line(screen)
        assert "cannot execute SELECT FOR UPDATE in a read-only transaction" in said
        assert "nothing was changed" in said
        screen.editor.set_text("INSERT INTO editor_t VALUES (1)")  # not a SELECT: not sent
        await pilot.press("ctrl+r")
        assert "INSERT is not run here" in error_line(screen)
    assert direct(scratch_dsn, "SELECT last_value FROM editor_seq") == [(before,)]
    assert direct(scratch_dsn, "SELECT n FROM editor_w") == [(1,)]


async def test_every_page_refused_goes_back_once(scratch, scratch_dsn: str) -> None:
    """A refused query's view asks again (a resize, a scroll) before the UI has heard of
    the first failure, as on a loaded machine: two failures queue up; it goes back to the
    editor once, and the second does not take the editor away too."""
    app = PgBrowseApp(ConnectionFactory(scratch_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        screen.editor.set_text(  # (it fails after counting 3M rows: time to look)
            "SELECT g / (SELECT count(*) - count(*) FROM generate_series(1, 3000000))"
            " FROM generate_series(1, 500) g"
        )
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        view = app.screen.query_one(TableView)
        await wait_for(pilot, lambda: view.loader.job > 0)  # the view has asked for its pages

        def failed_again(jobs: int) -> None:  # (the UI's loop does not run meanwhile)
            deadline = time.monotonic() + 10
            while view.loader.job <= jobs or view.loader.in_flight is not None:
                assert time.monotonic() < deadline
                time.sleep(0.02)

        failed_again(0)
        view.loader.want([0, 1])
        failed_again(1)
        await wait_for(pilot, lambda: "division by zero" in error_line(screen))
        await pilot.pause(0.3)
        assert app.screen is screen
        assert screen.editor.text.startswith("SELECT g /")


async def test_explain_and_show(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot)
        screen.editor.set_text(
            "EXPLAIN SELECT o.id, c.name FROM shop.orders o"
            " JOIN shop.customers c ON c.id = o.customer_id WHERE o.id < 100 ORDER BY o.id"
        )
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        plan = app.screen
        await wait_for(pilot, lambda: plan.result is not None)
        labels = plan.plan_labels
        assert any("Index Scan using orders_pkey on orders o" in line for line in labels)
        scans = [line for line in labels if "Scan" in line]
        assert len(scans) >= 2 and min(len(s) - len(s.lstrip()) for s in scans) > 0  # nested
        assert any(line.strip().startswith("Index Cond: (id < 100)") for line in labels)
        await pilot.press("escape")
        screen.editor.set_text("SHOW statement_timeout")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        shown = app.screen
        await wait_for(pilot, lambda: shown.result is not None)
        assert str(shown.query_one("#report-text").render()).startswith("30s")
        await pilot.press("escape")

    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:  # x: the plan of the view's own seek
        view = await open_table(app, pilot)
        view.goto(500_000)
        await wait_for(pilot, lambda: view.cursor_row == 500_000 and rows_shown(view))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        plan = app.screen
        await wait_for(pilot, lambda: plan.result is not None)
        title = str(plan.query_one("#statement-title").render())
        assert "EXPLAIN (ANALYZE false)" in title and '("id") >=' in title
        assert plan.plan_labels[0].startswith("Index Scan using orders_pkey on orders")
        assert any("Index Cond: (id >=" in line for line in plan.plan_labels)
        explained = [s.sql for s in view.pager.statements if s.sql.startswith("EXPLAIN (ANALYZE")]
        assert len(explained) == 1  # planned in the view's own session, never run


async def test_esc_cancels_a_search_on_the_server(
    demo_factory: ConnectionFactory, demo_dsn: str
) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_table(app, pilot)
        screen = app.screen
        assert isinstance(screen, TableScreen)
        await pilot.press("slash", *"not in any row", "enter")
        await wait_for(pilot, lambda: "searching shop.orders" in screen.position_text())
        line = screen.position_text()
        assert "'not in any row' in 7 columns, on from row 1" in line and "Esc cancels" in line
        assert any(s in line for s in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # and a spinner with seconds
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: any("Search cancelled" in n.message for n in app._notifications), 3
        )
        assert app.screen is screen  # the view stays
        assert not any("canceling statement" in n.message for n in app._notifications)
        deadline = time.monotonic() + 3
        while direct(
            demo_dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE '%not in any row%' AND pid <> pg_backend_pid()",
        ) != [(0,)]:
            assert time.monotonic() < deadline, "the search still runs on the server"
            time.sleep(0.05)
        await wait_for(pilot, lambda: "searching" not in screen.position_text(), 2)


async def test_compare_and_export_follow_a_filtered_view(
    demo_factory: ConnectionFactory, demo_dsn: str, tmp_path: Path
) -> None:
    ((count,),) = direct(demo_dsn, f"SELECT count(*) FROM shop.orders WHERE {FILTER}")
    assert 1_000 < count < 50_000
    app = PgBrowseApp(
        demo_factory,
        initial=relation(demo_factory, "shop.orders"),
        memory_probe=fixed_memory,
        compare_limits=(50_000, 100),  # the table is over the limit, the view is not
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        screen = app.screen
        await pilot.press("f", *FILTER, "enter")
        await wait_for(pilot, lambda: view.state.filter == FILTER and view.laid_out)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        await wait_for(pilot, lambda: len(compare.results) == 2, 30)
        assert compare.title_text == f"shop.orders where {FILTER}"
        naive = compare.results["naive"]
        assert not isinstance(naive, Exception), naive
        assert naive.rows == count  # the filtered view, read whole: not refused
        await pilot.press("escape")

        files = {}
        for fmt in ("csv", "jsonl", "tsv"):
            await wait_for(pilot, lambda: app.screen is screen)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
            export = app.screen
            title = str(export.query_one("#export-title").render())
            assert f"shop.orders where {FILTER}" in title
            if fmt == "jsonl":  # chosen in the dialog: the file name follows
                export.query_one("#format-jsonl").value = True
                await pilot.pause()
                name = export.query_one("#export-path").value
                assert name.endswith(".jsonl")
            box = export.query_one("#export-path")
            box.value = str(tmp_path / f"orders.{fmt}")  # the extension chooses the format
            await pilot.pause()
            assert export.format == fmt
            await pilot.press("enter")
            await wait_for(pilot, lambda e=export: e.result is not None, 30)
            assert export.result.rows == count, export.result
            files[fmt] = tmp_path / f"orders.{fmt}"
            await pilot.press("escape")

    with files["csv"].open(newline="") as file:
        table = list(csv.reader(file))
    header, rows = table[0], table[1:]
    objects = [json.loads(line) for line in files["jsonl"].read_text().splitlines()]
    assert len(objects) == len(rows) == count
    assert all(list(o) == header for o in objects)  # the columns, in order
    as_csv = [["" if v is None else v for v in o.values()] for o in objects]
    assert as_csv == rows  # the same values, in the same order
    assert any(o["note"] is None for o in objects)  # NULL stays null
    lines = files["tsv"].read_text().splitlines()
    assert lines[0].split("\t") == header and len(lines) == count + 1
    assert [line.split("\t")[0] for line in lines[1:]] == [r[0] for r in rows]


async def test_the_editor_highlights_sql_with_the_sql_grammar_alone(
    demo_factory: ConnectionFactory,
) -> None:
    """Issue 26: pgbrowse depends on tree-sitter and its SQL grammar, not textual[syntax]'s
    16 grammars; the editor still highlights SQL."""
    import importlib.metadata

    from textual.document._syntax_aware_document import SyntaxAwareDocument

    requires = importlib.metadata.requires("pgbrowse") or []
    plain = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("tree-sitter-sql") for r in plain), plain
    assert not any("[syntax]" in r or "tree-sitter-rust" in r for r in plain), plain
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        editor = app.screen.query_one(SqlEditor)
        assert isinstance(editor.document, SyntaxAwareDocument)
        editor.text = "SELECT id FROM shop.orders WHERE amount > 10"
        await pilot.pause(0.2)
        assert editor._highlights  # (tree-sitter's SQL captures: keywords, numbers…)
