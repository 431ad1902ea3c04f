"""Nothing outlives its terminal (issue 13): a real pseudo-terminal is closed under the
running app (as an SSH disconnect or `tmux kill-session` does) while it draws, with both
cores busy, again and again; each time the process is gone within 2 s and its sessions
with it. Also right after Ctrl+Q, and with the embedded demo server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.helpers import marked_server_dirs, pgbrowse_sessions, spawn_on_pty

LIMIT_S = 2.0
SLACK_S = 0.5  # for starting the clock and polling on a machine with both cores busy


def read_until(leader: int, proc: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out:
        assert time.monotonic() < deadline, out[-1500:]
        assert proc.poll() is None, out[-1500:]
        try:
            out += os.read(leader, 65536)
        except OSError:
            break
    return out


def gone_within(proc: subprocess.Popen[bytes], started: float) -> float:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("pgbrowse outlived its terminal by more than 10 s")
    return time.monotonic() - started


@pytest.fixture
def busy_cores() -> Iterator[None]:
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


@pytest.mark.parametrize("run", range(6))
def test_a_hangup_while_drawing_ends_it_within_2_s(demo_dsn: str, busy_cores, run: int) -> None:
    proc, leader = spawn_on_pty(demo_dsn, "shop.orders")
    try:
        read_until(leader, proc, b"shop.orders", timeout=30)
        os.write(leader, b"\x1b[6~" * 40 + b"G" + b"\x1b[5~" * 40)  # drawing hard
        time.sleep(0.05 * (run % 3))
        started = time.monotonic()
        os.close(leader)  # the terminal goes away
        leader = -1
        took = gone_within(proc, started)
        assert took <= LIMIT_S + SLACK_S, f"{took:.2f} s"
    finally:
        if proc.poll() is None:
            proc.kill()
        if leader >= 0:
            os.close(leader)
    deadline = time.monotonic() + 5
    while pgbrowse_sessions(demo_dsn):  # its sessions ended with it
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_closing_the_terminal_right_after_ctrl_q(demo_dsn: str, busy_cores) -> None:
    for delay in (0.2, 0.5, 0.8):
        proc, leader = spawn_on_pty(demo_dsn, "shop.orders")
        try:
            read_until(leader, proc, b"shop.orders", timeout=30)
            os.write(leader, b"\x11")  # Ctrl+Q
            time.sleep(delay)
            started = time.monotonic()
            os.close(leader)
            leader = -1
            assert gone_within(proc, started) <= LIMIT_S + SLACK_S
        finally:
            if proc.poll() is None:
                proc.kill()
            if leader >= 0:
                os.close(leader)


def test_a_hangup_stops_the_demo_server(busy_cores, monkeypatch) -> None:
    import uuid

    mark = uuid.uuid4().hex  # inherited by the demo's server: other tests' are not ours

    def demo_dirs() -> set[str]:
        return marked_server_dirs(mark)

    monkeypatch.setenv("PGBROWSE_TEST_MARK", mark)
    proc, leader = spawn_on_pty("--demo", "--demo-rows", "1000")
    try:
        read_until(leader, proc, b"relations", timeout=90)
        ours = demo_dirs()
        assert ours
        started = time.monotonic()
        os.close(leader)
        leader = -1
        assert gone_within(proc, started) <= LIMIT_S + SLACK_S
        deadline = time.monotonic() + 5  # (its files may take a moment longer to go)
        while (demo_dirs() & ours) or any(os.path.exists(d) for d in ours):
            assert time.monotonic() < deadline, ours
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        if leader >= 0:
            os.close(leader)
