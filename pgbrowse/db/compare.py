"""The naive way and the lazy way of reading a relation, side by side, for demos.

Naive: a client-side cursor, as ``cursor.fetchall()`` uses: libpq brings the whole result
into client memory before the first row can be shown. Lazy: a named cursor and its first
page, as pgbrowse reads. The naive way is bounded: it refuses a relation whose estimated
rows or size is over the limits, and its query carries ``LIMIT rows + 1`` so that, even
when the estimate is wrong, it never holds more than the limit (and says it was cut).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import psycopg2
from psycopg2 import sql

from pgbrowse.db.catalog import Relation
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import PgBrowseError, describe
from pgbrowse.db.pager import CursorPager

DEFAULT_LIMIT_ROWS = 200_000
DEFAULT_LIMIT_MB = 256


@dataclass(frozen=True)
class Outcome:
    """One way's figures: rows it holds, seconds to the first row shown, client memory."""

    way: str
    rows: int
    seconds: float
    rss_growth_bytes: int
    held_bytes: int  # what the rows cost in the client, by the client's own count
    note: str = ""


class Refused(PgBrowseError):
    """The naive way would be over its limits."""


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def estimate(factory: ConnectionFactory, relation: Relation) -> tuple[int, int]:
    """The planner's rows and bytes (rows x width) for the whole relation."""
    conn = factory.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) SELECT * FROM {}").format(relation.source()))
            plan = cur.fetchone()[0][0]["Plan"]
        return int(plan["Plan Rows"]), int(plan["Plan Rows"] * plan["Plan Width"])
    except psycopg2.Error as error:
        raise describe(error, f"estimating {relation.qualified}") from None
    finally:
        conn.close()


def naive(
    factory: ConnectionFactory,
    relation: Relation,
    *,
    limit_rows: int = DEFAULT_LIMIT_ROWS,
    limit_mb: int = DEFAULT_LIMIT_MB,
    clock: Callable[[], float] = time.perf_counter,
) -> Outcome:
    """Read the relation the naive way, if it is within the limits; raises Refused."""
    rows, size = estimate(factory, relation)
    if rows > limit_rows or size > limit_mb * 2**20:
        raise Refused(
            "Refused",
            f"{relation.qualified} has ~{rows:,} rows (~{size / 2**20:,.0f} MB): over the"
            f" naive way's limit of {limit_rows:,} rows or {limit_mb:,} MB, so it is not"
            " loaded. The lazy way reads one page of it.",
        )
    conn = factory.connect()
    try:
        before = _rss()
        started = clock()
        with conn.cursor() as cur:  # client-side: the whole result arrives at execute
            cur.execute(
                sql.SQL("SELECT * FROM {} LIMIT {}").format(
                    relation.source(), sql.Literal(limit_rows + 1)
                )
            )
            fetched = cur.fetchall()
        seconds = clock() - started
        growth = _rss() - before
        count = len(fetched)
        held = sum(len(str(value)) for row in fetched[:1000] for value in row)
        held = held * count // max(min(count, 1000), 1)
        del fetched
        gc.collect()
    except psycopg2.Error as error:
        raise describe(error, f"reading {relation.qualified} the naive way") from None
    finally:
        conn.close()
    note = f"cut at the limit of {limit_rows:,} rows" if count > limit_rows else ""
    return Outcome("naive", min(count, limit_rows), seconds, growth, held, note)


def lazy(
    factory: ConnectionFactory,
    relation: Relation,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> Outcome:
    """Read the relation as pgbrowse does: a named cursor, and its first page."""
    before = _rss()
    started = clock()
    pager = CursorPager(factory, relation, clock=clock)
    try:
        rows = pager.load(0)
        seconds = clock() - started
        return Outcome("lazy", len(rows), seconds, _rss() - before, pager.stats().bytes)
    finally:
        pager.close()
