"""Safe on a production server: an idle view gives back its transaction (issue 5)."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from psycopg2 import sql

from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import PgBrowseError, QueryError
from pgbrowse.db.jobs.counter import RowCounter
from pgbrowse.db.paging.pager import WALK_PAGES, CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.error_screen import ErrorScreen
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from tests.helpers import (
    SIZE,
    direct,
    fixed_memory,
    line,
    open_table,
    relation,
    rows_shown,
    wait_for,
    walked,
)

PAGE = 100


def session(dsn: str, table: str) -> tuple[str, bool, bool]:
    """The pgbrowse session's state, whether it holds a snapshot, and a lock on ``table``."""
    rows = direct(
        dsn,
        "SELECT a.state, a.backend_xmin IS NOT NULL,"
        " EXISTS (SELECT FROM pg_locks l WHERE l.pid = a.pid"
        "         AND l.relation = %s::regclass)"
        " FROM pg_stat_activity a WHERE a.application_name = 'pgbrowse'",
        (table,),
    )
    assert len(rows) == 1, rows
    return rows[0]


def ddl_blockers(dsn: str, table: str) -> list[tuple[str, str]]:
    """Who keeps a migration from its ACCESS EXCLUSIVE lock on ``table`` for a second:
    (backend type, application) of each session holding a lock on it; [] when it got it."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '1s'")
            try:
                cur.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS migrated int")
                cur.execute(f"ALTER TABLE {table} DROP COLUMN migrated")
            except psycopg2.errors.LockNotAvailable:
                conn.rollback()
                cur.execute(
                    "SELECT DISTINCT a.backend_type, a.application_name FROM pg_locks l"
                    " JOIN pg_stat_activity a USING (pid)"
                    " WHERE l.granted AND l.relation = %s::regclass AND a.pid <> pg_backend_pid()",
                    (table,),
                )
                return cur.fetchall() or [("gone", "")]
        conn.commit()
        return []
    finally:
        conn.close()


PGBROWSE = ("client backend", "pgbrowse")


@pytest.mark.parametrize(
    ("name", "exact"),
    [("scored", True), ("heap_1m", True), ("scored", False)],
    ids=["key", "ctid", "after a seek"],
)
def test_an_idle_release_holds_nothing_and_resumes_in_place(
    scored_dsn: str, name: str, exact: bool
) -> None:
    factory = ConnectionFactory(scored_dsn)
    pager = CursorPager(factory, relation(factory, name), page_size=PAGE)
    try:
        pager.rows(0, 1)
        # Three pages read from row 300, or from the middle, where a seek estimates positions.
        first_page = 3 if exact else pager.row_count // 2 // PAGE
        for p in range(first_page, first_page + 3):
            pager.load(p)
        assert pager.positions_exact == exact
        assert session(scored_dsn, name) == ("idle in transaction", True, True)
        assert ddl_blockers(scored_dsn, name) == [PGBROWSE]  # an open cursor blocks a migration

        assert pager.release()
        assert session(scored_dsn, name) == ("idle", False, False)  # no snapshot, no lock
        assert ddl_blockers(scored_dsn, name) == []

        before = len(pager.statements)
        last = pager.load(first_page + 2)  # cached: no statement at all
        nxt = pager.load(first_page + 3)  # the next page: a new cursor, from where it was
        new = list(pager.statements)[before:]
        ids = [int(r[0]) for r in last + nxt]  # type: ignore[arg-type]
        assert ids == list(range(ids[0], ids[0] + 2 * PAGE))  # consecutive across the release
        assert walked(new) <= WALK_PAGES * PAGE
        assert any(s.sql.startswith("DECLARE") for s in new)
        assert pager.positions_exact == exact
        if exact:  # still exact: row i holds id i + 1
            assert ids[PAGE] == (first_page + 3) * PAGE + 1
    finally:
        pager.close()


async def test_the_app_releases_when_idle_and_comes_back(scored_dsn: str) -> None:
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(
        factory,
        initial=relation(factory, "scored"),
        memory_probe=fixed_memory,
        idle_release_s=0.3,
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        released = view.pager.releases  # (before the keys: their release may come at once)
        await pilot.press("pagedown", "pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        top = int(line(view, 2).split()[1])
        await wait_for(
            pilot,
            lambda: view.pager.releases > released and not view.pager.holds_transaction,
            timeout=5,
        )
        assert session(scored_dsn, "scored")[:2] == ("idle", False)
        await wait_for(
            pilot, lambda: "idle" in app.screen.query_one(MemoryFooter).figures(), timeout=3
        )
        for _ in range(4):
            await pilot.press("pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        assert int(line(view, 2).split()[1]) == top + 4 * view.data_height
        assert view.pager.positions_exact


def factory_with(dsn: str, **settings: float) -> ConnectionFactory:
    return ConnectionFactory(dsn, SessionSettings(**settings))


def pgbrowse_pid(dsn: str) -> int:
    """The pid of the one pgbrowse session on ``dsn``'s database (asked from another one)."""
    database = psycopg2.extensions.parse_dsn(dsn)["dbname"]
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(dsn, dbname="postgres"))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbrowse' AND datname = %s",
            (database,),
        )
        (pid,) = cur.fetchone()
    conn.close()
    return int(pid)


