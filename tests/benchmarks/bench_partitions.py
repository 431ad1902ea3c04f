"""Benchmark: open, End and go to 50 % of a table with 2,000 partitions.

    python tests/benchmarks/bench_partitions.py [--pg-bin /usr/lib/postgresql/15/bin]
        [--partitions 2000] [--rows 2000000] [--runs 5]

Builds a range-partitioned table (primary key id, the partition key) on the embedded server,
or on a throwaway cluster of the PostgreSQL in --pg-bin with its defaults (Debian's has
jit = on). Each run opens a new view the way the app does (a new connection, the estimate,
the first page), then reads the last rows as End does (a cursor from the end), then the rows
at 50 % as goto does (a seek). Prints the median and worst of --runs runs, with jit as the
server has it for everyone else and as pgbrowse's transactions have it.
Not a test: issue 13's targets are open <= 1 s, End and goto <= 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # (for tests.components)

import psycopg2
from psycopg2 import sql

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.embedded import EmbeddedServer
from tests.components import cluster


@contextmanager
def server(pg_bin: str | None) -> Iterator[str]:
    if pg_bin:
        with cluster(pg_bin) as dsn:
            yield dsn
    else:
        with EmbeddedServer() as embedded:
            yield embedded.uri()


def build(dsn: str, partitions: int, rows: int) -> None:
    per = rows // partitions
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE parts (id int8 PRIMARY KEY, t text) PARTITION BY RANGE (id)")
        cur.execute(
            sql.SQL(
                "DO $$ BEGIN FOR i IN 0..{} LOOP EXECUTE format("
                "'CREATE TABLE parts_%s PARTITION OF parts FOR VALUES FROM (%s) TO (%s)',"
                " i, i * {} + 1, (i + 1) * {} + 1); END LOOP; END $$"
            ).format(sql.Literal(partitions - 1), sql.Literal(per), sql.Literal(per))
        )
        cur.execute(
            "INSERT INTO parts SELECT g, md5(g::text) FROM generate_series(1, %s) g",
            (per * partitions,),
        )
        cur.execute("VACUUM ANALYZE parts")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-bin", default=None)
    parser.add_argument("--partitions", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with server(args.pg_bin) as dsn:
        build(dsn, args.partitions, args.rows)
        factory = ConnectionFactory(dsn)
        conn = psycopg2.connect(dsn)  # (not pgbrowse's: as everyone else has it)
        with conn.cursor() as cur:
            cur.execute("SELECT version(), current_setting('jit')")
            version, server_jit = cur.fetchone()
        conn.close()
        conn = factory.connect()
        relation = find_relation(conn, "parts")
        with conn.cursor() as cur:
            cur.execute("SHOW jit")
            (own_jit,) = cur.fetchone()
        conn.close()
        assert relation is not None
        timings: dict[str, list[float]] = {"open": [], "End": [], "goto 50%": []}
        for _ in range(args.runs):
            pager = CursorPager(factory, relation, page_size=100)
            started = time.perf_counter()
            pager.rows(0, 40)
            timings["open"].append(time.perf_counter() - started)
            started = time.perf_counter()
            pager.rows(pager.row_count - 40, 40)
            timings["End"].append(time.perf_counter() - started)
            started = time.perf_counter()
            pager.rows(pager.row_count // 2, 40)
            timings["goto 50%"].append(time.perf_counter() - started)
            pager.close()
        print(version.split(",")[0])
        print(f"{args.partitions:,} partitions, {args.rows:,} rows; jit: server {server_jit},")
        print(f"pgbrowse's transactions {own_jit}; {args.runs} runs, each a new view\n")
        print(f"{'':10} {'median s':>9} {'worst s':>8}")
        for name, values in timings.items():
            print(f"{name:10} {statistics.median(values):9.3f} {max(values):8.3f}")


if __name__ == "__main__":
    main()
