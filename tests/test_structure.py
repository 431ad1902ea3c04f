"""The structure pane (issue 15): a relation's columns, indexes, constraints both ways,
triggers, policies, partitions and upkeep from the catalog alone."""

from __future__ import annotations

import re

from pgbrowse.db.catalog.structure import read_structure
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.session import Session
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.structure_screen import StructureScreen, structure_text
from tests.helpers import fixed_memory, open_table, relation, wait_for


def build(scratch) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS struct15 CASCADE")
        cur.execute("CREATE SCHEMA struct15")
        cur.execute("CREATE TABLE struct15.customer (id int PRIMARY KEY, name text)")
        cur.execute(
            "CREATE TABLE struct15.sale (id int PRIMARY KEY,"
            " customer_id int REFERENCES struct15.customer (id),"
            " amount numeric NOT NULL DEFAULT 0 CHECK (amount >= 0),"
            ' note text COLLATE "C", code text UNIQUE)'
        )
        cur.execute("COMMENT ON COLUMN struct15.sale.note IS 'free [b]text[/b]'")
        cur.execute(
            "CREATE FUNCTION struct15.touch() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN NEW; END $$"
        )
        cur.execute(
            "CREATE TRIGGER touch_sale BEFORE UPDATE ON struct15.sale"
            " FOR EACH ROW EXECUTE FUNCTION struct15.touch()"
        )
        cur.execute("ALTER TABLE struct15.sale ENABLE ROW LEVEL SECURITY")
        cur.execute("CREATE POLICY mine ON struct15.sale USING (amount < 100)")
        cur.execute("CREATE TABLE struct15.log (id int, at date) PARTITION BY RANGE (at)")
        cur.execute(
            "CREATE TABLE struct15.log_2026 PARTITION OF struct15.log"
            " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        )
        cur.execute(
            "CREATE VIEW struct15.big_sales AS SELECT * FROM struct15.sale WHERE amount > 50"
        )


def describe(factory: ConnectionFactory, name: str) -> tuple[str, list[str]]:
    session = Session(factory)
    try:
        found = read_structure(session, relation(factory, name))
    finally:
        session.close()
    return structure_text(found), [s.sql for s in session.log]


def test_a_table_from_the_catalog_alone(scratch, scratch_dsn: str) -> None:
    build(scratch)
    factory = ConnectionFactory(scratch_dsn)
    text, sent = describe(factory, "struct15.sale")
    for expected in (
        "amount  numeric  · not null, default 0",
        'collate "C"' if 'collate "C"' in text else "collate C",
        "-- free [b]text[/b]",  # (a comment is text, never markup)
        "sale_pkey",
        "primary key, pgbrowse seeks on it",
        "sale_code_key",
        "CHECK (amount >= 0::numeric)",
        "FOREIGN KEY (customer_id) REFERENCES struct15.customer(id)",
        "touch_sale: CREATE TRIGGER touch_sale BEFORE UPDATE",
        "row-level security on",
        "mine  ALL, permissive  USING ((amount < (100)::numeric))",
        "last vacuum never",
    ):
        assert expected in text, expected
    # No statement reads the table itself: every FROM is the catalog.
    sources = {t for s in sent for t in re.findall(r"FROM\s+([\w.\"]+)", s)}
    assert all(t.startswith("pg_catalog.") for t in sources), sources
    referenced, _ = describe(factory, "struct15.customer")
    assert "referenced by" in referenced and "struct15.sale (sale_customer_id_fkey)" in referenced


def test_partitions_and_a_view_definition(scratch, scratch_dsn: str) -> None:
    build(scratch)
    factory = ConnectionFactory(scratch_dsn)
    parent, _ = describe(factory, "struct15.log")
    assert "partitioned by RANGE (at)" in parent and "partitions or children: 1" in parent
    assert "struct15.log_2026  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" in parent
    child, _ = describe(factory, "struct15.log_2026")
    assert "inherits from struct15.log" in child and "partition FOR VALUES" in child
    view, _ = describe(factory, "struct15.big_sales")
    assert "view definition" in view and "WHERE amount > 50::numeric" in view
    assert "heap" not in view  # (a view has no storage)


async def test_the_structure_screen(scratch, scratch_dsn: str) -> None:
    build(scratch)
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "struct15.sale"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_table(app, pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, StructureScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None)
        assert "sale_pkey" in str(screen.query_one("#report-text").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, StructureScreen)
