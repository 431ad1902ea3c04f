"""The catalog: every kind of relation, no system schemas, one query for 10,000 tables."""

from __future__ import annotations

import logging

import psycopg2
import psycopg2.extras

from pgbrowse.db.catalog.relations import find_relation, list_columns, list_relations
from pgbrowse.demo.data import WIDE_COLUMNS


def test_demo_relations_of_every_kind(demo_dsn: str) -> None:
    conn = psycopg2.connect(demo_dsn)
    try:
        relations = {r.qualified: r for r in list_relations(conn)}
    finally:
        conn.close()
    kinds = {name: r.kind_name for name, r in relations.items()}
    assert kinds["shop.orders"] == "table"
    assert kinds["shop.order_details"] == "view"
    assert kinds["shop.sales_by_country"] == "materialized view"
    assert kinds["lab.events"] == "partitioned"
    assert relations["lab.events_2024"].is_partition
    assert {r.schema for r in relations.values()} == {"shop", "lab"}
    orders = relations["shop.orders"]
    assert orders.estimated_rows == 1_000_000  # the catalog's estimate, after ANALYZE
    assert orders.size_bytes > 10 * 2**20
    assert orders.comment == "The big one: page through it"
    assert relations["shop.order_details"].estimated_rows is None


def test_demo_table_shapes(demo_dsn: str) -> None:
    conn = psycopg2.connect(demo_dsn)
    try:
        wide = find_relation(conn, "lab.wide")
        samples = find_relation(conn, "lab.samples")
        assert wide is not None and samples is not None
        assert len(list_columns(conn, wide)) == WIDE_COLUMNS + 1 >= 40
        types = {c.name: c.type_name for c in list_columns(conn, samples)}
        assert types["doc"] == "jsonb"
        assert types["tags"] == "text[]"
        assert types["measured_at"] == "timestamp with time zone"
        assert types["price"] == "numeric(14,4)"
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FILTER (WHERE label IS NULL), max(length(body)) FROM lab.samples"
            )
            nulls, longest = cur.fetchone()
        assert nulls > 0 and longest > 10_000_000
    finally:
        conn.close()


def test_find_relation_handles_quoting_and_missing(demo_dsn: str) -> None:
    conn = psycopg2.connect(demo_dsn)
    try:
        assert find_relation(conn, "shop.orders").name == "orders"
        assert find_relation(conn, '"shop"."orders"').name == "orders"
        assert find_relation(conn, "shop.nope") is None
        assert find_relation(conn, "pg_catalog.pg_class") is None  # system relations are not listed
    finally:
        conn.close()


def test_ten_thousand_tables_in_one_query(scratch_dsn: str, scratch) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS many CASCADE")
        cur.execute("CREATE SCHEMA many")
        cur.execute(
            "DO $$ BEGIN FOR i IN 1..10000 LOOP"
            " EXECUTE format('CREATE TABLE many.t%s (id int)', i);"
            " IF i % 500 = 0 THEN COMMIT; END IF; END LOOP; END $$"
        )
    logger = logging.getLogger("catalog-queries")
    conn = psycopg2.connect(scratch_dsn, connection_factory=psycopg2.extras.LoggingConnection)
    conn.initialize(logger)
    sent: list[str] = []
    conn.log = lambda msg, curs: sent.append(msg)  # type: ignore[method-assign]
    try:
        relations = list_relations(conn)
    finally:
        conn.close()
    assert sum(r.schema == "many" for r in relations) == 10_000
    assert len(sent) == 1
    with scratch.cursor() as cur:
        cur.execute(  # in batches: one transaction cannot lock 10,000 tables
            "DO $$ BEGIN FOR i IN 1..10000 LOOP EXECUTE format('DROP TABLE many.t%s', i);"
            " IF i % 500 = 0 THEN COMMIT; END IF; END LOOP; END $$"
        )
        cur.execute("DROP SCHEMA many")


def test_no_size_is_negative(demo_factory) -> None:
    """A partitioned table's relpages is -1: its size is 0, never negative."""
    from pgbrowse.db.catalog.relations import list_relations

    conn = demo_factory.connect()
    try:
        relations = list_relations(conn)
    finally:
        conn.close()
    events = next(r for r in relations if r.qualified == "lab.events")
    assert events.kind == "p" and events.size_bytes == 0
    assert all(r.size_bytes >= 0 for r in relations)
