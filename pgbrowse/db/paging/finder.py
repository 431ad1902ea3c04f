"""Finding rows again by the view's identity: a search's match, a cell or a row whole, and
the row a foreign key names.

Where the order is total (it ends in the identity, or is a plain table's ctid order), a
search scans from the row's keys on the server and the view re-anchors exactly at the
match's keys. Where it is not (physical order over a table's children), it numbers the rows
from the first and checks the match's identity where the view lands. A view with no
identity refuses both, plainly: a row is never found again by guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from psycopg2 import sql

from pgbrowse.db.catalog.references import Landing
from pgbrowse.db.connection.errors import Refused
from pgbrowse.db.guard.parse import check_expression
from pgbrowse.db.paging.cache import Row
from pgbrowse.db.paging.reader import SMALL_TABLE_ROWS, WALK_PAGES, Anchor, Place, Reader, tid_block
from pgbrowse.db.paging.strategy import Ctid, Keyset
from pgbrowse.db.paging.view import CELL_LIMIT, View

NEAR_ROWS = 20_000  # rows a search walks in the order before it scans for the first match
RECORD_LIMIT = 100_000  # characters of each value in the record view (Enter: up to CELL_LIMIT)

T = TypeVar("T")


@dataclass(frozen=True)
class CellValue:
    """One cell's whole value (up to a limit), fetched on demand."""

    text: str | None  # None for NULL
    length: int  # characters in the whole value
    cut: bool  # text holds only the first ``limit`` characters


# A search's match: how many rows from the row searched from it is (counting the match
# itself), and its place in the order (``View.place_of``).
Match = tuple[int, Any]
RECORD_COLUMNS = 800  # columns per statement of the record view (two targets each)


class Runs(Protocol):
    """Runs an action inside the view's session (``CursorPager._run``): open, in its snapshot,
    errors said plainly and a lost session replaced."""

    def __call__(self, what: str, action: Callable[[], T], /) -> T: ...


