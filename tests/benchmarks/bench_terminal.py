"""Benchmark: pgbrowse in a real terminal (200x50), as a person over SSH sees it: issue 17's
table, row by row, on a pty and in tmux (where installed), and its database half headless.

    python tests/benchmarks/bench_terminal.py [--rows 1000000] [--big-rows 10000000]
        [--keys 30] [--starts 3] [--terminal pty|tmux|both] [--source DIR]

Starts an embedded server with ``bench.events`` (--rows), ``bench.events_big`` (--big-rows;
0 leaves it out) and ``bench.fat`` (20 rows of --fat-mb MB of text each), then runs
``pgbrowse DSN TABLE`` in the terminal and measures, from the bytes the app writes to it
(tmux: its ``pipe-pane`` copy of them):

- first screen: launch to the position line of rows 1-N (median of --starts launches);
- PageDown on events and events_big: bytes written per key; key to the bytes that draw its
  rows and position line; key to the last byte written after it (nothing more for 0.15 s),
  which may be a later frame: the memory line's statement when the page read ahead lands;
- held PageDown: 30 keys a second for 10 s; before each key, how many sent keys the screen
  does not show yet (from its "row N of" line), p50 and max;
- idle, the table open and no key for 6 s: CPU of the process and bytes written per second
  over 10 s;
- sort by a column no index gives (events_big's score): key to its first sorted screen;
- search (events) for a text no row holds: Enter to "Not found";
- the fat table: launch to its first screen, and the process's RSS then.

Headless (no terminal; the pager alone): the sorted first page against one scan of the
table, the search, and the fat first page. Not a test: it prints figures (issue 17's table).
``--source DIR`` runs another checkout (before/after figures: ``git worktree add``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import os
import pty
import re
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2

from pgbrowse.demo.embedded import EmbeddedServer

COLUMNS, LINES = 200, 50
QUIET_S = 0.15
KEYS = {"pagedown": b"\x1b[6~", "enter": b"\r", "right": b"\x1b[C"}
TMUX_KEYS = {"pagedown": "NPage", "enter": "Enter", "right": "Right"}
ROW_OF = re.compile(rb"row ([\d,]+) of")
SESSIONS = itertools.count()


class Terminal:
    """A 200x50 terminal running one command: keys in, the bytes it writes out."""

    pid: int

    def send(self, key: str) -> None:
        raise NotImplementedError

    def read(self, timeout: float) -> bytes:
        """What was written since the last read, waiting up to ``timeout`` for some."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def until_quiet(self, quiet: float = QUIET_S, limit: float = 20.0) -> tuple[bytes, float]:
        """Everything written until nothing came for ``quiet`` s; and when its last byte
        came (seconds after the call)."""
        out = bytearray()
        started = last = time.perf_counter()
        while time.perf_counter() - started < limit:
            chunk = self.read(quiet)
            if not chunk:
                break
            out += chunk
            last = time.perf_counter()
        return bytes(out), last - started

    def wait_for(self, needle: bytes, limit: float = 60.0) -> tuple[bytes, float]:
        out = bytearray()
        started = time.perf_counter()
        while needle not in out:
            if time.perf_counter() - started > limit:
                raise TimeoutError(needle)
            out += self.read(0.2)
        return bytes(out), time.perf_counter() - started


class Pty(Terminal):
    def __init__(self, args: list[str]) -> None:
        parent, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        self.process = subprocess.Popen(
            args, stdin=child, stdout=child, stderr=child, env=env, start_new_session=True,
            cwd="/",  # (not a folder holding a pgbrowse package: --source decides which runs)
        )  # fmt: skip
        os.close(child)
        self.fd, self.pid = parent, self.process.pid

    def send(self, key: str) -> None:
        os.write(self.fd, KEYS.get(key, key.encode()))

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 65536)
        except OSError:
            return b""

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        os.close(self.fd)


