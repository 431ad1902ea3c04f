"""One snapshot on the screen (issue 25): a page belongs to one snapshot, and when a view
starts a new one (resume after an idle release, behind a transaction pooler, on a standby,
after a reconnect) no page of the old one is kept beside a page of the new.

The issue's repro: a heap table without a key, rows 301-500 deleted and vacuumed; the view
reads rows 1-300, gives its transaction back, row 10 is updated (it moves into a freed
slot, around row 301), the view reads on: row 10 showed twice, ``h10`` from the cache and
``moved`` from the new snapshot, while the server holds one.
"""

from __future__ import annotations

from pgbrowse.db.catalog import Relation
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.pager import CursorPager
from tests.helpers import execute

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


def test_a_resumed_view_never_keeps_a_page_of_the_old_snapshot(scratch_dsn: str) -> None:
    build_heapdup(scratch_dsn)
    pager = read_across_a_new_snapshot(scratch_dsn, scratch_dsn)
    try:
        assert "new snapshot" in pager.state().events
        assert rows_of_ten(pager) == [("10", "moved")]  # once, as the server holds it
        assert all(page >= 3 for page in pager.cached_pages())  # (the old pages dropped)
        assert pager.rows(0, 20)[9][:2] == ("11", "h11")  # read again in the new one
    finally:
        pager.close()


def test_behind_a_transaction_pooler_too(bouncer_dsn: str, scratch_dsn: str) -> None:
    build_heapdup(scratch_dsn)
    pager = read_across_a_new_snapshot(bouncer_dsn, scratch_dsn)
    try:
        assert rows_of_ten(pager) == [("10", "moved")]
        assert all(page >= 3 for page in pager.cached_pages())
    finally:
        pager.close()


async def test_the_position_line_says_the_view_moved_to_a_new_snapshot(scratch_dsn: str) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.table_screen import NEW_SNAPSHOT
    from tests.helpers import fixed_memory, open_table, wait_for

    build_heapdup(scratch_dsn)
    app = PgBrowseApp(
        ConnectionFactory(scratch_dsn),
        initial=HEAPDUP,
        memory_probe=fixed_memory,
        idle_release_s=0.5,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_table(app, pilot)
        screen = app.screen
        await wait_for(pilot, lambda: not view.pager.holds_transaction, timeout=10)
        execute(scratch_dsn, "UPDATE heapdup SET t = 'moved' WHERE n = 10")
        await pilot.press("end")  # a page not read yet: a new transaction
        await wait_for(pilot, lambda: NEW_SNAPSHOT in screen.position_text(), timeout=10)
        await pilot.press("home")
        await wait_for(pilot, lambda: screen.cursor_row_values() is not None, timeout=10)
        rows = [view.cache.get(view.state.frame, 0)]
        assert rows[0] is not None and all(r[:2] != ("10", "h10") for r in rows[0])
