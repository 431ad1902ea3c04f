"""Fat values of every type (issue 24): a bytea is cut before its output function (its first
bytes hex-encoded, exactly as the output starts); any other type stored larger than
``FAT_BYTES`` is not converted for the table's pages (pg_column_size reads no TOAST data)
and the table draws its size and type instead; the cell view reads such a value up to its
limit. (A 520 MB bytea in row 25 of 50 failed the whole table; page read times are in the
benchmark, not here.)"""

from __future__ import annotations

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.db.paging.view import FAT_BYTES, fat_placeholder
from pgbrowse.ui.app import PgBrowseApp
from tests.helpers import column, direct, fixed_memory, line, open_table, relation, wait_for

ROWS = 30
FAT_ROW = 25  # (its id)
# 2.4 MB of md5 digests: incompressible, and stored out of line uncompressed (EXTERNAL).
DIGESTS = 75_000


@pytest.fixture(scope="module")
def fat_dsn(scratch_dsn: str) -> str:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    big_bytes = (
        f"(SELECT string_agg(decode(md5(i::text), 'hex'), '') FROM generate_series(1, {DIGESTS}) i)"
    )
    big_text = f"(SELECT string_agg(md5(i::text), '') FROM generate_series(1, {DIGESTS}) i)"
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS fat_types")
        cur.execute("DROP TYPE IF EXISTS fat_pair")
        cur.execute("CREATE TYPE fat_pair AS (n int, t text)")
        cur.execute(
            "CREATE TABLE fat_types (id int PRIMARY KEY, b bytea, j jsonb, a text[], x fat_pair)"
        )
        for name in ("b", "j", "a", "x"):
            cur.execute(f"ALTER TABLE fat_types ALTER COLUMN {name} SET STORAGE EXTERNAL")
        cur.execute(
            "INSERT INTO fat_types SELECT g, decode(md5(g::text) || md5(g::text), 'hex'),"
            " jsonb_build_object('n', g), ARRAY[md5(g::text)], ROW(g, 'v')::fat_pair"
            f" FROM generate_series(1, {ROWS}) g"
        )
        cur.execute(
            f"UPDATE fat_types SET b = {big_bytes}, j = to_jsonb({big_text}),"
            f" a = ARRAY[{big_text}], x = ROW(1, {big_text})::fat_pair"
            f" WHERE id = {FAT_ROW}"
        )
    conn.close()
    return scratch_dsn


def test_fat_values_are_not_converted_for_the_page(fat_dsn: str) -> None:
    factory = ConnectionFactory(fat_dsn)
    pager = CursorPager(factory, relation(factory, "public.fat_types"), page_size=50)
    try:
        rows = pager.load(0)  # (whole rows: their hidden identity finds a row again)
        columns = pager.columns
        fat = rows[FAT_ROW - 1]
        stored = direct(
            fat_dsn,
            "SELECT pg_size_pretty(pg_column_size(b)::bigint), pg_column_size(j) > %s"
            " FROM fat_types WHERE id = %s",
            (FAT_BYTES, FAT_ROW),
        )[0]
        assert (
            fat_placeholder(fat[column(pager, "b")], columns[1]) == f"\u2039{stored[0]} bytea\u203a"
        )
        assert stored[1]
        for name, type_name in (("j", "jsonb"), ("a", "text[]"), ("x", "fat_pair")):
            drawn = fat_placeholder(fat[column(pager, name)], columns[column(pager, name)])
            assert drawn is not None and drawn.endswith(f" {type_name}\u203a"), drawn
        # The others are as psql shows them, cut: a bytea's hex starts exactly as its output.
        expected = direct(
            fat_dsn,
            "SELECT left(b::text, 501), left(j::text, 501) FROM fat_types WHERE id <> %s"
            " ORDER BY id",
            (FAT_ROW,),
        )
        shown = [(r[1], r[2]) for r in rows if r[0] != str(FAT_ROW)]
        assert shown == [tuple(e) for e in expected]
        # The cell view reads the fat bytea up to its limit, from its first bytes.
        cell = pager.fetch_cell(fat, column(pager, "b"))
        ((whole_length, start),) = direct(
            fat_dsn,
            "SELECT 2 + 2 * octet_length(b), left(b::text, 1000) FROM fat_types WHERE id = %s",
            (FAT_ROW,),
        )
        assert cell.length == whole_length and cell.cut and cell.text.startswith(start)
    finally:
        pager.close()


async def test_the_table_draws_the_size_and_type(fat_dsn: str) -> None:
    factory = ConnectionFactory(fat_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "public.fat_types"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(160, 40)) as pilot:
        view = await open_table(app, pilot)
        view.move_to(FAT_ROW - 1)
        await wait_for(pilot, lambda: any("bytea\u203a" in line(view, y) for y in range(40)))
        drawn = next(line(view, y) for y in range(40) if "bytea\u203a" in line(view, y))
        assert "\u2039" in drawn and "jsonb\u203a" in drawn and not app.crashes
