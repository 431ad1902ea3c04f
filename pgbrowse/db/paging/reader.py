"""Reading rows from anchors: where a cursor starts, and walking or seeking from it.

An anchor is a place in the view's order (the start, the end, or a seek's key) with the
position of its first row; a forward cursor reads from it (``key >= k``), a backward one
before it (``key < k`` in the reverse order, or ctid block windows read backward). A page
near a reader is walked (``MOVE``); anything further opens a new anchor. Positions read
after a seek are the seek's estimate (a frame of their own) until the rows before it are
known, when they are rebased and become exact.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.connection.session import Session
from pgbrowse.db.paging.cache import PageCache, Row, row_bytes
from pgbrowse.db.paging.seek import BLOCKS_SQL, Plan
from pgbrowse.db.paging.strategy import Ctid, Keyset
from pgbrowse.db.paging.view import View

WALK_PAGES = 4  # a jump further than this many pages seeks instead of walking the rows
SMALL_TABLE_ROWS = 10_000  # walking anywhere in fewer rows costs under a millisecond
MAX_WINDOW_BLOCKS = 8192  # ctid: the widest span one probe for a non-empty block scans
SAMPLE_BLOCKS = 256  # ctid seeks over unevenly spread rows: blocks sampled to find them
TOP_PAGES = 3  # a sort of every row: its first pages come from one top-N query
PAGES_WALK_KEYS = 2_000  # Pages: a walk up to this many rows reads their keys, past it OFFSET
# Pages of a sort no index gives: each statement scans every shard, so one reads ahead up to
# this many pages, and at most about this many bytes of rows (from the rows read so far).
AHEAD_PAGES = 20
AHEAD_PAGES_KEYSET = 3  # other pages of a distributed table: up to the next 3 with each
AHEAD_BYTES = 2 * 2**20


def _reach_from(reader: Cursor | Pages, i: int) -> int:
    """The rows walked to row ``i`` of a reader: a cursor scrolls either way; pages go back
    only by starting again from their anchor."""
    if isinstance(reader, Pages) and i < reader.next:
        return i
    return min(i, abs(i - reader.next))


class Place(enum.Enum):
    START = "start"
    SEEK = "seek"
    END = "end"


def tid_block(tid: object) -> int:
    """The block of a tid's text, ``'(12,3)'`` -> 12."""
    return int(str(tid).strip("()").split(",")[0])


@dataclass
class Cursor:
    """A named cursor: its row i is at ``base + i`` (forward) or ``base - 1 - i`` (backward)."""

    name: str
    cursor: psycopg2.extensions.cursor
    next: int = 0  # the index of the row the next FETCH returns (end + 1 once past the end)
    end: int | None = None  # the number of rows it has, once seen

    def fetch(self, session: Session, count: int) -> list[Row]:
        return session.fetch(self.name, self.cursor, count)

    def move(self, session: Session, delta: int | None) -> int:
        """``MOVE`` by ``delta`` rows (None: to the end); the rows passed."""
        return session.move(self.name, delta)

    def close(self, session: Session) -> None:
        session.close_cursor(self.name, self.cursor)


