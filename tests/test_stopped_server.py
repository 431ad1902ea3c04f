"""A server that stops answering (issue 13): its backend and postmaster stopped with SIGSTOP,
as a hung host or a dropped network looks. pgbrowse runs on a real pseudo-terminal against
a server of its own (stopping the suite's shared one would stall every other test); keys,
Esc, Ctrl+Q and signals must all still work within 2 s."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import psutil
import pytest

from pgbrowse.demo.embedded import EmbeddedServer
from tests.helpers import TerminalOutput as Screen
from tests.helpers import direct, execute, exits_within, spawn_on_pty

LIMIT_S = 2.0
SLACK_S = 0.5


@pytest.fixture(scope="module")
def own_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as server:
        dsn = server.create_database("stopped")
        execute(
            dsn,
            "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t"
            " FROM generate_series(1, 200000) g",
            "ALTER TABLE big ADD PRIMARY KEY (id)",
            "ANALYZE big",
        )
        yield server


@pytest.fixture
def stopped_browser(own_server: EmbeddedServer) -> Iterator[tuple]:
    """pgbrowse showing ``big``, then its backends and the postmaster stopped (SIGSTOP)."""
    dsn = own_server.uri("stopped")
    proc, leader = spawn_on_pty(dsn, "big")
    stopped: list[psutil.Process] = []
    screen = Screen(leader)
    try:
        screen.wait_for(b"public.big", timeout=30)
        time.sleep(0.5)  # (its first pages in)
        pids = [
            pid
            for (pid,) in direct(
                dsn, "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbrowse'"
            )
        ]
        assert pids, "pgbrowse has no session to stop"
        for pid in [*pids, own_server.pid]:
            process = psutil.Process(pid)
            process.suspend()
            stopped.append(process)
        yield proc, leader, screen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for process in stopped:
            process.resume()
        os.close(leader)


def test_esc_leaves_a_view_whose_server_stopped(stopped_browser) -> None:
    proc, leader, screen = stopped_browser
    os.write(leader, b":")
    screen.wait_for(b"Go to row", timeout=5)
    os.write(leader, b"50%\r")  # (the seek goes to a server that never answers)
    time.sleep(1.0)
    os.write(leader, b"\x1b")  # Esc: cancel (the cancel request is never answered either)
    time.sleep(0.3)
    started, since = time.monotonic(), screen.mark()
    os.write(leader, b"\x1b")  # Esc again: leave for the list
    screen.wait_for(b"filter relations", timeout=LIMIT_S, since=since)
    assert time.monotonic() - started <= LIMIT_S
    started = time.monotonic()
    os.write(leader, b"\x11")  # Ctrl+Q
    assert exits_within(proc, started) <= LIMIT_S + SLACK_S


@pytest.mark.parametrize("how", ["ctrl+q", "SIGTERM", "SIGHUP"])
def test_quitting_while_a_statement_waits_on_a_stopped_server(stopped_browser, how: str) -> None:
    proc, leader, _ = stopped_browser
    os.write(leader, b"G")  # the end: a statement the stopped server never answers
    time.sleep(0.5)
    os.write(leader, b"\x1b")  # and a cancel that never comes back
    time.sleep(0.5)
    started = time.monotonic()
    if how == "ctrl+q":
        os.write(leader, b"\x11")
    else:
        proc.send_signal(getattr(signal, how))
    assert exits_within(proc, started) <= LIMIT_S + SLACK_S


@pytest.mark.parametrize("key", [b"\x11", b"\x1b", b"\x03"], ids=["ctrl+q", "esc", "ctrl+c"])
def test_start_up_against_a_stopped_server_says_what_it_waits_for(
    own_server: EmbeddedServer, key: bytes
) -> None:
    """Issue 25: with the server stopped before pgbrowse starts, the terminal stayed blank
    for the connect's 10 s and Ctrl+Q did nothing. Now a screen says what it waits for,
    the seconds counting, and each of Esc, Ctrl+Q and Ctrl+C quits at once."""
    dsn = own_server.uri("stopped")
    postmaster = psutil.Process(own_server.pid)
    postmaster.suspend()
    proc, leader = spawn_on_pty(dsn, "big")
    try:
        screen = Screen(leader)
        screen.wait_for(b"connecting to", timeout=10)
        screen.wait_for(b"s", timeout=2, since=screen.mark())  # (the seconds count on)
        assert proc.poll() is None
        started = time.monotonic()
        os.write(leader, key)
        assert exits_within(proc, started) <= 1.0  # (0.2 s asked; 5x for a loaded machine)
        assert proc.returncode == 130
    finally:
        postmaster.resume()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
