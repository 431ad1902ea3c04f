"""Every type displays, as the server prints it, and no value breaks the table's layout."""

from __future__ import annotations

import psycopg2
from rich.cells import cell_len

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES
from tests.helpers import fixed_memory, open_table, relation

CONTROL = "E'tab\\there\\nnew line\\r\\x01\\x7f end'"
ZERO = "'00000000-0000-0000-0000-000000000000'"

# (column, type, a typical value, an edge value): the third row is all NULL.
TYPES = [
    ("n_numeric", "numeric(20,6)", "12345.678900", "'NaN'"),
    ("n_float", "float8", "1.5e300", "'-Infinity'"),
    ("n_real", "real", "3.25", "'NaN'"),
    ("n_big", "bigint", "9223372036854775807", "-9223372036854775808"),
    ("n_small", "smallint", "-32768", "32767"),
    ("money", "money", "1234.56", "-0.01"),
    ("span", "interval", "'1 year 2 mons 3 days 04:05:06.789'", "'-178000000 years'"),
    ("at", "timestamptz", "'2024-02-29 12:34:56.789+05:30'", "'infinity'"),
    ("ts", "timestamp", "'1999-12-31 23:59:59'", "'-infinity'"),
    ("day", "date", "'2000-01-01'", "'infinity'"),
    ("t", "time", "'23:59:59.999999'", "'00:00'"),
    ("ttz", "timetz", "'12:00+02'", "'00:00-12'"),
    ("raw", "bytea", "'\\xdeadbeef00ff'", "decode(repeat('ab', 300), 'hex')"),
    ("flag", "boolean", "true", "false"),
    ("id", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", ZERO),
    ("ip", "inet", "'192.168.0.1/24'", "'::1'"),
    ("net", "cidr", "'10.0.0.0/8'", "'2001:db8::/32'"),
    ("mac", "macaddr", "'08:00:2b:01:02:03'", "'ff:ff:ff:ff:ff:ff'"),
    ("mac8", "macaddr8", "'08:00:2b:01:02:03:04:05'", "'00:00:00:00:00:00:00:00'"),
    ("j", "json", '\'{"a": [1, 2, {"b": null}]}\'', "'\"a\\nb\"'"),
    ("jb", "jsonb", '\'{"π": 3.14, "emoji": "🐘"}\'', "'[]'"),
    ("ints", "int[]", "'{{1,NULL},{3,4}}'", "'{}'"),
    ("texts", "text[]", "ARRAY['a b', NULL, 'c\"d', E'e\\nf']", "ARRAY[]::text[]"),
    ("r", "int4range", "'[1,10)'", "'empty'"),
    ("mr", "int4multirange", "'{[1,3), [5,8)}'", "'{}'"),
    ("tr", "tstzrange", "'[2024-01-01, infinity)'", "'(,)'"),
    ("pt", "point", "'(1.5,-2)'", "'(0,0)'"),
    ("ln", "line", "'{1,-1,0}'", "'{0,1,2}'"),
    ("seg", "lseg", "'[(0,0),(1,1)]'", "'[(1,2),(3,4)]'"),
    ("bx", "box", "'(1,1),(0,0)'", "'(2,2),(2,2)'"),
    ("pa", "path", "'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,0))'"),
    ("pg", "polygon", "'((0,0),(1,1),(1,0))'", "'((0,0))'"),
    ("ci", "circle", "'<(0,0),1.5>'", "'<(1,1),0>'"),
    ("tsv", "tsvector", "to_tsvector('english', 'The quick brown foxes')", "''::tsvector"),
    ("tsq", "tsquery", "'fox & !dog'", "''::tsquery"),
    ("b8", "bit(8)", "B'10101010'", "B'00000000'"),
    ("vb", "varbit", "B'101'", "B''"),
    ("mood", "mood", "'happy'", "'so-so'"),
    ("pos", "positive", "42", "1"),
    ("pair", "pair", "ROW(1, 'a \"quoted\" text')", "ROW(NULL, NULL)"),
    ("lsn", "pg_lsn", "'16/B374D848'", "'0/0'"),
    ("rel", "regclass", "'pg_class'", "'pg_type'"),
    ("ch", "char(3)", "'ab'", "''"),
    ("c1", '"char"', "'x'", "''"),
    ("nm", "name", "'a name'", "''"),
    ("wide", "text", "'東京都 ｶﾀｶﾅ 한국어 🐘🎉 👩‍👩‍👧'", CONTROL),
    ("rtl", "text", "'مرحبا עברית'", "E'\\u200b zero width \\u0301 combining'"),
]


def server_can(conn: psycopg2.extensions.connection, statement: str) -> bool:
    with conn.cursor() as cur:
        try:
            cur.execute(statement)
            return True
        except psycopg2.Error:
            return False


def create_every_type(conn: psycopg2.extensions.connection, with_vector: bool) -> list[str]:
    columns = [(c, t, a, b) for c, t, a, b in TYPES]
    if server_can(conn, "SELECT '<a/>'::xml"):  # only with libxml (not in pgserver's build)
        columns.append(("doc", "xml", "'<a x=\"1\"><b>text</b></a>'", "'<!-- c -->'"))
    if with_vector:  # a type from an extension: psycopg2 has no caster for it
        columns.append(("vec", "vector(3)", "'[1,2.5,-3]'", "'[0,0,0]'"))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS every_type")
        cur.execute("DROP TYPE IF EXISTS mood, pair CASCADE; DROP DOMAIN IF EXISTS positive")
        cur.execute("CREATE TYPE mood AS ENUM ('happy', 'so-so')")
        cur.execute("CREATE DOMAIN positive AS int CHECK (VALUE > 0)")
        cur.execute("CREATE TYPE pair AS (n int, label text)")
        cur.execute(
            "CREATE TABLE every_type (row_no int, "
            + ", ".join(f"{c} {t}" for c, t, _, _ in columns)
            + ")"
        )
        for i, pick in ((1, 2), (2, 3)):
            values = ", ".join(f"({col[pick]})::{col[1]}" for col in columns)
            cur.execute(f"INSERT INTO every_type VALUES ({i}, {values})")
        cur.execute("INSERT INTO every_type (row_no) VALUES (3)")
    return [c for c, *_ in columns]


def test_every_type_arrives_as_the_server_prints_it(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        with_vector = cur.fetchone()[0] == 1
        if with_vector:
            cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    names = create_every_type(scratch, with_vector)
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "every_type"))
    try:
        got = pager.rows(0, 3)
    finally:
        pager.close()
    with scratch.cursor() as cur:
        cur.execute(
            "SELECT row_no::text, "
            # The type's output function, as psql and COPY print values (format's %s calls
            # it), cut as shown: 500 characters and one more to mark the cut.
            + ", ".join(
                # NULL only for a NULL value: a composite of NULL fields is (,), as psql prints
                f"CASE WHEN num_nulls({c}) = 1 THEN NULL ELSE left(format('%s', {c}), 501) END"
                for c in names
            )
            + " FROM every_type ORDER BY row_no"
        )
        want = cur.fetchall()
    assert got == want  # the type's own output, for every type, NULLs as None
    by_name = dict(zip(names, got[0][1:], strict=True))
    assert by_name["flag"] == "t" and by_name["ip"] == "192.168.0.1/24"  # as psql shows them
    assert by_name["net"] == "10.0.0.0/8"
    assert len(got[1][names.index("raw") + 1]) == 501  # a long value: cut, and marked so
    assert all(v is None for v in got[2][1:])


async def test_no_value_breaks_the_layout(scratch, scratch_dsn: str) -> None:
    names = create_every_type(scratch, with_vector=False)
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "every_type"), memory_probe=fixed_memory)
    async with app.run_test(size=(100, 20)) as pilot:
        view = await open_table(app, pilot)
        width = view.scrollable_content_region.width
        for column in range(len(names) + 1):  # every column in turn, scrolled into view
            if column:
                await pilot.press("l")
            for y in range(HEADER_LINES + 3):
                text = view.render_line(y).text
                assert cell_len(text) == width, (column, y, text)
                assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text), text
