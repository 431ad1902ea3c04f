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


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_demo_leaves_no_server_behind(sig: signal.Signals) -> None:
    mark = uuid.uuid4().hex  # its server inherits it: other tests' servers are not ours
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", "--demo", "--demo-rows", "1000"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "100",
            "LINES": "30",
            "PGBROWSE_TEST_MARK": mark,
        },
        start_new_session=True,
    )
    os.close(follower)
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
        deadline = time.monotonic() + 10
        while marked_server_dirs(mark) & ours or any(os.path.exists(d) for d in ours):
            assert time.monotonic() < deadline, (marked_server_dirs(mark), ours)
            time.sleep(0.1)
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
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", "--demo", "--demo-rows", "250000"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "PGBROWSE_TEST_MARK": mark},
        start_new_session=True,
    )
    os.close(follower)
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
        deadline = time.monotonic() + 10
        while marked_server_dirs(mark) & ours or any(os.path.exists(d) for d in ours):
            assert time.monotonic() < deadline, (marked_server_dirs(mark), ours)
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
