"""Hostile names and random values: every identifier is quoted, every value displays.

Hypothesis builds schemas, tables and columns named with quotes, spaces, dots, unicode,
mixed case, reserved words and 63-byte names, holding random values of random types; each
must list, open, read back exactly as the server prints it, and sort on every column.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import psycopg2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg2 import sql

from pgbrowse.db.catalog.relations import Relation, list_relations
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager

RESERVED = [
    "select",
    "order",
    "table",
    "left",
    "pgbrowse_key_0",
    "user",
    "Group",
    "from",
    "where",
    "AS",
]
ALPHABET = st.sampled_from([*"aZ_ .;\"'-()$%\\/é中🐘\t", "ß", "İ", "\u200b"])


def identifier() -> st.SearchStrategy[str]:
    made = st.text(ALPHABET, min_size=1, max_size=20)
    long = st.integers(1, 63).map(lambda n: ("x" * 63)[:n] + "")
    wide = st.just("中" * 21)  # 63 bytes of UTF-8: the longest name PostgreSQL keeps
    names = st.one_of(made, st.sampled_from(RESERVED), long, wide)
    return names.filter(lambda s: len(s.encode()) <= 63 and s.strip() != "")


NO_NUL = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")

TYPES = {
    "int": st.integers(-(2**31), 2**31 - 1).map(str),
    "text": st.text(NO_NUL),
    "numeric": st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    "date": st.dates().map(str),
    "boolean": st.booleans().map(str),
    "jsonb": st.recursive(  # jsonb strings cannot hold \u0000
        st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(NO_NUL, max_size=5),
        lambda c: (
            st.lists(c, max_size=3) | st.dictionaries(st.text(NO_NUL, max_size=4), c, max_size=3)
        ),
        max_leaves=6,
    ).map(lambda v: __import__("json").dumps(v)),
}

table_spec = st.tuples(
    identifier(),
    identifier(),
    st.lists(
        st.tuples(identifier(), st.sampled_from(sorted(TYPES))),
        min_size=1,
        max_size=4,
        unique_by=lambda c: c[0],
    ),
).flatmap(
    lambda spec: st.tuples(
        st.just(spec),
        st.lists(st.tuples(*[st.none() | TYPES[t] for _, t in spec[2]]), min_size=0, max_size=6),
    )
)


@settings(
    # CI runs the same 25 examples every time; PGBROWSE_HYPOTHESIS_EXAMPLES=500 explores.
    max_examples=int(os.environ.get("PGBROWSE_HYPOTHESIS_EXAMPLES", "25")),
    derandomize="PGBROWSE_HYPOTHESIS_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table_spec)
def test_hostile_names_and_random_values(scratch, scratch_dsn: str, spec) -> None:
    (schema, table, columns), rows = spec
    ident = sql.Identifier(schema, table)
    with scratch.cursor() as cur:
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        cur.execute(
            sql.SQL("CREATE TABLE {} (pgb_row int PRIMARY KEY, {})").format(
                ident,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                    for name, kind in columns
                ),
            )
        )
        for i, values in enumerate(rows):  # literals, not parameters: a name may hold a %
            cur.execute(
                sql.SQL("INSERT INTO {} VALUES ({}, {})").format(
                    ident,
                    sql.Literal(i),
                    sql.SQL(", ").join(
                        sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(kind))
                        for value, (_, kind) in zip(values, columns, strict=True)
                    ),
                )
            )
        cur.execute(sql.SQL("ANALYZE {}").format(ident))
    try:
        factory = ConnectionFactory(scratch_dsn)
        conn = factory.connect()
        listed = {(r.schema, r.name) for r in list_relations(conn)}
        conn.close()
        assert (schema, table) in listed
        pager = CursorPager(factory, Relation(schema, table, "r", None, 0), truncate=10_000)
        try:
            got = pager.rows(0, len(rows) + 1)
            names = ["pgb_row", *[name for name, _ in columns]]
            assert [c.name for c in pager.columns] == names
            with scratch.cursor() as cur:
                cur.execute(
                    sql.SQL("SELECT {} FROM {} ORDER BY pgb_row").format(
                        sql.SQL(", ").join(
                            # the type's output function, as psql prints values
                            sql.SQL(
                                "CASE WHEN {c} IS NULL THEN NULL ELSE format('%s', {c}) END"
                            ).format(c=sql.Identifier(n))
                            for n in names
                        ),
                        ident,
                    )
                )
                assert got == cur.fetchall()
            with tempfile.TemporaryDirectory() as folder:  # and out again, through export
                out = Path(folder) / "out.csv"
                Export(factory, pager.export_query(), out, table).run()
                with out.open(newline="", encoding="utf-8") as file:
                    header, *exported = list(csv.reader(file))
            assert header == names
            # CSV writes NULL and '' alike as an empty field: the rest is exactly the text.
            assert exported == [[v if v is not None else "" for v in row] for row in got]
            for i, name in enumerate(names):  # filter on every column, by its quoted name
                quoted = psycopg2.extensions.quote_ident(name, scratch)
                pager.set_filter(f"{quoted} IS NOT NULL")
                kept = pager.rows(0, len(rows) + 1)
                assert kept == [row for row in got if row[i] is not None]
            pager.set_filter(None)
            for name in names:  # sort on every column, both ways
                for descending in (False, True):
                    pager.set_order(name, descending)
                    assert len(pager.rows(0, len(rows) + 1)) == len(rows)
        finally:
            pager.close()
    finally:
        with scratch.cursor() as cur:
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_quoted_names_reach_the_server_intact(scratch) -> None:
    """A guard for the generator: PostgreSQL keeps these names exactly."""
    with scratch.cursor() as cur:
        for name in ['a"b', "x" * 63, "中" * 21, "select", "a.b c"]:
            cur.execute(sql.SQL("SELECT 1 AS {}").format(sql.Identifier(name)))
            assert cur.description[0].name == name
    assert psycopg2.extensions.quote_ident('a"b', scratch) == '"a""b"'
