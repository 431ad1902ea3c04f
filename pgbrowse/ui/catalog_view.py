"""CatalogView: the relation list's table, drawn a visible line at a time (Line API).

It holds no widget or row object per relation: each visible line is drawn from the
``Listing`` when Textual asks for it, so 100,000 relations cost what 30 do on screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pgbrowse.db.catalog.index import SIZE_CAPPED, Entry
from pgbrowse.db.catalog.listing import Listing
from pgbrowse.memory import human_bytes
from pgbrowse.ui.cells import fit
from pgbrowse.ui.safe import shown

COLUMNS: tuple[tuple[str, int, int], ...] = (  # (name, least width, most width)
    ("schema", 6, 28),
    ("name", 4, 52),
    ("kind", 4, 17),
    ("rows (est.)", 13, 13),
    ("size", 9, 9),
)
NO_ACCESS = "no access"


class CatalogView(ScrollView, can_focus=False):
    """The list's lines: schema, name (indented under its parent), kind, rows, size and
    the comment; a relation you may not read says so in place of its comment."""

    DEFAULT_CSS = """
    CatalogView { height: 1fr; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "catalogview--header",
        "catalogview--cursor",
        "catalogview--odd",
        "catalogview--denied",
    }
    DEFAULT_CSS += """
    CatalogView > .catalogview--header { text-style: bold; background: $primary 40%; }
    CatalogView > .catalogview--cursor { background: $accent 60%; }
    CatalogView > .catalogview--odd { background: $surface-lighten-1 30%; }
    CatalogView > .catalogview--denied { color: $text-muted; }
    """

    class Moved(Message):
        """The cursor moved (the screen updates its status line)."""

    def __init__(self, listing: Listing, id: str | None = None) -> None:
        super().__init__(id=id)
        self.listing = listing
        self.cursor = 0
        self._widths_for: tuple[object, list[tuple[str, int, int]]] = (None, [])

    # -- the model changed -------------------------------------------------------------
    def lines_changed(self) -> None:
        """The listing's lines changed: size, cursor and screen follow."""
        count = len(self.listing.lines)
        self.virtual_size = Size(self.size.width, count + 1)
        self.cursor = max(0, min(self.cursor, count - 1))
        self.refresh()

    @property
    def current(self) -> Entry | None:
        lines = self.listing.lines
        if 0 <= self.cursor < len(lines):
            return self.listing.index.entry(lines[self.cursor])
        return None

    def move(self, delta: int | None = None, to: int | None = None) -> None:
        count = len(self.listing.lines)
        if not count:
            return
        target = to if to is not None else self.cursor + (delta or 0)
        self.cursor = max(0, min(count - 1, target))
        page = max(1, self.scrollable_content_region.height - 1)
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= self.scroll_y + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Moved())

    @property
    def page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    # -- drawing -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            style = self.get_component_rich_style("catalogview--header")
            head = "".join(fit(name, wide) + " " for name, _, wide in self._widths(width))
            return Strip([Segment(fit(head + "comment", width), style)], width)
        row = int(self.scroll_y) + y - 1
        lines = self.listing.lines
        if row >= len(lines):
            return Strip.blank(width, base)
        entry = self.listing.index.entry(lines[row])
        style = base
        if not entry.readable:
            style += self.get_component_rich_style("catalogview--denied")
        if row % 2:
            style += self.get_component_rich_style("catalogview--odd")
        if row == self.cursor:
            style += self.get_component_rich_style("catalogview--cursor")
        return Strip([Segment(fit(self._text(entry), width), style)], width)

    def _widths(self, width: int) -> list[tuple[str, int, int]]:
        """Each column's name, least and drawn width: as wide as the visible lines need
        (up to a bound), the comment taking what is left."""
        lines = self.listing.lines
        top = int(self.scroll_y)
        key = (width, top, id(lines), len(lines), self.listing.sort, len(self.listing.expanded))
        if self._widths_for[0] == key:
            return self._widths_for[1]
        needed = {name: len(name) for name, _, _ in COLUMNS}
        index = self.listing.index
        for row in range(top, min(len(lines), top + self.size.height)):
            entry = index.entry(lines[row])
            needed["schema"] = max(needed["schema"], cell_len(shown(entry.schema)))
            name = 2 * index.depth(entry.line) + cell_len(shown(entry.name))
            if entry.children:
                name += 4 + len(f"{entry.children:,}") + 2
            needed["name"] = max(needed["name"], name)
            needed["kind"] = max(needed["kind"], len(entry.kind_name))
        out = [(name, least, max(least, min(needed[name], most))) for name, least, most in COLUMNS]
        self._widths_for = (key, out)
        return out

    def _text(self, entry: Entry) -> str:
        widths = [wide for _, _, wide in self._widths(self.scrollable_content_region.width)]
        depth = self.listing.index.depth(entry.line)
        mark = ""
        if entry.children:
            mark = "▾ " if self.listing.is_expanded(entry.line) else "▸ "
        name = "  " * depth + mark + shown(entry.name)
        if entry.children:
            name += f" ({entry.children:,})"
        rows = "?" if entry.rows is None else f"~{entry.rows:,}"
        note = shown(entry.comment.splitlines()[0]) if entry.comment else ""
        if not entry.readable:
            note = f"{NO_ACCESS}  {note}".rstrip()
        cells = [
            fit(shown(entry.schema), widths[0]),
            fit(name, widths[1]),
            fit(entry.kind_name, widths[2]),
            fit(rows, widths[3], right=True),
            fit(
                ("≥" if entry.size >= SIZE_CAPPED else "") + human_bytes(entry.size),
                widths[4],
                right=True,
            ),
        ]
        return " ".join(cells) + " " + note