def admin(dsn: str, statement: str, dbname: str | None = None) -> None:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(dsn, dbname=dbname) if dbname else dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


async def test_a_locked_table_says_so_within_the_lock_timeout(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS migrating")
        cur.execute("CREATE TABLE migrating AS SELECT g AS id FROM generate_series(1, 100) g")
    holder = psycopg2.connect(scratch_dsn)  # a migration, mid-way
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE migrating IN ACCESS EXCLUSIVE MODE")
    try:
        factory = factory_with(scratch_dsn, lock_timeout_s=0.5)
        rel = relation(factory, "migrating")
        app = PgBrowseApp(factory, memory_probe=fixed_memory)
        async with app.run_test(size=SIZE) as pilot:
            started = time.monotonic()
            app.open_relation(rel)
            await wait_for(pilot, lambda: bool(app.screen.query("#position")))
            position = app.screen.query_one("#position")
            await wait_for(pilot, lambda: "Locked" in str(position.render()), timeout=5)
            assert time.monotonic() - started < 3
            text = str(position.render())
            assert "public.migrating" in text and "locked by another session" in text
            assert "0.5 s" in text
            await pilot.press("escape")  # the app goes on
            await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
            holder.rollback()  # the migration is done: now it opens
            app.open_relation(rel)
            await wait_for(pilot, lambda: bool(app.screen.query(TableView)))
            await wait_for(pilot, lambda: rows_shown(app.screen.query_one(TableView)))
    finally:
        holder.close()


async def test_a_key_retries_a_view_that_has_no_rows_yet(scratch, scratch_dsn: str) -> None:
    """A view whose open was refused (here: locked) shows no rows; the next key, once the
    lock is gone, opens it and shows them, without leaving and coming back."""
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS relocked")
        cur.execute("CREATE TABLE relocked AS SELECT g AS id FROM generate_series(1, 100) g")
    holder = psycopg2.connect(scratch_dsn)
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE relocked IN ACCESS EXCLUSIVE MODE")
    try:
        factory = factory_with(scratch_dsn, lock_timeout_s=0.3)
        rel = relation(factory, "relocked")
        app = PgBrowseApp(factory, initial=rel, memory_probe=fixed_memory)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#position")))
            position = app.screen.query_one("#position")
            await wait_for(pilot, lambda: "Locked" in str(position.render()), timeout=5)
            view = app.screen.query_one(TableView)
            assert not view.laid_out
            holder.rollback()  # the lock is gone
            await pilot.press("j")  # any key tries again
            await wait_for(pilot, lambda: rows_shown(view), timeout=5)
            assert app.screen.query_one(TableView) is view
    finally:
        holder.close()


def test_a_statement_timeout_says_after_how_long(scratch_dsn: str, scratch) -> None:
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW sleepy AS"
            " SELECT g AS n, pg_sleep(0.01)::text AS nap FROM generate_series(1, 1000) g"
        )
    factory = factory_with(scratch_dsn, statement_timeout_s=0.3)
    pager = CursorPager(factory, relation(factory, "sleepy"), page_size=PAGE)
    try:
        with pytest.raises(QueryError) as caught:
            pager.load(0)  # 100 rows x 10 ms: over the 0.3 s timeout
        assert caught.value.title == "Timed out"
        assert "timed out after 0.3 s" in caught.value.message
        assert "public.sleepy" in caught.value.message
    finally:
        pager.close()


