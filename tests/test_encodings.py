"""Any encoding browses (issue 24): a SQL_ASCII database with bytes >= 0x80 in relation
names and values opens, each such byte drawn as ``\\x9b`` and sent back as the same byte
(the relation list failed with a UnicodeDecodeError, a table showed "no rows")."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import list_relations
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from tests.helpers import fixed_memory, listed, open_table, wait_for

NAME = "caf\udce9s"  # the bytes c a f 0xe9 s, as pgbrowse reads them


@pytest.fixture(scope="module")
def ascii_dsn(admin_dsn: str) -> Iterator[str]:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS pgbrowse_sql_ascii")
        cur.execute(
            "CREATE DATABASE pgbrowse_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C'"
            " LC_CTYPE 'C' TEMPLATE template0"
        )
    conn.close()
    dsn = psycopg2.extensions.make_dsn(admin_dsn, dbname="pgbrowse_sql_ascii")
    build = psycopg2.connect(dsn)
    build.autocommit = True
    with build.cursor() as cur:
        cur.execute(
            r"""DO $$ BEGIN
            EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, %I text)',
                           E'caf\xe9s', E'n\x9bame');
            EXECUTE format('INSERT INTO %I SELECT g, E''val\x9b\xff'' || g'
                           ' FROM generate_series(1, 300) g', E'caf\xe9s');
            END $$"""
        )
    build.close()
    yield dsn
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS pgbrowse_sql_ascii WITH (FORCE)")
    conn.close()


def test_names_and_values_round_trip(ascii_dsn: str) -> None:
    factory = ConnectionFactory(ascii_dsn)
    conn = factory.connect()
    try:
        found = [r for r in list_relations(conn) if r.schema == "public"]
    finally:
        conn.close()
    assert [r.name for r in found] == [NAME]
    pager = CursorPager(factory, found[0], page_size=50)
    try:
        rows = pager.rows(0, 3)
        assert [c.name for c in pager.columns] == ["id", "n\udc9bame"]
        assert rows[0] == ("1", "val\udc9b\udcff1")
        pager.set_filter("\"n\udc9bame\" LIKE 'val%2'")
        assert [r[0] for r in pager.rows(0, 3)] == ["2", "12", "22"]
        pager.set_order("n\udc9bame", True)
        assert pager.rows(0, 1)[0][1] == "val\udc9b\udcff92"  # (the filter holds)
    finally:
        pager.close()


async def test_the_list_and_the_table_draw_each_byte(ascii_dsn: str) -> None:
    app = PgBrowseApp(ConnectionFactory(ascii_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0)
        assert "caf\\xe9s" in app.export_screenshot()
        await pilot.press("enter")
        view = await open_table(app, pilot)
        drawn = [view.render_line(y).text for y in range(0, 5)]
        assert any("n\\x9bame" in line for line in drawn)
        assert any("val\\x9b\\xff1" in line for line in drawn)
        assert not app.crashes
