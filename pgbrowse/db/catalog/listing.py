"""Listing: which lines of a CatalogIndex the relation list shows, in which order.

Parents (partitioned tables, inheritance parents) come with their trees folded: expanded,
their children follow them, indented; a filter that matches a child shows it under its
parents. The order is by name, or by the estimated rows or size (largest first) of the
top-level relations, children staying under their parents. A filter is applied a slice of
the catalog at a time (``step``), so the first lines can be drawn before the last slice is
looked at; no Textual here, so it is tested on its own.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator

from pgbrowse.db.catalog.index import CatalogIndex

SORTS = ("name", "rows", "size")


class Listing:
    def __init__(self, index: CatalogIndex) -> None:
        self.index = index
        self.sort = "name"
        self.chunk = 20_000  # lines the filter looks at per step
        self.text = ""
        self.expanded: set[tuple[str, str]] = set()  # by (schema, name): kept across reloads
        self.lines = array("i")
        self.done = True  # the filter has looked at every line
        self._matches = array("i")
        self._pending: Iterator[array[int]] | None = None
        self._tops_by: dict[str, array[int]] = {}
        self.rebuild()

    # -- what changes it ---------------------------------------------------------------
    def replace_index(self, index: CatalogIndex) -> None:
        """A new catalog (the whole one after the first screenful, or a reload): the same
        filter, order and expanded parents."""
        self.index = index
        self._tops_by = {}
        self.set_filter(self.text)

    def set_filter(self, text: str) -> None:
        """Start filtering by ``text`` (every word, case-insensitive, in schema.name or the
        kind); the first slice is looked at now, the rest by ``step``."""
        self.text = text
        pattern: re.Pattern[str] | None = self.index.matcher(text)
        self._matches = array("i")
        self._pending = None if pattern is None else self.index.matching(pattern, self.chunk)
        self.done = pattern is None
        if not self.done:
            self.step()
        else:
            self.rebuild()

    def step(self) -> bool:
        """Look at the next slice of the catalog; False once every line has been."""
        if self._pending is None:
            return False
        found = next(self._pending, None)
        if found is None:
            self._pending = None
            self.done = True
            self.rebuild()
            return False
        self._matches.extend(found)
        if len(self.lines) < 200:  # (the screen fills from the first slices; the rest at the end)
            self.rebuild()
        return True

    def finish(self) -> None:
        while self.step():
            pass

    def set_sort(self, sort: str) -> None:
        self.sort = sort
        self.rebuild()

    def next_sort(self) -> str:
        self.set_sort(SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)])
        return self.sort

    def toggle(self, line: int) -> bool:
        """Expand or fold the parent at ``line``; False if it has no children."""
        if line not in self.index.children:
            return False
        entry = self.index.entry(line)
        key = (entry.schema, entry.name)
        self.expanded.symmetric_difference_update({key})
        self.rebuild()
        return True

    def is_expanded(self, line: int) -> bool:
        entry = self.index.entry(line)
        return (entry.schema, entry.name) in self.expanded

    # -- the lines shown ---------------------------------------------------------------
    def _tops(self) -> array[int]:
        """The top-level lines in the order shown."""
        if self.sort == "name":
            return self.index.tops
        if self.sort not in self._tops_by:
            value = self.index.rows_of if self.sort == "rows" else self.index.size_of
            ordered = sorted(self.index.tops, key=lambda i: (-value(i), i))
            self._tops_by[self.sort] = array("i", ordered)
        return self._tops_by[self.sort]

    def _expanded_lines(self) -> set[int]:
        if not self.expanded:
            return set()
        return {p for p in self.index.children if self._key(p) in self.expanded}

    def _key(self, line: int) -> tuple[str, str]:
        entry = self.index.entry(line)
        return entry.schema, entry.name

    def rebuild(self) -> None:
        index = self.index
        open_ = self._expanded_lines()
        if not self.text.split():  # everything: the tops, and the trees expanded
            tops = self._tops()
            if not open_:
                self.lines = tops
                return
            lines = array("i")
            for top in tops:
                lines.append(top)
                if top in open_:
                    self._descend(top, open_, lines)
            self.lines = lines
            return
        # Filtered: each match under its parents, grouped by its top-level relation.
        groups: dict[int, list[int]] = {}
        for line in self._matches:
            top = line
            while index.parent[top] >= 0:
                top = index.parent[top]
            groups.setdefault(top, []).append(line)
        if self.sort == "name":
            order = sorted(groups)
        else:
            value = index.rows_of if self.sort == "rows" else index.size_of
            order = sorted(groups, key=lambda i: (-value(i), i))
        lines = array("i")
        for top in order:
            shown = {top}
            lines.append(top)
            for line in groups[top]:
                chain = []
                parent = line
                while parent not in shown:
                    chain.append(parent)
                    parent = index.parent[parent]
                for ancestor in reversed(chain):
                    shown.add(ancestor)
                    lines.append(ancestor)
                if line in open_:
                    self._descend(line, open_, lines, shown)
            if top in open_ and groups[top] == [top]:
                self._descend(top, open_, lines, shown)
        self.lines = lines

    def _descend(
        self, parent: int, open_: set[int], lines: array[int], shown: set[int] | None = None
    ) -> None:
        for child in self.index.children.get(parent, ()):
            if shown is not None:
                if child in shown:
                    continue
                shown.add(child)
            lines.append(child)
            if child in open_:
                self._descend(child, open_, lines, shown)

    @property
    def matched(self) -> int:
        """How many lines the filter matched so far (all lines without one)."""
        return len(self._matches) if self.text.split() else self.index.count
