"""On a real streaming hot standby (issue 13), made from the embedded server with its own
pg_basebackup: pgbrowse knows it is on one, gives its snapshot back within a second when
idle (so replay is not held up and conflicts are rare), and when the standby does end its
session for a conflict with recovery it says so and goes on with rows of one snapshot."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pgbrowse import defaults
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.loader import PageLoader
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.position import reconnected_message, title_line
from tests.components import Unavailable, hot_standby, wait_for_replay
from tests.helpers import execute


@pytest.fixture(scope="module")
def standby(server, scratch_dsn: str) -> Iterator[tuple[str, str]]:
    """(primary, standby) DSNs of the scratch database; the standby ends a query that
    holds up replay after 0.2 s. Its feedback keeps the primary's cleanup (autovacuum of
    any table of the scratch database, which the suite shares) from ending a session for
    its snapshot: the conflicts these tests make are the locks they replay."""
    if server is None:
        pytest.skip("the standby tests run against the embedded server")
    try:
        with hot_standby(
            scratch_dsn, max_standby_streaming_delay="200ms", hot_standby_feedback="on"
        ) as standby_dsn:
            yield scratch_dsn, standby_dsn
    except Unavailable as why:
        pytest.skip(str(why))


@pytest.fixture
def replicated(standby: tuple[str, str]) -> Iterator[tuple[str, str]]:
    primary, replica = standby
    execute(
        primary,
        "DROP TABLE IF EXISTS on_standby",
        "CREATE TABLE on_standby AS SELECT g AS id, 'old' AS label FROM generate_series(1, 3000) g",
        "ALTER TABLE on_standby ADD PRIMARY KEY (id)",
    )
    wait_for_replay(primary, replica)
    yield primary, replica


TABLE = Relation("public", "on_standby", "r", None, 0)


def test_a_recovery_conflict_is_named_and_the_view_goes_on(replicated) -> None:
    primary, replica = replicated
    pager = CursorPager(ConnectionFactory(replica), TABLE, page_size=100)
    try:
        assert pager.rows(0, 2) == [("1", "old"), ("2", "old")]
        assert pager.session.standby and pager.holds_transaction
        assert "standby · Unix socket" in title_line(pager.state())
        # The primary changes the rows, and takes a lock the standby must replay: the
        # standby ends pgbrowse's session, which holds a lock and a snapshot in its way.
        execute(
            primary,
            "UPDATE on_standby SET label = 'new'",
            "ALTER TABLE on_standby ADD COLUMN extra int",
        )
        wait_for_replay(primary, replica)
        rows = pager.rows(250, 1)  # a page not read yet: the session is found gone
        state = pager.state()
        assert rows == [("251", "new")] and "reconnected" in state.events
        assert "conflict with recovery" in state.lost_because
        assert "conflict with recovery" in reconnected_message(state.lost_because)
        # The new snapshot's rows only: the page read before the conflict is read again.
        assert pager.rows(0, 1) == [("1", "new")]
    finally:
        pager.close()


def test_an_idle_view_gives_its_snapshot_back_within_a_second(replicated) -> None:
    """With idle release off, the standby still gets the snapshot back after
    STANDBY_RELEASE_S, so the primary's lock replays without ending pgbrowse's session."""
    primary, replica = replicated
    loaded = threading.Event()
    pager = CursorPager(ConnectionFactory(replica), TABLE, page_size=100)
    loader = PageLoader(pager, lambda *_: loaded.set(), idle_release_s=0)
    loader.start()
    try:
        loader.want([0])
        assert loaded.wait(5)
        assert pager.release_after(None) == defaults.STANDBY_RELEASE_S
        deadline = time.monotonic() + defaults.STANDBY_RELEASE_S + 1
        while pager.holds_transaction:
            assert time.monotonic() < deadline, "the snapshot was kept"
            time.sleep(0.02)
        execute(primary, "ALTER TABLE on_standby ADD COLUMN extra int")
        wait_for_replay(primary, replica)
        loaded.clear()
        loader.want([5])
        assert loaded.wait(5)
        assert pager.reconnects == 0 and pager.releases == 1, pager.state().lost_because
    finally:
        loader.stop()


def test_a_new_snapshot_on_a_standby_keeps_no_old_page(standby) -> None:
    """Issue 25: on a standby (whose views give their transaction back after a pause), a
    page of the old snapshot is never kept beside one of the new."""
    from tests.helpers import build_heapdup, read_across_a_new_snapshot, rows_of_ten

    primary, replica = standby
    build_heapdup(primary)
    wait_for_replay(primary, replica)
    pager = read_across_a_new_snapshot(
        replica, primary, replay=lambda: wait_for_replay(primary, replica)
    )
    try:
        # (the standby's feedback keeps the deleted rows from being cleaned up, so the
        # update may go to the table's end: row 10 is then in no page read since)
        assert rows_of_ten(pager) in ([], [("10", "moved")])
        assert all(page >= 3 for page in pager.cached_pages())  # no page of the old one
        assert "new snapshot" in pager.state().events
    finally:
        pager.close()