class Tmux(Terminal):
    """A tmux session of its own (its own server socket); what the pane's program writes
    is copied to a file by ``pipe-pane``, keys go in with ``send-keys``."""

    def __init__(self, args: list[str]) -> None:
        self.socket = f"pgbrowse-bench-{os.getpid()}-{next(SESSIONS)}"  # (a server each)
        self.log = Path(tempfile.mkstemp(prefix="pgbrowse-tmux-")[1])
        command = "read go; exec " + " ".join(shlex.quote(a) for a in args)
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in os.environ.items() if k == "PYTHONPATH")
        self._tmux("new-session", "-d", "-x", str(COLUMNS), "-y", str(LINES), "-s", "bench",
                   f"cd / && {env} sh -c {shlex.quote(command)}")  # fmt: skip
        self._tmux("pipe-pane", "-t", "bench", "-o", f"cat >> {shlex.quote(str(self.log))}")
        self._tmux("send-keys", "-t", "bench", "Enter")  # (the clock starts here)
        self._offset = 0
        self.pid = self._pid()

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        return done.stdout

    def _pid(self) -> int:
        shell = int(self._tmux("list-panes", "-t", "bench", "-F", "#{pane_pid}").split()[0])
        for _ in range(200):  # (sh execs pgbrowse once the Enter is read)
            with contextlib.suppress(psutil.Error):
                if "pgbrowse" in " ".join(psutil.Process(shell).cmdline()):
                    return shell
            time.sleep(0.005)
        return shell

    def send(self, key: str) -> None:
        if key in TMUX_KEYS:
            self._tmux("send-keys", "-t", "bench", TMUX_KEYS[key])
        else:
            self._tmux("send-keys", "-t", "bench", "-l", key)

    def read(self, timeout: float) -> bytes:
        deadline = time.perf_counter() + timeout
        while True:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
            if chunk or time.perf_counter() >= deadline:
                self._offset += len(chunk)
                return chunk
            time.sleep(0.002)

    def close(self) -> None:
        self._tmux("kill-server")
        self.log.unlink(missing_ok=True)


def launch(kind: str, args: list[str]) -> Terminal:
    return Tmux(args) if kind == "tmux" else Pty(args)


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def shown_row(out: bytes, before: int) -> int:
    found = ROW_OF.findall(out)
    return int(found[-1].replace(b",", b"")) if found else before


def pagedowns(term: Terminal, keys: int) -> tuple[list[float], list[float], list[float]]:
    """Per key: KB written; ms to the bytes that draw its position line (the frame of its
    rows); ms to the last byte (a later frame too: the memory line's statement when the
    page read ahead lands)."""
    sizes, drawn, times = [], [], []
    for _ in range(keys):
        term.send("pagedown")
        out = bytearray()
        started = last = time.perf_counter()
        at = None
        while chunk := term.read(QUIET_S):
            out += chunk
            last = time.perf_counter()
            if at is None and ROW_OF.search(out):
                at = last
        sizes.append(len(out) / 1024)
        drawn.append(((at or last) - started) * 1000)
        times.append((last - started) * 1000)
    return sizes, drawn, times


def held(term: Terminal, seconds: float = 10.0, rate: float = 30.0) -> list[int]:
    """Keys sent and not shown yet, before each key (the step learned from one key)."""
    term.send("pagedown")
    out, _ = term.until_quiet(0.3)
    first = shown_row(out, 1)
    term.send("pagedown")
    out, _ = term.until_quiet(0.3)
    step = max(1, shown_row(out, first) - first)
    row, sent, behind = shown_row(out, first), 0, []
    started = time.perf_counter()
    while sent < seconds * rate:
        due = started + sent / rate
        while (now := time.perf_counter()) < due:
            row = shown_row(term.read(due - now), row)
        behind.append(max(0, round(((first + (sent + 1) * step) - row) / step) - 1))
        term.send("pagedown")
        sent += 1
    term.until_quiet(0.5)
    return behind


def idle(term: Terminal) -> tuple[float, float]:
    me = psutil.Process(term.pid)
    time.sleep(6)  # (past the footer's active time: the table just sits there)
    term.until_quiet(0.2)
    cpu = me.cpu_times()
    started = time.perf_counter()
    out = bytearray()
    while time.perf_counter() - started < 10.0:
        out += term.read(0.5)
    spent = sum(me.cpu_times()[:2]) - sum(cpu[:2])
    seconds = time.perf_counter() - started
    return spent / seconds * 100, len(out) / seconds / 1024


