"""On Debian's PostgreSQL 15 (issue 13), which the embedded server is not like in two ways:
it has JIT on (8.6 s for the first FETCH of a 2,000-partition table), so with JIT forced on
for every query pgbrowse's own statements still never compile while another client's do;
and it speaks TLS, which the title line names as psql's banner does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
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


def test_the_title_line_says_how_the_connection_goes() -> None:
    """TLS as psql's banner says it (protocol and cipher), or that it is not encrypted."""
    from pgbrowse.db.catalog.relations import Relation
    from pgbrowse.db.paging.pager import CursorPager
    from pgbrowse.ui.position import title_line

    try:
        with cluster(DEBIAN_15, tls=True) as dsn:
            for mode, expected in (("require", "TLSv1."), ("disable", "not encrypted")):
                factory = ConnectionFactory(psycopg2.extensions.make_dsn(dsn, sslmode=mode))
                pager = CursorPager(factory, Relation("pg_catalog", "pg_am", "r", None, 0))
                try:
                    pager.rows(0, 1)
                    line = title_line(pager.state())
                finally:
                    pager.close()
                assert expected in line, line
    except Unavailable as why:
        pytest.skip(f"{why} (apt-get install postgresql; .ci/run installs it)")
