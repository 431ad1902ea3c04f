"""Search lands on the nearest match (issue 25), whatever the order.

The property: for every order pgbrowse offers (physical, key, a sort with ties and NULLs,
descending, an inheritance parent, a partitioned table), from many start rows, both ways,
``search`` lands on the first row after (before) the start, in the view's own order as its
cursor reads it, whose text holds the needle. (The search query ordered by an output column
named ``ctid``, in text order, while row_number() counted in tid order: tenk1 sorted by
``four``, ``/960`` from row 251 landed on row 754, the next match being row 252.) Also:
search over columns of different collations (lower() had none to use), and a needle
holding ILIKE's own characters (``%``, ``_``, ``\\``) taken literally.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import relation

STARTS = 12  # start rows per view and direction


@pytest.fixture(scope="module")
def search_dsn(ident_dsn: str) -> Iterator[str]:
    conn = psycopg2.connect(ident_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS srch CASCADE")
        cur.execute("CREATE SCHEMA srch")
        # tenk1's shape, small: a key, a column of ties, another with NULLs.
        cur.execute(
            "CREATE TABLE srch.tenk AS SELECT g AS unique1, (g * 7919) % 1000 AS unique2,"
            " g % 4 AS four, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 9 END AS nine,"
            " 'x' || (g * 13) % 97 AS label FROM generate_series(1, 900) g"
        )
        cur.execute("ALTER TABLE srch.tenk ADD PRIMARY KEY (unique1)")
        # A heap without a key, with holes: its rows in physical order by ctid.
        cur.execute(
            "CREATE TABLE srch.heap WITH (autovacuum_enabled = off) AS"
            " SELECT g AS n, 'h' || (g * 31) % 89 AS t FROM generate_series(1, 700) g"
        )
        cur.execute("DELETE FROM srch.heap WHERE n BETWEEN 101 AND 180")
        cur.execute("VACUUM srch.heap")
        cur.execute("UPDATE srch.heap SET t = 'moved 12' WHERE n = 12")  # (into a hole)
        # Columns of two collations (the was "C" and "en-x-icu"; any two differ).
        cur.execute('CREATE COLLATION srch.other FROM "POSIX"')
        cur.execute(
            'CREATE TABLE srch.collated (id int PRIMARY KEY, a text COLLATE "C",'
            " b text COLLATE srch.other)"
        )
        cur.execute(
            "INSERT INTO srch.collated SELECT g, 'Alpha ' || g, 'Beta ' || g"
            " FROM generate_series(1, 50) g"
        )
        cur.execute("ANALYZE")
    conn.close()
    yield ident_dsn


def text_of(row: tuple[str | None, ...]) -> str:
    return " ".join("" if v is None else v for v in row).lower()


VIEWS = [  # (relation, sort column or None, descending, needle)
    ("srch.tenk", None, False, "96"),
    ("srch.tenk", "four", False, "96"),
    ("srch.tenk", "four", True, "96"),
    ("srch.tenk", "nine", False, "x1"),
    ("srch.tenk", "nine", True, "x1"),
    ("srch.tenk", "label", False, "7"),
    ("srch.heap", None, False, "h1"),
    ("srch.heap", "t", True, "2"),
    ("ident.parent", None, False, "-1"),
    ("ident.parent", "id", True, "-2"),
    ("ident.part", None, False, "row-1"),
    ("ident.part", "grp", False, "row-2"),
    ("ident.part", "grp", True, "row-2"),
]


@pytest.mark.parametrize("near", [None, 3], ids=["walk", "scan"])
@pytest.mark.parametrize(("name", "column", "descending", "needle"), VIEWS)
def test_search_lands_on_the_nearest_match(
    search_dsn: str, name: str, column: str | None, descending: bool, needle: str, near: int | None
) -> None:
    """``near``: the rows walked in the order before the search scans for the first match
    and counts the rows up to it (3: most matches are found by the scan)."""
    factory = ConnectionFactory(search_dsn)
    pager = CursorPager(factory, relation(factory, name), page_size=100)
    if near is not None:
        pager.finder.near_rows = near
    try:
        if column is not None:
            pager.set_order(column, descending)
        pager.find_end()
        count = pager.row_count
        rows = [r for page in range(count // 100 + 1) for r in pager.load(page)]
        assert len(rows) == count > 0
        width = len(pager.columns)
        hits = [i for i, r in enumerate(rows) if needle.lower() in text_of(r[:width])]
        assert 3 <= len(hits) < count  # (a needle some rows hold and others do not)
        chosen = random.Random(f"{name}{column}{descending}")
        for start in sorted(chosen.sample(range(count), min(STARTS, count))):
            for backward in (False, True):
                expected = next(
                    (
                        i
                        for i in (reversed(hits) if backward else hits)
                        if (i < start if backward else i > start)
                    ),
                    None,
                )
                rows_now = pager.load(start // 100)
                found = pager.search(start, rows_now[start % 100], needle, backward)
                assert found == expected, (name, column, descending, start, backward)
    finally:
        pager.close()


def test_search_over_columns_of_two_collations(search_dsn: str) -> None:
    factory = ConnectionFactory(search_dsn)
    pager = CursorPager(factory, relation(factory, "srch.collated"), page_size=20)
    try:
        first = pager.load(0)[0]
        assert pager.search(0, first, "BETA 17") == 16
        for needle in ("%", "_", "\\", "a%1", "Beta_1"):  # (no row holds them)
            assert pager.search(0, first, needle) is None, needle
    finally:
        pager.close()
