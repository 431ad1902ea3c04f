"""Benchmark (issue 26): ``pgbrowse --demo`` as a user runs it, on a pseudo-terminal.

    python tests/benchmarks/bench_demo.py                 # the default 1,000,000 rows
    python tests/benchmarks/bench_demo.py --rows 10000000 --repeat 1

Prints, medians of --repeat: seconds from the command to the relation list on screen, from
Ctrl+Q to the process's exit, and from Ctrl+Q until the embedded server's processes and
files are gone (stopped by a detached process). Not a test.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # (for tests.helpers)

from tests.helpers import marked_server_dirs


def one_run(rows: int) -> tuple[float, float, float]:
    mark = uuid.uuid4().hex
    leader, follower = pty.openpty()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", "--demo", "--demo-rows", str(rows)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "PGBROWSE_TEST_MARK": mark},
        start_new_session=True,
    )
    os.close(follower)
    output = b""
    try:
        while b"relations" not in output:
            output += os.read(leader, 65536)
        up = time.monotonic() - started
        ours = marked_server_dirs(mark)
        time.sleep(1.0)
        quit_at = time.monotonic()
        os.write(leader, b"\x11")  # Ctrl+Q
        while proc.poll() is None:
            try:
                os.read(leader, 65536)
            except OSError:
                time.sleep(0.01)
        exited = time.monotonic() - quit_at
        while marked_server_dirs(mark) & ours or any(os.path.exists(d) for d in ours):
            time.sleep(0.02)
        gone = time.monotonic() - quit_at
        return up, exited, gone
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.rows) for _ in range(args.repeat)]
    up, exited, gone = (statistics.median(r[i] for r in runs) for i in range(3))
    print(f"demo with {args.rows:,} rows, {os.cpu_count()} cores, median of {args.repeat}:")
    print(f"  command -> relation list on screen  {up:6.2f} s")
    print(f"  Ctrl+Q -> process exited            {exited:6.2f} s")
    print(f"  Ctrl+Q -> server and files gone     {gone:6.2f} s")


if __name__ == "__main__":
    main()