def test_a_cancelled_statement_leaves_the_pager_where_it_was(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:  # rows past 1,000 are slow: a far walk takes minutes
        cur.execute(
            "CREATE OR REPLACE VIEW slow_tail AS SELECT g AS n,"
            " CASE WHEN g > 1000 THEN pg_sleep(0.01)::text END AS nap"
            " FROM generate_series(1, 100000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "slow_tail"), page_size=PAGE)
    try:
        for p in range(3):
            pager.load(p)
        timer = threading.Timer(0.3, pager.cancel)  # Esc, from the UI thread
        timer.start()
        started = time.monotonic()
        with pytest.raises(QueryError) as caught:
            pager.load(500)
        timer.join()
        assert caught.value.title == "Cancelled" and time.monotonic() - started < 3
        assert [r[0] for r in pager.rows(300, 3)] == ["301", "302", "303"]  # rebuilt, exact
    finally:
        pager.close()


def test_a_killed_session_reconnects_where_it_was(scored_dsn: str) -> None:
    factory = ConnectionFactory(scored_dsn)
    pager = CursorPager(factory, relation(factory, "scored"), page_size=PAGE)
    try:
        pager.rows(0, 1)
        middle = pager.row_count // 2 // PAGE  # a seek: estimated positions
        rows = pager.load(middle)
        frame = pager.frame
        admin(scored_dsn, f"SELECT pg_terminate_backend({pgbrowse_pid(scored_dsn)})")
        nxt = pager.load(middle + 1)  # the next read finds the session gone: a new one
        assert pager.reconnects == 1
        assert int(nxt[0][0]) == int(rows[-1][0]) + 1  # the same place
        assert pager.frame == frame and not pager.positions_exact
        assert any(s.sql.startswith("-- reconnected") for s in pager.statements)
    finally:
        pager.close()


def test_a_server_that_stays_down_is_retried_on_demand(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS steady")
        cur.execute("CREATE TABLE steady AS SELECT g AS id FROM generate_series(1, 5000) g")
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "steady"), page_size=PAGE)
    database = psycopg2.extensions.parse_dsn(scratch_dsn)["dbname"]
    try:
        pager.load(7)
        admin(scratch_dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false', "postgres")
        pid = pgbrowse_pid(scratch_dsn)
        admin(scratch_dsn, f"SELECT pg_terminate_backend({pid})", "postgres")
        for _ in range(2):  # down: a plain error each time, no traceback, nothing lost
            with pytest.raises(PgBrowseError) as caught:
                pager.load(8)
            assert caught.value.title == "Could not connect"
        admin(scratch_dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true', "postgres")
        assert pager.load(8)[0][0] == "801"  # back: exactly where it was
        assert pager.reconnects == 1
    finally:
        admin(scratch_dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true', "postgres")
        pager.close()


def test_forbidden_dropped_and_renamed(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS secret, doomed")
        cur.execute("CREATE TABLE secret AS SELECT 1 AS x")
        cur.execute("CREATE TABLE doomed AS SELECT g AS id FROM generate_series(1, 500) g")
        cur.execute("DROP ROLE IF EXISTS pgbrowse_reader")
        cur.execute("CREATE ROLE pgbrowse_reader LOGIN")
        cur.execute("GRANT SELECT ON doomed TO pgbrowse_reader")
    reader = psycopg2.extensions.make_dsn(scratch_dsn, user="pgbrowse_reader")
    try:
        factory = ConnectionFactory(reader)
        pager = CursorPager(factory, relation(factory, "secret"))
        with pytest.raises(QueryError) as caught:
            pager.load(0)
        assert caught.value.title == "Permission denied" and "secret" in caught.value.message
        pager.close()

        pager = CursorPager(ConnectionFactory(scratch_dsn), relation(factory, "doomed"))
        pager.load(0)
        pager.release()  # idle: so the DROP does not wait behind the view
        admin(scratch_dsn, "DROP TABLE doomed")
        with pytest.raises(QueryError) as caught:
            pager.load(3)
        assert caught.value.title == "No such relation" and "doomed" in caught.value.message
        pager.close()
    finally:
        admin(scratch_dsn, "DROP ROLE IF EXISTS pgbrowse_reader")

    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS renamed")
        cur.execute("CREATE TABLE renamed AS SELECT 1 AS before")
    factory = ConnectionFactory(scratch_dsn)
    first = CursorPager(factory, relation(factory, "renamed"))
    first.load(0)
    first.close()
    admin(scratch_dsn, "ALTER TABLE renamed RENAME COLUMN before TO after")
    again = CursorPager(factory, relation(factory, "renamed"))  # opened again from the list
    again.load(0)
    assert [c.name for c in again.columns] == ["after"]
    again.close()


async def test_the_app_says_it_reconnected(scored_dsn: str) -> None:
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "scored"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("pagedown", "pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        top = int(line(view, 2).split()[1])
        old = {page: view.cache.get(0, page) for page in view.pager.cached_pages()}
        assert old.get(0) is not None
        admin(scored_dsn, f"SELECT pg_terminate_backend({pgbrowse_pid(scored_dsn)})")
        for _ in range(3):
            await pilot.press("pagedown")
        await wait_for(pilot, lambda: rows_shown(view) and view.pager.reconnects == 1)
        assert int(line(view, 2).split()[1]) == top + 3 * view.data_height
        await wait_for(pilot, lambda: any(n.title == "Reconnected" for n in app._notifications))
        said = next(n.message for n in app._notifications if n.title == "Reconnected")
        # The cause, as libpq said it (not a guess such as "a restart").
        assert "administrator command" in said or "closed the connection" in said
        # One snapshot: no page read before the session was lost is left in the cache (the
        # pages in sight were read again after the reconnect; which pages those were depends
        # on where the view was when the loss was found: page 0 too, on a slow machine).
        now = view.pager.cached_pages()
        assert now and all(view.cache.get(0, page) is not old.get(page) for page in now)


async def test_an_unexpected_error_shows_a_screen_and_logs_the_traceback(
    demo_factory: ConnectionFactory, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def boom(self: TableView) -> None:
        raise RuntimeError("the first row went missing")

    monkeypatch.setattr(TableView, "action_first", boom)
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: bool(app.screen.query("#error-log")))
        message = str(app.screen.query_one("#error-message").render())
        assert message == "RuntimeError: the first row went missing"
        log = app.crashes[0][1]
        assert log is not None and log.parent == tmp_path / "pgbrowse"
        assert str(log) in str(app.screen.query_one("#error-log").render())
        written = log.read_text()
        assert "Traceback" in written and "boom" in written and "went missing" in written
        await pilot.press("escape")  # back to the table: only the action failed
        assert isinstance(app.screen, TableScreen)
        await pilot.press("j")
        assert view.cursor_row == 1
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("q")
    assert app.return_code == 1


async def test_an_error_outside_an_action_exits_cleanly_with_the_log(
    demo_factory: ConnectionFactory, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def broken(self: TableView, message: TableView.CursorMoved) -> None:
        raise ValueError("a position that cannot be")

    monkeypatch.setattr(TableScreen, "on_table_view_cursor_moved", broken)
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    with pytest.raises(ValueError, match="cannot be"):  # Pilot re-raises it, for tests
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(5)
    assert app.return_code == 1
    (message, log), *_ = app.crashes
    assert message == "ValueError: a position that cannot be"
    assert log is not None and "Traceback" in log.read_text()


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02, 0.1, 0.3])
def test_a_count_is_cancelled_whenever_esc_comes(scratch, scratch_dsn: str, delay: float) -> None:
    """Esc can land while the count connects, between connecting and the query, or during
    it: every time, the count stops within moments (a slow count takes 50 s)."""
    with scratch.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE VIEW slow_counted AS SELECT g AS n,"
            " CASE WHEN g % 1000 = 0 THEN pg_sleep(0.05)::text END AS nap"
            " FROM generate_series(1, 1000000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    counter = RowCounter(factory, "slow_counted")
    outcome: list[BaseException | tuple[int, int | None]] = []

    def run() -> None:
        try:
            outcome.append(counter.run(sql.SQL("SELECT count(*), NULL FROM slow_counted")))
        except PgBrowseError as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(delay)
    started = time.monotonic()
    counter.cancel()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 3
    assert isinstance(outcome[0], PgBrowseError) and outcome[0].title == "Cancelled"


def test_a_server_restart_reconnects_where_it_was(tmp_path) -> None:
    from pgbrowse.demo.embedded import EmbeddedServer

    with EmbeddedServer() as server:  # a server of its own: this test restarts it
        dsn = server.create_database("restarted")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE steady AS SELECT g AS id FROM generate_series(1, 50000) g")
            cur.execute("ALTER TABLE steady ADD PRIMARY KEY (id)")
            cur.execute("ANALYZE steady")
        conn.close()
        factory = ConnectionFactory(dsn)
        pager = CursorPager(factory, relation(factory, "steady"), page_size=PAGE)
        try:
            for p in range(0, 4):  # read from the top: exact positions
                last = pager.load(p)
            server.restart()  # every session gone, the server back
            nxt = pager.load(4)  # the next read: a new session, the same place
            assert nxt[0][0] == "401" and int(last[-1][0]) == 400
            assert pager.reconnects == 1 and pager.positions_exact
            middle = pager.load(250)  # a seek (estimated positions) ...
            frame = pager.frame
            server.restart()
            after = pager.load(251)  # ... resumes in the same frame, the next rows
            assert int(after[0][0]) == int(middle[-1][0]) + 1 and pager.frame == frame
            assert pager.reconnects == 2
        finally:
            pager.close()


async def test_esc_cancels_a_slow_statement_and_stays(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:  # a keyless view whose end is a 50 s walk away
        cur.execute(
            "CREATE OR REPLACE VIEW slow_end AS SELECT g AS n,"
            " CASE WHEN g > 300 AND g % 1000 = 0 THEN pg_sleep(0.05)::text END AS nap"
            " FROM generate_series(1, 1000000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "slow_end"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query(TableView)))
        screen = app.screen
        view = screen.query_one(TableView)
        await wait_for(pilot, lambda: rows_shown(view))
        await pilot.press("G")  # End: no key to seek on, so the server walks
        await wait_for(pilot, lambda: view.loader.in_flight is not None)
        await pilot.pause(0.8)
        await pilot.press("escape")  # cancels the walk; stays in the table
        await wait_for(pilot, lambda: view.loader.in_flight is None, timeout=5)
        assert app.screen is screen and not view.pager.count_exact
        await pilot.press("j")
        await wait_for(pilot, lambda: view.cursor_row == 1 and rows_shown(view))
        assert line(view, 3).split()[1] == "2"  # reading again from where it was
        await pilot.press("escape")  # nothing slow now: Esc leaves
        await wait_for(pilot, lambda: app.screen is not screen)


async def test_suspending_gives_the_transaction_back_first(scored_dsn: str) -> None:
    """Ctrl+Z: no snapshot and no lock held while the job is stopped (the headless driver
    cannot really stop; the release before it is what is checked)."""
    factory = ConnectionFactory(scored_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "scored"), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: view.cursor_row > 0 and rows_shown(view))
        assert session(scored_dsn, "scored") == ("idle in transaction", True, True)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: session(scored_dsn, "scored") == ("idle", False, False))
        assert ddl_blockers(scored_dsn, "scored") == []
        sent, row = len(view.pager.statements), view.cursor_row
        await pilot.press("pagedown")  # and the next key reads again (a page not read yet)
        try:
            await wait_for(pilot, lambda: rows_shown(view) and view.state.holds_transaction)
        except AssertionError:  # (seen once under load: say what the view did instead)
            statements = [s.sql.split(" FOR ")[0] for s in list(view.pager.statements)[sent:]]
            raise AssertionError(
                f"cursor {row} -> {view.cursor_row}, cached {view.pager.cached_pages()},"
                f" sent {statements}, session {session(scored_dsn, 'scored')}"
            ) from None
