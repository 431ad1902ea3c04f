"""Benchmark (issue 27): the first screen as a user on an SSH session meets it, pgbrowse
beside psql + less (and VisiData where installed), in the same run, interleaved.

    python tests/benchmarks/bench_ssh.py [--rows 1000000] [--starts 5] [--delay-ms 25]

Starts an embedded server with ``bench.events`` (--rows), then, on a pty at 200x50, launches
each tool --starts times, in turn, directly and through a TCP proxy it starts itself that
holds every chunk --delay-ms in each direction (a long link), and measures launch to the
first screen of rows:

- psql + less: ``psql -X -v FETCH_COUNT=1000 -c 'SELECT * FROM bench.events'`` with
  PAGER=less: until the first rows are on the screen;
- pgbrowse: ``pgbrowse DSN bench.events``: until its position line says ``row 1 of``;
- VisiData (``vd``), where installed: until the first rows are drawn.

Prints medians, and pgbrowse's ratio to psql + less. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pgbrowse.demo.embedded import EmbeddedServer

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--delay-ms", type=float, default=25.0)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_ssh")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "CREATE SCHEMA bench; CREATE TABLE bench.events AS SELECT g AS id,"
                " md5(g::text) AS what, now() - g * interval '1 second' AS at"
                f" FROM generate_series(1, {args.rows}) g;"
                " ALTER TABLE bench.events ADD PRIMARY KEY (id); ANALYZE bench.events"
            )
            cur.execute("SHOW port")
            (port,) = cur.fetchone() or ("5432",)
        conn.close()
        params = psycopg2.extensions.parse_dsn(dsn)
        socket = f"{params['host']}/.s.PGSQL.{port}"
        direct = psycopg2.extensions.make_dsn(dsn)
        with delay_proxy(socket, args.delay_ms / 1000) as proxied_port:
            proxied = psycopg2.extensions.make_dsn(dsn, host="127.0.0.1", port=proxied_port)
            links = {"direct": direct, f"+{args.delay_ms:g} ms each way": proxied}
            tools: dict[str, tuple[list[str], bytes, dict[str, str]]] = {}
            psql = shutil.which("psql")
            query = "SELECT * FROM bench.events"
            for link, target in links.items():
                if psql:
                    tools[f"psql + less, {link}"] = (
                        [psql, "-X", "-v", "FETCH_COUNT=1000", "-c", query, target],
                        b"+00\r\n",  # (a row: its timestamp's zone, then the line's end)
                        {"PAGER": "less", "PSQL_PAGER": "less"},
                    )
                tools[f"pgbrowse, {link}"] = (
                    [sys.executable, "-m", "pgbrowse", "-w", target, "bench.events"],
                    b"row 1 of",
                    {},
                )
                vd = shutil.which("vd")
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
        print(
            f"first screen of bench.events ({args.rows:,} rows), 200x50 pty,"
            f" {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, median of {args.starts}:"
        )
        for link in links:
            base = times.get(f"psql + less, {link}")
            for name, values in times.items():
                if not name.endswith(link):
                    continue
                median = statistics.median(values)
                ratio = f"  x{median / statistics.median(base):.1f} of psql + less" if base else ""
                print(f"  {name:<40} {median:7.3f} s{ratio}")


if __name__ == "__main__":
    main()
