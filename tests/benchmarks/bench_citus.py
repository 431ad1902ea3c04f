"""Benchmark (issue 28): a distributed Citus table beside the same rows in a local table.

    python tests/benchmarks/bench_citus.py [--rows 10000000] [--shards 32] [--runs 3]
        [--keep | --dsn DSN]

``--keep`` builds the cluster, prints its DSN and keeps it running; ``--dsn`` measures a
cluster so built without building again (10,000,000 rows take about 4 minutes to build).

Starts a Citus cluster on this machine (a coordinator and 2 workers: Debian's PostgreSQL 15
with Citus built in, ../shared/citus/build.sh), makes ``events`` (distributed by tenant,
--shards shards, primary key (tenant, id)) and ``events_local`` (the same rows, an ordinary
table on the coordinator), and ``visits`` whose rows name an event (for follow-key). Then,
for each table, the pager alone (headless, page of 100), medians of --runs:

- first screen: connect, open, the first page;
- PageDown: the next page, p50 and p95 of 40;
- End: the last page, by the estimate;
- goto 50 %: the page half way through;
- sort by score (no index): its first page; then the next 22 pages, one after another
  (once: the local cursor sorts every row when page 3 is read);
- follow-key: a view opened on the row (tenant, id) names, its page read;
- a page's SELECT alone (psycopg2, median of 20): what the engine itself takes for one,
  ordered across tenants (every shard) and within one tenant (one shard);
- a new session's key ends and first page alone (psycopg2): the floor of opening a view;

and the estimate against the true count, and on the coordinator while the distributed table
is paged (40 pages, End, a jump): its temporary files (pg_stat_database.temp_bytes) and the
RSS of the backend serving the view. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pgbrowse.db.catalog.references import Landing
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from tests.components import citus
from tests.helpers import relation

PAGE = 100


def build(dsn: str, rows: int, shards: int) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in ("events", "events_local"):
            print(f"creating {name} ({rows:,} rows)…", file=sys.stderr)
            cur.execute(
                f"CREATE TABLE {name} (tenant int, id bigint, what text, score int,"
                " at timestamptz, PRIMARY KEY (tenant, id))"
            )
            if name == "events":
                cur.execute(
                    "SELECT create_distributed_table('events', 'tenant', shard_count := %s)",
                    (shards,),
                )
            step = 1_000_000
            for start in range(1, rows + 1, step):
                cur.execute(
                    f"INSERT INTO {name} SELECT g % 1000, g, md5(g::text),"
                    " (g::int8 * 7919) % 1000003, timestamptz '2024-01-01' + g * interval '1 s'"
                    f" FROM generate_series({start}, {min(rows, start + step - 1)}) g"
                )
            cur.execute(f"VACUUM ANALYZE {name}")
    conn.close()


def timed(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(factory: ConnectionFactory, name: str, rows: int, runs: int) -> dict[str, float]:
    rel = relation(factory, name)
    out: dict[str, float] = {}

    def first() -> None:
        pager = CursorPager(factory, rel, page_size=PAGE)
        pager.load(0)
        pager.close()

    out["first screen"] = timed(first, runs)
    pager = CursorPager(factory, rel, page_size=PAGE)
    pager.load(0)
    out["estimate / true"] = pager.row_count / rows
    downs = []
    for page in range(1, 41):
        started = time.perf_counter()
        pager.load(page)
        downs.append(time.perf_counter() - started)
    out["PageDown p50"] = statistics.median(downs) * 1000
    out["PageDown p95"] = statistics.quantiles(downs, n=20)[18] * 1000
    last = (pager.row_count - 1) // PAGE
    out["End"] = timed(lambda: pager.load(last) or pager.load(last - 1), 1)
    pager.close()

    def after_open(change: Callable[[CursorPager], int]) -> float:
        """ms of ``change`` on a view just opened on its first page (median of runs)."""
        times = []
        for _ in range(runs):
            view = CursorPager(factory, rel, page_size=PAGE)
            view.load(0)
            started = time.perf_counter()
            view.load(change(view))
            times.append(time.perf_counter() - started)
            view.close()
        return statistics.median(times) * 1000

    out["goto 50%"] = after_open(lambda view: view.row_count // 2 // PAGE)
    out["sort (no index)"] = after_open(lambda view: view.set_order("score") or 0)
    view = CursorPager(factory, rel, page_size=PAGE)
    view.load(0)
    view.set_order("score")
    view.load(0)
    started = time.perf_counter()
    for page in range(1, 23):  # (as PageDown reads them: a cursor sorts every row at page 3)
        view.load(page)
    out["sort: pages 2-23"] = (time.perf_counter() - started) * 1000
    view.close()

    def follow() -> None:
        landing = Landing(("tenant", "id"), (str(rows // 3 % 1000), str(rows // 3)))
        view = CursorPager(factory, rel, page_size=PAGE, landing=landing)
        view.open()  # (as the app: opened on the row, then the page it landed in)
        view.load((view.landed or 0) // PAGE)
        view.close()

    out["follow-key"] = timed(follow, runs)
    # The floor: a page's statement alone, sent by psycopg2 (Citus's fan-out to every shard
    # and its merge, with no browser around it).
    conn = factory.connect()
    with conn.cursor() as cur:
        page = (
            f"SELECT * FROM {name} WHERE (tenant, id) >= ({rows // 2 % 1000}, {rows // 2})"
            " ORDER BY tenant, id LIMIT 100"
        )
        out["a page's SELECT alone"] = timed(lambda: cur.execute(page) or cur.fetchall(), 20)
        routed = (
            f"SELECT * FROM {name} WHERE tenant = {rows // 2 % 1000} AND id >= {rows // 2}"
            " ORDER BY tenant, id LIMIT 100"
        )
        out["a tenant's page alone"] = timed(lambda: cur.execute(routed) or cur.fetchall(), 20)
    conn.close()

    def session_floor() -> None:
        """What any reader pays to open: a new session, the key's ends (for a distributed
        table the first statement to every shard, each opened cold on its worker) and a
        page, by psycopg2 with no browser around it."""
        new = psycopg2.connect(factory.dsn)
        with new.cursor() as cur:
            cur.execute("SET citus.executor_slow_start_interval = 100")  # (as pgbrowse does)
            cur.execute(f"SELECT min(tenant), max(tenant) FROM {name}")
            (low, _high) = cur.fetchone() or (0, 0)
            cur.execute(f"SELECT * FROM {name} WHERE tenant = %s ORDER BY id LIMIT 100", (low,))
            cur.fetchall()
        new.close()

    out["new session: ends + page alone"] = timed(session_floor, max(runs, 5))
    return out


def coordinator_flat(dsn: str, factory: ConnectionFactory) -> str:
    def temp_bytes() -> int:
        conn = psycopg2.connect(dsn)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = 'postgres'")
            (found,) = cur.fetchone() or (0,)
        conn.close()
        return int(found)

    before = temp_bytes()
    pager = CursorPager(factory, relation(factory, "events"), page_size=PAGE)
    pager.load(0)
    pid = int(pager.session.scalar(psycopg2.sql.SQL("SELECT pg_backend_pid()")))
    backend = psutil.Process(pid)
    rss = [backend.memory_info().rss]
    for page in range(1, 41):
        pager.load(page)
        rss.append(backend.memory_info().rss)
    pager.load((pager.row_count - 1) // PAGE)
    pager.load(pager.row_count // 3 // PAGE)
    rss.append(backend.memory_info().rss)
    pager.close()
    time.sleep(1.5)
    after = temp_bytes()
    return (
        f"coordinator while paging events (40 pages, End, a jump): temp files"
        f" +{(after - before) / 2**20:.1f} MB; its backend's RSS {rss[0] / 2**20:.1f} MB"
        f" -> max {max(rss) / 2**20:.1f} MB"
    )


def keep_until_stopped() -> None:
    """Until Ctrl+C, SIGTERM or SIGHUP; then the cluster stops whatever comes next."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for which in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(which, stop)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(60)
    for which in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(which, signal.SIG_IGN)  # (the nodes stop, a second signal or not)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--dsn", help="a cluster already built by this benchmark (--rows as built): not rebuilt"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="build the cluster, print its DSN and keep it until Ctrl+C (for --dsn)",
    )
    args = parser.parse_args()
    with contextlib.nullcontext(args.dsn) if args.dsn else citus() as dsn:
        if not args.dsn:
            build(dsn, args.rows, args.shards)
        if args.keep:
            print(dsn, flush=True)
            keep_until_stopped()
            return
        factory = ConnectionFactory(dsn)
        local = measure(factory, "events_local", args.rows, args.runs)
        spread = measure(factory, "events", args.rows, args.runs)
        print(
            f"{args.rows:,} rows; events in {args.shards} shards on 2 workers; ms, medians"
            f" of {args.runs}"
        )
        print(f"{'':20}{'local':>12}{'distributed':>14}{'ratio':>8}")
        for name in local:
            ratio = spread[name] / local[name] if local[name] else 0.0
            print(f"{name:20}{local[name]:12.2f}{spread[name]:14.2f}{ratio:8.2f}")
        print(coordinator_flat(dsn, factory))


if __name__ == "__main__":
    main()
