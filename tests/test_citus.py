"""Citus (issue 28): a distributed table browsed as lazily as a local one, on a real cluster
(a coordinator and two workers, Debian's PostgreSQL 15 with Citus built in: .ci/run builds
it as root; without it these tests skip and say why).

A cursor over a multi-shard query gathers every shard's rows on the coordinator at its first
FETCH; the view reads a distributed table in bounded keyset pages instead, counted here in
the statements it sends and in the coordinator's temporary files. The estimate comes from
the shards, a row is found again only by a key (ctid repeats across shards), and reference
and local tables read as on one server.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from pgbrowse.db.catalog.index import read_all
from pgbrowse.db.catalog.references import Landing
from pgbrowse.db.catalog.structure import read_structure
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import Cancelled, PgBrowseError, Refused
from pgbrowse.db.connection.session import Session
from pgbrowse.db.connection.settings import SessionSettings
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.structure_screen import structure_text
from tests.components import Unavailable, citus
from tests.helpers import direct as asked
from tests.helpers import execute, open_table, relation, rows_shown, wait_for

ROWS = 300_000  # (the coordinator's EXPLAIN says 100,000: more than 2x off)
PAGE = 100


@pytest.fixture(scope="module")
def citus_dsn() -> Iterator[str]:
    try:
        with citus() as dsn:
            build(dsn)
            yield dsn
    except Unavailable as why:
        pytest.skip(str(why))


def build(dsn: str) -> None:
    execute(
        dsn,
        "CREATE TABLE events (tenant int, id int, what text, score int, PRIMARY KEY (tenant, id))",
        "SELECT create_distributed_table('events', 'tenant', shard_count := 8)",
        "INSERT INTO events SELECT g % 50, g, md5(g::text)"
        " || CASE WHEN g % 9973 = 0 THEN ' needle' ELSE '' END, (g::int8 * 7919) % 100003"
        f" FROM generate_series(1, {ROWS}) g",
        "CREATE TABLE nokey (tenant int, v text)",
        "SELECT create_distributed_table('nokey', 'tenant', shard_count := 4)",
        "INSERT INTO nokey SELECT g % 7, 'v' || g FROM generate_series(1, 1000) g",
        "CREATE TABLE tagged (tag text, n int, PRIMARY KEY (tag, n))",
        "SELECT create_distributed_table('tagged', 'tag', shard_count := 4)",
        "INSERT INTO tagged SELECT 'tag-' || lpad((g % 997)::text, 4, '0'), g"
        " FROM generate_series(1, 50000) g",
        # Hostile names: a distribution column with a quote, brackets and an escape.
        'CREATE TABLE "we""ird [b]" ("k""[b]" int, "v\x1b[31m" text, PRIMARY KEY ("k""[b]"))',
        'SELECT create_distributed_table(\'"we""ird [b]"\', \'k"[b]\')',
        'INSERT INTO "we""ird [b]" SELECT g, \'[red]x\x1b[0m\' || g'
        " FROM generate_series(1, 3000) g",
        "CREATE TABLE coded (tenant int NOT NULL, code text NOT NULL, v text,"
        " UNIQUE (tenant, code))",
        "SELECT create_distributed_table('coded', 'tenant', shard_count := 4)",
        "INSERT INTO coded SELECT g % 11, 'c' || g, 'v' || g FROM generate_series(1, 4000) g",
        "CREATE TABLE accounts (id int PRIMARY KEY, name text)",
        "SELECT create_distributed_table('accounts', 'id', shard_count := 4)",
        "INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 5000) g",
        "CREATE VIEW busy AS SELECT id, name FROM accounts WHERE id % 3 = 0",
        "CREATE VIEW recent AS SELECT tenant, id, what FROM events WHERE id > 1000",
        "CREATE VIEW tagview AS SELECT tag, n FROM tagged WHERE n > 5",
        "CREATE VIEW scores AS SELECT tenant, score FROM events",  # (no key)
        # Two rows for each value of the distribution column (a hostile name, too): pages
        # cross many values.
        'CREATE TABLE pairs ("k""[b]" int, "n\x1b" int, PRIMARY KEY ("k""[b]", "n\x1b"))',
        "SELECT create_distributed_table('pairs', 'k\"[b]', shard_count := 4)",
        "INSERT INTO pairs SELECT g / 2, g FROM generate_series(1, 3000) g",
        # Two tenants in 8 shards: six shards empty (one shard's estimate times 8 is off).
        "CREATE TABLE skewed (tenant int, id int, PRIMARY KEY (tenant, id))",
        "SELECT create_distributed_table('skewed', 'tenant', shard_count := 8)",
        "INSERT INTO skewed SELECT g % 2, g FROM generate_series(1, 20000) g",
        "CREATE TABLE ref (id int PRIMARY KEY, name text)",
        "SELECT create_reference_table('ref')",
        "INSERT INTO ref SELECT g, 'r' || g FROM generate_series(1, 500) g",
        "CREATE TABLE loc (id int PRIMARY KEY, v text)",  # (the coordinator's own)
        "INSERT INTO loc SELECT g, 'l' || g FROM generate_series(1, 300) g",
        "ANALYZE",  # (Citus runs it on the shards too)
    )


def direct(dsn: str, query: str) -> list[tuple[str | None, ...]]:
    """``helpers.direct``'s rows as texts (as the view shows them)."""
    return [tuple(None if v is None else str(v) for v in row) for row in asked(dsn, query)]


