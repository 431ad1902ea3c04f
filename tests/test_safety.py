"""Safe on a production server: an idle view gives back its transaction (issue 5)."""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.pager import WALK_PAGES, CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from tests.conftest import fixed_memory, relation
from tests.test_seek import walked
from tests.test_ui import SIZE, line, rows_shown, wait_for

PAGE = 100


def session(dsn: str, table: str) -> tuple[str, bool, bool]:
    """The pgbrowse session's state, whether it holds a snapshot, and a lock on ``table``."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT a.state, a.backend_xmin IS NOT NULL,"
                " EXISTS (SELECT FROM pg_locks l WHERE l.pid = a.pid"
                "         AND l.relation = %s::regclass)"
                " FROM pg_stat_activity a WHERE a.application_name = 'pgbrowse'",
                (table,),
            )
            rows = cur.fetchall()
        assert len(rows) == 1, rows
        return rows[0]
    finally:
        conn.close()


def ddl_gets_through(dsn: str, table: str) -> bool:
    """Can a migration take its ACCESS EXCLUSIVE lock on ``table`` within a second?"""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '1s'")
            try:
                cur.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS migrated int")
                cur.execute(f"ALTER TABLE {table} DROP COLUMN migrated")
            except psycopg2.errors.LockNotAvailable:
                return False
        conn.commit()
        return True
    finally:
        conn.close()


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
        assert not ddl_gets_through(scored_dsn, name)  # an open cursor blocks a migration

        assert pager.release()
        assert session(scored_dsn, name) == ("idle", False, False)  # no snapshot, no lock
        assert ddl_gets_through(scored_dsn, name)

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
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        view = app.screen.query_one(TableView)
        await wait_for(pilot, lambda: rows_shown(view))
        await pilot.press("pagedown", "pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        top = int(line(view, 2).split()[1])
        await wait_for(pilot, lambda: view.pager.releases >= 1, timeout=5)
        assert not view.pager.holds_transaction
        assert session(scored_dsn, "scored")[:2] == ("idle", False)
        await wait_for(
            pilot, lambda: "idle" in app.screen.query_one(MemoryFooter).figures(), timeout=3
        )
        for _ in range(4):
            await pilot.press("pagedown")
        await wait_for(pilot, lambda: rows_shown(view))
        assert int(line(view, 2).split()[1]) == top + 4 * view.data_height
        assert view.pager.positions_exact
