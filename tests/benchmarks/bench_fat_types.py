"""Benchmark (issue 24): the first page of a 50-row table whose row 25 holds fat values of
types that have no slice (bytea, jsonb, a text array), stored out of line uncompressed.

    python tests/benchmarks/bench_fat_types.py            # 256 MB each
    python tests/benchmarks/bench_fat_types.py --mb 520   # past 512 MB: bytea's output fails

Prints, medians of --repeat: the page as pgbrowse reads it now (each value's stored size
checked first: no conversion), and the page as it was read before (every value through its
output function, then cut), or the error that read met. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg2

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.embedded import EmbeddedServer

BEFORE = (
    "SELECT id, left(concat(b), 501), left(concat(j), 501), left(concat(a), 501)"
    " FROM fat ORDER BY id LIMIT 100"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=256, help="size of each fat value")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    size = args.mb * 2**20
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_fat")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE fat (id int PRIMARY KEY, b bytea, j jsonb, a text[])")
            for column in "bja":
                cur.execute(f"ALTER TABLE fat ALTER COLUMN {column} SET STORAGE EXTERNAL")
            cur.execute(
                "INSERT INTO fat SELECT g, '\\x00ff'::bytea, jsonb_build_object('n', g),"
                " ARRAY[g::text] FROM generate_series(1, 50) g"
            )
            half = size // 2  # (one text holds less than 1 GB: the values are built in halves)
            cur.execute(
                "UPDATE fat SET b = decode(repeat('ab', %s), 'hex') || decode(repeat('ab', %s),"
                " 'hex') WHERE id = 25",
                (half, size - half),
            )
            cur.execute(  # (a jsonb holds less than 256 MB: an array of 1 MB strings)
                "UPDATE fat SET j = to_jsonb(ARRAY(SELECT repeat('x', 1048576)"
                " FROM generate_series(1, %s))) WHERE id = 25",
                (min(args.mb, 250),),
            )
            cur.execute(
                "UPDATE fat SET a = ARRAY[repeat('y', %s), repeat('y', %s)] WHERE id = 25",
                (half, size - half),
            )
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size('fat'))")
            (total,) = cur.fetchone() or ("?",)
        print(
            f"table: 50 rows, row 25 holds {args.mb} MB of bytea and text[],"
            f" {min(args.mb, 250)} MB of jsonb"
            f" ({total} on disk, built in {time.perf_counter() - started:.1f} s)"
        )
        factory = ConnectionFactory(dsn)
        now: list[float] = []
        for _ in range(args.repeat):
            pager = CursorPager(factory, find_relation(conn, "public.fat"), page_size=100)  # type: ignore[arg-type]
            try:
                pager.open()
                started = time.perf_counter()
                rows = pager.rows(0, 50)
                now.append(time.perf_counter() - started)
            finally:
                pager.close()
        print(
            f"pgbrowse now: first page {statistics.median(now) * 1000:.1f} ms"
            f" (row 25: {rows[24][1][:2]!r}… drawn as its size and type)"
        )
        before: list[float] = []
        failed = ""
        for _ in range(args.repeat):
            started = time.perf_counter()
            try:
                with conn.cursor() as cur:
                    cur.execute(BEFORE)
                    cur.fetchall()
            except psycopg2.Error as error:
                failed = str(error).splitlines()[0]
            before.append(time.perf_counter() - started)
        said = f"failed: {failed}" if failed else "all rows"
        print(f"before (output function, then cut): {statistics.median(before):.2f} s ({said})")


if __name__ == "__main__":
    main()
