"""Benchmark (issue 27): pgbrowse as a user on an SSH session meets it, beside psql + less
(and VisiData where installed), in the same run, interleaved, on a pty at 200x50.

    python tests/benchmarks/bench_ssh.py [--rows 1000000] [--starts 5] [--keys 20]
        [--delay-ms 25] [--relations 100000] [--busy 0]

Starts an embedded server with ``bench.events`` (--rows), then prints each row of issue 27's
table as pgbrowse's figure and its ratio to psql + less (medians of --starts):

- first screen, directly and through a TCP proxy it starts itself that holds every chunk
  --delay-ms in each direction (a long link): psql + less is ``psql -X -v FETCH_COUNT=1000
  -c 'SELECT * FROM bench.events'`` with PAGER=less, until rows are on the screen; pgbrowse
  is ``pgbrowse DSN bench.events``, until its position line says ``row 1 of``;
- PageDown (--keys per launch, --starts launches each): key to the whole page drawn (less:
  its last byte; pgbrowse: the frame with its rows and position line), p50 and p95, and
  the bytes written per key;
- search for a text no row holds (pgbrowse: Enter to "Not found") against ``ILIKE`` and
  ``LIKE`` over the row's text (one statement each, psycopg2);
- the relation list of a database with --relations tables (0 leaves it out): app start to
  every relation indexed (bench_catalog.py's measure, a fresh process each);
- a CSV export of bench.events against psql's ``\\copy`` of the same query (throughput);
- ``python -X importtime``: the 10 slowest top-level imports to the first screen.

``--busy N`` keeps N processes spinning on the CPU meanwhile (a loaded machine). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.embedded import EmbeddedServer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # (its siblings' measures)

import bench_catalog
from bench_catalog import build as build_catalog
from bench_export import timed_export
from bench_terminal import Pty, p, pagedowns, search_absent

SIZE = (50, 200)  # rows, columns


def first_screen(args: list[str], needle: bytes, env: dict[str, str], limit: float = 60) -> float:
    """Seconds from launching ``args`` on a pty until ``needle`` is in what it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    started = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", **env},
        start_new_session=True,
    )
    os.close(follower)
    out = b""
    try:
        while needle not in out:
            if time.monotonic() - started > limit:
                raise TimeoutError(f"{args[0]}: no {needle!r} in {limit} s: {out[-500:]!r}")
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                try:
                    out += os.read(leader, 65536)
                except OSError:  # (it ended without drawing it: say what it said)
                    raise RuntimeError(f"{args[0]} ended: {out[-500:]!r}") from None
        return time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait()
        os.close(leader)


@contextlib.contextmanager
def delay_proxy(socket_path: str, delay_s: float) -> Iterator[int]:
    """A TCP proxy on a port of its own to the server's Unix socket (the embedded server
    listens on no TCP port): every chunk waits ``delay_s`` in each direction (a long link's
    latency); yields its port."""
    loop = asyncio.new_event_loop()
    ready: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await asyncio.sleep(delay_s)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_unix_connection(socket_path)
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    while not ready:
        time.sleep(0.01)
    yield ready[0]  # (its thread is a daemon: it ends with the benchmark)


def ratio(value: float, base: float | None, suffix: str = "of psql + less") -> str:
    return f"  x{value / base:.2f} {suffix}" if base else ""


def session(args: list[str], env: dict[str, str], needle: bytes) -> Pty:
    """``args`` on a 200x50 pty, its first screen drawn and settled."""
    os.environ.update(env)  # (Pty takes the environment as it is)
    try:
        term = Pty(args)
    finally:
        for key in env:
            os.environ.pop(key, None)
    term.wait_for(needle)
    term.until_quiet(0.5)
    return term


