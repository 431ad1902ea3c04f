"""The relation list at any scale (issue 14): a compact catalog index read in two steps,
partitions and inheritance children under their parents (with their trees' totals), a filter
answered in slices, sorting, relations you may not read marked, and the server's databases
(psql's \\l and \\c). On a database of its own, built on the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest

from pgbrowse.db.catalog.index import read_all, read_first
from pgbrowse.db.catalog.listing import Listing
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.catalog_view import NO_ACCESS, CatalogView
from pgbrowse.ui.databases import DatabaseScreen
from pgbrowse.ui.relation_list import RelationListScreen
from tests.helpers import execute, fixed_memory, listed, open_table, wait_for

GENERATED = 3000


@pytest.fixture(scope="module")
def catalog_dsn(admin_dsn: str) -> Iterator[str]:
    name = f"pgbrowse_cat_{uuid.uuid4().hex[:8]}"
    execute(admin_dsn, f'CREATE DATABASE "{name}"')  # (a name of hex digits: no quoting issue)
    dsn = psycopg2.extensions.make_dsn(admin_dsn, dbname=name)
    execute(
        dsn,
        "CREATE SCHEMA tree",
        # A two-level partition tree: p -> (p_a -> p_a1, p_a2), p_b.
        "CREATE TABLE tree.p (id int, t text) PARTITION BY RANGE (id)",
        "CREATE TABLE tree.p_a PARTITION OF tree.p FOR VALUES FROM (1) TO (1001)"
        " PARTITION BY RANGE (id)",
        "CREATE TABLE tree.p_a1 PARTITION OF tree.p_a FOR VALUES FROM (1) TO (501)",
        "CREATE TABLE tree.p_a2 PARTITION OF tree.p_a FOR VALUES FROM (501) TO (1001)",
        "CREATE TABLE tree.p_b PARTITION OF tree.p FOR VALUES FROM (1001) TO (3001)",
        "INSERT INTO tree.p SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g",
        # Inheritance: a parent and two children.
        "CREATE TABLE tree.animal (name text)",
        "CREATE TABLE tree.cat () INHERITS (tree.animal)",
        "CREATE TABLE tree.dog () INHERITS (tree.animal)",
        "INSERT INTO tree.dog SELECT 'rex' || g FROM generate_series(1, 100) g",
        # Names a filter box must find as typed.
        'CREATE TABLE tree."a?b" (id int)',
        'CREATE TABLE tree."tab\tname" (id int)',
        'CREATE SCHEMA "dot.ted"',  # (where schema.name splits is not where the dot is)
        'CREATE TABLE "dot.ted"."a.b" (id int)',
        'CREATE TABLE tree."back\\slash" (id int)',
        "COMMENT ON TABLE tree.animal IS 'Animals [b]and\tpets'",
        "CREATE VIEW tree.pets_view AS SELECT * FROM tree.animal",
        # A large catalog, made on the server.
        "CREATE SCHEMA many",
        f"DO $$ BEGIN FOR i IN 1..{GENERATED} LOOP"
        " EXECUTE format('CREATE TABLE many.t_%s (id int)', i); END LOOP; END $$",
        "VACUUM ANALYZE",
        # A role that may read one table only.
        "DROP ROLE IF EXISTS pgbrowse_reader",
        "CREATE ROLE pgbrowse_reader LOGIN",
        "GRANT USAGE ON SCHEMA tree TO pgbrowse_reader",
        "GRANT SELECT ON tree.animal TO pgbrowse_reader",
    )
    yield dsn
    execute(
        admin_dsn,
        f'DROP DATABASE "{name}" WITH (FORCE)',
        "DROP ROLE IF EXISTS pgbrowse_reader",
    )


@pytest.fixture(scope="module")
def index(catalog_dsn: str):
    conn = psycopg2.connect(catalog_dsn)
    try:
        return read_all(conn, batch=700)  # (several batches)
    finally:
        conn.close()


def names(listing: Listing) -> list[str]:
    return ["  " * listing.index.depth(i) + listing.index.entry(i).name for i in listing.lines]


def line_of(index, name: str) -> int:
    return next(i for i in range(index.count) if index.entry(i).name == name)


def test_partitions_are_one_line_with_their_trees_totals(index) -> None:
    listing = Listing(index)
    shown = names(listing)
    assert "p" in shown and "animal" in shown
    assert not {"p_a", "p_a1", "p_b", "cat", "dog"} & set(shown)
    p = index.entry(line_of(index, "p"))
    leaves = [index.entry(line_of(index, n)) for n in ("p_a1", "p_a2", "p_b")]
    assert p.children == 2 and p.kind == "p"
    assert p.rows == sum(leaf.rows for leaf in leaves) == 3000
    assert p.size == sum(leaf.size for leaf in leaves) > 0  # (the parent itself has no pages)
    animal = index.entry(line_of(index, "animal"))
    assert animal.children == 2 and animal.rows == 100


def test_the_servers_chunks_are_the_lines_read_one_by_one(index, catalog_dsn: str) -> None:
    """The index the server built in chunks (ALL_SQL) holds what the first screen's query
    gives, line by line: names a line's text cannot hold, comments, kinds, figures."""
    conn = psycopg2.connect(catalog_dsn)
    try:
        first = read_first(conn, 100_000)  # (every top-level relation, read row by row)
    finally:
        conn.close()
    assert first.count > 20
    by_name = {
        (index.entry(i).schema, index.entry(i).name): index.entry(i) for i in range(index.count)
    }
    for i in range(first.count):
        one = first.entry(i)
        chunked = by_name[(one.schema, one.name)]
        assert (chunked.kind, chunked.readable, chunked.comment) == (
            one.kind,
            one.readable,
            one.comment,
        )
        if not chunked.children:  # (a parent's figures are its tree's)
            assert (chunked.rows, chunked.size) == (one.rows, one.size), one.name
    for odd in (("tree", "tab\tname"), ("tree", "back\\slash"), ("dot.ted", "a.b")):
        assert odd in by_name
    assert by_name[("tree", "animal")].comment == "Animals [b]and\tpets"
    assert (
        by_name[("tree", "pets_view")].kind == "v" and by_name[("tree", "pets_view")].rows is None
    )
    lines = index.text.splitlines()
    assert len(lines) == index.count  # (one line each: a tab or newline never splits one)
    assert all(line.startswith(f"{i:07d}\t") for i, line in enumerate(lines))


