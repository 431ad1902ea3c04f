"""A real PostgreSQL for the suite: the embedded one, or PGBROWSE_TEST_DSN when set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest
from psycopg2 import sql

from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.demo.data import create_demo
from pgbrowse.demo.embedded import EmbeddedServer

DEMO_ROWS = 1_000_000
SEEK_ROWS = 1_000_000


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
    """A 1,000,000-row table without a key, and views with and without one."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS heap_1m CASCADE")
        cur.execute(
            "CREATE TABLE heap_1m AS SELECT g AS id, md5(g::text) AS label"
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
            "CREATE TABLE scored AS SELECT g AS id, (g::int8 * 7919) % 1000003 AS score,"
            f" md5(g::text) AS label FROM generate_series(1, {SEEK_ROWS}) g"
        )
        cur.execute("ALTER TABLE scored ADD PRIMARY KEY (id)")
        cur.execute("CREATE INDEX ON scored (score)")
        cur.execute("ANALYZE scored")
    conn.close()
    return seek_dsn
