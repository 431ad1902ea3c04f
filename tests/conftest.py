"""A real PostgreSQL for the suite: the embedded one, or PGBROWSE_TEST_DSN when set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest
from psycopg2 import sql

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.demo.data import create_demo
from pgbrowse.demo.embedded import EmbeddedServer
from tests.components import Unavailable, pgbouncer
from tests.helpers import relation

DEMO_ROWS = 1_000_000
SEEK_ROWS = 1_000_000


@pytest.fixture(scope="session", autouse=True)
def state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The suite's own state folder (query history, crash logs), never the user's."""
    before = os.environ.get("XDG_STATE_HOME")
    folder = str(tmp_path_factory.mktemp("state"))
    os.environ["XDG_STATE_HOME"] = folder
    yield folder
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


@pytest.fixture(scope="session")
def server() -> Iterator[EmbeddedServer | None]:
    """The embedded server, or None when the suite runs against PGBROWSE_TEST_DSN."""
    if os.environ.get("PGBROWSE_TEST_DSN"):
        yield None
        return
    with EmbeddedServer() as embedded:
        yield embedded


@pytest.fixture(scope="session")
def admin_dsn(server: EmbeddedServer | None) -> str:
    return os.environ.get("PGBROWSE_TEST_DSN") or server.uri()  # type: ignore[union-attr]


def _create_database(admin_dsn: str) -> tuple[str, str]:
    name = f"pgbrowse_test_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    return name, psycopg2.extensions.make_dsn(admin_dsn, dbname=name)


def _drop_database(admin_dsn: str, name: str) -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


@pytest.fixture(scope="session")
def demo_dsn(admin_dsn: str) -> Iterator[str]:
    """A database holding the demo dataset with its 1,000,000-row shop.orders."""
    name, dsn = _create_database(admin_dsn)
    create_demo(dsn, DEMO_ROWS, progress=lambda step: None)
    yield dsn
    _drop_database(admin_dsn, name)


@pytest.fixture(scope="session")
def scratch_dsn(admin_dsn: str) -> Iterator[str]:
    """An empty database for tests that build their own tables."""
    name, dsn = _create_database(admin_dsn)
    yield dsn
    _drop_database(admin_dsn, name)


@pytest.fixture
def scratch(scratch_dsn: str) -> Iterator[psycopg2.extensions.connection]:
    """An autocommit connection to the scratch database, for building test tables."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def demo_factory(demo_dsn: str) -> ConnectionFactory:
    return ConnectionFactory(demo_dsn)


@pytest.fixture(scope="session")
def seek_dsn(scratch_dsn: str) -> str:
    """A 1,000,000-row table without a key, and views with and without one.

    The suite's shared big tables are never autovacuumed: a worker's vacuum of a freshly
    loaded table holds a lock a DDL probe waits a second on (it is cancelled only after
    ``deadlock_timeout``), and its cleanup ends a standby's sessions; both only by chance."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS heap_1m CASCADE")
        cur.execute(
            "CREATE TABLE heap_1m WITH (autovacuum_enabled = off) AS"
            " SELECT g AS id, md5(g::text) AS label"
            f" FROM generate_series(1, {SEEK_ROWS}) g"
        )
        cur.execute("ANALYZE heap_1m")
    conn.close()
    return scratch_dsn


