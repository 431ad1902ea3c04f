"""Debian's PostgreSQL has JIT on (issue 13: 8.6 s for the first FETCH of a 2,000-partition
table); the embedded one was built without it. On a real Debian PostgreSQL 15 with JIT
forced on for every query, pgbrowse's own statements still never JIT-compile, while
another client's do."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2
import pytest

from pgbrowse.db.connect import ConnectionFactory
from tests.components import Unavailable, cluster

DEBIAN_15 = "/usr/lib/postgresql/15/bin"
QUERY = "EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(g) FROM generate_series(1, 10000) g"


@pytest.fixture(scope="module")
def jit_everywhere() -> Iterator[str]:
    try:
        with cluster(DEBIAN_15, jit="on", jit_above_cost="0") as dsn:
            yield dsn
    except Unavailable as why:
        pytest.skip(f"{why} (apt-get install postgresql; .ci/run installs it)")


def compiled(conn: psycopg2.extensions.connection) -> bool:
    with conn.cursor() as cur:
        cur.execute(QUERY)
        ((plan,),) = cur.fetchall()
    conn.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return "JIT" in plan[0]


def test_pgbrowse_never_jit_compiles_where_the_server_does(jit_everywhere: str) -> None:
    other = psycopg2.connect(jit_everywhere)
    try:
        if not compiled(other):
            pytest.skip("this PostgreSQL was built without JIT (no llvmjit)")
    finally:
        other.close()
    conn = ConnectionFactory(jit_everywhere).connect()
    try:
        assert not compiled(conn)
    finally:
        conn.close()