def import_times(command: list[str], top: int = 10) -> list[tuple[float, float, str]]:
    """``command`` run with ``-X importtime`` on a pty until its first screen: the ``top``
    slowest top-level imports (cumulative ms, own ms, name) and the total as ``(all)``."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    with open(os.devnull, "w") as _, subprocess.Popen(
        [command[0], "-X", "importtime", *command[1:]],
        stdin=follower, stdout=follower, stderr=subprocess.PIPE,
        env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True,
    ) as proc:  # fmt: skip
        os.close(follower)
        out, started = b"", time.monotonic()
        while b"row 1 of" not in out and time.monotonic() - started < 60:
            if select.select([leader], [], [], 0.05)[0]:
                out += os.read(leader, 65536)
        os.killpg(proc.pid, 9)
        assert proc.stderr is not None
        lines = proc.stderr.read().decode().splitlines()
    os.close(leader)
    rows, total = [], 0.0
    for line in lines:
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, cumulative, name = line[12:].split("|")
        if not name.startswith("     "):  # (top-level and their imports: deeper is indented more)
            rows.append((int(cumulative) / 1000, int(own) / 1000, name.strip()))
        if not name.startswith("  "):  # (the total: top-level imports only)
            total += int(cumulative) / 1000
    rows.sort(reverse=True)
    return [*rows[:top], (total, 0.0, "(all, to the first screen)")]


def timed(cur: psycopg2.extensions.cursor, query: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cur.execute(query)
        cur.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=25.0)
    parser.add_argument("--relations", type=int, default=100_000)
    parser.add_argument("--busy", type=int, default=0, help="processes kept spinning meanwhile")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)
    ]
    try:
        with EmbeddedServer() as server:
            run(server, args)
    finally:
        for spinner in spinners:
            spinner.kill()


def run(server: EmbeddedServer, args: argparse.Namespace) -> None:
    dsn = server.create_database("pgbrowse_ssh")
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA bench; CREATE TABLE bench.events AS SELECT g AS id,"
            " md5(g::text) AS label, (g % 1000)::numeric / 7 AS amount,"
            " now() - g * interval '1 second' AS at, (g::int8 * 7919) % 1000003 AS score"
            f" FROM generate_series(1, {args.rows}) g;"
            " ALTER TABLE bench.events ADD PRIMARY KEY (id)"
        )
        cur.execute("VACUUM ANALYZE bench.events")
        cur.execute("SHOW port")
        (port,) = cur.fetchone() or ("5432",)
    params = psycopg2.extensions.parse_dsn(dsn)
    socket = f"{params['host']}/.s.PGSQL.{port}"
    direct = psycopg2.extensions.make_dsn(dsn)
    psql = shutil.which("psql")
    vd = shutil.which("vd")
    query = "SELECT * FROM bench.events"
    pgbrowse = [sys.executable, "-m", "pgbrowse"]
    less_env = {"PAGER": "less", "PSQL_PAGER": "less"}
    print(
        f"bench.events {args.rows:,} rows, 200x50 pty, {os.cpu_count()} cores,"
        f" {args.busy} busy processes, median of {args.starts}"
    )

    # First screen, directly and over a long link.
    with delay_proxy(socket, args.delay_ms / 1000) as proxied_port:
        proxied = psycopg2.extensions.make_dsn(dsn, host="127.0.0.1", port=proxied_port)
        links = {"direct": direct, f"+{args.delay_ms:g} ms each way": proxied}
        tools: dict[str, tuple[list[str], bytes, dict[str, str]]] = {}
        for link, target in links.items():
            if psql:
                tools[f"psql + less, {link}"] = (
                    [psql, "-X", "-v", "FETCH_COUNT=1000", "-c", query, target],
                    b"+00 | ",  # (a row: its timestamp's zone, then the next column)
                    less_env,
                )
            tools[f"pgbrowse, {link}"] = (
                [*pgbrowse, "-w", target, "bench.events"],
                b"row 1 of",
                {},
            )
            if vd:
                url = "postgres://{user}@{host}:{port}/{dbname}".format(
                    user=params.get("user", "postgres"),
                    host="127.0.0.1" if target is not direct else params["host"],
                    port=psycopg2.extensions.parse_dsn(target).get("port", port),
                    dbname=params["dbname"],
                )
                tools[f"visidata, {link}"] = ([vd, url], b"events", {})
        times: dict[str, list[float]] = {name: [] for name in tools}
        for _ in range(args.starts):  # (interleaved: a slower moment costs each alike)
            for name, (command, needle, env) in tools.items():
                times[name].append(first_screen(command, needle, env))
    print("first screen (launch to rows on the screen):")
    for link in links:
        base = times.get(f"psql + less, {link}")
        for name, values in times.items():
            if name.endswith(link):
                median = statistics.median(values)
                extra = ""
                if base and link != "direct":
                    plain = statistics.median(times[name.replace(link, "direct")])
                    extra = f"  (+{median - plain:.2f} s for the link)"
                print(f"  {name:<40} {median:7.3f} s{extra}"
                      f"{ratio(median, statistics.median(base) if base else None)}")  # fmt: skip

    # PageDown: key to the whole page, bytes per key; and search, in pgbrowse's sessions.
    keyed = {"psql + less": ([psql or "psql", "-X", "-v", "FETCH_COUNT=1000", "-c", query, direct],
                             b"+00 | ", less_env),
             "pgbrowse": ([*pgbrowse, "-w", direct, "bench.events"], b"row 1 of", {})}  # fmt: skip
    if not psql:
        del keyed["psql + less"]
    drawn: dict[str, list[float]] = {name: [] for name in keyed}
    sizes: dict[str, list[float]] = {name: [] for name in keyed}
    searches = []
    for _ in range(args.starts):
        for name, (command, needle, env) in keyed.items():
            term = session(command, env, needle)
            try:
                kb, at, _ = pagedowns(term, args.keys)
                sizes[name] += kb
                drawn[name] += at
                if name == "pgbrowse":
                    searches.append(search_absent(term))
            finally:
                term.close()
    base_ms = p(drawn["psql + less"], 0.5) if psql else None
    base_kb = statistics.median(sizes["psql + less"]) if psql else None
    print(f"PageDown ({args.keys} keys x {args.starts} launches): key to the whole page drawn")
    for name in keyed:
        p50, p95 = p(drawn[name], 0.5), p(drawn[name], 0.95)
        kb = statistics.median(sizes[name])
        print(f"  {name:<14} p50 {p50:5.1f} ms, p95 {p95:5.1f} ms{ratio(p50, base_ms)} (p50);"
              f" {kb:.1f} KB written per key{ratio(kb, base_kb)}")  # fmt: skip
    with conn.cursor() as cur:
        ilike = timed(cur, "SELECT * FROM bench.events e WHERE e::text ILIKE '%zzzz%'")
        like = timed(cur, "SELECT * FROM bench.events e WHERE e::text LIKE '%zzzz%'")
    conn.close()
    search = statistics.median(searches)
    print(f"search for a text no row holds: pgbrowse {search:.2f} s; ILIKE {ilike:.2f} s,"
          f" LIKE {like:.2f} s (one statement each){ratio(search, ilike, 'of ILIKE')}")  # fmt: skip

    # The relation list of a large catalog.
    if args.relations:
        print(f"creating {args.relations:,} tables…", file=sys.stderr)
        many = build_catalog(server, args.relations)
        wholes = []
        for _ in range(args.starts):
            child = subprocess.run(
                [sys.executable, bench_catalog.__file__, "--child", many],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            wholes.append(json.loads(child.stdout)["whole catalog"])
        whole = statistics.median(wholes)
        print(f"relation list, {args.relations:,} relations: app start to every relation"
              f" indexed {whole:.2f} s (goal <= 0.8 s)")  # fmt: skip

    # A CSV export against psql's \copy of the same query.
    factory = ConnectionFactory(direct)
    with contextlib.closing(factory.connect()) as lookup:
        relation = find_relation(lookup, "bench.events")
    assert relation is not None
    pager = CursorPager(factory, relation)
    pager.load(0)
    export = pager.export_query()
    pager.close()
    with contextlib.closing(factory.connect()) as lookup, tempfile.TemporaryDirectory() as folder:
        text = export.as_string(lookup)
        ours, theirs = [], []
        for _ in range(3):
            seconds, _result, _grew = timed_export(factory, export, Path(folder) / "ours.csv")
            ours.append(seconds)
            if psql:
                started = time.perf_counter()
                subprocess.run(
                    [psql, direct, "-X", "-q", "-c",
                     f"\\copy ({text}) TO '{folder}/psql.csv' WITH (FORMAT csv, HEADER)"],
                    check=True,
                )  # fmt: skip
                theirs.append(time.perf_counter() - started)
    mine = statistics.median(ours)
    psqls = statistics.median(theirs) if theirs else None
    versus = (
        f", psql \\copy {psqls:.2f} s: throughput x{psqls / mine:.2f} of psql's" if psqls else ""
    )
    print(f"CSV export of bench.events: pgbrowse {mine:.2f} s{versus}")

    # Where start-up goes: the slowest imports.
    print("imports to the first screen (python -X importtime; cumulative / own ms):")
    for cumulative, own, name in import_times([*pgbrowse, "-w", direct, "bench.events"]):
        print(f"  {cumulative:8.1f} {own:8.1f}  {name}")


if __name__ == "__main__":
    main()