class Finder:
    """Finding rows again: search, a cell or a row whole, and the row a foreign key names.
    It reads through the reader's view and moves only the reader's anchor (``jump``)."""

    def __init__(
        self,
        reader: Reader,
        run: Runs,
        load: Callable[[int], list[Row]],
        tell: Callable[[str], None],
    ) -> None:
        """``run``: the pager's way to run an action in the view's session; ``load``: a page
        through the pager's cache; ``tell``: an event for the view's next state."""
        self.reader = reader
        self._run = run
        self._load = load
        self._tell = tell
        self.near_rows = NEAR_ROWS

    @property
    def view(self) -> View:
        return self.reader.view

    # -- finding rows again ------------------------------------------------------------
    def search(self, position: int, row: Row, text: str, backward: bool = False) -> int | None:
        """The position of the next row after ``row`` (before it when ``backward``) whose
        visible text contains ``text``, case-insensitive, or None. It walks the next
        ``near_rows`` rows in the view's order with a row_number() beside them (a near match
        costs only the rows up to it); past them, the matches are found as the table is
        read and the first in the order kept, and the rows up to it counted (two statements
        that cost about one scan, where numbering every row in the order's index cost two).
        The view then reads from the match's keys, so only its page is fetched."""
        view = self.view
        if not view.columns:
            raise Refused("Nothing to search", "this relation has no columns")
        if not view.identity:
            raise Refused(
                "Cannot search here",
                "this view has no unique key to find a match again by (pgbrowse does not guess)",
            )
        if not view.total_order:
            return self._search_by_position(position, text, backward)

        def find() -> int | None:
            if view.strategy.by_ctid:
                found = self._in_physical_order(row, text, backward)
            else:
                found = self._in_order(row, text, backward)
            if found is None:
                return None
            distance, place = found
            target = position - distance if backward else position + distance - 1
            if target < 0:
                return None
            self.reader.jump(target, place)
            return target

        return self._run(f"searching {view.relation.qualified}", find)

    def _in_physical_order(self, row: Row, text: str, backward: bool) -> Match | None:
        """By ctid: one scan from the row that stops at the first match."""
        view = self.view
        (tid,) = view.hidden_values(row, ("ctid",))
        bound = view.ctid_bound(str(tid), "<" if backward else ">=")
        found = self.reader.session.one(
            view.search_query(bound, text, backward, 0 if backward else 1)
        )
        if found is None:
            return None
        distance, *keys = found[:-1]
        return int(distance), view.place_of(keys)

    def _in_order(self, row: Row, text: str, backward: bool) -> Match | None:
        """In the order's keys: the next ``near_rows`` rows numbered in the order (not on a
        distributed table: Citus gathers a window over the order), then past them."""
        view = self.view
        keys = view.hidden_values(row, view.strategy.keys)
        bound = view.bound(keys, "<" if backward else ">=")
        if not self.reader.paged:
            skip = 0 if backward else 1
            query = view.search_query(bound, text, backward, skip, self.near_rows + skip)
            found = self.reader.session.one(query)
            if found is not None:
                distance, *found_keys = found[:-1]
                return int(distance), view.place_of(found_keys)
        return self._far(bound, keys, text, backward)

    def _far(
        self, bound: sql.Composable, keys: tuple[str | None, ...], text: str, backward: bool
    ) -> Match | None:
        """The first match in the order among every row from the row on (on a distributed
        table each shard's first, the coordinator keeping the first), then the rows up to it
        counted."""
        view, session = self.view, self.reader.session
        after = bound if backward else sql.SQL("{} AND {}").format(bound, view.not_at(keys))
        if self.reader.paged:
            far = session.one(view.first_match_in_order_query(after, text, backward))
        else:
            far = session.one(view.first_match_query(after, text, backward))
        if far is None:
            return None
        place = view.place_of(list(far))
        if backward:  # rows in (match, row): the count holds the match too
            between = view.bound(place, ">=")
            return int(session.scalar(view.between_query(bound, between))), place
        # rows in [row, match): the match is the next one
        between = view.bound(place, "<")
        return int(session.scalar(view.between_query(bound, between))) + 1, place

    def _search_by_position(self, position: int, text: str, backward: bool) -> int | None:
        """Search where the order is not total: by row number from the first row (the
        same order the cursors read), then the match is checked by its identity where the
        view lands; a mismatch (the rows moved) is said, never shown."""
        view = self.view

        def find() -> tuple[int, tuple[str | None, ...]] | None:
            found = self.reader.session.one(view.search_by_position_query(text, position, backward))
            if found is None:
                return None
            number, *keys = found[:-1]
            values = dict(zip(view.hidden, keys, strict=True))
            return int(number) - 1, tuple(values[k] for k in view.identity)

        result = self._run(f"searching {view.relation.qualified}", find)
        if result is None:
            return None
        target, identity = result
        size = self.reader.page_size
        rows = self._load(target // size)
        index = target % size
        if index >= len(rows) or view.hidden_values(rows[index], view.identity) != identity:
            raise Refused("Search lost its place", "the rows moved while searching: search again")
        return target

    # -- the row a foreign key names ------------------------------------------------------
    def land(self, landing: Landing) -> Anchor:
        """An anchor on the row ``landing`` names, found by a seek on its (unique) columns:
        its place counted exactly in a small view, estimated from the order's statistics
        in a large one (the rows before it are read backward from it, as after any seek).
        Where the order is not total (no key to read from a row on), the view is filtered
        to the row instead, and says so."""
        reader, view = self.reader, self.view
        relation = view.relation.qualified
        where = landing.describe()
        if not view.total_order:
            reader.view = view.with_(filter=check_expression(landing.filter_text()))
            reader.row_count, reader.landed = 1, 0
            self._tell("landed alone")
            return Anchor(Place.START, 0, 0, key="(0,0)")
        found = reader.session.all(view.landing_query(landing.columns, landing.values))
        if not found:
            raise Refused(
                "No such row", f"{relation} has no row with {where} (deleted, or not enforced)"
            )
        if len(found) > 1:
            raise Refused("Not one row", f"{relation} has more than one {where}")
        strategy = view.strategy
        anchor = Anchor(Place.SEEK, 0, 0, view.place_of(found[0]))
        bound = reader.bound(anchor, "<")
        near = WALK_PAGES * reader.page_size
        small = reader.row_count <= SMALL_TABLE_ROWS or not strategy.seeks
        # Exact in a small view (a view that cannot seek walks anyway), and for a row near
        # the start of a large one (counting at most ``near`` rows finds that out).
        before = self._before(anchor, bound, None if small else near)
        if not small and before >= near:  # far from the start: estimated (≈)
            if isinstance(strategy, Keyset):
                fraction = strategy.fraction_of(str(anchor.key[0]))
            else:
                assert isinstance(strategy, Ctid)
                fraction = tid_block(anchor.key) / max(strategy.blocks, 1)
            before = min(reader.row_count - 1, max(near, round(fraction * reader.row_count)))
            anchor.frame = reader.new_frame()
        anchor.base = reader.landed = before
        return anchor

    def _before(self, anchor: Anchor, bound: sql.Composable, limit: int | None) -> int:
        """The rows before ``anchor`` (``bound``), counting at most ``limit``. Ordered first
        by a distribution column (``View.routed_key``), the rows of the anchor's value come
        first, counted on its shard alone; every shard is asked only if they are too few."""
        view, session = self.view, self.reader.session
        key = view.routed_key
        if limit is not None and key is not None:
            within = sql.SQL("{} AND {}").format(bound, view.key_is(key, anchor.key[0]))
            before = int(session.scalar(view.before_query(within, limit)))
            if before >= limit:
                return before
        return int(session.scalar(view.before_query(bound, limit)))

    def fetch_cell(self, row: Row, column: int, limit: int = CELL_LIMIT) -> CellValue:
        """The whole value of ``column`` in ``row``, found again by the row's identity in
        this snapshot, cut at ``limit`` characters on the server, with its full length. A
        row of a view without an identity cannot be found again: Refused says so."""
        return self._values(row, limit, (column,), "Cannot open the cell")[0]

    def fetch_record(self, row: Row, limit: int = RECORD_LIMIT) -> list[CellValue]:
        """Every column of ``row``, whole up to ``limit`` characters each (the record view):
        in one statement, or one per 800 columns (each column is two of a statement's at
        most 1,664 targets), all in the view's one snapshot."""
        count = len(self.view.columns)
        if count <= RECORD_COLUMNS:
            return self._values(row, limit, None, "Cannot show the row")
        values: list[CellValue] = []
        for start in range(0, count, RECORD_COLUMNS):
            wanted = tuple(range(start, min(start + RECORD_COLUMNS, count)))
            values += self._values(row, limit, wanted, "Cannot show the row")
        return values

    def _values(
        self, row: Row, limit: int, columns: tuple[int, ...] | None, failing: str
    ) -> list[CellValue]:
        if not self.view.identity:
            raise Refused(
                failing,
                "this view has no unique key to find the row again by (pgbrowse does not guess)",
            )

        def read() -> list[CellValue]:
            found = self.reader.session.all(self.view.record_query(row, limit, columns))
            if not found:
                raise Refused(failing, "the row is no longer there")
            if len(found) > 1:
                raise Refused(failing, "the row's key is not unique here")
            pairs = found[0] if self.view.columns or columns else ()
            return [
                CellValue(text, int(full or 0), text is not None and int(full) > limit)
                for text, full in zip(pairs[::2], pairs[1::2], strict=True)
            ]

        return self._run("reading the row", read)
