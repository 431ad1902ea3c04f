"""CursorPager: one view's rows, read lazily through named cursors (the loader thread's).

The pager assembles parts that each own their state and meet through small interfaces:

- ``Session``: the connection, its transaction (the snapshot), the statement log, errors;
- ``PageCache``: the pages read, in the current snapshot only (``begin_snapshot``);
- ``Reader``: the view being read (a ``View``: all its SQL), the anchors, cursors, seeks
  and positions;
- ``Finder``: search, a cell or a row whole, a foreign key's row (it moves the reader);
- ``Reordering``: sort, filter and the exact count (it restarts the reader).

Every operation runs through ``_run`` (``Session.run``), so each one fails, reports and
reconnects the same way, and an open that was refused is tried again, whole, by the next
operation. The snapshot rule lives there: a statement that begins a new transaction first
begins a new snapshot in the cache.

One thread owns it: the first to call it (the view's loader thread, in the app). A call from
any other thread raises ``WrongThread``; only ``cached``, ``cached_pages``, ``stats``,
``last_statement``, ``statements``, ``cancel`` and ``waiting`` are for any thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from psycopg2 import sql

from pgbrowse import defaults
from pgbrowse.db.catalog import citus
from pgbrowse.db.catalog.references import Landing, read_references
from pgbrowse.db.catalog.relations import Column, Relation, describe_query, list_columns
from pgbrowse.db.catalog.server_side import ServerSide, read_server_side
from pgbrowse.db.catalog.structure import owner_code, runs_text
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import Refused, UserCancelled
from pgbrowse.db.connection.session import Session, Statement, StatementLog
from pgbrowse.db.guard.allow import vet_on
from pgbrowse.db.guard.parse import check_expression
from pgbrowse.db.paging.cache import CacheStats, PageCache, Row
from pgbrowse.db.paging.finder import RECORD_LIMIT, CellValue, Finder
from pgbrowse.db.paging.ownership import WrongThread, owned
from pgbrowse.db.paging.reader import WALK_PAGES, Place, Reader
from pgbrowse.db.paging.reorder import Reordering
from pgbrowse.db.paging.seek import plan_seeking
from pgbrowse.db.paging.state import ViewState
from pgbrowse.db.paging.strategy import Strategy
from pgbrowse.db.paging.view import CELL_LIMIT, View

__all__ = [
    "CELL_LIMIT",
    "WALK_PAGES",
    "CacheStats",
    "CellValue",
    "CursorPager",
    "Row",
    "ServerSide",
    "Statement",
    "WrongThread",
]

DEFAULT_PAGE_SIZE = defaults.PAGE_SIZE
DEFAULT_CACHE_BYTES = defaults.CACHE_BYTES
DEFAULT_TRUNCATE = defaults.TRUNCATE

T = TypeVar("T")


class CursorPager:
    """Rows ``[start, start + count)`` of a view, fetched lazily; see the module doc."""

    def __init__(
        self,
        factory: ConnectionFactory,
        relation: Relation,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        truncate: int = DEFAULT_TRUNCATE,
        history: int = 500,
        clock: Callable[[], float] = time.perf_counter,
        landing: Landing | None = None,
        filter: str | None = None,
        order: tuple[str, bool] | None = None,
    ) -> None:
        """``landing``: open on the row whose columns hold these values (a foreign key's
        referenced row) instead of the first; ``filter``: open filtered (an expression,
        checked by the guard now: a refused one raises before anything is sent);
        ``order``: open sorted by (column, descending), as a view was left."""
        if page_size < 1 or cache_bytes < 1 or truncate < 1:
            raise ValueError("page size, cache budget and truncation width must be positive")
        checked = check_expression(filter) if filter else None
        self._filter_typed = checked is not None  # (a landing's filter is pgbrowse's own)
        self.session = Session(factory, history=history, clock=clock)
        self.cache = PageCache(cache_bytes)
        view = View(relation, (), truncate=truncate, filter=checked)
        self.reader = Reader(self.session, view, page_size, self.cache)
        self._events: list[str] = []  # for state(): what happened since it was last asked
        self.finder = Finder(self.reader, self._run, self.load, self._tell)
        self.reordering = Reordering(self.reader, self._run, self._tell)
        self.factory = factory
        self.clock = clock
        self.truncate = truncate
        self.owner: int | None = None
        self.releases = 0  # idle releases
        self.server_side: ServerSide | None = None
        self._opened = False  # columns and plan read (kept across reconnects)
        self._reconnects_told = 0
        self.landing = landing
        self._order = order

    # -- what the view is (the reader's, read from any thread) ------------------------
    @property
    def view(self) -> View:
        return self.reader.view

    @property
    def relation(self) -> Relation:
        return self.reader.relation

    @property
    def columns(self) -> list[Column]:
        return self.reader.columns

    @property
    def page_size(self) -> int:
        return self.reader.page_size

    @property
    def row_count(self) -> int:
        return self.reader.row_count

    @property
    def count_exact(self) -> bool:
        return self.reader.count_exact

    @property
    def positions_exact(self) -> bool:
        return self.reader.positions_exact

    @property
    def frame(self) -> int:
        return self.reader.frame

    @property
    def shift(self) -> int:
        return self.reader.shift

    @property
    def landed(self) -> int | None:
        return self.reader.landed

    @property
    def seeks(self) -> bool:
        return self.reader.seeks

    @property
    def order_changes(self) -> int:
        return self.reordering.changes

    def cached(self, page: int) -> list[Row] | None:
        """The rows of ``page`` if the cache holds them (any thread; never the server)."""
        return self.reader.cached(page)

    @property
    def plan(self) -> Strategy | None:
        return self.view.strategy if self._opened else None

    @property
    def order(self) -> tuple[str, bool] | None:
        return self.view.sort

    @property
    def filter(self) -> str | None:
        return self.view.filter_text

    @property
    def statements(self) -> StatementLog:
        return self.session.log

    @property
    def reconnects(self) -> int:
        return self.session.reconnects

    @property
    def fetches(self) -> int:
        return self.session.fetches

    @property
    def rows_fetched(self) -> int:
        return self.session.rows_fetched

    @property
    def is_open(self) -> bool:
        return self.reader.anchor is not None

    @property
    def holds_transaction(self) -> bool:
        return self.session.holds_transaction

    def last_statement(self) -> Statement | None:
        return self.session.log.last()

    def _tell(self, event: str) -> None:
        """An event for the view's next state (the parts tell it through this)."""
        self._events.append(event)

    @owned
    def state(self) -> ViewState:
        """What the UI may know now (the loader sends it after every job), with what
        happened since the last time it was asked."""
        events, self._events = tuple(self._events), []
        if self.session.reconnects > self._reconnects_told:
            self._reconnects_told = self.session.reconnects
            events += ("reconnected",)
        return ViewState(
            lost_because=self.session.lost_because,
            connection=self.session.described,
            powers=self.session.powers,
            snapshot=self.cache.snapshot,
            events=events,
            view=self.view,
            opened=self._opened,
            row_count=self.row_count,
            count_exact=self.count_exact,
            positions_exact=self.positions_exact,
            frame=self.frame,
            shift=self.shift,
            seeks=self.seeks,
            restarts=self.reordering.changes,
            reconnects=self.session.reconnects,
            page_size=self.page_size,
            holds_transaction=self.session.holds_transaction,
            server_side=self.server_side,
            landed=self.landed,
        )

    def export_query(self, format: str = "csv") -> Any:
        return self.view.export_query(format)

    @owned
    def view_sql(self) -> str:
        """The view as shown (its filter and order, every value whole) as one SELECT's text:
        what compare mode reads both ways."""
        return self._run(
            "composing the view", lambda: self.view.export_query().as_string(self.session.conn)
        )

    # -- any thread ------------------------------------------------------------------
    def cached_pages(self) -> dict[int, int]:
        return self.cache.pages_of(self.frame)

    def stats(self) -> CacheStats:
        return self.cache.stats()

    def cancel(self) -> None:
        self.session.cancel()

    def waiting(self) -> str:
        """What the view's session waits on before anything runs (``Session.waiting``)."""
        return self.session.waiting()

    # -- lifecycle -------------------------------------------------------------------
    def _run(self, what: str, action: Callable[[], T]) -> T:
        """``action`` with the view open, through the session: errors said plainly, a
        lost session replaced once and the action run again from where it was."""

        def opened() -> T:
            self._new_snapshot()
            self._ensure_open()
            return action()

        return self.session.run(what, opened, on_reset=self.reader.suspend)

    def _new_snapshot(self) -> None:
        """A page belongs to one snapshot. When the view's next statement begins a new
        transaction (after an idle release, behind a transaction pooler, after a reconnect,
        a cancel or an error), the cache begins a new snapshot before anything is read in
        it, dropping the old one's pages, so none is ever drawn beside a page of the new:
        the view reads the pages in sight again (the "new snapshot" event), from where
        reading was."""
        if not self.session.holds_transaction and self.cache.begin_snapshot():
            self._tell("new snapshot")

    @owned
    def open(self) -> None:
        """Connect, read the columns, the estimate and the plan; start at row 0, or where
        reading was when an error or an idle release stopped it."""
        self._run(f"opening {self.relation.qualified}", lambda: None)

    def _ensure_open(self) -> None:
        reader = self.reader
        if reader.anchor is not None:
            return
        session = self.session
        session.conn  # noqa: B018 (connected, or reconnected, before anything is read)
        # (a new session is a new snapshot: _new_snapshot dropped the old one's pages)
        if not self._opened:
            with session.catalog_reads():  # (their catalog locks not kept)
                if reader.view.relation.calls is not None:
                    vet_on(session, reader.view.relation.calls, filter=False)
                if reader.view.filter is not None and self._filter_typed:
                    vet_on(session, reader.view.filter.calls, filter=True)
                started = self.clock()
                relation = describe_query(session.conn, reader.view.relation)
                columns = tuple(list_columns(session.conn, relation))
                session.record("-- columns of " + relation.qualified, 0, started)
                references = read_references(session, relation)
                if relation.kind == "v":  # (a view's rule runs as it is read; say whose code)
                    runs = runs_text(owner_code(session, relation))
                    if runs:
                        self._tell("runs: " + runs)
                reader.view = reader.view.with_(
                    relation=relation, columns=columns, references=references
                )
                started = self.clock()
                plan = plan_seeking(session.conn, relation)
                session.record(
                    f"-- seeking: {plan.strategy.method} ({plan.strategy.why})", 0, started
                )
                distribution = plan.distribution
                if distribution is not None and distribution.spread and not plan.identity:
                    view_kind = distribution.kind == "view"
                    what = "key column" if view_kind else "primary key or unique key"
                    raise Refused(
                        "No key to page by",
                        f"{relation.qualified} is {distribution.describe()} and has no {what}:"
                        " a distributed table is read page by page by its key (a cursor"
                        " would first gather every shard's rows on the coordinator), and ctid"
                        f" repeats across shards. Add a {what}, or browse a query with"
                        " ORDER BY and LIMIT in the SQL editor (Ctrl+R).",
                    )
                reader.view = reader.view.with_(distribution=distribution)
                reader.row_count = self._estimate()
                self.reordering.natural, reader.row_security = plan, plan.row_security
                reader.apply(plan, fresh=True)
                if self._order is not None and not self.reordering.open_sorted(*self._order):
                    self._tell("kept order gone")  # (its column was dropped meanwhile)
                self._opened = True
        if self.landing is not None:  # (until it is found: a lost session tries again)
            reader.start(self.finder.land(self.landing))
            self.landing = None
            self._tell("landed")
            return
        reader.start()

    def _estimate(self) -> int:
        if self.reader.paged:  # (the coordinator's EXPLAIN says 100,000 whatever the size)
            return citus.estimate(self.session, self.view.estimate_query())[0]
        from_catalog = self.view.partitions_estimate_query()
        if from_catalog is not None and self.session.server_version >= 120000:
            found = self.session.scalar(from_catalog)
            if found is not None:
                return max(0, int(found))
        plan = self.session.scalar(self.view.estimate_query())
        return max(0, int(plan[0]["Plan"]["Plan Rows"]))

    def close(self) -> None:
        """Close the cursors, end the transaction and close the connection (any thread
        once the owner is done with it)."""
        self.reader.anchor = self.reader.resume = None
        self.session.close()

    def release_after(self, configured: float | None) -> float | None:
        """How long an idle view may keep its transaction: what the user configured (None:
        for ever), but never longer than a pooler or a standby can afford."""
        session = self.session
        if session.pooled:
            seeks = self._opened and self.view.strategy.seeks
            cap = defaults.POOLED_RELEASE_S if seeks else defaults.POOLED_WALK_RELEASE_S
        elif session.standby:
            cap = defaults.STANDBY_RELEASE_S
        else:
            return configured
        return cap if configured is None else min(cap, configured)

    @owned
    def release(self) -> bool:
        """Idle: end the transaction (no lock, no snapshot), remembering where reading was:
        the next read starts again at the first row of the page read last, found by its
        keys where the order is total, walked to otherwise."""
        if not self.session.holds_transaction or self.reader.anchor is None:
            return False
        self.reader.suspend()  # (where reading was, taken before the transaction ends)
        if not self.session.end_transaction("ROLLBACK -- idle: cursors closed, transaction ended"):
            return False
        self.releases += 1
        if self.session.pooled:
            self.session.rest()
        return True

    # -- rows ------------------------------------------------------------------------
    @owned
    def load(self, page: int) -> list[Row]:
        """Fetch ``page`` into the cache and return its rows; no rows when positions
        shifted instead (the caller asks again for what it now wants)."""
        rows = self.cached(page)
        if rows is not None:
            return rows
        if self.count_exact and page * self.page_size >= self.row_count:
            return []
        got = self._run(f"reading {self.relation.qualified}", lambda: self.reader.read_page(page))
        return got or []

    def rows(self, start: int, count: int) -> list[Row]:
        """Rows ``[start, start + count)`` (visible columns), loading the pages they span."""
        out: list[Row] = []
        for page in range(start // self.page_size, (start + count - 1) // self.page_size + 1):
            rows = self.load(page)
            width = len(self.view.columns)  # (known once open)
            base = page * self.page_size
            lo, hi = max(start, base) - base, min(start + count, base + len(rows)) - base
            out.extend(row[:width] for row in rows[lo:hi])
        return out

    @owned
    def prepare_sort(self) -> None:
        """A sort of every row whose first pages came from a top-N query: let the cursor
        sort them all now (the loader runs this in the background once they are shown).
        Cancelled (Esc, or a new order or filter asked for meanwhile): the next read past
        the first pages sorts instead; nothing is lost and no error is shown."""
        with contextlib.suppress(UserCancelled):
            self._run(f"sorting {self.relation.qualified}", self.reader.prepare_sort)

    @owned
    def find_end(self) -> None:
        """Make the row count exact by walking a cursor past the last row (no rows sent)."""
        if self.count_exact:
            return

        self._run(f"finding the end of {self.relation.qualified}", self.reader.walk_to_end)

    @owned
    def read_server_side(self) -> ServerSide | None:
        """The backend's memory, temp files and locks, inside its transaction (never while
        released: that would start one just to look)."""
        if not self.session.holds_transaction:
            self.server_side = None
            return None
        self.server_side = self._run(
            "reading the server side", lambda: read_server_side(self.session, self.relation)
        )
        return self.server_side

    @owned
    def explain(self) -> tuple[str, list[str]]:
        """The statement the view's cursor runs where it now reads (its seek, or the walk
        from the start or the end; its columns left out of the text) and the planner's plan
        of it (``EXPLAIN (ANALYZE false)``: planned, never run), in the view's own
        transaction. A distributed table's: a page's statement, and in its plan the query
        each shard's task runs on its worker."""

        def plan() -> tuple[str, list[str]]:
            anchor = self.reader.anchor
            assert anchor is not None
            view, backward = self.view, anchor.place is Place.END
            bound = self.reader.bound(anchor, "<" if backward else ">=")
            query = view.query(bound, reverse=backward)
            limit: sql.Composable = sql.SQL("")
            if self.reader.paged:  # a page's statement: Citus's plan shows the workers' part
                query = view.page_query(bound, None, backward, self.reader.page_size)
                limit = sql.SQL(" LIMIT {}").format(sql.Literal(self.reader.page_size))
            # On Citus in a savepoint rolled back: after an EXPLAIN, Citus runs a later
            # statement with an intermediate result (a sort's first pages) through a
            # connection to the coordinator itself, which need not accept one.
            kept = self.session.catalog_reads() if self.reader.paged else contextlib.nullcontext()
            with kept:
                rows = self.session.all(sql.SQL("EXPLAIN (ANALYZE false) {}").format(query))
            outline = sql.SQL("SELECT … FROM {}{}{}{}").format(  # (the columns left out)
                view.relation.source(), view.where(bound), view.order_by(reverse=backward), limit
            )
            return outline.as_string(self.session.conn), [str(row[0]) for row in rows]

        return self._run(f"explaining {self.relation.qualified}", plan)

    # -- the finder's and the reordering's operations, on the owner's thread -------------
    @owned
    def search(self, position: int, row: Row, text: str, backward: bool = False) -> int | None:
        """``Finder.search``: the nearest match's position, or None."""
        return self.finder.search(position, row, text, backward)

    @owned
    def fetch_cell(self, row: Row, column: int, limit: int = CELL_LIMIT) -> CellValue:
        """``Finder.fetch_cell``: one cell whole, found again by the row's identity."""
        return self.finder.fetch_cell(row, column, limit)

    @owned
    def fetch_record(self, row: Row, limit: int = RECORD_LIMIT) -> list[CellValue]:
        """``Finder.fetch_record``: every column of the row, whole (the record view)."""
        return self.finder.fetch_record(row, limit)

    @owned
    def set_order(self, column: str | None, descending: bool = False) -> None:
        """``Reordering.set_order``: sorted by ``column`` on the server (None: natural)."""
        self.reordering.set_order(column, descending)

    @owned
    def set_filter(self, where: str | None) -> None:
        """``Reordering.set_filter``: only the rows where ``where`` holds (None: all)."""
        self.reordering.set_filter(where)

    def count_query(self) -> tuple[Any, object]:
        """``Reordering.count_query``: the exact count's statement, and its token."""
        return self.reordering.count_query()

    @owned
    def apply_count(self, total: int, token: object, before: int | None) -> None:
        """``Reordering.apply_count``: the count (and a seek's place) made exact."""
        self.reordering.apply_count(total, token, before)
