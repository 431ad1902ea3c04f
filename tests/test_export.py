"""CSV export: the server's COPY streamed to a file, the same as psql's \\copy (issue 4)."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import threading
import time
import tracemalloc
from pathlib import Path

import pgserver
import pytest
from psycopg2 import sql

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import relation


def psql() -> str:
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    found = shutil.which("psql")
    return str(bundled) if bundled.exists() else found or "psql"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_export_of_a_million_rows_is_psqls_copy_and_memory_flat(
    demo_factory: ConnectionFactory, demo_dsn: str, tmp_path: Path
) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)  # the view, open: the export must not go through it
        fetched, statements = pager.rows_fetched, len(pager.statements)
        query = pager.export_query()
        out = tmp_path / "orders.csv"
        progress: list[tuple[int, int | None]] = []
        tracemalloc.start()
        done = Export(demo_factory, query, out, "shop.orders").run(
            lambda written, rows: progress.append((written, rows))
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert pager.rows_fetched == fetched and len(pager.statements) == statements
    finally:
        pager.close()
    assert done.rows == 1_000_000 and done.bytes == out.stat().st_size > 50 * 2**20
    assert peak < 4 * 2**20  # ~70 MB went through; Python held a few chunks at most
    assert 3 <= len(progress) < 1000 and progress[-1] == (done.bytes, 1_000_000)
    assert [w for w, _ in progress] == sorted(w for w, _ in progress)  # growing
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]  # no temporary file left

    conn = demo_factory.connect()
    text = query.as_string(conn)
    conn.close()
    theirs = tmp_path / "psql.csv"
    subprocess.run(
        [
            psql(),
            demo_dsn,
            "-X",
            "-q",
            "-c",
            f"\\copy ({text}) TO '{theirs}' WITH (FORMAT csv, HEADER)",
        ],
        check=True,
        timeout=120,
    )
    assert digest(out) == digest(theirs)


def test_a_cancelled_export_leaves_no_file(scratch, scratch_dsn: str, tmp_path: Path) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW slow_export AS SELECT g AS n,"
            " CASE WHEN g % 1000 = 0 THEN pg_sleep(0.05)::text END AS nap"
            " FROM generate_series(1, 1000000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    out = tmp_path / "slow.csv"
    export = Export(factory, sql.SQL("SELECT * FROM slow_export"), out, "slow_export")
    errors: list[PgBrowseError] = []

    def run() -> None:
        try:
            export.run()
        except PgBrowseError as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    assert export.partial is not None and export.partial.exists()  # streaming: it grows
    export.cancel()
    thread.join(10)
    assert errors and errors[0].title == "Cancelled"
    assert not out.exists() and export.partial is None
    assert os.listdir(tmp_path) == []


def test_hostile_values_round_trip_through_export(scratch, scratch_dsn: str, tmp_path) -> None:
    with scratch.cursor() as cur:
        cur.execute('DROP SCHEMA IF EXISTS "we\'ird ""schema""" CASCADE')
        cur.execute('CREATE SCHEMA "we\'ird ""schema"""')
        cur.execute(
            'CREATE TABLE "we\'ird ""schema"""."a,b;c" AS SELECT g AS "select",'
            " CASE WHEN g % 3 = 0 THEN NULL ELSE E'line\\nbreak, \"quoted\" 中🐘 ' || g END"
            ' AS "va""l" FROM generate_series(1, 50) g'
        )
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, '"we\'ird ""schema"""."a,b;c"'))
    try:
        shown = pager.rows(0, 50)
        out = tmp_path / "weird.csv"
        Export(factory, pager.export_query(), out, "weird").run()
    finally:
        pager.close()
    with out.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert header == ["select", 'va"l']
    assert rows == [[v if v is not None else "" for v in row] for row in shown]


async def test_export_from_the_app(demo_factory: ConnectionFactory, tmp_path: Path) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.export_screen import ExportScreen
    from pgbrowse.ui.table_screen import TableScreen
    from pgbrowse.ui.table_view import TableView
    from tests.helpers import fixed_memory, rows_shown, wait_for

    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    out = tmp_path / "samples.csv"
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        await wait_for(pilot, lambda: rows_shown(app.screen.query_one(TableView)))
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#export-path").value = str(tmp_path / "no" / "such" / "x.csv")
        await pilot.press("enter")
        assert "No such folder" in str(screen.query_one("#export-status").render())
        out.write_text("old")
        screen.query_one("#export-path").value = str(out)
        await pilot.press("enter")  # it exists: asks first
        assert "Enter again to overwrite" in str(screen.query_one("#export-status").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, timeout=30)
        status = str(screen.query_one("#export-status").render())
        assert "Exported 5,000 rows" in status and str(out) in status
        await pilot.press("escape")
        assert isinstance(app.screen, TableScreen)
    csv.field_size_limit(2**31 - 1)  # one value is 20 MB: exported whole
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert len(rows) == 5_001  # the header and every row
    assert max(len(v) for row in rows for v in row) > 20 * 10**6


def test_an_export_outlasts_the_browsing_timeout(scratch, scratch_dsn: str, tmp_path: Path) -> None:
    """The statement timeout bounds a view's statements, not an export: only a cancel does."""
    from pgbrowse.db.connection.connect import SessionSettings

    factory = ConnectionFactory(scratch_dsn, SessionSettings(statement_timeout_s=0.3))
    slow = sql.SQL(
        "SELECT g, CASE WHEN g % 100 = 0 THEN pg_sleep(0.02)::text END"
        " FROM generate_series(1, 3000) g"
    )
    with pytest.raises(PgBrowseError, match="timed out"):  # (a view's statement would stop)
        pager_like = factory.connect()
        try:
            with pager_like.cursor() as cur:
                cur.execute(slow)
        except Exception as error:
            from pgbrowse.db.connection.errors import describe

            raise describe(error, "reading") from None
        finally:
            pager_like.close()
    out = tmp_path / "slow.tsv"
    done = Export(factory, slow, out, "slow", "tsv", header=("g", "nap")).run()
    assert done.rows == 3000 and done.seconds > 0.3
    assert out.read_text().splitlines()[:2] == ["g\tnap", "1\t\\N"]
