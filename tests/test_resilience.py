"""Every operation fails, reports and recovers the same way (issue 12): a refused open is
said plainly and retried by every key, a terminated session is replaced for any operation,
errors are classified by SQLSTATE, and the pager refuses calls from a thread that does not
own it."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import ConnectionLost, QueryError
from pgbrowse.db.paging.pager import CursorPager, WrongThread
from tests.helpers import column, relation


def test_a_refused_open_says_so_and_every_key_retries(ident_dsn: str) -> None:
    admin = psycopg2.connect(ident_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS ident_reader")
        cur.execute("CREATE ROLE ident_reader LOGIN")
        cur.execute("GRANT USAGE ON SCHEMA ident TO ident_reader")
        cur.execute("REVOKE ALL ON ident.vals FROM ident_reader")
    factory = ConnectionFactory(psycopg2.extensions.make_dsn(ident_dsn, user="ident_reader"))
    pager = CursorPager(factory, Relation("ident", "vals", "r", None, 0))
    try:
        for _ in range(3):  # every key: the same plain refusal, never an AssertionError
            with pytest.raises(QueryError) as refused:
                pager.load(0)
            assert refused.value.title == "Permission denied"
        with pytest.raises(QueryError, match="Permission denied"):
            pager.find_end()
        with admin.cursor() as cur:
            cur.execute("GRANT SELECT ON ident.vals TO ident_reader")
        assert len(pager.load(0)) == 100  # the whole open, retried
    finally:
        pager.close()
        with admin.cursor() as cur:
            cur.execute("REVOKE ALL ON ident.vals FROM ident_reader")
            cur.execute("REVOKE ALL ON SCHEMA ident FROM ident_reader")
            cur.execute("DROP ROLE ident_reader")
        admin.close()


def test_a_table_locked_during_open_is_retried(ident_dsn: str) -> None:
    locker = psycopg2.connect(ident_dsn)
    with locker.cursor() as cur:
        cur.execute("LOCK TABLE ident.vals IN ACCESS EXCLUSIVE MODE")
    factory = ConnectionFactory(ident_dsn, SessionSettings(lock_timeout_s=0.2))
    pager = CursorPager(factory, Relation("ident", "vals", "r", None, 0))
    try:
        with pytest.raises(QueryError) as locked:
            pager.load(0)
        assert locked.value.title == "Locked"
        locker.rollback()
        pager.find_end()  # End: opens again, then reads to the end
        assert pager.count_exact and pager.row_count == 300
    finally:
        pager.close()
        locker.close()


def terminate(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'pgbrowse' AND pid <> pg_backend_pid()"
        )
    conn.close()


@pytest.mark.parametrize(
    "operation", ["load", "set_order", "set_filter", "search", "fetch_cell", "find_end"]
)
def test_every_operation_survives_a_terminated_session(
    ident_dsn: str, ident_factory: ConnectionFactory, operation: str
) -> None:
    factory = ident_factory
    pager = CursorPager(factory, relation(factory, "ident.vals"), page_size=10)
    try:
        first = pager.load(0)
        terminate(ident_dsn)
        if operation == "load":
            assert pager.load(5)
        elif operation == "set_order":
            pager.set_order("v")
            assert pager.rows(0, 1)
        elif operation == "set_filter":
            pager.set_filter("id > 200")
            assert pager.rows(0, 1)[0][0] == "201"
        elif operation == "search":
            assert pager.search(0, first[0], "value-7") == 6
        elif operation == "fetch_cell":
            assert pager.fetch_cell(first[2], column(pager, "t")).text == "value-3"
        else:
            pager.find_end()
            assert pager.row_count == 300
        assert pager.reconnects == 1
    finally:
        pager.close()


def test_errors_are_classified_by_sqlstate(ident_factory: ConnectionFactory) -> None:
    factory = ident_factory
    many = ", ".join(str(n) for n in range(101))
    for query, title in [
        (f"SELECT concat({many})", "Server limit"),  # 54023, not "Connection lost"
        ("SELECT 1 / 0 AS x", "Bad value"),
    ]:
        pager = CursorPager(factory, Relation.of_query(query))
        try:
            with pytest.raises(QueryError) as failed:
                pager.load(0)
            assert failed.value.title == title and not isinstance(failed.value, ConnectionLost)
        finally:
            pager.close()


def test_the_pager_refuses_calls_from_another_thread(open_pager) -> None:
    pager = open_pager("ident.vals")
    pager.load(0)
    caught: list[BaseException] = []

    def other() -> None:
        try:
            pager.load(1)
        except BaseException as error:
            caught.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert caught and isinstance(caught[0], WrongThread)
