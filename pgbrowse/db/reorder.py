"""Changing what a view shows: its order (a sort on the server) and its filter, and the
exact count. Each change closes the cursors and starts reading again at row 0 (an event the
loader reports as "restarted")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2

from pgbrowse.db.allow import vet
from pgbrowse.db.errors import FilterError, first_line
from pgbrowse.db.finder import RowFinder
from pgbrowse.db.guard import Calls, check_expression
from pgbrowse.db.ownership import owned
from pgbrowse.db.reader import Anchor, Place
from pgbrowse.db.seek import Plan, plan_sorted
from pgbrowse.db.strategy import Ctid


class Reordering(RowFinder):
    """Sort, filter and count, on top of finding and reading; the pager supplies the rest."""

    clock: Callable[[], float]
    order_changes: int
    _natural: Plan | None
    _unfiltered_count: tuple[int, bool] | None
    _events: list[str]

    def _apply(self, plan: Plan) -> None:
        raise NotImplementedError

    def _vet(self, calls: Calls, filter: bool) -> None:
        """What typed SQL calls, decided against the server's catalog before it is sent
        (inside the caller's ``Session.catalog_reads``, so its catalog locks are not kept)."""
        started = self.clock()
        settings = self.session.factory.settings
        vet(self.session.conn, calls, settings.allowed_functions, filter=filter)
        self.session.record("-- typed SQL checked against the catalog (allowed)", 0, started)

    # -- the order and the filter ------------------------------------------------------
    def _restart(self) -> None:
        """Close the cursors and empty the cache: reading starts over at row 0."""
        if self._anchor is not None:
            self._close_cursors(self._anchor)
        self._resume = None
        self.order_changes += 1
        self._events.append("restarted")
        self.cache.clear()
        self._anchor = Anchor(Place.START, 0, 0, key="(0,0)")

    @owned
    def set_order(self, column: str | None, descending: bool = False) -> None:
        """Read sorted by ``column`` on the server (ties by the identity), or in the natural
        order for None. The cursors close, the cache empties, positions restart."""

        def plan() -> Plan:
            assert self._natural is not None
            if column is None:
                return self._natural
            started = self.clock()
            with self.session.catalog_reads():  # (their catalog locks not kept)
                conn = self.session.conn
                found = plan_sorted(conn, self.relation, column, descending, self._natural)
            self.session.record(
                f"-- seeking: {found.strategy.method} ({found.strategy.why})", 0, started
            )
            return found

        chosen = self._run(f"sorting {self.relation.qualified}", plan)
        self._restart()
        self._apply(chosen)
        self.view = self.view.with_(sort=None if column is None else (column, descending))

    @owned
    def set_filter(self, where: str | None) -> None:
        """Show only the rows where ``where`` (one SQL expression) holds; None or '' for
        all. Parsed first (nothing is sent for a refused one), then estimated with EXPLAIN
        in a savepoint: an error raises FilterError and changes nothing."""
        where = (where or "").strip() or None
        checked = None if where is None else check_expression(where)

        def estimate() -> int | None:
            if checked is None:
                return None
            conn = self.session.conn
            # (its catalog locks, and a bad filter's failed statement, go with the savepoint)
            with self.session.catalog_reads():
                self._vet(checked.calls, filter=True)
                try:
                    plan = self.session.scalar(self.view.with_(filter=checked).estimate_query())
                except psycopg2.Error as error:
                    if conn.closed:
                        raise
                    raise FilterError(first_line(error), error.pgcode) from None
            return max(0, int(plan[0]["Plan"]["Plan Rows"]))

        estimated = self._run(f"filtering {self.relation.qualified}", estimate)
        if self.view.filter is None:
            self._unfiltered_count = (self.row_count, self.count_exact)
        self._restart()
        strategy = self.view.strategy
        if isinstance(strategy, Ctid) and strategy.sample:  # sampled for the old filter
            strategy = Ctid(**{**strategy.__dict__, "sample": ()})
        self.view = self.view.with_(filter=checked, strategy=strategy)
        if checked is None and self._unfiltered_count is not None:
            self.row_count, self.count_exact = self._unfiltered_count
        else:
            self.row_count, self.count_exact = estimated or 0, False

    # -- counting ----------------------------------------------------------------------
    def count_query(self) -> tuple[Any, object]:
        """The exact count, and the rows before the current seek's place; run it on
        another connection and hand its result and the token to ``apply_count``."""
        anchor = self._anchor
        before = None
        if anchor is not None and anchor.frame != 0 and anchor.place is Place.SEEK:
            before = self._bound(anchor, "<")
        return self.view.count_query(before), anchor

    @owned
    def apply_count(self, total: int, token: object, before: int | None) -> None:
        self.row_count, self.count_exact = total, True
        anchor = self._anchor
        if anchor is None or anchor.frame == 0:
            return
        if anchor.place is Place.END:
            self._rebase(anchor, total - anchor.base)
        elif anchor is token and before is not None:
            self._rebase(anchor, before - anchor.base)