def shown(rows: list[tuple[str | None, ...]], width: int) -> list[tuple[str | None, ...]]:
    return [tuple(row[:width]) for row in rows]


def cursor_statements(pager: CursorPager) -> list[str]:
    return [
        s.sql
        for s in pager.statements.snapshot()
        if s.sql.split(" ", 1)[0] in ("DECLARE", "FETCH", "MOVE")
    ]


@contextmanager
def viewing(dsn: str, name: str) -> Iterator[CursorPager]:
    """A view of relation ``name`` (pages of PAGE rows), closed after."""
    factory = ConnectionFactory(dsn)
    pager = CursorPager(factory, relation(factory, name), page_size=PAGE)
    try:
        yield pager
    finally:
        pager.close()


@pytest.fixture
def events(citus_dsn: str) -> Iterator[CursorPager]:
    with viewing(citus_dsn, "events") as pager:
        yield pager


def test_pages_are_keyset_queries_never_a_cursor(events: CursorPager, citus_dsn: str) -> None:
    order = "SELECT tenant, id, what, score FROM events ORDER BY tenant, id"
    for page in range(4):
        got = shown(events.load(page), 4)
        assert got == direct(citus_dsn, f"{order} LIMIT {PAGE} OFFSET {page * PAGE}"), page
    assert events.positions_exact
    assert cursor_statements(events) == []  # (a cursor would gather every shard's rows)
    # End: the last rows, read backward from the end.
    events.find_end()
    assert events.row_count == ROWS and events.count_exact
    last = (ROWS - 1) // PAGE
    backward = "SELECT tenant, id, what, score FROM events ORDER BY tenant DESC, id DESC"
    tail = direct(citus_dsn, f"{backward} LIMIT {ROWS - last * PAGE}")[::-1]
    assert shown(events.load(last), 4) == tail
    assert cursor_statements(events) == []


def test_a_far_jump_seeks_and_pages_on_from_there(events: CursorPager, citus_dsn: str) -> None:
    events.load(0)
    middle = events.row_count // 2 // PAGE
    rows = events.load(middle)  # (a seek: the position is an estimate)
    following = events.load(middle + 1)
    assert rows and following
    key = rows[0][:2]
    want = direct(
        citus_dsn,
        "SELECT tenant, id, what, score FROM events WHERE (tenant, id) >= "
        f"({key[0]}, {key[1]}) ORDER BY tenant, id LIMIT {2 * PAGE}",
    )
    assert shown(rows + following, 4) == want  # contiguous in the order, none skipped
    assert 0.3 < int(key[0]) / 50 < 0.7  # about half way through tenants 0..49
    assert cursor_statements(events) == []


def temp_bytes(dsn: str) -> int:
    found = direct(dsn, "SELECT temp_bytes FROM pg_stat_database WHERE datname = 'postgres'")
    return int(found[0][0] or 0)