def test_a_tree_expands_level_by_level(index) -> None:
    listing = Listing(index)
    assert listing.toggle(line_of(index, "p"))
    shown = names(listing)
    at = shown.index("p")
    assert shown[at : at + 3] == ["p", "  p_a", "  p_b"]
    assert listing.toggle(line_of(index, "p_a"))
    shown = names(listing)
    assert shown[at : at + 5] == ["p", "  p_a", "    p_a1", "    p_a2", "  p_b"]
    assert not listing.toggle(line_of(index, "a?b"))  # (no children)
    listing.toggle(line_of(index, "p"))
    assert "  p_a" not in names(listing)


def test_a_filter_shows_a_partition_under_its_parents(index) -> None:
    listing = Listing(index)
    listing.set_filter("p_a2")
    listing.finish()
    assert names(listing) == ["p", "  p_a", "    p_a2"]
    listing.set_filter("dog")
    listing.finish()
    assert names(listing) == ["animal", "  dog"]


def test_the_filter_over_a_large_catalog_matches_the_server(index, catalog_dsn) -> None:
    listing = Listing(index)
    listing.chunk = 500
    listing.set_filter("MANY.T_29")  # (case-insensitive; schema.name)
    assert not listing.done  # answered a slice at a time: the first slice is in already
    slices = 1
    while listing.step():
        slices += 1
    assert slices > 1
    conn = psycopg2.connect(catalog_dsn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'many' AND c.relname LIKE 't\\_29%'"
        )
        (expected,) = cur.fetchone()
    conn.close()
    assert listing.matched == len(listing.lines) == expected == 111
    listing.set_filter("table t_3000")  # every word, the kind too
    listing.finish()
    assert names(listing) == ["t_3000"]


def test_sorted_by_size_largest_first_children_under_parents(index) -> None:
    listing = Listing(index)
    listing.set_sort("size")
    sizes = [index.size_of(i) for i in listing.lines]
    assert sizes == sorted(sizes, reverse=True) and names(listing)[0] == "p"
    listing.toggle(line_of(index, "p"))
    assert names(listing)[:3] == ["p", "  p_a", "  p_b"]
    assert listing.next_sort() == "name"


def test_the_first_screenful_is_one_small_query(catalog_dsn) -> None:
    conn = psycopg2.connect(catalog_dsn)
    try:
        first = read_first(conn, 50)
    finally:
        conn.close()
    assert first.count == 50 and not first.complete
    listing = Listing(first)
    shown = [(first.entry(i).schema, first.entry(i).name) for i in listing.lines[:2]]
    assert shown == [("dot.ted", "a.b"), ("many", "t_1")]  # by schema, then name


def test_relations_you_may_not_read_are_marked(catalog_dsn) -> None:
    dsn = psycopg2.extensions.make_dsn(catalog_dsn, user="pgbrowse_reader")
    conn = psycopg2.connect(dsn)
    try:
        index = read_all(conn)
    finally:
        conn.close()
    readable = {index.entry(i).name: index.entry(i).readable for i in range(index.count)}
    assert readable["animal"] and not readable["cat"] and not readable["t_1"]


