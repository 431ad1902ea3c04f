"""Benchmark: a CSV export of a large table, with the client's RSS sampled while it runs.

    python tests/benchmarks/bench_export.py            # 10,000,000 rows
    python tests/benchmarks/bench_export.py --rows N

Not a test: it prints rows, bytes, seconds, throughput and the RSS growth during the export.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pgserver
import psutil
import psycopg2

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.embedded import EmbeddedServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, medians printed")
    args = parser.parse_args()
    with EmbeddedServer() as server, tempfile.TemporaryDirectory() as folder:
        dsn = server.create_database("pgbrowse_export")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE big AS SELECT g::bigint AS id, md5(g::text) AS label,"
                " (g % 1000)::numeric / 7 AS amount,"
                " timestamptz '2020-01-01' + g * interval '1 second' AS at"
                f" FROM generate_series(1, {args.rows}) g"
            )
            cur.execute("ALTER TABLE big ADD PRIMARY KEY (id)")
            cur.execute("VACUUM ANALYZE big")
        conn.close()
        factory = ConnectionFactory(dsn)
        conn = factory.connect()
        relation = find_relation(conn, "big")
        conn.close()
        assert relation is not None
        pager = CursorPager(factory, relation)
        pager.load(0)
        query = pager.export_query()
        pager.close()

        conn = factory.connect()
        text = query.as_string(conn)
        conn.close()
        psql = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
        ours, theirs, growth = [], [], []
        for _ in range(args.repeat):
            seconds, result, grew = timed_export(factory, query, Path(folder) / "big.csv")
            ours.append(seconds)
            growth.append(grew)
            started = time.perf_counter()
            subprocess.run(
                [
                    str(psql),
                    dsn,
                    "-X",
                    "-q",
                    "-c",
                    f"\\copy ({text}) TO '{folder}/psql.csv' WITH (FORMAT csv, HEADER)",
                ],
                check=True,
            )
            theirs.append(time.perf_counter() - started)
        mine, psqls = statistics.median(ours), statistics.median(theirs)
        print(
            f"rows {result.rows:,}  bytes {result.bytes / 2**20:,.1f} MB  pgbrowse {mine:.2f} s"
            f" ({result.bytes / 2**20 / mine:,.1f} MB/s)  psql \\copy {psqls:.2f} s"
            f"  throughput x{psqls / mine:.2f} of psql's  (medians of {args.repeat});"
            f" RSS growth during the export {max(growth) / 2**20:.1f} MB at most"
        )


def timed_export(factory: ConnectionFactory, query: object, out: Path) -> tuple[float, object, int]:
    process = psutil.Process()
    base = process.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    result = Export(factory, query, out, "big").run()  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, result, peak - base


if __name__ == "__main__":
    main()
