"""An open view holds only what its rows need (issue 25): its catalog reads (columns, keys,
foreign keys, the estimate, the seek plan) ran inside the view's snapshot transaction and
held AccessShareLock on about 25 catalog relations (pg_class, pg_attribute, pg_statistic,
pg_constraint and their indexes) until the view let its transaction go."""

from __future__ import annotations

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import direct, relation


def locked(dsn: str, pid: int) -> set[str]:
    return {
        name
        for (name,) in direct(
            dsn,
            "SELECT coalesce(relation::regclass::text, locktype) FROM pg_locks"
            " WHERE pid = %s AND locktype = 'relation'",
            (pid,),
        )
    }


def test_an_open_view_holds_no_catalog_lock(demo_dsn: str) -> None:
    factory = ConnectionFactory(demo_dsn)
    pager = CursorPager(factory, relation(factory, "shop.orders"), page_size=50)
    try:
        assert pager.rows(0, 50)
        pid = pager.session.conn.get_backend_pid()
        held = locked(demo_dsn, pid)
        catalog = {name for name in held if name.startswith("pg_")}
        assert not catalog, sorted(catalog)
        assert "shop.orders" in held  # (what the rows need: the table and its index)
        pager.set_order("customer_id")  # a sort's plan reads the catalog too
        assert pager.rows(0, 10)
        assert not {n for n in locked(demo_dsn, pid) if n.startswith("pg_")}
        pager.set_filter("status = 'paid'")  # and a filter's estimate
        assert not {n for n in locked(demo_dsn, pid) if n.startswith("pg_")}
    finally:
        pager.close()
