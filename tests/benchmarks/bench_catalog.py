"""Benchmark: the relation list with 10,000 tables.

    python tests/benchmarks/bench_catalog.py [--tables N]

Prints the median time of the one catalog query, and of the app from start to the list
drawn and from a keystroke to the filtered list drawn.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import psycopg2
from textual.widgets import DataTable

from pgbrowse.db.catalog import list_relations
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.demo.embedded import EmbeddedServer
from pgbrowse.ui.app import PgBrowseApp


async def app_timings(factory: ConnectionFactory, tables: int) -> tuple[float, float]:
    app = PgBrowseApp(factory)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(DataTable)
        while table.row_count < tables:
            await pilot.pause(0.001)
        shown = time.perf_counter() - started
        started = time.perf_counter()
        await pilot.press("7")
        while table.row_count >= tables:
            await pilot.pause(0.001)
        filtered = time.perf_counter() - started
    return shown * 1000, filtered * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_bench")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                f"DO $$ BEGIN FOR i IN 1..{args.tables} LOOP"
                " EXECUTE format('CREATE TABLE t%s (id int)', i);"
                " IF i % 500 = 0 THEN COMMIT; END IF; END LOOP; END $$"
            )
        query = []
        for _ in range(args.runs):
            started = time.perf_counter()
            list_relations(conn)
            query.append((time.perf_counter() - started) * 1000)
        conn.close()
        factory = ConnectionFactory(dsn)
        ui = [asyncio.run(app_timings(factory, args.tables)) for _ in range(args.runs)]
    print(f"{args.tables:,} tables, median of {args.runs} runs")
    print(f"  catalog query:             {statistics.median(query):8.1f} ms")
    print(f"  app start to list drawn:   {statistics.median(u[0] for u in ui):8.1f} ms")
    print(f"  keystroke to filtered list:{statistics.median(u[1] for u in ui):8.1f} ms")


if __name__ == "__main__":
    main()
