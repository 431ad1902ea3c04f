"""Fat values (issue 17): a text-like value is cut on the server before it is converted, so
the first screen of rows holding megabytes reads only the first TOAST chunks of each."""

from __future__ import annotations

import time

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import direct, execute, relation

ROWS = 20
CHUNKS = 80_000  # md5 texts of 32 characters: 2.5 MB a value, stored uncompressed


def toast_blocks(dsn: str) -> int:
    ((blocks,),) = direct(
        dsn,
        "SELECT coalesce(toast_blks_read, 0) + coalesce(toast_blks_hit, 0)"
        " FROM pg_statio_user_tables WHERE relname = 'fat_text'",
    )
    return int(blocks)


def settled(dsn: str) -> int:
    """The TOAST blocks read so far, once every backend's statistics have come in (a
    backend reports them within about a second of its transaction's end)."""
    last, deadline = -1, time.monotonic() + 10
    while time.monotonic() < deadline:
        now = toast_blocks(dsn)
        if now == last:
            return now
        last = now
        time.sleep(1.2)
    return last


def test_the_first_page_of_fat_text_reads_only_what_it_shows(scratch, scratch_dsn: str) -> None:
    execute(
        scratch_dsn,
        "DROP TABLE IF EXISTS fat_text",
        # (no autovacuum: its VACUUM of the 26,000 TOAST rows just written reads every TOAST
        # block, and counted in the table's statistics it failed the test once, 12,860 > 312)
        "CREATE TABLE fat_text (id int PRIMARY KEY, body text, doc json, label varchar(10000))"
        " WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off)",
        "ALTER TABLE fat_text ALTER body SET STORAGE EXTERNAL, ALTER doc SET STORAGE EXTERNAL",
        f"INSERT INTO fat_text SELECT g, (SELECT string_agg(md5(g::text || i::text), '')"
        f" FROM generate_series(1, {CHUNKS}) i), json_build_array(g, 'a'),"
        " repeat('ü', 9000) FROM generate_series(1, 20) g",
    )
    before = settled(scratch_dsn)
    factory = ConnectionFactory(scratch_dsn)
    pager = CursorPager(factory, relation(factory, "public.fat_text"))
    try:
        rows = pager.rows(0, ROWS)
        page = [s.sql for s in pager.statements if s.sql.startswith("DECLARE")]
    finally:
        pager.close()
    assert len(rows) == ROWS
    assert any('left("body"::text' in s and 'left("label"::text' in s for s in page), page
    read = settled(scratch_dsn) - before
    whole = ROWS * CHUNKS * 32 // 8192  # the blocks of the bodies read whole: ~6,250
    assert 0 < read < whole // 20, (read, whole)
    expected = direct(  # (after the count: this reads every value whole)
        scratch_dsn,
        "SELECT left(concat(body), 501), left(concat(doc), 501), left(concat(label), 501)"
        " FROM fat_text ORDER BY id",
    )
    assert [tuple(r[1:4]) for r in rows] == expected  # the same characters psql shows