@dataclass
class Pages:
    """A cursor's stand-in where a cursor is eager (a distributed table on Citus: its first
    FETCH gathers every shard's rows on the coordinator). Each FETCH is one bounded keyset
    statement from the last row read (``View.page_query``), a MOVE reads the keys it passes
    (a long one only the last key, by OFFSET), MOVE to the end counts. Nothing is held on
    the server between them: no cursor, no portal."""

    view: View
    bound: sql.Composable | None  # the anchor's: at or after it (forward), before it (backward)
    reverse: bool
    next: int = 0
    end: int | None = None
    last: tuple[str | None, ...] | None = None  # the order's keys of the last row passed
    done: bool = False  # passed the last row
    start: tuple[str | None, ...] | None = None  # the anchor's key values (a seek's)
    ends: tuple[str, str] | None = None  # the routed key's min and max in this snapshot
    sparse: bool = False  # two values of the routed key did not fill a page: not routed
    ahead: list[Row] = field(default_factory=list)  # rows read past the last one passed
    snapshot: int = 0  # the cache's snapshot ``ahead`` was read in
    exhausted: bool = False  # every row of the routed key's last value read
    reads: int = 0  # statements that read rows
    row_bytes: int = 0  # what a row read so far costs in memory, on average (0: none read)

    def _after(self) -> sql.Composable | None:
        if self.last is None:
            return None
        view = self.view
        if self.reverse:
            return view.bound(self.last, "<")
        return sql.SQL("{} AND {}").format(view.bound(self.last, ">="), view.not_at(self.last))

    def fetch(self, session: Session, count: int) -> list[Row]:
        rows = self._take(count)
        if len(rows) < count and not self.done:
            want = count - len(rows)
            read = self._read(session, want, want + self._ahead_rows(count))
            rows += read[:want]
            self.ahead = read[want:]
        return rows

    def _take(self, count: int) -> list[Row]:
        """Up to ``count`` rows read ahead before."""
        rows, self.ahead = self.ahead[:count], self.ahead[count:]
        return rows

    def _ahead_rows(self, count: int) -> int:
        """How many rows to read past a page of ``count``: each statement costs what a
        distributed one costs (its fan-out, or its routing) whatever its few rows, and in a
        sort no index gives, a scan of every row of every shard."""
        view = self.view
        if view.strategy.sorts_everything:
            pages = AHEAD_PAGES
        else:  # (a reader opened for one page, End or a jump, reads that page alone first)
            pages = min(AHEAD_PAGES_KEYSET, self.reads)
        # (before any row is read, 100 bytes a column)
        each = self.row_bytes or 100 * max(1, len(view.columns))
        return min(pages * count, AHEAD_BYTES // each)

    def _read(self, session: Session, want: int, count: int) -> list[Row]:
        """The next ``want`` to ``count`` rows from the server, after the last row read
        (fewer: the last rows)."""
        view = self.view
        key = None if self.sparse else view.routed_key
        if key is None:
            rows = session.all(view.page_query(self.bound, self._after(), self.reverse, count))
            ended = len(rows) < count
        else:
            rows, ended = self._routed(session, key, want, count)
        if rows:
            self.last = view.hidden_values(rows[-1], view.strategy.keys)
            self.row_bytes = max(1, sum(map(row_bytes, rows)) // len(rows))
        self.done = ended
        self.reads += 1
        return rows

    def _routed(self, session: Session, key: str, want: int, count: int) -> tuple[list[Row], bool]:
        """The next ``want`` to ``count`` rows, ordered first by the distribution column
        ``key``, and whether they are the last: the rest of the rows of its current value
        from that value's shard; if they are fewer than ``want``, the rows of its next value
        (its min or max past it, then that shard); if still too few, the rest from every
        shard, as every read after (``sparse``: the values hold few rows each, and two
        statements a value would cost more than one to all shards)."""
        view, bound = self.view, self.bound
        value, at = self._first_value(session, key)
        rows: list[Row] = []
        beyond: sql.Composable | None = None
        for hop in range(2):
            if value is None:  # no rows left
                return rows, True
            on = view.key_is(key, value)
            where = on if at is None else sql.SQL("{} AND {}").format(at, on)
            asked = count - len(rows)
            got = session.all(view.page_query(bound, where, self.reverse, asked))
            rows += got
            self.exhausted = len(got) < asked  # (every row of that value read)
            if len(rows) >= want:
                return rows, False
            beyond = view.key_past(key, value, self.reverse)
            if hop == 0:
                value = session.scalar(view.first_value_query(key, bound, beyond, self.reverse))
                at = None
        self.sparse = True
        asked = count - len(rows)
        more = session.all(view.page_query(bound, beyond, self.reverse, asked))
        return rows + more, len(more) < asked

    def _first_value(self, session: Session, key: str) -> tuple[str | None, sql.Composable | None]:
        """The value of ``key`` the next rows start at, and what else places them there
        (past the last row read; the next value when every row of its value was read)."""
        view = self.view
        if self.last is not None:
            if not self.exhausted:
                return self.last[0], self._after()
            past = view.key_past(key, str(self.last[0]), self.reverse)
            return session.scalar(view.first_value_query(key, self.bound, past, self.reverse)), None
        start = self.start
        # (a bound at or after a place starts at its value; one before it too, when it names
        # more than the first key: the rows of that value before the place come first)
        if start is not None and start[0] is not None and (not self.reverse or len(start) > 1):
            return start[0], None
        if self.bound is None and self.ends is not None:  # (from the start or the end)
            return self.ends[self.reverse != view.strategy.descending], None
        return session.scalar(view.first_value_query(key, self.bound, None, self.reverse)), None

    def move(self, session: Session, delta: int | None) -> int:
        view = self.view
        if delta is None:
            passed = len(self._take(len(self.ahead)))
            if self.done:
                return passed
            self.done = True
            return passed + int(session.scalar(view.between_query(self.bound, self._after())))
        if delta < 0:  # back: from the anchor again, to the row wanted
            target, self.last, self.done = self.next + delta, None, False
            self.ahead, self.exhausted = [], False
            return self._skip(session, max(target, 0)) - self.next
        return self._skip(session, delta)

    def _skip(self, session: Session, count: int) -> int:
        taken = len(self._take(count))
        if count == taken or self.done:
            return taken
        return taken + self._skip_read(session, count - taken)

    def _skip_read(self, session: Session, count: int) -> int:
        view, after = self.view, self._after()
        self.exhausted = False  # (the last row is one the keys walk to)
        if count <= PAGES_WALK_KEYS:
            keys = session.all(view.keys_query(self.bound, after, self.reverse, count))
            if keys:
                self.last = tuple(keys[-1])
            self.done = len(keys) < count
            return len(keys)
        found = session.one(view.keys_query(self.bound, after, self.reverse, 1, count - 1))
        if found is not None:
            self.last = tuple(found)
            return count
        self.done = True
        return int(session.scalar(view.between_query(self.bound, after)))

    def close(self, session: Session) -> None:
        """(Nothing to close on the server.)"""


@dataclass
class Blocks:
    """ctid: the rows before the anchor's tid, read a window of blocks at a time."""

    upper: str  # the tid every row not read yet is before
    read: int = 0  # rows read so far: they sit at base - read .. base - 1
    windows: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def low(self) -> int:
        return tid_block(self.upper)

    @property
    def done(self) -> bool:
        return self.upper == "(0,0)"


@dataclass
class Anchor:
    """Where reading starts and the position of its first row. ``key``: the order's key
    values (texts) of a row, a first key's value from the histogram, or a ctid."""

    place: Place
    base: int
    frame: int
    key: Any = None
    forward: Cursor | Pages | None = None
    backward: Cursor | Pages | Blocks | None = None
    top: list[Any] | None = None  # the first rows of a sort of every row (``_from_top``)


class Reader:
    """The paging core's reading part: it owns the view being read, the anchors and their
    cursors, and the positions (the count, how sure it is, the frames of estimates). The
    finder and the reordering change it only through its methods; the pager runs them
    inside the session (``Session.run``) and hands pages to the cache."""

    def __init__(self, session: Session, view: View, page_size: int, cache: PageCache) -> None:
        self.session = session
        self.view = view
        self.page_size = page_size
        self.cache = cache
        self.row_count = 0
        self.count_exact = False
        self.shift = 0  # how far positions have moved in total (a seek became exact)
        self._frames = itertools.count(1)
        self.anchor: Anchor | None = None  # where the cursors read from (None: not open)
        self.resume: Anchor | None = None  # where to start again after an error or release
        self.window = 1  # ctid: blocks per page of rows
        self.row_security = False  # row security hides rows: ctid seeks sample first
        self.landed: int | None = None  # where a landing found its row (moves with positions)
        self.last_page: int | None = None  # the page read last (a release resumes there)
        # The first key's min and max as planning read them, and in which snapshot
        self.ends: tuple[int, str, str] | None = None

    @property
    def relation(self) -> Relation:
        return self.view.relation

    @property
    def columns(self) -> list[Column]:
        return list(self.view.columns)

    @property
    def frame(self) -> int:
        anchor = self.anchor or self.resume
        return 0 if anchor is None else anchor.frame

    def cached(self, page: int) -> list[Row] | None:
        """The rows of ``page`` if the cache holds them (any thread; never the server)."""
        return self.cache.get(self.frame, page)

    @property
    def positions_exact(self) -> bool:
        return self.frame == 0

    @property
    def seeks(self) -> bool:
        return self.view.strategy.seeks and self.row_count > SMALL_TABLE_ROWS

    def new_frame(self) -> int:
        """A new numbering for an estimate's positions."""
        return next(self._frames)

    # -- starting, stopping and moving the anchor ---------------------------------------
    def apply(self, plan: Plan, fresh: bool = False) -> None:
        """Read in the order ``plan`` gives (the natural one at open, or a sort's); ``fresh``:
        planned in this snapshot (the ends it read of its first key hold for its pages)."""
        strategy = plan.strategy
        self.ends = None
        if fresh and isinstance(strategy, Keyset) and strategy.ends_read:
            self.ends = (self.cache.snapshot, str(strategy.bounds[0]), str(strategy.bounds[-1]))
        self.view = self.view.with_(
            strategy=plan.strategy,
            identity=plan.identity,
            first_key_nullable=plan.first_key_nullable,
        )
        if isinstance(plan.strategy, Ctid) and plan.strategy.blocks:
            self.window = max(
                1, math.ceil(self.page_size * plan.strategy.blocks / max(self.row_count, 1))
            )

    def start(self, anchor: Anchor | None = None) -> None:
        """Read from ``anchor``, else from where reading stopped, else from the first row."""
        self.anchor = anchor or self.resume or Anchor(Place.START, 0, 0, key="(0,0)")
        self.resume = None

    def restart(self) -> None:
        """Close the cursors and empty the cache: reading starts over at row 0."""
        if self.anchor is not None:
            self.close_cursors(self.anchor)
        self.resume = None
        self.cache.clear()
        self.anchor = Anchor(Place.START, 0, 0, key="(0,0)")

    def jump(self, target: int, key: Any) -> None:
        """Read on from the row with the order's ``key``, at position ``target`` (a search's
        match: its place counted from the row searched from, in the same numbering)."""
        anchor = self.anchor
        assert anchor is not None
        self.close_cursors(anchor)
        self.anchor = Anchor(Place.SEEK, target, anchor.frame, key)

    def suspend(self) -> None:
        """The transaction (and every cursor) is gone or going: remember where reading was."""
        if self.anchor is not None:
            self.resume = self._resume_anchor(self.anchor)
        self.anchor = None

    def _resume_anchor(self, anchor: Anchor) -> Anchor:
        """An anchor without cursors where ``anchor``'s readers were last reading: the first
        row of the page read last, found by its keys where the order is total, walked to
        otherwise."""
        page, view = self.last_page, self.view
        rows = self.cached(page) if page is not None else None
        if page is not None and rows and view.total_order:
            names = ("ctid",) if view.strategy.by_ctid else view.strategy.keys
            key = view.hidden_values(rows[0], names)
            value: Any = key[0] if view.strategy.by_ctid else key
            return Anchor(Place.SEEK, page * self.page_size, anchor.frame, value)
        if anchor.place is Place.START or anchor.frame == 0:
            return Anchor(Place.START, 0, 0, key="(0,0)")  # walk back to where it was
        return Anchor(anchor.place, anchor.base, anchor.frame, anchor.key)

    # -- a page, and the end -------------------------------------------------------------
    def read_page(self, page: int) -> list[Row] | None:
        """Read ``page`` from the nearest anchor and keep it in the cache (this snapshot's);
        None when positions moved instead (the caller asks again)."""
        snapshot = self.cache.snapshot  # (the one these rows are read in)
        lo = page * self.page_size
        anchor = self.anchor_for(lo)
        for reader in (anchor.forward, anchor.backward):
            if isinstance(reader, Pages) and reader.snapshot != snapshot:
                reader.ahead, reader.snapshot = [], snapshot  # (another snapshot's rows)
        rows = self.read(anchor, lo, lo + self.page_size)
        if rows is not None:
            self.cache.put(anchor.frame, page, rows, snapshot)
            self.last_page = page
        return rows

    def walk_to_end(self) -> None:
        """Make the row count exact by walking a cursor past the last row (no rows sent)."""
        anchor = self.anchor_for(0)
        f = self.forward(anchor)
        if f.end is None:
            moved = f.move(self.session, None)
            f.end = f.next + moved
            f.next = f.end + 1
        self.learn_end(anchor, f.end)

    # -- bounds ----------------------------------------------------------------------
    def bound(self, anchor: Anchor, op: str) -> Any:
        """The rows at or after (``>=``) or before (``<``) the anchor, in the order shown."""
        view = self.view
        if view.strategy.by_ctid:
            return view.ctid_bound(str(anchor.key or "(0,0)"), op)
        values = self._key_values(anchor)
        return None if values is None else view.bound(values, op)

    @staticmethod
    def _key_values(anchor: Anchor) -> tuple[str | None, ...] | None:
        """A seek's key values (the order's first keys'), else None."""
        if anchor.place is not Place.SEEK or anchor.key is None:
            return None
        return anchor.key if isinstance(anchor.key, tuple) else (str(anchor.key),)

    # -- choosing where to read from ---------------------------------------------------
    def anchor_for(self, lo: int) -> Anchor:
        anchor = self.anchor
        assert anchor is not None
        if lo == 0 or (not self.seeks and anchor.place is Place.END):
            return anchor if anchor.place is Place.START else self._new_anchor(Place.START, 0)
        if not self.seeks:
            return anchor  # the start, or where an idle release left off: walk from it
        limit = WALK_PAGES * self.page_size
        if self._reach(anchor, lo, lo + self.page_size) <= limit:
            return anchor
        if lo <= limit:
            return self._new_anchor(Place.START, 0)
        if self.row_count - lo <= limit + self.page_size:
            return self._new_anchor(Place.END, self.row_count)
        return self._new_anchor(Place.SEEK, lo)

    def _reach(self, anchor: Anchor, lo: int, hi: int) -> int:
        """How many rows the server would walk to read ``[lo, hi)`` from ``anchor``."""
        if lo >= anchor.base:
            if anchor.place is Place.END:
                return 0
            i = lo - anchor.base
            return i if anchor.forward is None else _reach_from(anchor.forward, i)
        j = anchor.base - min(hi, anchor.base)
        back = anchor.backward
        if isinstance(back, (Cursor, Pages)):
            return _reach_from(back, j)
        if isinstance(back, Blocks):
            return max(0, anchor.base - lo - back.read)
        return j

    def _new_anchor(self, place: Place, lo: int) -> Anchor:
        old = self.anchor
        if old is not None:
            self.close_cursors(old)
        exact = place is Place.START or (place is Place.END and self.count_exact)
        anchor = Anchor(place, lo, 0 if exact else self.new_frame())
        fraction = lo / max(self.row_count, 1)
        strategy = self.view.strategy
        if isinstance(strategy, Keyset) and place is Place.SEEK:
            anchor.key = strategy.key_at(fraction)
        elif isinstance(strategy, Ctid):
            if place is Place.START:
                block = 0
            elif place is Place.END:
                block = self._blocks_now()
            else:
                block = self._seek_block(fraction)
            anchor.key = f"({block},0)"
        self.anchor = anchor
        return anchor

    def _blocks_now(self) -> int:
        name = self.relation.identifier().as_string(self.session.conn)
        return int(self.session.scalar(sql.SQL(BLOCKS_SQL % "{}").format(sql.Literal(name))))

    def _row_block_below(self, end: int) -> int:
        span = self.window
        while end > 0:
            first = max(0, end - span)
            cond = sql.SQL("{} AND {}").format(
                self.view.ctid_bound(f"({first},0)", ">="), self.view.ctid_bound(f"({end},0)", "<")
            )
            query = sql.SQL("SELECT max(ctid) FROM {}{}").format(
                self.relation.identifier(), self.view.where(cond)
            )
            found = self.session.scalar(query)
            if found is not None:
                return tid_block(found)
            end, span = first, min(span * 2, MAX_WINDOW_BLOCKS)
        return -1

    def _seek_block(self, fraction: float) -> int:
        """Where the view's rows are spread unevenly (a filter, row security), a seek by
        ctid lands among them: the block at ``fraction`` of a sample of the view's rows
        (``TABLESAMPLE SYSTEM`` over about ``SAMPLE_BLOCKS`` blocks), not of the table."""
        strategy = self.view.strategy
        assert isinstance(strategy, Ctid)
        if (self.view.filter or self.row_security) and not strategy.sample:
            percent = min(100.0, 100.0 * SAMPLE_BLOCKS / max(strategy.blocks, 1))
            query = sql.SQL(
                "SELECT DISTINCT (ctid::text::point)[0]::int8 FROM {} TABLESAMPLE SYSTEM ({})"
                " REPEATABLE (0){} ORDER BY 1"
            ).format(self.relation.identifier(), sql.Literal(percent), self.view.where())
            sample = tuple(int(b) for (b,) in self.session.all(query))
            if sample:
                strategy = Ctid(**{**strategy.__dict__, "sample": sample})
                self.view = self.view.with_(strategy=strategy)
        return strategy.block_at(fraction)

    def close_cursors(self, anchor: Anchor) -> None:
        for reader in (anchor.forward, anchor.backward):
            if isinstance(reader, (Cursor, Pages)):
                reader.close(self.session)
        anchor.forward = anchor.backward = None

    # -- reading -----------------------------------------------------------------------
    def read(self, anchor: Anchor, lo: int, hi: int) -> list[Row] | None:
        """Rows ``[lo, hi)`` from ``anchor``: the part before its key, then the part after;
        None when positions moved instead (the caller asks again)."""
        rows: list[Row] = []
        if lo < anchor.base:
            if self.view.strategy.by_ctid:
                back = self._read_blocks(anchor, lo, min(hi, anchor.base))
            else:
                back = self._read_backward(anchor, lo, min(hi, anchor.base))
            if back is None:
                return None
            rows = back
        if hi > anchor.base and anchor.place is not Place.END:
            i = max(lo - anchor.base, 0)
            forward = self._read_forward(anchor, i, hi - anchor.base - i)
            if forward is None:
                return None
            rows += forward
        return rows

    def _read_forward(self, anchor: Anchor, i: int, count: int) -> list[Row] | None:
        top_first = anchor.top is not None or self._sorts_top_first()
        if anchor.place is Place.START and anchor.forward is None and top_first:
            rows = self._from_top(anchor, i, count)
            if rows is not None:
                return rows
        if anchor.forward is None and anchor.top and self.paged:
            # Pages go on from the last of a sort's first rows (no walk over them again).
            pages = self.forward(anchor)
            assert isinstance(pages, Pages)
            pages.last = self.view.hidden_values(anchor.top[-1], self.view.strategy.keys)
            pages.next = len(anchor.top)
        f = anchor.forward
        if f is not None and f.end is not None and i >= f.end:
            return []
        if f is not None and i < abs(i - f.next):  # nearer the key: start again from it
            f.close(self.session)
            anchor.forward = None
        f = self.forward(anchor)
        if i != f.next:
            moved = f.move(self.session, i - f.next)
            if i > f.next and moved < i - f.next:  # passed the end
                f.end, f.next = f.next + moved, f.next + moved + 1
                return [] if self.learn_end(anchor, f.end) else None
            f.next = i
        rows = f.fetch(self.session, count)
        f.next = i + len(rows)
        if len(rows) < count:
            f.end, f.next = f.next, f.next + 1
            if not self.learn_end(anchor, f.end):
                return None
        elif not self.count_exact and anchor.base + f.next >= self.row_count:
            # At or past the estimated end with a full page: is there a next row at all?
            if f.move(self.session, 1):
                f.next += 1
                self.row_count = anchor.base + f.next - 1 + self.page_size
            else:
                f.end, f.next = f.next, f.next + 1
                if not self.learn_end(anchor, f.end):
                    return None
        return rows

    # -- a sort of every row: the first pages first ------------------------------------
    def _sorts_top_first(self) -> bool:
        """The order needs a sort of every row (no index gives it) and is total (ties broken
        by the identity), in a view larger than the first pages."""
        limit = TOP_PAGES * self.page_size
        return (
            self.view.strategy.sorts_everything
            and self.view.total_order
            and (self.row_count > limit)
        )

    def _from_top(self, anchor: Anchor, i: int, count: int) -> list[Row] | None:
        """Rows ``[i, i + count)`` of the sorted view from its first ``TOP_PAGES`` pages,
        read with ``ORDER BY … LIMIT n``: the server keeps the n first rows in a heap while
        it reads the table once (a top-N sort, nothing written to disk), instead of sorting
        every row before the cursor's first. None: not among them (the cursor reads it).

        The same rows, in the same places, as the cursor's first: the order is total and both
        read the transaction's one snapshot (REPEATABLE READ). ``prepare_sort`` then lets
        the cursor sort everything, in the background, before a row past them is wanted."""
        limit = TOP_PAGES * self.page_size
        if anchor.top is None:
            if i + count > limit:
                return None
            anchor.top = self.session.all(self.view.top_query(self.bound(anchor, ">="), limit))
            if len(anchor.top) < limit:  # the whole view: its count is exact
                self.learn_end(anchor, len(anchor.top))
        top = anchor.top
        if i + count <= len(top) or len(top) < limit:
            return top[i : i + count]
        return None

    def prepare_sort(self) -> None:
        """After a top-N first page: open the sorted cursor and walk it past the rows the
        top-N read (the server's sort of every row happens here, while those are shown)."""
        anchor = self.anchor
        if anchor is None or anchor.place is not Place.START or anchor.forward is not None:
            return
        if self.paged:  # (each page is its own top-N: nothing to sort ahead)
            return
        top = anchor.top
        if top is None or len(top) < TOP_PAGES * self.page_size:
            return
        f = self.forward(anchor)
        f.next = f.move(self.session, len(top))
        if f.next < len(top):  # (not in one snapshot; never expected)
            f.end, f.next = f.next, f.next + 1

    @property
    def paged(self) -> bool:
        """Read in bounded pages, not through cursors: a distributed table (Citus)."""
        distribution = self.view.distribution
        return distribution is not None and distribution.spread

    def _open(self, anchor: Anchor, reverse: bool) -> Cursor | Pages:
        """A reader of the view from ``anchor``, forward (at or after it) or backward (before
        it): pages where a cursor is eager, else a cursor."""
        bound = self.bound(anchor, "<" if reverse else ">=")
        if self.paged:
            ends, snapshot = None, self.cache.snapshot
            if self.ends and self.ends[0] == snapshot and self.view.filter is None:
                ends = self.ends[1:]  # (this snapshot's, of every row)
            start = self._key_values(anchor)
            return Pages(self.view, bound, reverse, start=start, ends=ends, snapshot=snapshot)
        return Cursor(*self.session.declare(self.view.query(bound, reverse=reverse)))

    def forward(self, anchor: Anchor) -> Cursor | Pages:
        if anchor.forward is None:
            anchor.forward = self._open(anchor, reverse=False)
        return anchor.forward

    def _read_backward(self, anchor: Anchor, lo: int, hi: int) -> list[Row] | None:
        b = anchor.backward
        j, want = anchor.base - hi, hi - lo
        if isinstance(b, (Cursor, Pages)) and j < abs(j - b.next):
            b.close(self.session)
            b = anchor.backward = None
        if not isinstance(b, (Cursor, Pages)):
            b = anchor.backward = self._open(anchor, reverse=True)
        if j != b.next:
            moved = b.move(self.session, j - b.next)
            if j > b.next and moved < j - b.next:
                b.end = b.next + moved
                self.rebase(anchor, b.end - anchor.base)
                return None
            b.next = j
        rows = b.fetch(self.session, want)
        b.next = j + len(rows)
        if len(rows) < want:
            b.end, b.next = b.next, b.next + 1
            if anchor.base != b.end:  # the first row is not at position 0: now we know where
                self.rebase(anchor, b.end - anchor.base)
                return None
        rows.reverse()
        return rows

    def _read_blocks(self, anchor: Anchor, lo: int, hi: int) -> list[Row] | None:
        b = anchor.backward
        if not isinstance(b, Blocks):
            b = anchor.backward = Blocks(upper=str(anchor.key))
        fresh: dict[tuple[str, str], list[Row]] = {}
        while b.read < anchor.base - lo and not b.done:
            first = max(0, b.low - self.window)
            rows = self._select_blocks(f"({first},0)", b.upper)
            if not rows:  # empty blocks (deleted rows, free space): skip to the next row
                first = self._row_block_below(first) + 1 if first else 0
            start = f"({first},0)"
            b.windows.append((start, b.upper, -(b.read + len(rows)), len(rows)))
            fresh[(start, b.upper)] = rows
            b.read += len(rows)
            b.upper = start
        if b.done and b.read != anchor.base:
            self.rebase(anchor, b.read - anchor.base)
            return None
        out: list[Row] = []
        for low_tid, high_tid, offset, count in reversed(b.windows):
            at = anchor.base + offset
            if count == 0 or at >= hi or at + count <= lo:
                continue
            window = fresh.get((low_tid, high_tid))
            if window is None:
                window = self._select_blocks(low_tid, high_tid)
            out.extend(window[max(lo - at, 0) : min(hi - at, count)])
        return out

    def _select_blocks(self, first: str, end: str) -> list[Row]:
        """Every row with a tid in ``[first, end)``, in physical order: a TID range scan."""
        view = self.view
        where = sql.SQL("{} AND {}").format(view.ctid_bound(first, ">="), view.ctid_bound(end, "<"))
        return self.session.all(view.query(where))

    # -- what is known about the end and the positions ---------------------------------
    def learn_end(self, anchor: Anchor, end: int) -> bool:
        """The anchor's cursor ends after ``end`` rows. Exact positions: the count is known.
        A seek's estimate never shrinks the count for where it landed: its positions move
        so its last row is the last of the count instead (False: read again)."""
        if anchor.frame == 0:
            self.row_count, self.count_exact = anchor.base + end, True
            return True
        last = anchor.base + end
        if last >= self.row_count:
            self.row_count = last
            return True
        self._reposition(anchor, self.row_count - last)
        return False

    def _moved(self, delta: int) -> None:
        if self.landed is not None:
            self.landed += delta

    def _reposition(self, anchor: Anchor, delta: int) -> None:
        """Move an estimated frame's positions by ``delta`` (it stays an estimate)."""
        self.cache.drop_frame(anchor.frame)
        anchor.base += delta
        anchor.frame = self.new_frame()
        self.shift += delta
        self._moved(delta)

    def rebase(self, anchor: Anchor, delta: int) -> None:
        """The anchor's first row is really at ``base + delta``: positions become exact."""
        self.cache.drop_frame(anchor.frame)
        anchor.base += delta
        anchor.frame = 0
        self.shift += delta
        self._moved(delta)
        if anchor.place is Place.END:
            self.row_count, self.count_exact = anchor.base, True
        elif anchor.forward is not None and anchor.forward.end is not None:
            self.row_count, self.count_exact = anchor.base + anchor.forward.end, True