def gone(dsn: str, application: str) -> None:
    """Until no backend of ``application`` is left on the coordinator (its stats flushed)."""
    deadline = time.monotonic() + 10
    query = f"SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '{application}%'"
    while direct(dsn, query)[0][0] != "0":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_the_coordinator_gathers_nothing(citus_dsn: str) -> None:
    """Paging, End and a jump leave the coordinator's temporary files as they were; a
    cursor's first FETCH over the same table writes the whole table to them (the test
    can fail: the control shows what a cursor costs)."""
    factory = ConnectionFactory(citus_dsn)
    before = temp_bytes(citus_dsn)
    pager = CursorPager(factory, relation(factory, "events"), page_size=PAGE)
    for page in (0, 1, 2, 1000, 1001):
        pager.load(page)
    pager.find_end()
    pager.load((ROWS - 1) // PAGE)
    pager.close()
    gone(citus_dsn, "pgbrowse")
    assert temp_bytes(citus_dsn) == before
    control = psycopg2.connect(citus_dsn, application_name="control")
    with control.cursor(name="eager") as cur:
        cur.execute("SELECT * FROM events ORDER BY tenant, id")
        assert len(cur.fetchmany(1)) == 1
    control.close()
    gone(citus_dsn, "control")
    assert temp_bytes(citus_dsn) > before + 5 * 2**20  # (the whole table, on the coordinator)


def shards_of(dsn: str, statement: str) -> int:
    """How many shards Citus sends ``statement`` to (its plan's task count)."""
    counts = [line for (line,) in direct(dsn, "EXPLAIN " + statement) if "Task Count" in str(line)]
    return int(str(counts[0]).split(":")[1])


def test_a_page_among_one_tenants_rows_is_read_from_its_shard_alone(
    events: CursorPager, citus_dsn: str
) -> None:
    """The order starts with the distribution column: the next pages among a tenant's rows
    are read by statements Citus sends to that tenant's shard alone (not to all 8), each
    reading more pages ahead, up to 3 (a statement costs its routing whatever its rows;
    the first reads its page alone: End or a jump reads one page)."""
    events.load(0)
    before = len(events.statements.snapshot())
    order = "SELECT tenant, id, what, score FROM events ORDER BY tenant, id"
    whole = direct(citus_dsn, f"{order} LIMIT {8 * PAGE}")
    for page in range(1, 8):
        assert shown(events.load(page), 4) == whole[page * PAGE : (page + 1) * PAGE], page
    sent = [s.sql for s in events.statements.snapshot()[before:]]
    limits = [int(s.rsplit("LIMIT ", 1)[1]) // PAGE for s in sent]
    assert limits == [2, 3, 4], sent  # (pages 1-2, 3-5, 6-9)
    assert all('"tenant" = ' in s and shards_of(citus_dsn, s) == 1 for s in sent)
    assert shards_of(citus_dsn, "SELECT * FROM events ORDER BY tenant, id LIMIT 100") == 8


def test_rows_read_ahead_stay_in_their_snapshot(events: CursorPager, citus_dsn: str) -> None:
    """Page 2 is read ahead with page 1: in the same transaction it shows the row as it was
    when read (beside pages 0 and 1); once an idle release ended that transaction and a
    page is read in a new one, as it is now."""
    events.load(0)
    events.load(1)  # (reads pages 1 and 2)
    key = events.load(1)[-1][:2]
    row = direct(
        citus_dsn,
        f"SELECT tenant, id FROM events WHERE (tenant, id) > ({key[0]}, {key[1]})"
        " ORDER BY tenant, id LIMIT 1",
    )[0]
    where = f"tenant = {row[0]} AND id = {row[1]}"
    try:
        execute(citus_dsn, f"UPDATE events SET what = what || ' (changed)' WHERE {where}")
        before = len(events.statements.snapshot())
        assert not events.load(2)[0][2].endswith("(changed)")  # (its snapshot's)
        assert len(events.statements.snapshot()) == before  # (read ahead: no statement)
        assert events.release()
        events.load(5)  # (a new transaction: the old snapshot's pages go)
        assert events.load(2)[0][2].endswith("(changed)")
    finally:
        execute(citus_dsn, f"UPDATE events SET what = left(what, -10) WHERE {where}")


@pytest.mark.parametrize("name", ["coded", "pairs"])
def test_pages_across_values_of_the_distribution_column(citus_dsn: str, name: str) -> None:
    """Pages that cross from one value of the distribution column to the next (coded: ~360
    rows a value; pairs: 2, where two values do not fill a page and every shard is asked
    instead, then one statement for 4 pages), forward, and backward from the end: each
    page the same rows as the whole order read at once."""
    columns = '"k""[b]", "n\x1b"' if name == "pairs" else "tenant, code"
    whole = direct(citus_dsn, f"SELECT {columns} FROM {name} ORDER BY {columns}")
    pages = -(-len(whole) // PAGE)
    with viewing(citus_dsn, name) as pager:
        sent = 0
        for page in range(pages):
            assert shown(pager.load(page), 2) == whole[page * PAGE : (page + 1) * PAGE], page
            if page == 0:
                sent = len(pager.statements.snapshot())
        if name == "pairs":  # (every shard at once, 4 pages a statement, after the first)
            assert len(pager.statements.snapshot()) - sent <= -(-pages // 4) + 1
        assert cursor_statements(pager) == []
    with viewing(citus_dsn, name) as pager:
        pager.load(0)
        pager.find_end()
        assert pager.row_count == len(whole)
        for page in reversed(range(pages)):
            assert shown(pager.load(page), 2) == whole[page * PAGE : (page + 1) * PAGE], page


def test_the_estimate_comes_from_the_shards(events: CursorPager, citus_dsn: str) -> None:
    events.load(0)
    assert not events.count_exact
    assert ROWS / 2 <= events.row_count <= ROWS * 2, events.row_count
    # Every shard's plan, not one shard's times their number: two tenants in 8 shards.
    with viewing(citus_dsn, "skewed") as skewed:
        skewed.load(0)
        assert 10_000 <= skewed.row_count <= 40_000, skewed.row_count
        sent = skewed.statements.snapshot()
        assert any(s.sql.startswith("EXPLAIN") for s in sent)
        assert not any("run_command_on" in s.sql for s in sent)  # (150 ms for 32 shards)
    events.set_filter("tenant < 10")
    events.load(0)
    assert ROWS / 5 / 2 <= events.row_count <= ROWS / 5 * 2, events.row_count


@pytest.mark.parametrize("key", [(7, 12007), (49, 299_999)])
def test_a_foreign_key_lands_on_its_row(citus_dsn: str, key: tuple[int, int]) -> None:
    """A view opened on the row a foreign key names (follow-key): its place counted near the
    start, estimated far from it, and the row under the cursor is that one."""
    factory = ConnectionFactory(citus_dsn)
    landing = Landing(("tenant", "id"), (str(key[0]), str(key[1])))
    pager = CursorPager(factory, relation(factory, "events"), page_size=PAGE, landing=landing)
    try:
        pager.open()  # (as the app: opened, then the page it landed in read)
        at = pager.landed
        assert at is not None
        row = pager.load(at // PAGE)[at % PAGE]
        assert row[:2] == (str(key[0]), str(key[1]))
        assert cursor_statements(pager) == []
        counts = [s.sql for s in pager.statements.snapshot() if "count(*)" in s.sql]
        if key[1] > 100_000:  # (thousands of its tenant's rows before it: counted on its shard)
            assert len(counts) == 1 and shards_of(citus_dsn, counts[0]) == 1
        else:  # (240 before it in its tenant, fewer than the 400 counted: every shard asked)
            assert len(counts) == 2 and shards_of(citus_dsn, counts[1]) == 8
    finally:
        pager.close()


def test_the_title_says_how_it_is_distributed(events: CursorPager) -> None:
    events.load(0)
    assert events.state().held == "distributed by tenant · 8 shards on 2 workers"


def test_the_relation_list_shows_a_distributed_tables_true_size(citus_dsn: str) -> None:
    conn = psycopg2.connect(citus_dsn)
    try:
        index = read_all(conn)
    finally:
        conn.close()
    line = index.line_of("public", "events")
    assert line is not None
    entry = index.entry(line)
    assert entry.kind_name == "table, distributed, 8 shards"
    assert entry.rows is not None and ROWS / 2 <= entry.rows <= ROWS * 2, entry.rows
    assert entry.size > 10 * 2**20  # (the coordinator's own table is empty: 0 bytes)
    ref = index.entry(index.line_of("public", "ref") or 0)
    assert ref.name == "ref" and ref.kind_name == "table"


def test_the_structure_lists_shards_and_placements(citus_dsn: str) -> None:
    factory = ConnectionFactory(citus_dsn)
    session = Session(factory)
    try:
        text = structure_text(read_structure(session, relation(factory, "events")))
        plain = structure_text(read_structure(session, relation(factory, "loc")))
    finally:
        session.close()
    assert "shards: 8 in 8 placements on 2 nodes" in text
    shards = [line for line in text.splitlines() if line.startswith("  1") and " on /" in line]
    assert len(shards) == 8 and all("events_" in line for line in shards)
    assert "shards:" not in plain  # (the coordinator's own table)


def test_the_inspector_shows_what_the_workers_run_for_a_page(events: CursorPager) -> None:
    events.load(0)
    outline, plan = events.explain()
    assert outline.endswith(f"LIMIT {PAGE}")
    text = "\n".join(plan)
    assert "Task Count: 8" in text and "Node: host=" in text  # (Citus's distributed plan)
    assert "Limit" in text and "Index Scan" in text  # (what a worker runs: its first rows)
    # After it, in the same transaction, a sort's first pages (an intermediate result on the
    # coordinator: after an EXPLAIN, Citus would want a connection to the coordinator itself,
    # which this cluster, on Unix sockets alone, refuses).
    events.set_order("score")
    assert len(events.load(0)) == PAGE


def test_a_table_without_a_key_is_refused_plainly(citus_dsn: str) -> None:
    with viewing(citus_dsn, "nokey") as pager:
        with pytest.raises(Refused) as refused:
            pager.load(0)
        assert "no primary key" in refused.value.message and "ctid" in refused.value.message
        assert cursor_statements(pager) == []


def test_search_lands_on_the_nearest_match(events: CursorPager, citus_dsn: str) -> None:
    first = events.load(0)[0]
    matches = direct(
        citus_dsn,
        "SELECT n - 1 FROM (SELECT what, row_number() OVER (ORDER BY tenant, id) AS n"
        " FROM events) s WHERE what LIKE '%needle' ORDER BY n LIMIT 2",
    )
    want = [int(m[0]) for m in matches]
    found = events.search(0, first, "NEEDLE")
    assert found == want[0]
    row = events.load(found // PAGE)[found % PAGE]
    assert row[2] is not None and row[2].endswith("needle")
    again = events.search(found, row, "needle")
    assert again == want[1]
    back = events.search(again, events.load(again // PAGE)[again % PAGE], "needle", backward=True)
    assert back == want[0]
    assert events.search(0, first, "no such text") is None
    assert cursor_statements(events) == []


def test_a_sort_by_a_column_no_index_gives(events: CursorPager, citus_dsn: str) -> None:
    """Each statement of a sort no index gives reads every row of every shard: its first 3
    pages come from one, and the next 20 pages from one more (read ahead), not one a page;
    each page the rows of the sort read whole."""
    events.load(0)
    events.set_order("score")
    sent = len(events.statements.snapshot())
    order = "SELECT tenant, id, what, score FROM events ORDER BY score, tenant, id"
    whole = direct(citus_dsn, f"{order} LIMIT {25 * PAGE}")
    for page in range(23):
        assert shown(events.load(page), 4) == whole[page * PAGE : (page + 1) * PAGE], page
    reads = [s.sql for s in events.statements.snapshot()[sent:] if "ORDER BY" in s.sql]
    assert len(reads) == 2, reads
    assert shown(events.load(24), 4) == whole[24 * PAGE :]
    assert cursor_statements(events) == []


@pytest.mark.parametrize("name", ["tagged", "tagview"])
def test_a_text_key_seeks_by_a_shards_histogram(citus_dsn: str, name: str) -> None:
    """A text key seeks by one shard's histogram of it (the coordinator's own table has no
    statistics); a view over the table by the histogram of the table under it."""
    with viewing(citus_dsn, name) as pager:
        pager.load(0)
        assert pager.view.strategy.seeks
        rows = pager.load(250)
        following = pager.load(251)
        key = rows[0]
        want = direct(
            citus_dsn,
            f"SELECT tag, n FROM {name} WHERE (tag, n) >= ('{key[0]}', {key[1]})"
            f" ORDER BY tag, n LIMIT {2 * PAGE}",
        )
        assert shown(rows + following, 2) == want
        assert cursor_statements(pager) == []
        assert not any("OFFSET" in s.sql for s in pager.statements.snapshot())  # (no walk)


def test_hostile_names_distributed(citus_dsn: str) -> None:
    with viewing(citus_dsn, 'public."we""ird [b]"') as pager:
        got = shown(pager.load(3), 2)
        want = direct(
            citus_dsn,
            'SELECT "k""[b]", "v\x1b[31m" FROM "we""ird [b]" ORDER BY 1 LIMIT 100 OFFSET 300',
        )
        assert got == want
        assert pager.state().held == 'distributed by k"[b] · 32 shards on 2 workers'


@pytest.mark.parametrize(("name", "column"), [("ref", "name"), ("loc", "v")])
def test_reference_and_local_tables_read_as_on_one_server(
    citus_dsn: str, name: str, column: str
) -> None:
    with viewing(citus_dsn, name) as pager:
        want = direct(
            citus_dsn, f"SELECT id, {column} FROM {name} ORDER BY id LIMIT {PAGE} OFFSET {PAGE}"
        )
        assert shown(pager.load(1), 2) == want
        assert any(s.startswith("FETCH") for s in cursor_statements(pager))  # (a cursor)
        held = pager.state().held
        assert held.startswith("reference table") if name == "ref" else held == ""


def workers(dsn: str) -> list[str]:
    nodes = direct(dsn, "SELECT nodename FROM pg_dist_node WHERE groupid <> 0")
    return [f"host={host} dbname=postgres user=postgres" for (host,) in nodes]


def in_transaction(dsn: str) -> int:
    """Backends in a transaction on a node, but this one."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE xact_start IS NOT NULL"
        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    return int(direct(dsn, query)[0][0] or 0)


def test_idle_release_leaves_no_transaction_on_any_node(citus_dsn: str) -> None:
    with viewing(citus_dsn, "events") as pager:
        pager.load(0)
        pager.load(1500)  # (a seek: the workers have served it)
        assert pager.session.holds_transaction
        assert in_transaction(citus_dsn) >= 1
        assert pager.release()
        for node in [citus_dsn, *workers(citus_dsn)]:
            assert in_transaction(node) == 0, node
        assert pager.load(1500)  # (and reading goes on where it was)


def test_a_write_is_refused_by_the_coordinator(citus_dsn: str) -> None:
    with viewing(citus_dsn, "ref") as pager:
        pager.load(0)
        session = pager.session
        assert session.scalar(sql.SQL("SHOW transaction_read_only")) == "on"
        # (Citus opens fewer connections to the workers for pgbrowse's statements)
        slow_start = sql.SQL("SHOW citus.executor_slow_start_interval")
        assert session.scalar(slow_start) == "100ms"
        with pytest.raises(psycopg2.Error) as refused:
            session.scalar(
                sql.SQL("WITH w AS (INSERT INTO ref VALUES (9999, 'x') RETURNING id) SELECT 1")
            )
        assert refused.value.pgcode == "25006"  # read_only_sql_transaction
    assert direct(citus_dsn, "SELECT count(*) FROM ref WHERE id = 9999") == [("0",)]


async def test_the_app_says_how_it_is_distributed_and_pages_down(citus_dsn: str) -> None:
    from pgbrowse.ui.app import PgBrowseApp
    from pgbrowse.ui.table_screen import TableScreen

    factory = ConnectionFactory(citus_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "events"))
    async with app.run_test(size=(160, 30)) as pilot:
        view = await open_table(app, pilot)
        screen = app.screen
        assert isinstance(screen, TableScreen)
        await wait_for(pilot, lambda: "8 shards" in screen.title_text())
        title = screen.title_text()
        assert title.startswith(" public.events  (table)  · distributed by tenant · 8 shards on 2")
        for _ in range(5):
            await pilot.press("pagedown")
        await wait_for(pilot, lambda: view.cursor_row > 100 and rows_shown(view))
        assert "row " in screen.position_text() and "~" in screen.position_text()
        assert cursor_statements(view.pager) == []


@pytest.mark.parametrize("stop", ["cancel", "timeout"])
def test_cancel_reaches_the_workers(citus_dsn: str, stop: str) -> None:
    """A search waiting on a worker (its shard locked there by another session) is stopped
    from the coordinator, by Esc's cancel or by the statement timeout, and the worker's part
    of it stops too, at once, while the lock is still held (so it was the stop, not the lock
    going, and not the 3 s lock timeout)."""
    shard, host = direct(
        citus_dsn,
        "SELECT shard_name, nodename FROM citus_shards WHERE table_name = 'events'::regclass"
        " ORDER BY shardid LIMIT 1",
    )[0]
    worker = f"host={host} dbname=postgres user=postgres"
    settings = SessionSettings(statement_timeout_s=0.5 if stop == "timeout" else 30.0)
    factory = ConnectionFactory(citus_dsn, settings)
    events = CursorPager(factory, relation(factory, "events"), page_size=PAGE)
    ready, locked = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []

    def browse() -> None:  # (the pager's owner thread, as the app's loader)
        first = events.load(0)[0]
        events.release()  # (its transaction's locks on the shards given back)
        ready.set()
        locked.wait(10)
        outcome.append(_search(events, first))

    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        f" AND query LIKE '%{shard}%'"
    )
    holder = psycopg2.connect(worker)
    thread = threading.Thread(target=browse)
    try:
        thread.start()
        assert ready.wait(30)
        with holder.cursor() as cur:
            cur.execute("SET citus.enable_manual_changes_to_shards = on")  # (a shard's lock)
            cur.execute(f"LOCK TABLE {shard} IN ACCESS EXCLUSIVE MODE")  # (held: not committed)
        locked.set()
        deadline = time.monotonic() + 10
        while direct(worker, waiting)[0][0] == "0":
            assert time.monotonic() < deadline, "the search never waited on the worker"
            time.sleep(0.02)
        started = time.monotonic()
        if stop == "cancel":
            events.cancel()
        thread.join(5)
        assert not thread.is_alive()
        assert time.monotonic() - started < 2.0  # (before the 3 s lock timeout)
        if stop == "cancel":
            assert isinstance(outcome[0], Cancelled), outcome
        else:
            assert isinstance(outcome[0], PgBrowseError) and "timed out" in outcome[0].message
        deadline = time.monotonic() + 2
        while direct(worker, waiting)[0][0] != "0":
            assert time.monotonic() < deadline, "the worker still runs the cancelled search"
            time.sleep(0.02)
    finally:
        holder.close()
        thread.join(10)
        events.close()


def _search(pager: CursorPager, row: tuple[str | None, ...]) -> BaseException | None:
    try:
        pager.search(0, row, "no row holds this")
    except PgBrowseError as error:
        return error
    return None


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_an_export_streams_by_key_ranges(citus_dsn: str, tmp_path: Path, format: str) -> None:
    """The export of a distributed view is the same file as one COPY of the view's query,
    copied a range of the first key at a time: the coordinator never holds the table (its
    temporary files unchanged, where the one COPY writes the whole table to them)."""
    with viewing(citus_dsn, "events") as pager:
        pager.load(0)
        view = pager.view
    batches = view.export_queries(format)
    assert len(batches) > 10
    factory = ConnectionFactory(citus_dsn)
    before = temp_bytes(citus_dsn)
    done = Export(factory, batches, tmp_path / f"events.{format}", "events", format).run()
    gone(citus_dsn, "pgbrowse")
    assert temp_bytes(citus_dsn) == before
    assert done.rows == ROWS
    whole = io.BytesIO()
    conn = psycopg2.connect(citus_dsn, application_name="control")
    with conn.cursor() as cur:
        cur.copy_expert(Export(factory, view.export_query(format), tmp_path / "x", "x", format)
                        .copy_statement(conn), whole)  # fmt: skip
    conn.close()
    gone(citus_dsn, "control")
    assert (tmp_path / f"events.{format}").read_bytes() == whole.getvalue()
    assert temp_bytes(citus_dsn) > before  # (the one COPY: gathered on the coordinator)


def test_filter_record_and_exact_count(events: CursorPager, citus_dsn: str) -> None:
    """A filter's pages, a row's record (found again by its key) and the exact count (#),
    each a distributed statement, none a cursor."""
    events.load(0)
    events.set_filter("tenant = 3 AND id % 7 = 0")
    order = "SELECT tenant, id, what, score FROM events WHERE tenant = 3 AND id % 7 = 0"
    for page in (0, 3):
        got = shown(events.load(page), 4)
        want = direct(citus_dsn, f"{order} ORDER BY tenant, id LIMIT {PAGE} OFFSET {page * PAGE}")
        assert got == want, page
    row = events.load(2)[17]
    record = events.fetch_record(row)
    assert [cell.text for cell in record] == list(row[:4])
    query, token = events.count_query()
    total = direct(citus_dsn, query.as_string(events.session.conn))[0][0]
    expected = direct(citus_dsn, "SELECT count(*) FROM events WHERE tenant = 3 AND id % 7 = 0")
    assert total == expected[0][0]
    events.apply_count(int(total or 0), token, None)
    assert events.count_exact and events.row_count == int(total or 0)
    assert cursor_statements(events) == []


def test_a_view_over_a_distributed_table_pages_by_its_key(citus_dsn: str) -> None:
    """A view over a distributed table is read in pages by its key columns too (a cursor
    over it gathers the shards as one over the table does): one column, or both of a
    composite key; a view with no key is refused, saying why."""
    with viewing(citus_dsn, "busy") as pager:
        want = direct(
            citus_dsn, f"SELECT id, name FROM busy ORDER BY id LIMIT {PAGE} OFFSET {PAGE}"
        )
        assert shown(pager.load(1), 2) == want
        assert pager.state().held == "a view over distributed accounts · 4 shards"
        assert cursor_statements(pager) == []
    # A view showing both columns of events' key (tenant, id): paged by them.
    with viewing(citus_dsn, "recent") as pager:
        order = "SELECT tenant, id, what FROM recent ORDER BY tenant, id"
        for page in (0, 1, 700):
            want = direct(citus_dsn, f"{order} LIMIT {PAGE} OFFSET {page * PAGE}")
            got = shown(pager.load(page), 3)
            if page < 700:
                assert got == want, page
            else:  # (a seek: its place is an estimate, its rows contiguous in the order)
                key = got[0]
                following = direct(
                    citus_dsn,
                    f"SELECT tenant, id, what FROM recent WHERE (tenant, id) >= ({key[0]},"
                    f" {key[1]}) ORDER BY tenant, id LIMIT {PAGE}",
                )
                assert got == following
        assert pager.view.identity == ("tenant", "id")
        assert cursor_statements(pager) == []
    with viewing(citus_dsn, "scores") as keyless:
        with pytest.raises(Refused) as refused:
            keyless.load(0)
        assert "no key column" in refused.value.message
        assert cursor_statements(keyless) == []


def test_a_unique_key_is_an_identity_where_there_is_no_primary_key(citus_dsn: str) -> None:
    with viewing(citus_dsn, "coded") as pager:
        for page in (0, 7):
            want = direct(
                citus_dsn,
                f"SELECT tenant, code, v FROM coded ORDER BY tenant, code"
                f" LIMIT {PAGE} OFFSET {page * PAGE}",
            )
            assert shown(pager.load(page), 3) == want
        assert pager.view.identity == ("tenant", "code")
        assert cursor_statements(pager) == []
