"""Changing what a view shows: its order (a sort on the server) and its filter, and the
exact count. Each change closes the cursors and starts reading again at row 0 (an event the
loader reports as "restarted")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2

from pgbrowse.db.catalog import citus
from pgbrowse.db.connection.errors import FilterError, first_line
from pgbrowse.db.guard.allow import vet_on
from pgbrowse.db.guard.parse import check_expression
from pgbrowse.db.paging.finder import Runs
from pgbrowse.db.paging.reader import Place, Reader
from pgbrowse.db.paging.seek import Plan, plan_sorted
from pgbrowse.db.paging.strategy import Ctid

SCAN_WARNING_ROWS = 100_000  # a filter no index serves is said to scan past this many rows


def scans_everything(plan: dict[str, Any]) -> bool:
    """The plan reads the relation without any index condition (EXPLAIN's JSON): a filter
    no index serves, checked row by row over the whole relation."""
    if "Index Cond" in plan or "Recheck Cond" in plan or "TID Cond" in plan:
        return False
    return all(scans_everything(child) for child in plan.get("Plans", ()))


class Reordering:
    """Sort, filter and count: each change goes through the reader (``restart``, ``apply``,
    its view and its positions); this part keeps what the view had before them."""

    def __init__(self, reader: Reader, run: Runs, tell: Callable[[str], None]) -> None:
        self.reader = reader
        self._run = run
        self._tell = tell
        self.natural: Plan | None = None  # the order at open (set by the pager)
        self.changes = 0  # how many times the order or filter changed (views restart)
        self._unfiltered_count: tuple[int, bool] | None = None

    def _restart(self) -> None:
        self.reader.restart()
        self.changes += 1
        self._tell("restarted")

    # -- the order and the filter ------------------------------------------------------
    def _sorted_plan(self, column: str, descending: bool) -> Plan:
        """How to read sorted by ``column`` (its catalog reads' locks not kept)."""
        natural, session = self.natural, self.reader.session
        assert natural is not None
        started = session.clock()
        with session.catalog_reads():
            found = plan_sorted(session.conn, self.reader.relation, column, descending, natural)
        session.record(f"-- seeking: {found.strategy.method} ({found.strategy.why})", 0, started)
        return found

    def open_sorted(self, column: str, descending: bool) -> bool:
        """At open (inside the pager's run): read sorted from the first row, as a view left
        sorted was (no restart: nothing was read yet). False when the column is gone."""
        reader = self.reader
        if column not in [c.name for c in reader.view.columns]:
            return False
        reader.apply(self._sorted_plan(column, descending))
        reader.view = reader.view.with_(sort=(column, descending))
        return True

    def set_order(self, column: str | None, descending: bool = False) -> None:
        """Read sorted by ``column`` on the server (ties by the identity), or in the natural
        order for None. The cursors close, the cache empties, positions restart."""
        reader = self.reader

        def plan() -> Plan:
            natural = self.natural
            assert natural is not None
            return natural if column is None else self._sorted_plan(column, descending)

        chosen = self._run(f"sorting {reader.relation.qualified}", plan)
        self._restart()
        reader.apply(chosen)
        reader.view = reader.view.with_(sort=None if column is None else (column, descending))

    def set_filter(self, where: str | None) -> None:
        """Show only the rows where ``where`` (one SQL expression) holds; None or '' for
        all. Parsed first (nothing is sent for a refused one), then estimated with EXPLAIN
        in a savepoint: an error raises FilterError and changes nothing."""
        where = (where or "").strip() or None
        checked = None if where is None else check_expression(where)
        reader, session = self.reader, self.reader.session

        def estimate() -> tuple[int, bool] | None:
            if checked is None:
                return None
            conn = session.conn
            # (its catalog locks, and a bad filter's failed statement, go with the savepoint)
            with session.catalog_reads():
                vet_on(session, checked.calls, filter=True)
                filtered = reader.view.with_(filter=checked)
                try:
                    if reader.paged:  # (the coordinator's plan says 100,000 rows whatever)
                        rows, top = citus.estimate(session, filtered.estimate_query())
                        return rows, scans_everything(top)
                    plan = session.scalar(filtered.estimate_query())
                except psycopg2.Error as error:
                    if conn.closed:
                        raise
                    raise FilterError(first_line(error), error.pgcode) from None
            return max(0, int(plan[0]["Plan"]["Plan Rows"])), scans_everything(plan[0]["Plan"])

        estimated = self._run(f"filtering {reader.relation.qualified}", estimate)
        if reader.view.filter is None:
            self._unfiltered_count = (reader.row_count, reader.count_exact)
        self._restart()
        strategy = reader.view.strategy
        if isinstance(strategy, Ctid) and strategy.sample:  # sampled for the old filter
            strategy = Ctid(**{**strategy.__dict__, "sample": ()})
        reader.view = reader.view.with_(filter=checked, strategy=strategy)
        if checked is None and self._unfiltered_count is not None:
            reader.row_count, reader.count_exact = self._unfiltered_count
        else:
            reader.row_count, reader.count_exact = estimated[0] if estimated else 0, False
        whole = self._unfiltered_count[0] if self._unfiltered_count else 0
        if estimated and estimated[1] and whole > SCAN_WARNING_ROWS:
            self._tell(f"filter scans: {whole}")  # (the UI says so, as for a sort)

    # -- counting ----------------------------------------------------------------------
    def count_query(self) -> tuple[Any, object]:
        """The exact count, and the rows before the current seek's place; run it on
        another connection and hand its result and the token to ``apply_count``."""
        anchor = self.reader.anchor
        before = None
        if anchor is not None and anchor.frame != 0 and anchor.place is Place.SEEK:
            before = self.reader.bound(anchor, "<")
        return self.reader.view.count_query(before), anchor

    def apply_count(self, total: int, token: object, before: int | None) -> None:
        reader = self.reader
        reader.row_count, reader.count_exact = total, True
        anchor = reader.anchor
        if anchor is None or anchor.frame == 0:
            return
        if anchor.place is Place.END:
            reader.rebase(anchor, total - anchor.base)
        elif anchor is token and before is not None:
            reader.rebase(anchor, before - anchor.base)
