"""Benchmark: pgbrowse in a real terminal (a pty, 200x50), as a person over SSH sees it.

    python tests/benchmarks/bench_terminal.py [--rows N] [--keys 30]

Starts an embedded server with a table of N rows (1,000,000 by default), then runs
``pgbrowse DSN bench.events`` on a pty and measures, from the bytes the app writes to it:
the first screen (launch to the first rows drawn), the bytes each PageDown writes and the
time from the key to the last byte of its redraw, and,
with the table open and no keys, the idle CPU of the process and the bytes it writes per
second over 10 s. Not a test: it prints figures (issue 17's table).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time

import psutil
import psycopg2

from pgbrowse.demo.embedded import EmbeddedServer

COLUMNS, LINES = 200, 50
PAGE_DOWN = b"\x1b[6~"
QUIET_S = 0.15


def read_until_quiet(fd: int, quiet: float = QUIET_S, limit: float = 20.0) -> tuple[bytes, float]:
    """Everything written until nothing came for ``quiet`` seconds; and when the last byte
    came (seconds after the call)."""
    out = bytearray()
    started = time.perf_counter()
    last = started
    while time.perf_counter() - started < limit:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        last = time.perf_counter()
    return bytes(out), last - started


def wait_for(fd: int, needle: bytes, limit: float = 30.0) -> tuple[bytes, float]:
    out = bytearray()
    started = time.perf_counter()
    while needle not in out:
        if time.perf_counter() - started > limit:
            raise TimeoutError(needle)
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            out += os.read(fd, 65536)
    return bytes(out), time.perf_counter() - started


def spawn(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    process = subprocess.Popen(
        list(args),
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        start_new_session=True,
        cwd="/",  # (not a folder holding a pgbrowse package: --source decides which runs)
    )
    os.close(child)
    return process, parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument(
        "--source", help="a checkout of another pgbrowse to run instead (before/after figures)"
    )
    args = parser.parse_args()
    if args.source:
        os.environ["PYTHONPATH"] = args.source
    pgbrowse = [sys.executable, "-m", "pgbrowse"]
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_terminal")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA bench")
            cur.execute(
                "CREATE TABLE bench.events AS SELECT g AS id, md5(g::text) AS label,"
                " (g % 1000)::numeric / 7 AS amount, now() - g * interval '1 s' AS at"
                f" FROM generate_series(1, {args.rows}) g"
            )
            cur.execute("ALTER TABLE bench.events ADD PRIMARY KEY (id)")
            cur.execute("VACUUM ANALYZE bench.events")
        conn.close()
        firsts = []
        for run in range(args.starts):
            process, fd = spawn(*pgbrowse, dsn, "bench.events")
            _, first = wait_for(fd, b"row 1 of")
            read_until_quiet(fd, 0.5)
            firsts.append(first)
            if run < args.starts - 1:
                process.terminate()
                process.wait(10)
                os.close(fd)
        sizes, times = [], []
        for _ in range(args.keys):
            os.write(fd, PAGE_DOWN)
            out, last = read_until_quiet(fd)  # (last: when its last byte came)
            sizes.append(len(out))
            times.append(last * 1000)
        me = psutil.Process(process.pid)
        time.sleep(6)  # (past the footer's active time: the table just sits there)
        read_until_quiet(fd, 0.2)
        cpu = me.cpu_times()
        started = time.perf_counter()
        idle, _ = read_until_quiet(fd, 5.0, limit=10.0)
        if os.environ.get("BENCH_IDLE_DUMP"):
            with open(os.environ["BENCH_IDLE_DUMP"], "wb") as dump:
                dump.write(idle)
        idle_s = time.perf_counter() - started
        spent = sum(me.cpu_times()[:2]) - sum(cpu[:2])
        process.terminate()
        process.wait(10)
        os.close(fd)
    times.sort()
    which = args.source or "this checkout"
    print(f"terminal {COLUMNS}x{LINES}, {args.rows:,} rows, pgbrowse ({which}) on a pty")
    print(
        f"  first screen (launch to rows drawn), median of {args.starts}: "
        f"{statistics.median(firsts):.2f} s  (all: {', '.join(f'{f:.2f}' for f in firsts)})"
    )
    print(
        f"  PageDown: bytes written p50 {statistics.median(sizes) / 1024:.1f} KB,"
        f" max {max(sizes) / 1024:.1f} KB; key to quiet p50 {statistics.median(times):.0f} ms,"
        f" p95 {times[int(len(times) * 0.95) - 1]:.0f} ms ({args.keys} keys)"
    )
    print(
        f"  idle, table open: CPU {spent / idle_s * 100:.2f} %,"
        f" written {len(idle) / idle_s / 1024:.2f} KB/s over {idle_s:.1f} s"
    )


if __name__ == "__main__":
    main()
