"""ColumnLayout: which columns a table view draws, in what order, and where on the line.

Pinned columns come first and stay put when the view scrolls right (the key is pinned by
default); the rest scroll; hidden columns are not drawn. ``pieces`` says, for a horizontal
scroll offset and a width, which part of each column is on screen, so a column cut at
either edge can still draw its name and type readably (fitted into the part shown) rather
than a cropped middle of them. Pure: no Textual, no rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Piece:
    """The part of column ``index`` on screen: ``width`` cells from ``x`` (after the row
    numbers), the first ``skip`` cells of it scrolled off to the left."""

    index: int
    x: int
    skip: int
    width: int
    full: int  # the column's cells, with its separator

    @property
    def partial(self) -> bool:
        return self.width < self.full


@dataclass
class ColumnLayout:
    widths: list[int]  # each column's text width (without the separator)
    hidden: set[int] = field(default_factory=set)
    pinned: list[int] = field(default_factory=list)

    def order(self) -> list[int]:
        """The drawn columns, left to right: the pinned ones, then the others."""
        return [i for i in self.pinned if i not in self.hidden] + self.scrolled()

    def scrolled(self) -> list[int]:
        pinned = set(self.pinned)
        return [i for i in range(len(self.widths)) if i not in self.hidden and i not in pinned]

    @property
    def pinned_width(self) -> int:
        return sum(self.widths[i] + 1 for i in self.pinned if i not in self.hidden)

    @property
    def scroll_width(self) -> int:
        return sum(self.widths[i] + 1 for i in self.scrolled())

    def offset(self, index: int) -> int:
        """Where a scrolled column starts, in the scrolled part."""
        x = 0
        for i in self.scrolled():
            if i == index:
                return x
            x += self.widths[i] + 1
        return x

    def pieces(self, scroll_x: int, width: int) -> list[Piece]:
        """What of each column is on screen in ``width`` cells, scrolled by ``scroll_x``."""
        out: list[Piece] = []
        x = 0
        pinned = [i for i in self.pinned if i not in self.hidden]
        scrolled = self.scrolled()
        for i in pinned:
            full = self.widths[i] + 1
            take = min(full, width - x)
            if take <= 0:
                return out
            out.append(Piece(i, x, 0, take, full))
            x += take
        left, view = x, width - x
        start = -scroll_x
        for i in scrolled:
            full = self.widths[i] + 1
            end = start + full
            if start >= view:
                break
            if end > 0:
                at = max(start, 0)
                out.append(Piece(i, left + at, at - start, min(end, view) - at, full))
            start = end
        return out

    def column_at(self, x: int, scroll_x: int, width: int) -> int | None:
        for piece in self.pieces(scroll_x, width):
            if piece.x <= x < piece.x + piece.width:
                return piece.index
        return None

    # -- changes -----------------------------------------------------------------------
    def hide(self, index: int) -> bool:
        """Hide a column (never the last one drawn)."""
        if index in self.hidden or len(self.order()) <= 1:
            return False
        self.hidden.add(index)
        return True

    def toggle_pin(self, index: int) -> None:
        if index in self.pinned:
            self.pinned.remove(index)
        else:
            self.pinned.append(index)

    def nearest(self, index: int) -> int:
        """``index`` if drawn, else the next drawn column after it (the one before it at
        the end)."""
        order = self.order()
        if index in order or not order:
            return index
        after = [i for i in order if i > index]
        return after[0] if after else order[-1]