async def test_the_list_types_question_marks_and_opens_partitions(catalog_dsn) -> None:
    from pgbrowse.db.connection.connect import where_of

    conn = psycopg2.connect(catalog_dsn)
    where = where_of(conn)  # (as the command line finds it)
    conn.close()
    app = PgBrowseApp(ConnectionFactory(catalog_dsn), where=where, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0)
        screen = app.screen
        assert isinstance(screen, RelationListScreen)
        await pilot.press(*"a?b")  # text, not help
        await wait_for(pilot, lambda: listed(app) == 1)
        assert names(screen.listing) == ["a?b"]
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: listed(app) > 1)
        await pilot.press(*"tree.p")
        await wait_for(pilot, lambda: listed(app) > 0)
        await pilot.press("ctrl+e")  # the cursor's parent expands
        await wait_for(pilot, lambda: "  p_a" in names(screen.listing))
        drawn = "\n".join(screen.query_one(CatalogView).render_line(y).text for y in range(1, 6))
        assert "▾ p (2)" in drawn and "p_a (2)" in drawn
        await pilot.press("down", "enter")  # a partition opens like any table
        view = await open_table(app, pilot)
        title = app.screen.title_text()
        assert title.startswith(" tree.p_a  (partitioned)") and "· in pgbrowse_cat_" in title
        assert view.row_count == 1000


async def test_unreadable_relations_say_so_in_the_list(catalog_dsn) -> None:
    dsn = psycopg2.extensions.make_dsn(catalog_dsn, user="pgbrowse_reader")
    app = PgBrowseApp(ConnectionFactory(dsn), memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0)
        await pilot.press(*"tree.cat")
        await wait_for(pilot, lambda: listed(app) == 2)  # the child under its parent
        view = app.screen.query_one(CatalogView)
        assert NO_ACCESS not in view.render_line(1).text  # tree.animal: granted
        assert NO_ACCESS in view.render_line(2).text


async def test_databases_are_listed_and_another_one_opens(catalog_dsn, demo_dsn) -> None:
    here = psycopg2.extensions.parse_dsn(catalog_dsn)["dbname"]
    demo = psycopg2.extensions.parse_dsn(demo_dsn)["dbname"]
    refused = f"pgbrowse_closed_{uuid.uuid4().hex[:6]}"
    execute(
        catalog_dsn,
        f'CREATE DATABASE "{refused}"',
        f'ALTER DATABASE "{refused}" WITH ALLOW_CONNECTIONS false',
    )
    app = PgBrowseApp(ConnectionFactory(catalog_dsn), where=f"x/{here}", memory_probe=fixed_memory)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: listed(app) > 0)
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda: isinstance(app.screen, DatabaseScreen))
            screen = app.screen
            await wait_for(pilot, lambda: demo in screen.names)
            assert here in screen.names and not screen.allowed[screen.names.index(refused)]
            table = screen.query_one("DataTable")
            table.move_cursor(row=screen.names.index(refused))
            await pilot.press("enter")  # one plain line, and you stay where you were
            await wait_for(pilot, lambda: "not currently accepting" in screen.status_text)
            assert app.screen is screen
            # Down and Enter arriving together (issue 26): the row moved to is connected
            at = screen.names.index(demo)
            table.move_cursor(row=at - 1 if at else at + 1)
            await pilot.pause(0.1)
            await pilot.press("down" if at else "up", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
            assert app.where.endswith(f"/{demo}")
            assert demo in app.screen.query_one("#title").render().plain
            await wait_for(pilot, lambda: listed(app) > 0)
            await pilot.press(*"shop.orders")
            await wait_for(pilot, lambda: listed(app) == 1)
    finally:
        execute(catalog_dsn, f'DROP DATABASE IF EXISTS "{refused}"')


async def test_a_failed_catalog_read_keeps_the_list_and_says_why(catalog_dsn) -> None:
    from pgbrowse.db.connection.connect import SessionSettings

    app = PgBrowseApp(ConnectionFactory(catalog_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0)
        screen = app.screen
        before = list(screen.listing.lines)
        # The next read times out on the server (1 ms statement timeout).
        app.factory = ConnectionFactory(catalog_dsn, SessionSettings(statement_timeout_s=0.001))
        await pilot.press("ctrl+r")
        status = screen.query_one("#status")
        await wait_for(pilot, lambda: "Timed out" in str(status.render()))
        assert list(screen.listing.lines) == before and app.screen is screen
        assert "Ctrl+R tries again" in str(status.render())


async def test_a_table_opened_from_the_command_line_leaves_the_list_unread(catalog_dsn) -> None:
    """The list under a table opened directly reads nothing until it is in front (issue 17:
    building a large catalog's list on the UI thread slowed the table's keys)."""
    from tests.helpers import direct, relation

    factory = ConnectionFactory(catalog_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "tree.p_a"), memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_table(app, pilot)
        await pilot.pause(0.5)
        (listing,) = app.screen_stack[:1]
        assert isinstance(listing, RelationListScreen)
        assert not listing.loaded and listing.listing.index.count == 0  # nothing read
        ((reading,),) = direct(  # and no catalog read on the server
            catalog_dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbrowse'"
            " AND query LIKE '%relnamespace%' AND state = 'active'",
        )
        assert reading == 0
        await pilot.press("escape")  # in front: now it reads
        await wait_for(pilot, lambda: listed(app) > 0, 20)
        assert listing.loaded
