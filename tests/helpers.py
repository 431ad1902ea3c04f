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
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
from psycopg2 import sql
from textual.pilot import Pilot

from pgbrowse.db.catalog import Relation, find_relation
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.pager import Statement
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
