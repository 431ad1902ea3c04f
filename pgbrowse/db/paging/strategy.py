"""How a view reaches a place in its rows: three strategies behind one small protocol.

- ``Keyset``: the rows are read ``ORDER BY`` a list of columns that ends in a unique
  identity. A far seek starts at ``WHERE (k1, k2…) >= (v1, v2…)``, v1 interpolated from the
  ``pg_stats`` histogram of k1; the rows before come from the reverse order.
- ``Ctid``: a plain table (no children) read in physical order; a far seek starts at
  ``WHERE ctid >= '(b,0)'``, b a block: a TID range scan (PostgreSQL 14+).
- ``Walk``: nothing to seek on; far jumps ``MOVE`` over the rows on the server.

Each says whether it seeks, where a seek to a fraction of the rows starts, and, in plain
words, how jumps work here. No connection, no threads: the pager asks, the view composes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Strategy:
    """The common part: the order's columns (without the direction) and the reason."""

    keys: tuple[str, ...] = ()  # ORDER BY columns; () is physical order
    descending: bool = False
    why: str = ""  # for the UI: how jumps work here, in plain words
    sorts_everything: bool = False  # the server must sort every row before the first

    method = "walk"  # a name, for the inspector and tests

    @property
    def seeks(self) -> bool:
        """Can a far move start a cursor at the place, instead of walking to it?"""
        return False

    @property
    def by_ctid(self) -> bool:
        return False


@dataclass(frozen=True)
class Walk(Strategy):
    """Far jumps walk (``MOVE``) the rows on the server."""


@dataclass(frozen=True)
class Keyset(Strategy):
    """Ordered by ``keys`` (a total order); seeks by the histogram of ``keys[0]``."""

    bounds: tuple[Any, ...] = ()  # histogram bounds of keys[0] (ints or texts)
    integer_key: bool = False
    ends_read: bool = False  # bounds are the key's min and max, read when it was planned
    method = "keyset"

    @property
    def seeks(self) -> bool:
        return len(self.bounds) >= 2

    def key_at(self, fraction: float) -> Any:
        """The first key's value about ``fraction`` of the way through the rows."""
        bounds = self.bounds
        if self.descending:
            fraction = 1.0 - fraction
        x = min(max(fraction, 0.0), 1.0) * (len(bounds) - 1)
        i = min(int(x), len(bounds) - 2)
        lo, hi = bounds[i], bounds[i + 1]
        if self.integer_key:
            return int(lo + (hi - lo) * (x - i))
        return lo if x - i < 0.5 else hi

    def fraction_of(self, value: str) -> float:
        """About how far through the rows the first key's ``value`` (its text) is: the
        inverse of ``key_at``, for the position of a row found by its key."""
        bounds = self.bounds
        try:
            at: Any = float(value) if self.integer_key else value
        except ValueError:
            return 0.5
        i = bisect.bisect_right(bounds, at) - 1
        if i < 0:
            fraction = 0.0
        elif i >= len(bounds) - 1:
            fraction = 1.0
        else:
            lo, hi = bounds[i], bounds[i + 1]
            within = (at - lo) / (hi - lo) if self.integer_key and hi != lo else 0.5
            fraction = (i + within) / (len(bounds) - 1)
        return 1.0 - fraction if self.descending else fraction


@dataclass(frozen=True)
class Ctid(Strategy):
    """Physical order of one heap; seeks by block."""

    blocks: int = 0  # the relation's size in blocks when it was opened
    # Where the view's rows are, when they are not spread evenly (a filter, row security):
    # sorted block numbers of a sample of them, or () to assume an even spread.
    sample: tuple[int, ...] = field(default=())
    method = "ctid"

    @property
    def seeks(self) -> bool:
        return True

    @property
    def by_ctid(self) -> bool:
        return True

    def block_at(self, fraction: float) -> int:
        """The block about ``fraction`` of the way through the view's rows."""
        fraction = min(max(fraction, 0.0), 1.0)
        if self.sample:
            return self.sample[min(len(self.sample) - 1, int(fraction * len(self.sample)))]
        return min(self.blocks, max(0, math.floor(fraction * self.blocks)))
