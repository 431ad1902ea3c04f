"""Benchmark: drive the real app headless over tables of growing size and print one table.

    python tests/benchmarks/bench_browse.py              # 1k, 1M and 10M rows, with a key
    python tests/benchmarks/bench_browse.py --huge       # and 100M rows (about 9 GB of disk)
    python tests/benchmarks/bench_browse.py --kind both  # tables without a key too (ctid)

Each table runs in a fresh process (so RSS figures are comparable) against one embedded
server; every figure is the median of --runs runs. Keys are posted straight to the app
(``App.simulate_key``) and the clock stops when every visible row is drawn, so the figures
are the app's own latency, not Pilot's settling time. "held" presses PageDown 30 times at
key-repeat speed (every 33 ms) and counts the frames that still showed placeholder rows.
Not a test: it prints figures and how they compare with issue 3's targets.
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

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.demo.embedded import EmbeddedServer
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.goto import GotoScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import HEADER_LINES, TableView

SIZES = [1_000, 1_000_000, 10_000_000]
HUGE = 100_000_000


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)


READY = "screen"  # or "cache": see --ready


CHROME = 4  # the table screen's lines besides the view: title, position, memory, keys


def laid_out_rows(view: TableView) -> int:
    """The data rows the view shows once its screen is laid out at the terminal's size (a
    view is first laid out small, so a wait for "drawn" could end on a one-row view)."""
    return view.app.size.height - CHROME - HEADER_LINES - 1  # (- 1: the horizontal scrollbar)


def drawn(view: TableView) -> bool:
    """Every visible line has its row (no placeholder left): the view has been told of
    every visible page (``--ready screen``), or, as issue 3's figures were taken, the
    pages are in the pager's cache, whether or not the view has heard yet (``cache``)."""
    if not view.laid_out or view.data_height < laid_out_rows(view):
        return False  # (not laid out yet, or laid out for fewer rows than the screen holds)
    if READY == "cache":
        size = view.pager.page_size
        return all(view.pager.cached(r // size) is not None for r in view.visible_rows())
    size = view.state.page_size
    return all(view.cache.get(view.state.frame, r // size) is not None for r in view.visible_rows())


async def timed_key(pilot: Pilot, key: str, done: Callable[[], bool]) -> float:
    """Milliseconds from posting ``key`` to ``done()`` (every visible row drawn)."""
    started = time.perf_counter()
    pilot.app.simulate_key(key)
    await until(pilot, done)
    return (time.perf_counter() - started) * 1000


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
            # (a small table ends before 30 pages: the last PageDown stops at its last row)
            target = min(view.cursor_row + view.data_height, view.row_count - 1)
            latencies.append(
                await timed_key(
                    pilot, "pagedown", lambda t=target: view.cursor_row == t and drawn(view)
                )
            )
        out["pagedown_ms"] = latencies

        await pilot.press("g")
        await until(pilot, lambda: drawn(view) and view.cursor_row == 0)
        out["end_ms"] = await timed_key(
            pilot, "G", lambda: view.cursor_row == view.row_count - 1 and drawn(view)
        )
        assert view.render_line(HEADER_LINES).text.strip()

        await pilot.press("g")
        await until(pilot, lambda: drawn(view) and view.cursor_row == 0)
        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, GotoScreen))
        await pilot.press(*"50%")
        target = round(0.5 * view.row_count)
        out["goto_ms"] = await timed_key(
            pilot,
            "enter",
            lambda: (
                isinstance(app.screen, TableScreen) and view.cursor_row == target and drawn(view)
            ),
        )
        await pilot.press("g")
        await until(pilot, lambda: drawn(view) and view.cursor_row == 0)
        placeholders = 0
        for _ in range(30):  # PageDown held down: one press per 33 ms, no waiting
            app.simulate_key("pagedown")
            await pilot.pause(0.033)
            placeholders += not drawn(view)
        out["held"] = float(placeholders)

        out["fetched_rows"] = float(view.pager.rows_fetched)
        out["rss_mb"] = psutil.Process().memory_info().rss / 2**20
        await pilot.press("escape")
    return out


def child(dsn: str, table: str, runs: int, pagedowns: int) -> None:
    """One table in this fresh process: print the medians as JSON."""
    results = [asyncio.run(one_run(dsn, table, pagedowns)) for _ in range(runs)]
    pages = sorted(x for r in results for x in r["pagedown_ms"])  # type: ignore[union-attr]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)  # type: ignore[misc]

    summary = {
        "open_ms": median("open_ms"),
        "end_ms": median("end_ms"),
        "goto_ms": median("goto_ms"),
        "held": median("held"),
        "pagedown_p50": pages[len(pages) // 2],
        "pagedown_p95": pages[min(len(pages) - 1, int(len(pages) * 0.95))],
        "rss_mb": max(r["rss_mb"] for r in results),  # type: ignore[type-var]
        "fetched_rows": results[-1]["fetched_rows"],
    }
    print(json.dumps(summary))


def create_tables(dsn: str, sizes: list[int], kinds: list[str]) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for n in sizes:
            for kind in kinds:
                name = f"bench_{kind}_{n}"
                print(f"creating {name} ({n:,} rows)…", file=sys.stderr)
                cur.execute(
                    f"CREATE TABLE {name} AS SELECT g::bigint AS id, md5(g::text) AS label,"
                    " (g % 1000)::numeric / 7 AS amount,"
                    " timestamptz '2020-01-01' + g * interval '1 second' AS at"
                    f" FROM generate_series(1, {n}) g"
                )
                if kind == "pk":
                    cur.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
                cur.execute(f"VACUUM ANALYZE {name}")
    conn.close()


def report(rows: list[tuple[int, str, dict[str, float]]]) -> None:
    print(
        f"{'rows':>12} {'kind':>5} {'open ms':>8} {'End ms':>7} {'goto50%':>8}"
        f" {'PgDn p50':>9} {'PgDn p95':>9} {'held':>5} {'RSS MB':>7}"
    )
    for n, kind, r in rows:
        print(
            f"{n:>12,} {kind:>5} {r['open_ms']:>8.1f} {r['end_ms']:>7.1f} {r['goto_ms']:>8.1f}"
            f" {r['pagedown_p50']:>9.1f} {r['pagedown_p95']:>9.1f} {r['held']:>3.0f}/30"
            f" {r['rss_mb']:>7.1f}"
        )
    by = {(n, kind): r for n, kind, r in rows}
    for kind in dict.fromkeys(k for _, k, _ in rows):
        small, big = by.get((SIZES[0], kind)), by.get((10_000_000, kind))
        if small is None or big is None:
            continue
        print(
            f"{kind} 10M vs 1k: End {big['end_ms']:.1f} ms"
            f" (x{big['end_ms'] / small['end_ms']:.2f}),"
            f" goto {big['goto_ms']:.1f} ms (x{big['goto_ms'] / small['goto_ms']:.2f});"
            f" open x{big['open_ms'] / small['open_ms']:.2f};"
            f" RSS x{big['rss_mb'] / small['rss_mb']:.2f}"
            "   [targets: End and goto < 100 ms and < x2; open < x1.2; RSS < x1.1]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--huge", action="store_true", help=f"also {HUGE:,} rows")
    parser.add_argument(
        "--kind",
        choices=["pk", "heap", "both"],
        default="pk",
        help="tables with a primary key (keyset seeks), without (ctid), or both",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pagedowns", type=int, default=30)
    parser.add_argument(
        "--ready",
        choices=["screen", "cache"],
        default="screen",
        help="when a key's rows count as drawn: the view has them (screen), or the pager's"
        " cache has them (cache: how issue 3's figures were taken)",
    )
    parser.add_argument("--child", nargs=2, metavar=("DSN", "TABLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global READY
    READY = args.ready
    if args.child:
        child(args.child[0], args.child[1], args.runs, args.pagedowns)
        return
    sizes = SIZES + ([HUGE] if args.huge else [])
    kinds = ["pk", "heap"] if args.kind == "both" else [args.kind]
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_bench")
        create_tables(dsn, sizes, kinds)
        rows = []
        for n in sizes:
            for kind in kinds:
                command = [sys.executable, __file__, "--child", dsn, f"bench_{kind}_{n}"]
                command += ["--runs", str(args.runs), "--pagedowns", str(args.pagedowns)]
                command += ["--ready", args.ready]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"bench_{kind}_{n} failed:\n{done.stderr}")
                rows.append((n, kind, json.loads(done.stdout.strip().splitlines()[-1])))
    report(rows)


if __name__ == "__main__":
    main()
