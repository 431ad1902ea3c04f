"""Helpers shared by the tests (not fixtures: those are in conftest.py). Test modules import
from here, never from each other, so a bare ``pytest`` collects every module on its own."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql
from textual.pilot import Pilot

from pgbrowse.db.catalog.relations import Relation, find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager, Statement
from pgbrowse.memory import MemoryReading
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.catalog_view import CatalogView
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_view import CURSOR_MARK, HEADER_LINES, TableView

FIXED_MEMORY = MemoryReading(
    available_bytes=6 * 2**30, total_bytes=16 * 2**30, rss_bytes=123 * 2**20
)


def fixed_memory() -> MemoryReading:
    """An injected memory probe: stable figures for tests and screenshots."""
    return FIXED_MEMORY


def relation(factory: ConnectionFactory, name: str) -> Relation:
    """The catalog entry for ``name``, looked up on a short-lived connection."""
    conn = factory.connect()
    try:
        found = find_relation(conn, name)
    finally:
        conn.close()
    assert found is not None, name
    return found


def direct(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    """The rows of ``query``, asked of the server directly (not through pgbrowse)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params or None)
            return cur.fetchall()
    finally:
        conn.close()


def execute(dsn: str, *statements: str) -> None:
    """Run ``statements`` on the server directly, each committed (setting up a test)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def pgbrowse_sessions(dsn: str) -> int:
    """How many sessions named pgbrowse the server has right now."""
    ((count,),) = direct(
        dsn,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = 'pgbrowse' AND pid <> pg_backend_pid()",
    )
    return int(count)


SIZE = (120, 40)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


def line(view: TableView, y: int) -> str:
    """The text of a line of the view, the cursor row's mark read as the space it replaces."""
    return view.render_line(y).text.replace(CURSOR_MARK, " ")


def fetch_count(view: TableView) -> int:
    return sum(s.sql.startswith("FETCH") for s in view.pager.statements)


def rows_shown(view: TableView) -> bool:
    return view.laid_out and "·" not in line(view, HEADER_LINES)


async def open_table(app: PgBrowseApp, pilot: Pilot) -> TableView:
    """The table view of the screen the app is opening, once its first rows are drawn."""
    await wait_for(pilot, lambda: bool(app.screen.query(TableView)))
    view = app.screen.query_one(TableView)
    await wait_for(pilot, lambda: rows_shown(view))
    return view


def listed(app: PgBrowseApp) -> int:
    """How many lines the relation list shows, once the whole catalog is in and the
    filter has looked at all of it (-1 until then, or on another screen)."""
    screen = app.screen
    if not isinstance(screen, RelationListScreen) or not screen.loaded:
        return -1
    return len(screen.listing.lines) if screen.listing.done else -1


async def choose_in_list(pilot: Pilot, name: str) -> None:
    """Type ``name`` (schema.name) into the list's filter and put the cursor on exactly
    that relation (other names may contain it)."""
    app = pilot.app
    await wait_for(pilot, lambda: listed(app) > 0)
    await pilot.press(*name)
    await wait_for(pilot, lambda: listed(app) >= 1)
    screen = app.screen
    assert isinstance(screen, RelationListScreen)
    index = screen.listing.index
    rows = [
        row
        for row, line in enumerate(screen.listing.lines)
        if f"{index.entry(line).schema}.{index.entry(line).name}" == name
    ]
    assert rows, name
    screen.query_one(CatalogView).move(to=rows[0])


async def open_from_list(pilot: Pilot, name: str) -> TableView:
    await choose_in_list(pilot, name)
    await pilot.press("enter")
    return await open_table(pilot.app, pilot)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgbrowse", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


MOVE = re.compile(r"MOVE (FORWARD|BACKWARD) (\d+|ALL)")

FETCH = re.compile(r"FETCH FORWARD (\d+)")