def search_absent(term: Terminal) -> float:
    """``/zzzz`` Enter: seconds from Enter to "Not found" (a text no row holds)."""
    term.send("/")
    term.until_quiet(0.3)
    term.send("zzzz")
    term.until_quiet(0.3)
    started = time.perf_counter()
    term.send("enter")
    term.wait_for(b"Not found")
    return time.perf_counter() - started


def lowest_score_id(rows: int) -> int:
    """The id of the row with the lowest score (score = id * 7919 mod 1,000,003)."""
    if rows >= 1_000_003:
        return 1_000_003  # (score 0)
    return min(range(1, rows + 1), key=lambda g: (g * 7919) % 1_000_003)


def terminal_run(kind: str, pgbrowse: list[str], dsn: str, args: argparse.Namespace) -> None:
    print(f"{kind} {COLUMNS}x{LINES}:")
    firsts = []
    for _ in range(args.starts):
        term = launch(kind, [*pgbrowse, dsn, "bench.events"])
        firsts.append(term.wait_for(b"row 1 of")[1])
        term.until_quiet(0.5)
        term.close()
    print(f"  first screen, events: {statistics.median(firsts):.2f} s"
          f" (median of {args.starts}: {', '.join(f'{f:.2f}' for f in firsts)})")  # fmt: skip
    for table in ("events", "events_big") if args.big_rows else ("events",):
        term = launch(kind, [*pgbrowse, dsn, f"bench.{table}"])
        term.wait_for(b"row 1 of")
        term.until_quiet(0.5)
        sizes, drawn, times = pagedowns(term, args.keys)
        print(f"  PageDown, {table}: {statistics.median(sizes):.1f} KB written (max"
              f" {max(sizes):.1f}); key to its rows drawn p50 {p(drawn, 0.5):.0f} ms,"
              f" p95 {p(drawn, 0.95):.0f} ms; to the last byte p50 {p(times, 0.5):.0f} ms,"
              f" p95 {p(times, 0.95):.0f} ms ({args.keys} keys)")  # fmt: skip
        if table == "events":
            behind = held(term)
            print(f"  held PageDown 10 s at 30/s: keys behind p50 {p(behind, 0.5)},"
                  f" max {max(behind)} ({len(behind)} keys)")  # fmt: skip
            cpu, rate = idle(term)
            print(f"  idle, table open: CPU {cpu:.2f} %, written {rate:.2f} KB/s over 10 s")
            print(f"  search, events, no row holds it: {search_absent(term):.2f} s")
        else:
            for _ in range(4):  # (to the score column: no index gives its order)
                term.send("right")
            term.until_quiet(0.3)
            started = time.perf_counter()
            term.send("s")
            term.wait_for(str(lowest_score_id(args.big_rows)).encode())  # (its row drawn)
            print(f"  sort, {table} by score (no index): first sorted screen"
                  f" {time.perf_counter() - started:.2f} s")  # fmt: skip
        term.close()
    term = launch(kind, [*pgbrowse, dsn, "bench.fat"])
    _, first = term.wait_for(b"row 1 of")
    term.until_quiet(0.5)
    rss = psutil.Process(term.pid).memory_info().rss / 2**20
    print(
        f"  fat table (20 x {args.fat_mb} MB texts): first screen {first:.2f} s, RSS {rss:.0f} MB"
    )
    term.close()