@pytest.fixture(scope="session")
def scored_dsn(seek_dsn: str) -> str:
    """1,000,000 rows with a key, an indexed column in another order, and an unindexed one."""
    conn = psycopg2.connect(seek_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS scored")
        cur.execute(  # 1,000,003 is prime: every score is different
            "CREATE TABLE scored WITH (autovacuum_enabled = off) AS"
            " SELECT g AS id, (g::int8 * 7919) % 1000003 AS score,"
            f" md5(g::text) AS label FROM generate_series(1, {SEEK_ROWS}) g"
        )
        cur.execute("ALTER TABLE scored ADD PRIMARY KEY (id)")
        cur.execute("CREATE INDEX ON scored (score)")
        cur.execute("ANALYZE scored")
    conn.close()
    return seek_dsn


# -- issue 12: relations the regression database is full of ------------------------------
@pytest.fixture(scope="session")
def ident_dsn(scratch_dsn: str) -> str:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS ident CASCADE")
        cur.execute("CREATE SCHEMA ident")
        # Inheritance: parent and child both start at ctid (0,1).
        cur.execute("CREATE TABLE ident.parent (id int, t text)")
        cur.execute("CREATE TABLE ident.child () INHERITS (ident.parent)")
        cur.execute(
            "INSERT INTO ident.parent SELECT g, 'parent-' || g FROM generate_series(1, 30) g"
        )
        cur.execute(
            "INSERT INTO ident.child SELECT g, 'child-' || g FROM generate_series(31, 60) g"
        )
        # A partitioned table without a primary key, sorted by a column full of repeats.
        cur.execute("CREATE TABLE ident.part (id int, grp int, t text) PARTITION BY RANGE (id)")
        cur.execute("CREATE TABLE ident.part1 PARTITION OF ident.part FOR VALUES FROM (1) TO (501)")
        cur.execute(
            "CREATE TABLE ident.part2 PARTITION OF ident.part FOR VALUES FROM (501) TO (2001)"
        )
        cur.execute(
            "INSERT INTO ident.part SELECT g, g % 7, 'row-' || g FROM generate_series(1, 1000) g"
        )
        # NULL sort values, and composite ones (some with every field NULL).
        cur.execute("CREATE TYPE ident.pair AS (a int, b text)")
        cur.execute("CREATE TYPE ident.nothing AS ()")
        cur.execute(
            "CREATE TABLE ident.vals AS SELECT g AS id,"
            " CASE WHEN g % 3 = 0 THEN NULL ELSE g % 10 END AS v,"
            " CASE WHEN g % 4 = 0 THEN ROW(NULL, NULL)::ident.pair"
            "      ELSE ROW(g % 5, 'b' || g)::ident.pair END AS p,"
            " ROW()::ident.nothing AS e, 'value-' || g AS t FROM generate_series(1, 300) g"
        )
        cur.execute("ALTER TABLE ident.vals ADD PRIMARY KEY (id)")
        # No columns at all, with rows; and a view of none.
        cur.execute("CREATE TABLE ident.zero ()")
        cur.execute("INSERT INTO ident.zero SELECT FROM generate_series(1, 250)")
        cur.execute("CREATE VIEW ident.zero_v AS SELECT FROM generate_series(1, 5)")
        # 1,600 columns.
        cur.execute(
            "DO $$ BEGIN EXECUTE 'CREATE TABLE ident.wide1600 ('"
            " || (SELECT string_agg(format('c%s int', g), ', ') FROM generate_series(1, 1600) g)"
            " || ')'; END $$"
        )
        cur.execute(
            "INSERT INTO ident.wide1600 (c1, c800, c1600)"
            " SELECT g, g * 2, g * 3 FROM generate_series(1, 120) g"
        )
        cur.execute("ANALYZE")
    conn.close()
    return scratch_dsn


@pytest.fixture
def ident_factory(ident_dsn: str) -> ConnectionFactory:
    return ConnectionFactory(ident_dsn)


@pytest.fixture
def open_pager(ident_factory: ConnectionFactory) -> Iterator:
    made: list[CursorPager] = []

    def make(name: str, page_size: int = 10) -> CursorPager:
        pager = CursorPager(ident_factory, relation(ident_factory, name), page_size=page_size)
        made.append(pager)
        return pager

    yield make
    for pager in made:
        pager.close()


# -- issue 13: a real PgBouncer in front of the embedded server --------------------------------
@pytest.fixture(scope="session", params=["transaction", "session"])
def bouncer_dsn(request, server, scratch_dsn: str) -> Iterator[str]:
    """scratch_dsn through a real PgBouncer (pool size 2) in transaction or session mode."""
    if server is None:
        pytest.skip("the PgBouncer tests run against the embedded server")
    try:
        with pgbouncer(scratch_dsn, request.param, pool_size=2) as dsn:
            yield dsn
    except Unavailable as why:
        pytest.skip(f"{why}; .ci/run installs it")
