"""`pgbrowse --demo` as a user runs it, in a real pseudo-terminal: nothing is left behind."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

import psutil
import pytest


def demo_postgres(pgbrowse_pid: int) -> list[psutil.Process]:
    """Live postgres processes serving the demo started by ``pgbrowse_pid``."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["status"] != psutil.STATUS_ZOMBIE and "pgbrowse-pg-" in cmdline:
            found.append(proc)
    return found


def data_dirs(procs: list[psutil.Process]) -> set[str]:
    dirs = set()
    for proc in procs:
        for part in proc.info["cmdline"] or []:
            if "pgbrowse-pg-" in part:
                dirs.add(part)
    return dirs


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_demo_leaves_no_server_behind(sig: signal.Signals) -> None:
    before = data_dirs(demo_postgres(0))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", "--demo", "--demo-rows", "1000"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
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
        ours = data_dirs(demo_postgres(proc.pid)) - before
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
        time.sleep(0.5)
        assert not (data_dirs(demo_postgres(proc.pid)) & ours)
        assert not any(os.path.exists(d) for d in ours)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
