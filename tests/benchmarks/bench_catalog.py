"""Benchmark: the relation list from 10 to 100,000 relations.

    python tests/benchmarks/bench_catalog.py [--sizes 10 10000 100000] [--runs 5]

For each size, a database with that many tables (made on the server with a DO loop, plus
a partitioned table of 2,000 partitions for the larger ones); each run is the real app
(headless, 120x40) in a fresh process, so RSS figures are comparable:

- connect: opening a connection (what "after the connection is up" leaves out);
- first lines: app start to the first screenful drawn (its one small query included);
- whole catalog: app start to every relation indexed (a background read);
- keystroke "7" (posted straight to the app, as bench_browse does): to Textual drawing
  the list's lines for it, and to the final count of matches;
- Esc: clearing the filter, to Textual drawing the whole list again;
- RSS once the whole catalog is in;
- End on a 100,000-row table named on the command line (the relation list under it), as
  soon as its rows show: to its last row read and the cursor on it.

Figures are medians of --runs runs; not a test: issue 14's targets are first lines <=
0.3 s after the connection is up, each keystroke and Esc <= 50 ms to the updated screen,
RSS within +10 MB of a 10-relation database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import time

import psutil
import psycopg2

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.demo.embedded import EmbeddedServer


async def measure(dsn: str) -> dict[str, float]:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.catalog_view import CatalogView
    from pgbrowse.ui.relation_list import RelationListScreen

    factory = ConnectionFactory(dsn)
    started = time.perf_counter()
    factory.connect().close()
    out = {"connect": time.perf_counter() - started}
    app = PgBrowseApp(factory)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, RelationListScreen)
        view = screen.query_one(CatalogView)

        drawn: list[tuple[str, float]] = []  # (the filter, when) of each line Textual drew
        render_line = view.render_line

        def spy(y: int):  # type: ignore[no-untyped-def]
            drawn.append((screen.listing.text, time.perf_counter()))
            return render_line(y)

        view.render_line = spy  # type: ignore[method-assign]

        async def until(condition) -> float:  # type: ignore[no-untyped-def]
            while not condition():
                await asyncio.sleep(0.0005)
            return time.perf_counter() - started

        async def drawn_with(text: str) -> float:
            """Until Textual draws the list's lines for filter ``text``."""
            while not any(t == text and when > started for t, when in drawn):
                await asyncio.sleep(0.0005)
            return min(when for t, when in drawn if t == text and when > started) - started

        out["first lines"] = await until(lambda: len(screen.listing.lines) > 0)
        out["whole catalog"] = await until(lambda: screen.loaded)
        await pilot.pause(0.2)
        everything = len(screen.listing.lines)
        started = time.perf_counter()
        app.simulate_key("7")  # (posted straight to the app: not Pilot's settling time)
        out["key: screen drawn"] = await drawn_with("7")
        out["key: final count"] = await until(lambda: screen.listing.done)
        await pilot.pause(0.2)
        started = time.perf_counter()
        app.simulate_key("escape")
        out["Esc: screen drawn"] = await drawn_with("")
        await until(lambda: len(screen.listing.lines) == everything)
        out["rss MB"] = psutil.Process().memory_info().rss / 2**20
        out["relations"] = screen.listing.index.count
    out["End, named table"] = await end_from_command_line(factory)
    return out


async def end_from_command_line(factory: ConnectionFactory) -> float:
    """A table named on the command line, End as soon as its rows show: to the last row
    in the cache under the cursor (the list under it must not cost the UI thread)."""
    from pgbrowse.db.catalog.relations import find_relation
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.table_screen import TableScreen
    from pgbrowse.ui.table_view import TableView

    conn = factory.connect()
    relation = find_relation(conn, "rows_100k")
    conn.close()
    app = PgBrowseApp(factory, initial=relation)
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, TableScreen):
            await asyncio.sleep(0.0005)
        view = app.screen.query_one(TableView)
        while not (view.state.opened and view.cache.get(view.state.frame, 0)):
            await asyncio.sleep(0.0005)
        await pilot.pause(0.05)
        started = time.perf_counter()
        app.simulate_key("end")

        def at_end() -> bool:
            state = view.state
            last = (state.row_count - 1) // state.page_size
            return (  # (the count may stay an estimate: End reads the end from the end)
                view.cursor_row == state.row_count - 1
                and view.cache.get(state.frame, last) is not None
            )

        while not at_end():
            await asyncio.sleep(0.0005)
        return time.perf_counter() - started


def build(server: EmbeddedServer, size: int) -> str:
    dsn = server.create_database(f"bench_{size}")
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            f"DO $$ BEGIN FOR i IN 1..{size} LOOP"
            " EXECUTE format('CREATE TABLE t%s (id int)', i);"
            " IF i % 1000 = 0 THEN COMMIT; END IF; END LOOP; END $$"
        )
        cur.execute(
            "CREATE TABLE rows_100k AS SELECT g AS id, md5(g::text) AS label"
            " FROM generate_series(1, 100000) g"
        )
        cur.execute("ALTER TABLE rows_100k ADD PRIMARY KEY (id)")
        cur.execute("ANALYZE rows_100k")
        if size >= 10_000:
            cur.execute("CREATE TABLE parts (id int) PARTITION BY RANGE (id)")
            cur.execute(
                "DO $$ BEGIN FOR i IN 0..1999 LOOP EXECUTE format('CREATE TABLE parts_%s"
                " PARTITION OF parts FOR VALUES FROM (%s) TO (%s)', i, i * 10, i * 10 + 10);"
                " END LOOP; END $$"
            )
    conn.close()
    return dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child))))
        return
    # SIGTERM (a timeout, say) ends the run through the with: its server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with EmbeddedServer() as server:
        table: dict[int, dict[str, float]] = {}
        for size in args.sizes:
            dsn = build(server, size)
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--child", dsn],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                for _ in range(args.runs)
            ]
            table[size] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    names = list(next(iter(table.values())))
    print(f"median of {args.runs} runs, each a fresh process; times in ms from the start/key")
    print(f"{'':22}" + "".join(f"{size:>12,}" for size in table))
    for name in names:
        scale = 1 if name in ("rss MB", "relations") else 1000
        cells = "".join(f"{table[size][name] * scale:12,.1f}" for size in table)
        print(f"{name:22}{cells}")


if __name__ == "__main__":
    main()
