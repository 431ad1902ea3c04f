"""Benchmark: drive the real app headless over tables of growing size and print one table.

    python tests/benchmarks/bench_browse.py            # 1k, 1M and 10M rows
    python tests/benchmarks/bench_browse.py --huge     # and 100M rows (several GB of disk)

Each size runs in a fresh process (so RSS figures are comparable) against one embedded
server; every figure is the median of --runs runs. Not a test: it prints, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import psutil
import psycopg2
from textual.pilot import Pilot

from pgbrowse.db.catalog import find_relation
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.embedded import EmbeddedServer
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES, TableView

SIZES = [1_000, 1_000_000, 10_000_000]
HUGE = 100_000_000


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await pilot.pause(0.001)


def drawn(view: TableView) -> bool:
    """Every visible line has its row (no placeholder left)."""
    if not view.widths:
        return False
    size = view.pager.page_size
    return all(view.pager.cached(r // size) is not None for r in view.visible_rows())


async def one_run(dsn: str, table: str, pagedowns: int) -> dict[str, float | list[float]]:
    factory = ConnectionFactory(dsn)
    conn = factory.connect()
    relation = find_relation(conn, table)
    conn.close()
    app = PgBrowseApp(factory, initial=None)
    out: dict[str, float | list[float]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.perf_counter()
        app.open_relation(relation)  # type: ignore[arg-type]
        await until(pilot, lambda: bool(app.screen.query(TableView)))
        view = app.screen.query_one(TableView)
        await until(pilot, lambda: drawn(view))
        out["open_ms"] = (time.perf_counter() - started) * 1000

        latencies = []
        for _ in range(pagedowns):
            started = time.perf_counter()
            await pilot.press("pagedown")
            await until(pilot, lambda: drawn(view))
            latencies.append((time.perf_counter() - started) * 1000)
        out["pagedown_ms"] = latencies

        started = time.perf_counter()
        await pilot.press("G")
        await until(pilot, lambda: drawn(view) and view.cursor_row == view.row_count - 1)
        out["end_ms"] = (time.perf_counter() - started) * 1000
        assert view.render_line(HEADER_LINES).text.strip()
        out["fetched_rows"] = float(view.pager.rows_fetched)
        out["rss_mb"] = psutil.Process().memory_info().rss / 2**20
        await pilot.press("escape")
    return out


def child(dsn: str, table: str, runs: int, pagedowns: int) -> None:
    """One size in this fresh process: print the medians as JSON."""
    results = [asyncio.run(one_run(dsn, table, pagedowns)) for _ in range(runs)]
    pages = sorted(x for r in results for x in r["pagedown_ms"])  # type: ignore[union-attr]
    summary = {
        "open_ms": statistics.median(r["open_ms"] for r in results),  # type: ignore[misc]
        "end_ms": statistics.median(r["end_ms"] for r in results),  # type: ignore[misc]
        "pagedown_p50": pages[len(pages) // 2],
        "pagedown_p95": pages[min(len(pages) - 1, int(len(pages) * 0.95))],
        "rss_mb": max(r["rss_mb"] for r in results),  # type: ignore[type-var]
        "fetched_rows": results[-1]["fetched_rows"],
    }
    print(json.dumps(summary))


def create_tables(dsn: str, sizes: list[int]) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for n in sizes:
            print(f"creating bench_{n} ({n:,} rows)…", file=sys.stderr)
            cur.execute(
                f"CREATE TABLE bench_{n} AS SELECT g::bigint AS id, md5(g::text) AS label,"
                " (g % 1000)::numeric / 7 AS amount,"
                " timestamptz '2020-01-01' + g * interval '1 second' AS at"
                f" FROM generate_series(1, {n}) g"
            )
            cur.execute(f"ALTER TABLE bench_{n} ADD PRIMARY KEY (id)")
            cur.execute(f"VACUUM ANALYZE bench_{n}")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--huge", action="store_true", help=f"also {HUGE:,} rows")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pagedowns", type=int, default=30)
    parser.add_argument("--child", nargs=2, metavar=("DSN", "TABLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.runs, args.pagedowns)
        return
    sizes = SIZES + ([HUGE] if args.huge else [])
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_bench")
        create_tables(dsn, sizes)
        rows = []
        for n in sizes:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    dsn,
                    f"bench_{n}",
                    "--runs",
                    str(args.runs),
                    "--pagedowns",
                    str(args.pagedowns),
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise SystemExit(f"bench_{n} failed:\n{done.stderr}")
            rows.append((n, json.loads(done.stdout.strip().splitlines()[-1])))
    head = (
        f"{'rows':>12} {'open ms':>8} {'End ms':>8} {'PgDn p50':>9} {'PgDn p95':>9} {'RSS MB':>7}"
    )
    print(head)
    for n, r in rows:
        print(
            f"{n:>12,} {r['open_ms']:>8.1f} {r['end_ms']:>8.1f} {r['pagedown_p50']:>9.1f}"
            f" {r['pagedown_p95']:>9.1f} {r['rss_mb']:>7.1f}"
        )


if __name__ == "__main__":
    main()
