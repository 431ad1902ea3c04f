"""Benchmark: following foreign keys in the real app, headless, at growing table sizes.

    python tests/benchmarks/bench_foreign_keys.py                  # 100k and 10M rows
    python tests/benchmarks/bench_foreign_keys.py --sizes 1000 --cycles 5

Two tables per size on one embedded server: ``fk_customers_N`` (N rows, primary key id)
and ``fk_orders_N`` (N rows, customer_id references fk_customers_N, with an index). From a
random order, ``o`` follows customer_id to its customer (a new view, positioned on the row
by a seek on its key), Esc goes back, and ``R`` from the customer opens the orders that
reference it (a filtered lazy view). Each is timed from the key to every visible row
drawn; the app's RSS is read after every cycle. Each size runs in a fresh process. Not a
test: it prints figures (issue 15's target: each under 50 ms, memory flat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import HEADER_LINES, TableView


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.0005)


def drawn(view: TableView) -> bool:
    """Laid out, landed where it lands, and every visible row in the cache."""
    if not view.laid_out or view.scrollable_content_region.height <= HEADER_LINES:
        return False
    if view.pager.landing is not None or (view.state.landed is not None and view._landing):
        return False
    size = view.state.page_size
    rows = view.visible_rows()
    return bool(rows) and all(view.cache.get(view.state.frame, r // size) for r in rows)


def top_view(app: PgBrowseApp) -> TableView | None:
    screen = app.screen
    return screen.view if isinstance(screen, TableScreen) and hasattr(screen, "view") else None


async def key(pilot: Pilot, name: str, done: Callable[[], bool]) -> float:
    started = time.perf_counter()
    pilot.app.simulate_key(name)
    await until(done)
    return (time.perf_counter() - started) * 1000


async def run(dsn: str, rows: int, cycles: int) -> dict[str, list[float]]:
    factory = ConnectionFactory(dsn)
    conn = factory.connect()
    orders = find_relation(conn, f"fk_orders_{rows}")
    conn.close()
    app = PgBrowseApp(factory, initial=orders)
    me = psutil.Process()
    out: dict[str, list[float]] = {"follow": [], "back": [], "referencing": [], "rss": []}
    chance = random.Random(15)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: (v := top_view(app)) is not None and drawn(v))
        source = app.screen
        view = top_view(app)
        assert view is not None
        view.show_column([c.name for c in view.state.columns].index("customer_id"))
        for _ in range(cycles):
            view.goto(chance.randrange(max(1, view.row_count - 50)))
            await until(lambda: drawn(view))
            await pilot.pause()
            follow = await key(
                pilot,
                "o",
                lambda: app.screen is not source and (v := top_view(app)) is not None and drawn(v),
            )
            customers = app.screen
            referencing = await key(
                pilot,
                "R",
                lambda c=customers: (
                    app.screen not in (source, c) and (v := top_view(app)) is not None and drawn(v)
                ),
            )
            await key(pilot, "escape", lambda c=customers: app.screen is c)
            back = await key(pilot, "escape", lambda: app.screen is source and drawn(view))
            out["follow"].append(follow)
            out["referencing"].append(referencing)
            out["back"].append(back)
            out["rss"].append(me.memory_info().rss / 2**20)
    return out


def create(dsn: str, sizes: list[int]) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for n in sizes:
            print(f"creating fk_customers_{n} and fk_orders_{n}…", file=sys.stderr)
            cur.execute(
                f"""
                CREATE TABLE fk_customers_{n} AS
                    SELECT g AS id, 'customer ' || g AS name FROM generate_series(1, {n}) g;
                ALTER TABLE fk_customers_{n} ADD PRIMARY KEY (id);
                CREATE TABLE fk_orders_{n} AS
                    SELECT g::bigint AS id, 1 + (g::bigint * 7919) % {n} AS customer_id,
                           round((g % 10000) / 100.0, 2) AS amount
                    FROM generate_series(1, {n}) g;
                ALTER TABLE fk_orders_{n} ADD PRIMARY KEY (id);
                CREATE INDEX ON fk_orders_{n} (customer_id);
                ALTER TABLE fk_orders_{n} ADD FOREIGN KEY (customer_id)
                    REFERENCES fk_customers_{n};
                ANALYZE fk_customers_{n}; ANALYZE fk_orders_{n};
                """
            )
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 10_000_000])
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        dsn, rows, cycles = args.child
        print(json.dumps(asyncio.run(run(dsn, int(rows), int(cycles)))))
        return
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_bench_fk")
        create(dsn, args.sizes)
        print(
            f"{'rows':>12}  {'follow ms p50/p95':>18}  {'back ms p50/p95':>16}"
            f"  {'referencing p50/p95':>20}  {'RSS MB first/last':>18}"
        )
        for n in args.sizes:
            result = subprocess.run(
                [sys.executable, __file__, "--child", dsn, str(n), str(args.cycles)],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(result.stdout.strip().splitlines()[-1])

            def p(name: str, figures: dict[str, list[float]] = figures) -> str:
                values = sorted(figures[name])
                p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
                return f"{statistics.median(values):6.1f} /{p95:6.1f}"

            rss = figures["rss"]
            print(
                f"{n:>12,}  {p('follow'):>18}  {p('back'):>16}  {p('referencing'):>20}"
                f"  {rss[0]:8.1f} /{rss[-1]:6.1f}"
            )


if __name__ == "__main__":
    main()
