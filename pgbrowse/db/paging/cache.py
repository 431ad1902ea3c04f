"""PageCache: fetched pages by (snapshot, frame, page), evicted least-recently-used past a
byte budget (it holds the current snapshot's pages only).

A page belongs to one snapshot: the rows a transaction saw. ``begin_snapshot`` is the one
place a view moves to a new one, and it drops every page of the old, so no page of an old
snapshot is ever drawn beside a page of the new (issue 25). Within a snapshot, a frame is one
numbering of the rows: frame 0 counts from the first row (exact); any other is one seek's
estimate, and its pages are never mixed with another frame's. Safe to use from any thread:
the loader fills it, the view reads it while drawing (always the current snapshot's pages).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

Row = tuple[str | None, ...]


def row_bytes(row: Row) -> int:
    """What a fetched row costs in client memory (the tuple and its strings)."""
    return sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row if v is not None)


@dataclass(frozen=True)
class CacheStats:
    """What the client cache holds right now."""

    pages: int
    rows: int
    bytes: int
    budget: int


@dataclass
class _Page:
    rows: list[Row]
    nbytes: int


class PageCache:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._pages: OrderedDict[tuple[int, int], _Page] = OrderedDict()  # this snapshot's
        self._bytes = 0
        self._lock = threading.Lock()
        self.snapshot = 0  # the snapshots begun (0: none yet)

    def begin_snapshot(self) -> bool:
        """The view's next statement reads in a new snapshot: every page of the old one goes.
        True when there were some (the pages in sight are read again)."""
        with self._lock:
            dropped = bool(self._pages) and self.snapshot > 0
            self._pages.clear()
            self._bytes = 0
            self.snapshot += 1
            return dropped

    def get(self, frame: int, page: int) -> list[Row] | None:
        with self._lock:
            entry = self._pages.get((frame, page))
            if entry is None:
                return None
            self._pages.move_to_end((frame, page))
            return entry.rows

    def put(self, frame: int, page: int, rows: list[Row], snapshot: int | None = None) -> None:
        """Keep ``rows`` as ``page`` of ``frame``, read in ``snapshot`` (None: the current
        one); rows of a snapshot that has ended are not kept."""
        nbytes = sys.getsizeof(rows) + sum(row_bytes(r) for r in rows)
        with self._lock:
            if snapshot is not None and snapshot != self.snapshot:
                return
            old = self._pages.pop((frame, page), None)
            if old is not None:
                self._bytes -= old.nbytes
            self._pages[(frame, page)] = _Page(rows, nbytes)
            self._bytes += nbytes
            while self._bytes > self.budget and len(self._pages) > 1:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= evicted.nbytes

    def drop_frame(self, frame: int) -> None:
        with self._lock:
            for key in [k for k in self._pages if k[0] == frame]:
                self._bytes -= self._pages.pop(key).nbytes

    def keep_only(self, frame: int, pages: set[int]) -> None:
        """Drop every page but these of ``frame`` (a view covered by another keeps what
        is in sight)."""
        with self._lock:
            for key in [k for k in self._pages if k[0] != frame or k[1] not in pages]:
                self._bytes -= self._pages.pop(key).nbytes

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def pages_of(self, frame: int) -> dict[int, int]:
        """The pages of ``frame`` held, with their rows."""
        with self._lock:
            return {page: len(e.rows) for (f, page), e in self._pages.items() if f == frame}

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                pages=len(self._pages),
                rows=sum(len(p.rows) for p in self._pages.values()),
                bytes=self._bytes,
                budget=self.budget,
            )
