"""`pgbrowse --demo` as a user runs it, in a real pseudo-terminal: nothing is left behind."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.helpers import marked_server_dirs


def spawn_demo(mark: str, rows: int, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """``pgbrowse --demo`` on a new pty, its server marked ``mark`` (it inherits the
    environment); returns the process and the pty's leader."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", "--demo", "--demo-rows", str(rows)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "PGBROWSE_TEST_MARK": mark, **env},
        start_new_session=True,
    )
    os.close(follower)
    return proc, leader


def wait_gone(mark: str, ours: set[str]) -> None:
    """Until the demo's server (marked ``mark``) and its files are gone: 10 s at most."""
    deadline = time.monotonic() + 10
    while marked_server_dirs(mark) & ours or any(os.path.exists(d) for d in ours):
        assert time.monotonic() < deadline, (marked_server_dirs(mark), ours)
        time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_demo_leaves_no_server_behind(sig: signal.Signals) -> None:
    mark = uuid.uuid4().hex  # its server inherits it: other tests' servers are not ours
    proc, leader = spawn_demo(mark, 1000, COLUMNS="100", LINES="30")
    output = b""
    try:
        deadline = time.monotonic() + 60
        while b"relations" not in output:  # the list's status line: the app is up
            assert time.monotonic() < deadline, output[-2000:]
            assert proc.poll() is None, output[-2000:]
            try:
                output += os.read(leader, 65536)
            except OSError:
                break
        ours = marked_server_dirs(mark)
        assert ours, "the demo server should be running"
        proc.send_signal(sig)
        deadline = time.monotonic() + 30
        while proc.poll() is None:
            assert time.monotonic() < deadline
            try:
                os.read(leader, 65536)
            except OSError:
                time.sleep(0.05)
        assert proc.returncode == 128 + sig
        # Killed at once, gone within seconds: a loaded machine gives the killed server and
        # the detached removal of its files their CPU a little later.
        wait_gone(mark, ours)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def test_demo_says_its_progress_and_quits_at_once() -> None:
    """Issue 26: the build shows its progress on the terminal, and Ctrl+Q ends the process
    at once (1 s measured on 2 cores: bench_demo.py; 5 s here), the server stopped and its
    files removed by a process of its own soon after."""
    from tests.helpers import TerminalOutput, exits_within

    mark = uuid.uuid4().hex
    proc, leader = spawn_demo(mark, 250_000)
    try:
        screen = TerminalOutput(leader)
        screen.wait_for(b"relations", timeout=90)
        assert b"shop.orders: 100,000 of 250,000 rows" in screen.out  # (one line, rewritten)
        assert b"shop.orders: 250,000 of 250,000 rows" in screen.out
        ours = marked_server_dirs(mark)
        assert ours
        quit_at = time.monotonic()
        os.write(leader, b"\x11")  # Ctrl+Q
        assert exits_within(proc, quit_at) < 5 and proc.returncode == 0
        wait_gone(mark, ours)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
