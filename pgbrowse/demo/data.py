"""The demo dataset, generated on the server with generate_series (no client inserts)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import psycopg2

from pgbrowse import defaults

DEFAULT_DEMO_ROWS = defaults.DEMO_ROWS
WIDE_COLUMNS = 48

_TYPES = ["int", "numeric(10,2)", "text", "date", "boolean", "double precision"]


def _wide_table_sql() -> str:
    """lab.wide: one id and WIDE_COLUMNS columns cycling through a few types."""
    exprs = []
    for i in range(1, WIDE_COLUMNS + 1):
        kind = _TYPES[i % len(_TYPES)]
        expr = {
            "int": f"(g * {i}) % 10007",
            "numeric(10,2)": f"round(((g * {i}) % 100000) / 100.0, 2)",
            "text": f"'w{i}-' || md5((g * {i})::text)",
            "date": f"date '2020-01-01' + (g * {i}) % 1500",
            "boolean": f"(g + {i}) % 3 = 0",
            "double precision": f"sqrt(g * {i})",
        }[kind]
        exprs.append(f"({expr})::{kind} AS col_{i:02d}")
    return (
        "CREATE TABLE lab.wide AS SELECT g AS id, "
        + ", ".join(exprs)
        + " FROM generate_series(1, 20000) g"
    )


ORDERS_CHUNK = 100_000  # rows of shop.orders per statement: its progress is said per chunk
_ORDERS_TABLE = """
    CREATE TABLE shop.orders (id bigint, customer_id int, amount numeric(10,2),
        status shop.order_status, kind text, created_at timestamptz, note text);
    COMMENT ON TABLE shop.orders IS 'The big one: page through it';
"""
_ORDERS_KEYS = """
    ALTER TABLE shop.orders ADD PRIMARY KEY (id);
    ALTER TABLE shop.orders ADD CONSTRAINT orders_customer_id_fkey
        FOREIGN KEY (customer_id) REFERENCES shop.customers;
    CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
"""


def _orders_rows(rows: int) -> list[tuple[int, str]]:
    """shop.orders's rows, a chunk per statement (the indexes come after them all: building
    an index once is faster than keeping it up per row). The status is a CASE of constants:
    ``enum_range(…)[i]`` per row took 2 of the table's 5.6 s."""
    return [
        (
            lo,
            f"""
            INSERT INTO shop.orders
            SELECT g::bigint,
                   (1 + (g::bigint * 7919) % 10000)::int,
                   round(((g::bigint * 2654435761) % 100000) / 100.0, 2)::numeric(10,2),
                   (CASE g % 5 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped'
                        WHEN 3 THEN 'refunded' ELSE 'cancelled' END)::shop.order_status,
                   CASE WHEN g % 10 = 0 THEN 'refund' ELSE 'sale' END,
                   timestamptz '2021-01-01 00:00:00+00' + g * interval '13 seconds',
                   CASE WHEN g % 97 = 0 THEN 'gift wrap' WHEN g % 89 = 0 THEN '' END
            FROM generate_series({lo}, {min(lo + ORDERS_CHUNK - 1, rows)}) g
            """,
        )
        for lo in range(1, int(rows) + 1, ORDERS_CHUNK)
    ]


