"""The naive way and the lazy way of reading a relation, side by side, for demos.

Naive: a client-side cursor, as ``cursor.fetchall()`` uses: libpq brings the whole result
into client memory before the first row can be shown. Lazy: a named cursor and its first
page, as pgbrowse reads. The naive way is bounded: it refuses a relation whose estimated
rows or size is over the limits; then, because an estimate can be wrong by any factor (the
planner's width of a compressed 10 MB value is 22 bytes), it measures the real size of the
rows on the server, streaming only their lengths, and refuses as soon as they pass the
memory limit. The read itself carries ``LIMIT`` of the rows measured, in the same snapshot,
so it never holds more than the limits allow (and says when it was cut at the row limit).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse import defaults
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError, describe
from pgbrowse.db.paging.pager import CursorPager

DEFAULT_LIMIT_ROWS = defaults.COMPARE_ROWS
DEFAULT_LIMIT_MB = defaults.COMPARE_MB


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
            row = cur.fetchone()
            assert row is not None
            plan = row[0][0]["Plan"]
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
        # One snapshot for the measure and the read: the read cannot bring more than was
        # measured, whatever the planner thought of the rows' width.
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        count = _measure(conn, relation, limit_rows + 1, limit_mb * 2**20)
        before = _rss()
        started = clock()
        with conn.cursor() as cur:  # client-side: the whole result arrives at execute
            cur.execute(
                sql.SQL("SELECT * FROM {} LIMIT {}").format(relation.source(), sql.Literal(count))
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


def client_cost(text_bytes: int, columns: int) -> int:
    """What a row whose text is ``text_bytes`` long costs the client at its peak: libpq's
    copy and Python's strings side by side, plus each object's overhead."""
    return 2 * text_bytes + ROW_OVERHEAD + CELL_OVERHEAD * columns


ROW_OVERHEAD = 120  # a tuple and its list slot
CELL_OVERHEAD = 64  # a str object, and libpq's per-value bookkeeping
MEASURE_BATCH = (16, 4096)  # rows per FETCH while measuring: small first, so a few fat rows stop it


def _measure(
    conn: psycopg2.extensions.connection, relation: Relation, rows: int, limit_bytes: int
) -> int:
    """How many of the first ``rows`` rows to read; raises Refused as soon as the rows read
    so far would cost the client more than ``limit_bytes``. Only each row's length crosses
    the network (a named cursor over ``octet_length(ROW(t.*)::text)``), in growing batches, so
    the measure stops soon after the limit whatever the values hold."""
    query = sql.SQL(
        "SELECT octet_length(ROW(pgbrowse_row.*)::text)"  # (a column may be named pgbrowse_row)
        " FROM (SELECT * FROM {} LIMIT {}) AS pgbrowse_row"
    ).format(relation.source(), sql.Literal(rows))
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation.source()))
        columns = len(cur.description or ())
    total = count = 0
    batch = MEASURE_BATCH[0]
    with conn.cursor(name="pgbrowse_measure") as cur:
        cur.execute(query)
        while True:
            lengths = cur.fetchmany(batch)
            for (length,) in lengths:
                total += client_cost(length or 0, columns)
                count += 1
                if total > limit_bytes:
                    raise Refused(
                        "Refused",
                        f"the first {count:,} rows of {relation.qualified} already come to"
                        f" {total / 2**20:,.0f} MB in client memory: over the naive way's"
                        f" limit of {limit_bytes / 2**20:,.0f} MB (measured on the server, not"
                        " loaded). The lazy way reads one page of it.",
                    )
            if len(lengths) < batch:
                return count
            average = total / max(count, 1)
            batch = int(
                min(MEASURE_BATCH[1], max(MEASURE_BATCH[0], (limit_bytes - total) / average))
            )


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
