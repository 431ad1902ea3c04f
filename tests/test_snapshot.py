"""One snapshot on the screen (issue 25): a page belongs to one snapshot, and when a view
starts a new one (resume after an idle release, behind a transaction pooler, on a standby,
after a reconnect) no page of the old one is kept beside a page of the new.

The issue's repro: a heap table without a key, rows 301-500 deleted and vacuumed; the view
reads rows 1-300, gives its transaction back, row 10 is updated (it moves into a freed
slot, around row 301), the view reads on: row 10 showed twice, ``h10`` from the cache and
``moved`` from the new snapshot, while the server holds one.
"""

from __future__ import annotations

from pgbrowse.db.connection.connect import ConnectionFactory
from tests.helpers import HEAPDUP, build_heapdup, execute, read_across_a_new_snapshot, rows_of_ten


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
        await wait_for(pilot, lambda: screen.view.cursor_row_values() is not None, timeout=10)
        rows = [view.cache.get(view.state.frame, 0)]
        assert rows[0] is not None and all(r[:2] != ("10", "h10") for r in rows[0])
