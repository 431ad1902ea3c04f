"""Files are created safely (issue 24): an export never writes through a planted link,
state is private (0600 files in a 0700 folder, as psql's history), a crash log always
carries its traceback, and a password on the command line leaves the process's argv."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import psycopg2.extensions
import pytest

from pgbrowse.crashlog import write_crash_log
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.history import QueryHistory
from tests.helpers import relation, spawn_on_pty


def test_an_export_never_writes_through_a_planted_link(demo_dsn: str, tmp_path: Path) -> None:
    """A symlink at the old temporary name (``<name>.partial``) made the export overwrite
    the file it pointed at; a symlink at the target's own name is replaced, not followed."""
    factory = ConnectionFactory(demo_dsn)
    precious, other = tmp_path / "precious.txt", tmp_path / "other.txt"
    precious.write_text("keep me")
    other.write_text("me too")
    out = tmp_path / "customers.csv"
    os.symlink(precious, tmp_path / "customers.csv.partial")
    linked = tmp_path / "linked.csv"
    os.symlink(other, linked)
    pager = CursorPager(factory, relation(factory, "shop.customers"))
    try:
        pager.rows(0, 1)  # (open: the export writes the view's columns)
        for path in (out, linked):
            done = Export(factory, pager.export_query(), path, "shop.customers").run()
            assert done.rows > 0 and path.read_text().startswith("id,")
            assert not path.is_symlink()
    finally:
        pager.close()
    assert precious.read_text() == "keep me" and other.read_text() == "me too"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "customers.csv",
        "customers.csv.partial",  # (the planted link, left alone)
        "linked.csv",
        "other.txt",
        "precious.txt",
    ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_history_and_crash_logs_are_private(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(os, "umask", os.umask)  # (restored: the test changes nothing else)
    old = os.umask(0o022)
    try:
        history = QueryHistory(tmp_path / "state" / "pgbrowse" / "history.jsonl", limit=2)
        history.add("SELECT 1")
        assert mode(history.path) == 0o600 and mode(history.path.parent) == 0o700
        history.add("SELECT 2")
        history.add("SELECT 3")  # past the limit: rewritten through a temporary file
        assert mode(history.path) == 0o600
        assert [p.name for p in history.path.parent.iterdir()] == ["history.jsonl"]
        try:
            raise ValueError("undecodable \udc9b data")  # a lone surrogate
        except ValueError as error:
            log = write_crash_log(error)
        assert log is not None and mode(log) == 0o600 and mode(log.parent) == 0o700
        text = log.read_text()
        assert "Traceback" in text and "ValueError: undecodable \\udc9b data" in text
    finally:
        os.umask(old)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_password_leaves_the_command_line(demo_dsn: str) -> None:
    secret = "sekrit-3141"
    dsn = psycopg2.extensions.make_dsn(demo_dsn, password=secret)
    proc, leader = spawn_on_pty(dsn, "shop.customers")
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    try:
        deadline = time.monotonic() + 20
        while secret in cmdline.read_bytes().decode(errors="replace"):
            assert proc.poll() is None, "pgbrowse ended"
            assert time.monotonic() < deadline, "the password stayed on the command line"
            time.sleep(0.05)
        shown = cmdline.read_bytes().decode(errors="replace")
        assert "password=…" in shown and "shop.customers" in shown
    finally:
        os.close(leader)  # a hangup: pgbrowse ends
        proc.wait(10)
