"""CursorPager: one view's rows, read lazily through named cursors (the loader thread's).

The pager puts the parts together: a ``Session`` (the connection, its snapshot, the log,
errors), a ``View`` (what is read, in what order, and each row's identity; all SQL) and an
``AnchorReader`` (cursors, seeks and positions). Every operation runs through
``Session.run``, so each one fails, reports and reconnects the same way, and an open that
was refused is tried again, whole, by the next operation.

One thread owns it: the first to call it (the view's loader thread, in the app). A call from
any other thread raises ``WrongThread``; only ``cached``, ``cached_pages``, ``stats``,
``last_statement``, ``statements``, ``cancel`` and ``waiting`` are for any thread.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from psycopg2 import sql

from pgbrowse import defaults
from pgbrowse.db.cache import CacheStats, PageCache, Row
from pgbrowse.db.catalog import Relation, describe_query, list_columns
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import Refused, UserCancelled
from pgbrowse.db.finder import CellValue
from pgbrowse.db.guard import check_expression
from pgbrowse.db.ownership import WrongThread, owned
from pgbrowse.db.reader import SMALL_TABLE_ROWS, WALK_PAGES, Anchor, Place, tid_block
from pgbrowse.db.references import Landing, read_references
from pgbrowse.db.reorder import Reordering
from pgbrowse.db.seek import Plan, plan_seeking
from pgbrowse.db.server_side import ServerSide, read_server_side
from pgbrowse.db.session import Session, Statement, StatementLog
from pgbrowse.db.state import ViewState
from pgbrowse.db.strategy import Ctid, Keyset, Strategy
from pgbrowse.db.structure import owner_code, runs_text
from pgbrowse.db.view import CELL_LIMIT, View

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


class CursorPager(Reordering):
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
    ) -> None:
        """``landing``: open on the row whose columns hold these values (a foreign key's
        referenced row) instead of the first; ``filter``: open filtered (an expression,
        checked by the guard now: a refused one raises before anything is sent)."""
        if page_size < 1 or cache_bytes < 1 or truncate < 1:
            raise ValueError("page size, cache budget and truncation width must be positive")
        session = Session(factory, history=history, clock=clock)
        checked = check_expression(filter) if filter else None
        self._filter_typed = checked is not None  # (a landing's filter is pgbrowse's own)
        view = View(relation, (), truncate=truncate, filter=checked)
        super().__init__(session, view, page_size, PageCache(cache_bytes))
        self.factory = factory
        self.clock = clock
        self.truncate = truncate
        self.owner: int | None = None
        self.order_changes = 0  # how many times the order or filter changed (views restart)
        self.releases = 0  # idle releases
        self.server_side: ServerSide | None = None
        self._natural: Plan | None = None
        self._opened = False  # columns and plan read (kept across reconnects)
        self._last_page: int | None = None
        self._unfiltered_count: tuple[int, bool] | None = None
        self._events: list[str] = []  # for state(): what happened since it was last asked
        self._reconnects_told = 0
        self._snapshots = 0  # transactions the view has read in (each is a snapshot)
        self.landing = landing

    # -- what the view is ------------------------------------------------------------
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
        return self._anchor is not None

    @property
    def holds_transaction(self) -> bool:
        return self.session.holds_transaction

    def last_statement(self) -> Statement | None:
        return self.session.log.last()

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
            snapshot=self._snapshots,
            events=events,
            view=self.view,
            opened=self._opened,
            row_count=self.row_count,
            count_exact=self.count_exact,
            positions_exact=self.positions_exact,
            frame=self.frame,
            shift=self.shift,
            seeks=self.seeks,
            restarts=self.order_changes,
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

        return self.session.run(what, opened, on_reset=self._on_reset)

    def _new_snapshot(self) -> None:
        """A page belongs to one snapshot. When the view's next statement begins a new
        transaction (after an idle release, behind a transaction pooler, after a reconnect,
        a cancel or an error), the pages of the old snapshot are dropped before anything is
        read in the new one, so none is ever drawn beside a page of the new: the view reads
        the pages in sight again (the "new snapshot" event), from where reading was."""
        if self.session.holds_transaction:
            return
        if self._snapshots and self.cache.stats().pages:
            self.cache.clear()
            self._events.append("new snapshot")
        self._snapshots += 1

    def _on_reset(self) -> None:
        """The transaction (and every cursor) is gone: remember where reading was."""
        if self._anchor is not None:
            self._resume = self._resume_anchor(self._anchor)
        self._anchor = None

    @owned
    def open(self) -> None:
        """Connect, read the columns, the estimate and the plan; start at row 0, or where
        reading was when an error or an idle release stopped it."""
        self._run(f"opening {self.relation.qualified}", lambda: None)

    def _ensure_open(self) -> None:
        if self._anchor is not None:
            return
        session = self.session
        session.conn  # noqa: B018 (connected, or reconnected, before anything is read)
        # (a new session is a new snapshot: _new_snapshot dropped the old one's pages)
        if not self._opened:
            with session.catalog_reads():  # (their catalog locks not kept)
                if self.view.relation.calls is not None:
                    self._vet(self.view.relation.calls, filter=False)
                if self.view.filter is not None and self._filter_typed:
                    self._vet(self.view.filter.calls, filter=True)
                started = self.clock()
                relation = describe_query(session.conn, self.view.relation)
                columns = tuple(list_columns(session.conn, relation))
                session.record("-- columns of " + relation.qualified, 0, started)
                references = read_references(session, relation)
                if relation.kind == "v":  # (a view's rule runs as it is read; say whose code)
                    runs = runs_text(owner_code(session, relation))
                    if runs:
                        self._events.append("runs: " + runs)
                self.view = self.view.with_(
                    relation=relation, columns=columns, references=references
                )
                self.row_count = self._estimate()
                started = self.clock()
                plan = plan_seeking(session.conn, relation)
                session.record(
                    f"-- seeking: {plan.strategy.method} ({plan.strategy.why})", 0, started
                )
                self._natural, self._row_security = plan, plan.row_security
                self._apply(plan)
                self._opened = True
        if self.landing is not None:  # (until it is found: a lost session tries again)
            self._anchor = self._land(self.landing)
            self.landing = None
            self._events.append("landed")
            return
        self._anchor = self._resume or Anchor(Place.START, 0, 0, key="(0,0)")
        self._resume = None

    def _land(self, landing: Landing) -> Anchor:
        """An anchor on the row ``landing`` names, found by a seek on its (unique) columns:
        its place counted exactly in a small view, estimated from the order's statistics
        in a large one (the rows before it are read backward from it, as after any seek).
        Where the order is not total (no key to read from a row on), the view is filtered
        to the row instead, and says so."""
        view = self.view
        where = landing.describe()
        if not view.total_order:
            self.view = view.with_(filter=check_expression(landing.filter_text()))
            self.row_count, self.landed = 1, 0
            self._events.append("landed alone")
            return Anchor(Place.START, 0, 0, key="(0,0)")
        found = self.session.all(view.landing_query(landing.columns, landing.values))
        if not found:
            raise Refused(
                "No such row",
                f"{self.relation.qualified} has no row with {where} (deleted, or not enforced)",
            )
        if len(found) > 1:
            raise Refused("Not one row", f"{self.relation.qualified} has more than one {where}")
        strategy = view.strategy
        anchor = Anchor(Place.SEEK, 0, 0, view.place_of(found[0]))
        bound = self._bound(anchor, "<")
        near = WALK_PAGES * self.page_size
        small = self.row_count <= SMALL_TABLE_ROWS or not strategy.seeks
        # Exact in a small view (a view that cannot seek walks anyway), and for a row near
        # the start of a large one (counting at most ``near`` rows finds that out).
        before = int(self.session.scalar(view.before_query(bound, None if small else near)))
        if not small and before >= near:  # far from the start: estimated (≈)
            if isinstance(strategy, Keyset):
                fraction = strategy.fraction_of(str(anchor.key[0]))
            else:
                assert isinstance(strategy, Ctid)
                fraction = tid_block(anchor.key) / max(strategy.blocks, 1)
            before = min(self.row_count - 1, max(near, round(fraction * self.row_count)))
            anchor.frame = next(self._frames)
        anchor.base = self.landed = before
        return anchor

    def _apply(self, plan: Plan) -> None:
        self.view = self.view.with_(
            strategy=plan.strategy,
            identity=plan.identity,
            first_key_nullable=plan.first_key_nullable,
        )
        if isinstance(plan.strategy, Ctid) and plan.strategy.blocks:
            self._window = max(
                1, math.ceil(self.page_size * plan.strategy.blocks / max(self.row_count, 1))
            )

    def _estimate(self) -> int:
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
        self._anchor = self._resume = None
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
        if not self.session.holds_transaction or self._anchor is None:
            return False
        resume = self._resume_anchor(self._anchor)
        if not self.session.end_transaction("ROLLBACK -- idle: cursors closed, transaction ended"):
            self._on_reset()
            return False
        self._anchor = None
        self._resume = resume
        self.releases += 1
        if self.session.pooled:
            self.session.rest()
        return True

    def _resume_anchor(self, anchor: Anchor) -> Anchor:
        """An anchor without cursors where ``anchor``'s readers were last reading."""
        page, view = self._last_page, self.view
        rows = self.cached(page) if page is not None else None
        if page is not None and rows and view.total_order:
            names = ("ctid",) if view.strategy.by_ctid else view.strategy.keys
            key = view.hidden_values(rows[0], names)
            value: Any = key[0] if view.strategy.by_ctid else key
            return Anchor(Place.SEEK, page * self.page_size, anchor.frame, value)
        if anchor.place is Place.START or anchor.frame == 0:
            return Anchor(Place.START, 0, 0, key="(0,0)")  # walk back to where it was
        return Anchor(anchor.place, anchor.base, anchor.frame, anchor.key)

    # -- rows ------------------------------------------------------------------------
    @owned
    def load(self, page: int) -> list[Row]:
        """Fetch ``page`` into the cache and return its rows; no rows when positions
        shifted instead (the caller asks again for what it now wants)."""
        rows = self.cached(page)
        if rows is not None:
            return rows
        lo = page * self.page_size
        if self.count_exact and lo >= self.row_count:
            return []

        def read() -> tuple[Anchor, list[Row] | None]:
            anchor = self._anchor_for(lo)
            return anchor, self._read(anchor, lo, lo + self.page_size)

        anchor, got = self._run(f"reading {self.relation.qualified}", read)
        if got is None:
            return []
        self.cache.put(anchor.frame, page, got)
        self._last_page = page
        return got

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
            self._run(f"sorting {self.relation.qualified}", self._prepare_sort)

    @owned
    def find_end(self) -> None:
        """Make the row count exact by walking a cursor past the last row (no rows sent)."""
        if self.count_exact:
            return

        def walk() -> None:
            anchor = self._anchor_for(0)
            f = self._forward(anchor)
            if f.end is None:
                moved = self.session.move(f.name, None)
                f.end = f.next + moved
                f.next = f.end + 1
            self._learn_end(anchor, f.end)

        self._run(f"finding the end of {self.relation.qualified}", walk)

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
        transaction."""

        def plan() -> tuple[str, list[str]]:
            anchor = self._anchor
            assert anchor is not None
            view, backward = self.view, anchor.place is Place.END
            bound = self._bound(anchor, "<" if backward else ">=")
            query = view.query(bound, reverse=backward)
            rows = self.session.all(sql.SQL("EXPLAIN (ANALYZE false) {}").format(query))
            outline = sql.SQL("SELECT … FROM {}{}{}").format(  # (the columns left out)
                view.relation.source(), view.where(bound), view.order_by(reverse=backward)
            )
            return outline.as_string(self.session.conn), [str(row[0]) for row in rows]

        return self._run(f"explaining {self.relation.qualified}", plan)
