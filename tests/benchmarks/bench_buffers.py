"""Benchmark (issue 26): 20 views of 10,000,000-row tables open at once (Ctrl+T), each
read at its start and its end, in the real app (headless, ``App.run_test``).

    python tests/benchmarks/bench_buffers.py [--rows 10000000] [--views 20]

Prints, after each view is opened and read: the process's RSS, the rows held in every
view's cache, and the server sessions pgbrowse holds. A view in the background keeps only
the rows in sight and no connection, so memory stays flat and one session is held. Not a
test.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import psutil
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # (for tests.helpers)

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.demo.embedded import EmbeddedServer
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import fixed_memory, pgbrowse_sessions, rows_shown, wait_for


async def read_start_and_end(app: PgBrowseApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """The view just opened: its first rows, its last, two pages back from there."""
    await wait_for(pilot, lambda: isinstance(app.screen, TableScreen), 30)
    screen = app.screen
    assert isinstance(screen, TableScreen)
    await wait_for(pilot, lambda: screen.is_mounted and rows_shown(screen.view), 60)
    await pilot.press("end")
    await wait_for(pilot, lambda: screen.view.cursor_row > 0 and rows_shown(screen.view), 60)
    await pilot.press("pageup", "pageup")
    await pilot.pause(0.3)


async def run(dsn: str, views: int, tables: int) -> None:
    factory = ConnectionFactory(dsn)
    conn = psycopg2.connect(dsn)
    relations = [find_relation(conn, f"big_{i % tables}") for i in range(views)]
    conn.close()
    app = PgBrowseApp(factory, memory_probe=fixed_memory)
    me = psutil.Process()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(1)
        print(
            f"{'views':>5}  {'RSS MB':>7}  {'rows cached':>11}  {'sessions':>8}  {'open+end s':>10}"
        )
        for n, relation in enumerate(relations, 1):
            assert relation is not None
            started = time.monotonic()
            app.open_relation(relation, new_buffer=True)
            await read_start_and_end(app, pilot)
            seconds = time.monotonic() - started
            await pilot.press("ctrl+pageup")  # (to the one before: this one goes behind)
            await pilot.pause(0.5)
            cached = sum(
                s.view.cache.stats().rows
                for stack in app._screen_stacks.values()
                for s in stack
                if isinstance(s, TableScreen)
            )
            rss = me.memory_info().rss / 2**20
            sessions = pgbrowse_sessions(dsn)
            print(f"{n:>5}  {rss:>7.1f}  {cached:>11,}  {sessions:>8}  {seconds:>10.2f}")
            await pilot.press("ctrl+pagedown")  # (back: the next opens beside it)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--tables", type=int, default=2, help="distinct big tables")
    args = parser.parse_args()
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_buffers")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            for i in range(args.tables):
                cur.execute(
                    f"CREATE TABLE big_{i} AS SELECT g AS id, md5(g::text) AS t,"
                    f" g % 1000 AS k FROM generate_series(1, {args.rows}) g;"
                    f" ALTER TABLE big_{i} ADD PRIMARY KEY (id); ANALYZE big_{i}"
                )
        conn.close()
        asyncio.run(run(dsn, args.views, args.tables))


if __name__ == "__main__":
    main()
