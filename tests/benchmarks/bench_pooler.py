"""Benchmark: what two browsing pgbrowse views cost everyone else behind a small pool.

    python tests/benchmarks/bench_pooler.py [--seconds 20] [--every 2] [--clients 4] [--repeat 3]

Starts the embedded server, a real PgBouncer (transaction pooling, pool size 2) in front of
it, and pgbench (TPC-B-like, scale 5, --clients through the pooler). A browser is a process
of its own running the real CursorPager and PageLoader, paging a 1,000,000-row table one
page every --every seconds, 20 % of the moves far jumps. pgbench's throughput is counted on
the server (rows of pgbench_history) over a --seconds window:

- --repeat rounds of pgbench alone, then with two browsers through the pooler;
- with two browsers connected straight to the server: what browsing costs the machine
  (CPU, disks), with no pool involved;
- with two browsers through the pooler keeping their transaction for the configured 30 s,
  as pgbrowse did before issue 13.

Prints each run's tps and the browsers' page times (ms from asking to having the rows; a
page read after the transaction was given back includes connecting and seeking again).
Not a test: issue 13's target is >= 90 % of the throughput without browsers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # (for tests.components)

import psycopg2

from pgbrowse import defaults
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.loader import PageLoader
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.embedded import EmbeddedServer
from tests.components import pgbouncer

ROWS = 1_000_000


def browse(dsn: str, every: float, holding: bool, stop: Any, out: multiprocessing.Queue) -> None:
    """One browser: a page every ``every`` s until ``stop`` is set; puts its page times."""
    if holding:  # as before issue 13: the configured idle release, pooled or not
        defaults.POOLED_RELEASE_S = defaults.POOLED_WALK_RELEASE_S = 30.0
    done = threading.Event()
    pager = CursorPager(
        ConnectionFactory(dsn), Relation("public", "browsed", "r", None, ROWS), page_size=100
    )
    loader = PageLoader(pager, lambda *_: done.set(), idle_release_s=30.0)
    loader.start()
    times: list[float] = []
    held = 0.0  # seconds this browser held a transaction (a server connection of the pool)
    page, rng = 0, random.Random()
    began = time.monotonic()
    while not stop.is_set():
        page = rng.randrange(ROWS // 100) if rng.random() < 0.2 else page + 1
        done.clear()
        started = time.perf_counter()
        loader.want([page])
        done.wait(30)
        times.append((time.perf_counter() - started) * 1000)
        while pager.holds_transaction and time.perf_counter() - started < every:
            time.sleep(0.0005)
        held += time.perf_counter() - started
        stop.wait(max(0.0, every - (time.perf_counter() - started)))
    loader.stop()
    out.put((times, held / (time.monotonic() - began)))


def committed(direct: str) -> int:
    """pgbench transactions committed so far (each adds one row to pgbench_history)."""
    conn = psycopg2.connect(direct)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pgbench_history")
            return int((cur.fetchone() or (0,))[0])
    finally:
        conn.close()


def run(
    direct: str,
    pooled: str,
    args: argparse.Namespace,
    browsers: int,
    holding: bool,
    browse_direct: bool = False,
):
    """pgbench's throughput over a --seconds window while ``browsers`` browse, counted on
    the server (time pgbench spends waiting for a pool slot counts, as it does for users);
    the browsers' page times; the share of the pool's time they held a connection."""
    stop = multiprocessing.Event()
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=browse,
            args=(direct if browse_direct else pooled, args.every, holding, stop, out),
        )
        for _ in range(browsers)
    ]
    for proc in procs:
        proc.start()
    params = psycopg2.extensions.parse_dsn(pooled)
    bench = subprocess.Popen(
        [
            "pgbench",
            *("-h", params["host"], "-p", params["port"], "-U", "postgres"),
            *("-c", str(args.clients), "-j", "2", "-T", str(int(args.seconds) + 600), "-n"),
            params["dbname"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)  # (everyone connected)
    before, started = committed(direct), time.monotonic()
    time.sleep(args.seconds)
    tps = (committed(direct) - before) / (time.monotonic() - started)
    bench.terminate()
    bench.wait()
    stop.set()
    reports = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    times = [t for report in reports for t in report[0]]
    # The share of the pool's connection time the browsers held (pool of 2).
    share = sum(report[1] for report in reports) / 2
    return tps, times, share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        dsn = server.create_database("bench")
        params = psycopg2.extensions.parse_dsn(dsn)
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "5", "-h", params["host"], "-U", "postgres", "bench"],
            capture_output=True,
            check=True,
        )
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE browsed AS SELECT g AS id, md5(g::text) AS t"
                f" FROM generate_series(1, {ROWS}) g"
            )
            cur.execute("ALTER TABLE browsed ADD PRIMARY KEY (id)")
            cur.execute("VACUUM ANALYZE")
        conn.close()
        with pgbouncer(dsn, "transaction", pool_size=2) as pooled:
            print(f"pgbench through PgBouncer (transaction, pool 2), {args.clients} clients,")
            print(f"{args.seconds:g} s a run; browsers page every {args.every:g} s\n")
            heads = ("tps", 8), ("% alone", 8), ("page ms p50", 12), ("p95", 8), ("pool held", 10)
            print(" " * 26, *(f"{head:>{width}}" for head, width in heads))
            ratios = []
            alone = 0.0

            def row(label: str, tps: float, times: list[float], share: float | None) -> None:
                held = "-" if share is None else f"{100 * share:.2f}%"  # (not pooled: none)
                print(
                    f"{label:26} {tps:8.1f} {100 * tps / alone:8.0f}"
                    f" {statistics.median(times):12.1f} {percentile_95(times):8.1f} {held:>10}"
                )

            for round_ in range(1, args.repeat + 1):  # (alone and with, side by side in time)
                alone, _, _ = run(dsn, pooled, args, 0, False)
                print(f"{f'{round_}: pgbench alone':26} {alone:8.1f} {100:8.0f}")
                tps, times, share = run(dsn, pooled, args, 2, False)
                ratios.append(tps / alone)
                row(f"{round_}: + 2 pgbrowse", tps, times, share)
            tps, times, _ = run(dsn, pooled, args, 2, False, browse_direct=True)
            row("+ 2 pgbrowse, not pooled", tps, times, None)
            row("+ 2 holding 30 s (before)", *run(dsn, pooled, args, 2, True))
            print(
                f"\nwith two pgbrowse views: median {100 * statistics.median(ratios):.0f} %"
                " of pgbench's throughput alone (target >= 90 %); pool held: the share of the"
                "\npool's connection time the two views held a transaction"
            )


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    main()