def _steps(rows: int) -> list[tuple[str, str]]:
    return [
        ("schemas", "CREATE SCHEMA shop; CREATE SCHEMA lab"),
        (
            "shop.customers",
            """
            CREATE TYPE shop.order_status
                AS ENUM ('new', 'paid', 'shipped', 'refunded', 'cancelled');
            CREATE TABLE shop.customers AS
            SELECT g AS id, 'Customer ' || g AS name,
                   CASE WHEN g % 7 = 0 THEN NULL ELSE 'user' || g || '@example.com' END AS email,
                   (ARRAY['DE', 'FR', 'US', 'JP', 'BR', 'IN'])[1 + g % 6]::char(2) AS country,
                   timestamptz '2020-01-01 00:00:00+00' + g * interval '37 minutes' AS created_at,
                   g % 11 = 0 AS vip,
                   CASE WHEN g % 5 = 0 THEN g / 5 END AS referred_by
            FROM generate_series(1, 10000) g;
            ALTER TABLE shop.customers ADD PRIMARY KEY (id);
            ALTER TABLE shop.customers ADD CONSTRAINT customers_referred_by_fkey
                FOREIGN KEY (referred_by) REFERENCES shop.customers;
            COMMENT ON TABLE shop.customers IS 'Demo customers';
            """,
        ),
        (f"shop.orders ({rows:,} rows)", _ORDERS_TABLE),
        *(
            (f"shop.orders: {min(lo + ORDERS_CHUNK - 1, rows):,} of {rows:,} rows", statement)
            for lo, statement in _orders_rows(rows)
        ),
        ("shop.orders: its key and indexes", _ORDERS_KEYS),
        (
            "shop.order_lines",
            f"""
            CREATE TABLE shop.order_lines AS
            SELECT o::bigint AS order_id, l::smallint AS line,
                   (ARRAY['tea', 'coffee', 'cups', 'filters', 'kettle'])[1 + (o + l) % 5]
                       AS product,
                   1 + (o * l) % 4 AS quantity,
                   round(((o * 31 + l * 7) % 5000) / 100.0, 2)::numeric(8,2) AS price
            FROM generate_series(1, {min(int(rows), 100_000)}) o,
                 generate_series(1, 1 + o % 3) l;
            ALTER TABLE shop.order_lines ADD PRIMARY KEY (order_id, line);
            ALTER TABLE shop.order_lines ADD CONSTRAINT order_lines_order_id_fkey
                FOREIGN KEY (order_id) REFERENCES shop.orders;
            COMMENT ON TABLE shop.order_lines IS 'Lines of the first orders: o follows a key';
            """,
        ),
        (
            "views",
            """
            CREATE VIEW shop.order_details AS
            SELECT o.id, o.created_at, c.name AS customer, c.country, o.amount, o.status
            FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id;
            CREATE MATERIALIZED VIEW shop.sales_by_country AS
            SELECT c.country, count(*) AS customers, sum(c.id) AS id_sum
            FROM shop.customers c GROUP BY c.country;
            """,
        ),
        ("lab.wide", _wide_table_sql() + "; ALTER TABLE lab.wide ADD PRIMARY KEY (id)"),
        (
            "lab.samples",
            r"""
            CREATE TABLE lab.samples AS
            SELECT g AS id,
                   CASE WHEN g % 5 = 0 THEN NULL WHEN g % 9 = 0 THEN '' ELSE 'sample ' || g END
                       AS label,
                   repeat('lorem ipsum dolor sit amet ', 1 + g % 40)
                       || CASE WHEN g % 4 = 0 THEN E'\nsecond line\tafter a tab' ELSE '' END
                       AS body,
                   jsonb_build_object('id', g, 'ok', g % 2 = 0,
                                      'tags', jsonb_build_array('t' || g % 3, 't' || g % 5),
                                      'nested', jsonb_build_object('x', g * 1.5, 'y', NULL))
                       AS doc,
                   CASE WHEN g % 6 = 0 THEN NULL
                        ELSE (ARRAY['red', 'green', NULL, 'blue'])[1:1 + g % 4] END AS tags,
                   ARRAY[[g, g + 1], [g * 2, g * 3]] AS matrix,
                   timestamptz '2024-02-29 12:00:00+00' + g * interval '1 hour 3 minutes'
                       AS measured_at,
                   CASE WHEN g = 1 THEN 'infinity'::date ELSE date '2024-01-01' + g END AS day,
                   make_interval(days => g % 30, secs => g % 3600) AS duration,
                   (g * 3.14159265)::numeric(14, 4) AS price,
                   CASE WHEN g % 13 = 0 THEN 'NaN'::float8 ELSE g / 7.0 END AS ratio,
                   decode(md5(g::text), 'hex') AS digest,
                   md5(g::text)::uuid AS uid,
                   ('10.0.' || g % 256 || '.' || g % 200)::inet AS addr
            FROM generate_series(1, 5000) g;
            ALTER TABLE lab.samples ADD PRIMARY KEY (id);
            -- A 20 MB value: the client only ever receives its first few hundred characters.
            UPDATE lab.samples SET body = repeat('a very long value ', 1200000) WHERE id = 3;
            COMMENT ON TABLE lab.samples IS 'Long text, JSON, NULLs, arrays, times, numerics';
            """,
        ),
        (
            "lab.events (partitioned)",
            """
            CREATE TABLE lab.events (id bigint, at date NOT NULL, what text)
                PARTITION BY RANGE (at);
            CREATE TABLE lab.events_2024 PARTITION OF lab.events
                FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            CREATE TABLE lab.events_2025 PARTITION OF lab.events
                FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            INSERT INTO lab.events
            SELECT g, date '2024-01-01' + g % 700, 'event ' || g
            FROM generate_series(1, 30000) g;
            """,
        ),
        ("statistics", "ANALYZE"),
    ]


def create_demo(
    dsn: str, rows: int = DEFAULT_DEMO_ROWS, progress: Callable[[str], None] = print
) -> None:
    """Build the demo dataset in the (empty) database at ``dsn``."""
    if rows < 1:
        raise ValueError("the demo needs at least one row")
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for label, statement in _steps(rows):
                progress(f"creating {label}")
                cur.execute(statement)
            # A type with no psycopg2 caster, when the extension is present.
            with contextlib.suppress(psycopg2.Error):
                cur.execute(
                    "CREATE EXTENSION IF NOT EXISTS vector;"
                    " ALTER TABLE lab.samples ADD COLUMN embedding vector(3);"
                    " UPDATE lab.samples SET embedding = ARRAY[id, id / 2.0, 1]::vector(3)"
                    " WHERE id % 3 <> 0"
                )
    finally:
        conn.close()