def headless_run(dsn: str, args: argparse.Namespace) -> None:
    """The database half without a terminal: the pager's own times."""
    from pgbrowse.db.catalog.relations import find_relation
    from pgbrowse.db.connection.connect import ConnectionFactory
    from pgbrowse.db.paging.pager import CursorPager

    factory = ConnectionFactory(dsn)

    def pager(name: str) -> CursorPager:
        conn = factory.connect()
        relation = find_relation(conn, name)
        conn.close()
        assert relation is not None
        return CursorPager(factory, relation)

    print("headless (the pager alone):")
    if args.big_rows:
        conn = psycopg2.connect(dsn)
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            scans = []
            for _ in range(3):
                started = time.perf_counter()
                cur.execute("SELECT * FROM bench.events_big WHERE score < 0")
                scans.append(time.perf_counter() - started)
        conn.close()
        sorts = []
        for _ in range(3):
            view = pager("bench.events_big")
            view.load(0)
            started = time.perf_counter()
            view.set_order("score")
            view.load(0)
            sorts.append(time.perf_counter() - started)
            started = time.perf_counter()
            if hasattr(view, "prepare_sort"):  # (a checkout before it: the sort was whole)
                view.prepare_sort()
            whole = time.perf_counter() - started
            view.close()
        scan, sort = statistics.median(scans), statistics.median(sorts)
        print(f"  sort, events_big by score: first sorted page {sort:.2f} s, one scan of the"
              f" table {scan:.2f} s: x{sort / scan:.2f}; every row sorted (in the background)"
              f" {whole:.1f} s")  # fmt: skip
    view = pager("bench.events")
    first = view.load(0)
    searches = []
    for _ in range(3):
        started = time.perf_counter()
        assert view.search(0, first[0], "zzzz") is None
        searches.append(time.perf_counter() - started)
    view.close()
    print(f"  search, events, no row holds it: {statistics.median(searches):.2f} s (median of 3)")
    started = time.perf_counter()
    view = pager("bench.fat")
    view.load(0)
    print(f"  fat table: open and first page {time.perf_counter() - started:.2f} s")
    view.close()


def create_tables(dsn: str, args: argparse.Namespace) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA bench")
        for name, rows in (("events", args.rows), ("events_big", args.big_rows)):
            if not rows:
                continue
            print(f"creating bench.{name} ({rows:,} rows)…", file=sys.stderr)
            cur.execute(
                f"CREATE TABLE bench.{name} AS SELECT g AS id, md5(g::text) AS label,"
                " (g % 1000)::numeric / 7 AS amount, now() - g * interval '1 s' AS at,"
                f" (g::int8 * 7919) % 1000003 AS score FROM generate_series(1, {rows}) g"
            )
            cur.execute(f"ALTER TABLE bench.{name} ADD PRIMARY KEY (id)")
            cur.execute(f"VACUUM ANALYZE bench.{name}")
        print(f"creating bench.fat (20 x {args.fat_mb} MB)…", file=sys.stderr)
        repeats = args.fat_mb * 2**20 // 32
        cur.execute(
            "CREATE TABLE bench.fat AS SELECT g AS id, repeat(md5(g::text), %s) AS body"
            " FROM generate_series(1, 20) g",
            (repeats,),
        )
        cur.execute("ALTER TABLE bench.fat ADD PRIMARY KEY (id)")
    conn.close()


@contextlib.contextmanager
def server() -> Iterator[str]:
    with EmbeddedServer() as embedded:
        yield embedded.create_database("pgbrowse_terminal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--fat-mb", type=int, default=50)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--terminal", choices=("pty", "tmux", "both"), default="both")
    parser.add_argument(
        "--source", help="a checkout of another pgbrowse to run instead (before/after figures)"
    )
    args = parser.parse_args()
    if args.source:
        os.environ["PYTHONPATH"] = args.source
    pgbrowse = [sys.executable, "-m", "pgbrowse"]
    kinds = ["pty", "tmux"] if args.terminal == "both" else [args.terminal]
    if "tmux" in kinds and shutil.which("tmux") is None:
        print("tmux is not installed: the pty only", file=sys.stderr)
        kinds.remove("tmux")
    # SIGTERM (a timeout, say) ends the run through the with: its server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with server() as dsn:
        create_tables(dsn, args)
        print(f"pgbrowse ({args.source or 'this checkout'}); events {args.rows:,} rows,"
              f" events_big {args.big_rows:,} rows")  # fmt: skip
        for kind in kinds:
            terminal_run(kind, pgbrowse, dsn, args)
        headless_run(dsn, args)


if __name__ == "__main__":
    main()