def walked(statements: list[Statement]) -> int:
    """The most rows any one statement stepped over or brought back."""
    most = 0
    for s in statements:
        if m := MOVE.match(s.sql):
            assert m[2] != "ALL", s.sql
            most = max(most, int(m[2]))
        elif m := FETCH.match(s.sql):
            most = max(most, int(m[1]))
        else:
            assert "ABSOLUTE" not in s.sql, s.sql
            most = max(most, s.rows)
    return most


def column(pager: Any, name: str) -> int:
    return [c.name for c in pager.columns].index(name)


@contextlib.contextmanager
def password_role(server: Any, dsn: str, user: str, password: str) -> Iterator[None]:
    """A role that must log in with ``password`` (scram-sha-256 in the embedded server's
    pg_hba.conf, before its other lines), undone afterwards."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))
        cur.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
    hba = server.pgdata / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"local all {user} scram-sha-256\n" + original)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        hba.write_text(original)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))
        conn.close()


def spawn_on_pty(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m pgbrowse args`` with a new pseudo-terminal (30x100) as its controlling
    terminal (getpass reads /dev/tty; closing the leader hangs it up); returns the process
    and the leader's fd."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, b"\x1e\x00\x64\x00\x00\x00\x00\x00")

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color"},
        preexec_fn=controlling_terminal,
    )
    os.close(follower)
    return proc, leader


def marked_server_dirs(mark: str) -> set[str]:
    """The data folders of the live embedded servers started by a process whose environment
    had PGBROWSE_TEST_MARK=``mark`` (they inherit it): a test's own demo server, whatever
    other servers come and go meanwhile."""
    import psutil

    found = set()
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get("PGBROWSE_TEST_MARK") != mark:
                continue
            for part in proc.cmdline():
                if "pgbrowse-pg-" in part and os.path.isabs(part):
                    found.add(part)
    return found


class TerminalOutput:
    """What pgbrowse wrote to its terminal, read all the time (as a terminal does: a pty
    nobody reads fills up, and then the app waits to write)."""

    def __init__(self, leader: int) -> None:
        self.leader = leader
        self.out = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.out += chunk

    def mark(self) -> int:
        return len(self.out)

    def wait_for(self, marker: bytes, timeout: float, since: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.out[since:]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} not shown; last: {self.out[-600:]!r}")
            time.sleep(0.02)


def exits_within(proc: subprocess.Popen[bytes], started: float) -> float:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("pgbrowse did not quit within 10 s of being told to")
    return time.monotonic() - started


# -- issue 25: one snapshot on the screen (test_snapshot.py, test_standby.py) ----------
HEAPDUP = Relation("public", "heapdup", "r", None, 0)


def build_heapdup(dsn: str) -> None:
    execute(
        dsn,
        "DROP TABLE IF EXISTS heapdup",
        "CREATE TABLE heapdup WITH (autovacuum_enabled = off) AS"
        " SELECT g AS n, 'h' || g AS t FROM generate_series(1, 50000) g",
        "DELETE FROM heapdup WHERE n BETWEEN 301 AND 500",
        "VACUUM heapdup",
        "ANALYZE heapdup",
    )


def rows_of_ten(pager: CursorPager) -> list[tuple]:
    """Every cached row whose n is 10."""
    found = []
    for page in pager.cached_pages():
        for row in pager.cached(page) or []:
            if row[0] == "10":
                found.append(row[:2])
    return found


def read_across_a_new_snapshot(dsn: str, primary: str, replay: object = None) -> CursorPager:
    """Rows 1-300, the transaction given back, row 10 moved on ``primary``, rows 301-500."""
    pager = CursorPager(ConnectionFactory(dsn), HEAPDUP, page_size=100)
    assert pager.rows(0, 300)[9][:2] == ("10", "h10")
    assert rows_of_ten(pager) == [("10", "h10")]
    assert pager.release()  # (idle: the transaction, and its snapshot, end)
    execute(primary, "UPDATE heapdup SET t = 'moved' WHERE n = 10")
    if callable(replay):
        replay()
    pager.rows(300, 200)
    return pager
