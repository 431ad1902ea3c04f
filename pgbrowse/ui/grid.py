"""Grid: the columns of a TableView: their widths, which are drawn (hidden, pinned), how
a line of them is drawn from the page cache, and moving the cursor across them. A base of
TableView (kept apart so each module stays readable); rows, paging and the loader are
TableView's.

Each line is built from the columns on screen only (``ColumnLayout.pieces``): a column cut
at an edge draws the part shown, and in the header its name and type fitted into it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.paging.cache import PageCache, Row
from pgbrowse.db.paging.state import ViewState
from pgbrowse.db.paging.view import fat_placeholder
from pgbrowse.ui.cells import NULL_TEXT, fit, visible
from pgbrowse.ui.columns import ColumnLayout, Piece
from pgbrowse.ui.safe import shown

HEADER_LINES = 2  # column names, then their types
MAX_COLUMN_WIDTH = 40
MIN_COLUMN_WIDTH = 4
PLACEHOLDER = "·"
CURSOR_MARK = "▸"
FOREIGN_MARK = "→"  # after the name of a column in a foreign key (o follows it)
LINES_KEPT = 400  # drawn row lines kept for redrawing (about 8 screens of 50 lines)


class _Styles(NamedTuple):
    """The styles a row line is drawn with (looked up once, not per line)."""

    base: Style
    cursor: Style
    rownum: Style
    cursor_rownum: Style
    null: Style
    placeholder: Style
    cursor_cell: Style


class Grid(ScrollView):
    """The column half of a TableView (which sets the state, cache and error it draws)."""

    HELP_GROUP = "Columns"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "cursor_left", "Left", show=False),
        Binding("right,l", "cursor_right", "Right", show=False),
        Binding("minus", "hide_column", "Hide column", show=False),
        Binding("P", "pin_column", "Pin column", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)
    cursor_col: reactive[int] = reactive(0, init=False)

    state: ViewState
    cache: PageCache
    error: PgBrowseError | None
    start_column: str | None

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.column_layout = ColumnLayout([])  # which columns are drawn, pinned, hidden
        self.laid_out = False  # the columns are known (there may be none: a zero-column table)
        self._sampled = False  # the widths were measured on rows (not only the header)
        self._gutter = 0
        # Drawn row lines, as DataTable keeps them: a line is drawn again only when its row,
        # the cursor on it, the columns shown or the styles changed. Key: the row, the
        # cursor's column on it (-1: not the cursor row), the scroll, the width, the row
        # numbers' width, the frame and ``_drawn_version`` (bumped when the columns or
        # styles change); the value keeps the row's values object, so a row read again (a
        # new page, a new frame) is redrawn.
        self._lines: OrderedDict[tuple[int, ...], tuple[object, Strip]] = OrderedDict()
        self._drawn_version = 0
        self._styles: _Styles | None = None
        self._pieces_for: tuple[tuple[int, int, int, int], list[Piece]] | None = None

    @property
    def widths(self) -> list[int]:
        return self.column_layout.widths

    @property
    def row_count(self) -> int:
        return self.state.row_count

    def _layout(self, sample: list[Row]) -> None:
        """Column widths from the header and the first rows, capped; the key pinned."""
        truncate = self.state.truncate
        widths = []
        linked = self.state.view.references.columns
        for i, column in enumerate(self.state.columns):
            width = max(
                cell_len(shown(column.name)) + (column.name in linked),
                cell_len(shown(column.type_name)),
                MIN_COLUMN_WIDTH,
            )
            if column.numeric:  # ids grow down the table: leave room for the row count's digits
                width = max(width, len(str(self.row_count)) + 1)
            for row in sample[:50]:
                value = row[i]
                if value is not None:
                    value = fat_placeholder(value, column) or value
                width = max(width, cell_len(visible(value, truncate)) if value is not None else 4)
            widths.append(min(width, MAX_COLUMN_WIDTH))
        if not self.laid_out:  # (the first time: later the user's choices are kept)
            names = [c.name for c in self.state.columns]
            key = [names.index(k) for k in self.state.view.identity if k in names]
            self.column_layout = ColumnLayout(widths, pinned=key if len(key) < len(names) else [])
            if self.start_column in names:
                self.call_after_refresh(self.show_column, names.index(self.start_column))
        else:
            self.column_layout.widths = widths
        self._redraw_all()
        self._sampled = bool(sample)
        self.laid_out = True

    def _sync_size(self) -> None:
        self._gutter = len(f"{max(self.row_count, 1):,}") + 1
        width = self._gutter + self.column_layout.pinned_width + self.column_layout.scroll_width
        size = Size(width, self.row_count + HEADER_LINES)
        if size != self.virtual_size:
            longer_or_shorter = size.height != self.virtual_size.height
            self.virtual_size = size
            if longer_or_shorter:  # (a scroll before the next layout is held to the old size)
                self.call_after_refresh(self._size_settled)

    def _size_settled(self) -> None:
        """The view has been laid out at a new number of rows (a subclass shows its cursor
        and wants the pages in sight then)."""

    # -- drawing ---------------------------------------------------------------------------
    def _redraw_all(self) -> None:
        """Forget every drawn line (the columns, their widths or the styles changed)."""
        self._drawn_version += 1
        self._lines.clear()
        self._styles = None
        self._pieces_for = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._redraw_all()  # (a new theme, a focus style)

    def _row_styles(self) -> _Styles:
        if self._styles is None:
            base = self.rich_style
            cursor = base + self.get_component_rich_style("tableview--cursor")

            def part(name: str) -> Style:
                return self.get_component_rich_style(f"tableview--{name}", partial=True)

            rownum = part("rownum")
            self._styles = _Styles(
                base,
                cursor,
                base + rownum,
                cursor + rownum,
                part("null"),
                part("placeholder"),
                part("cursor-cell"),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self.laid_out:
            # (an error quotes the server, which may quote the data: its controls are shown)
            text = "loading…" if self.error is None else shown(self.error.message)
            # Always a style: Textual's NO_COLOR filter needs one on every segment.
            line = Segment(fit(text if y == 0 else "", width), self.rich_style)
            return Strip([line]) if width > 0 else Strip([])
        if y < HEADER_LINES:
            return self._header_line(y, width)
        row = int(self.scroll_y) + y - HEADER_LINES
        if row >= self.row_count:
            return Strip.blank(width, self.rich_style)
        return self._row_line(row, width)

    def _line(self, gutter: Segment, cells: list[Segment], width: int, base: Style) -> Strip:
        """One line; neighbouring segments of one style joined (each segment is written to
        the terminal with its own style sequences: a row of plain cells becomes one)."""
        return Strip([gutter, *cells]).adjust_cell_length(width, base).simplify()

    def _pieces(self, width: int) -> list[Piece]:
        key = (int(self.scroll_x), width, self._gutter, self._drawn_version)
        if self._pieces_for is None or self._pieces_for[0] != key:
            self._pieces_for = (key, self.column_layout.pieces(key[0], width - self._gutter))
        return self._pieces_for[1]

    @staticmethod
    def _cut(text: str, style: Style, piece: Piece) -> list[Segment]:
        """The part of a cell on screen (a column cut at an edge)."""
        if not piece.partial:
            return [Segment(text, style)]
        return list(Strip([Segment(text, style)]).crop(piece.skip, piece.skip + piece.width))

    def _header_line(self, y: int, width: int) -> Strip:
        style = self.get_component_rich_style("tableview--header" if y == 0 else "tableview--type")
        label = ("#" if self.state.positions_exact else "≈#") if y == 0 else ""
        cells: list[Segment] = []
        order = self.state.order
        columns = self.state.columns
        linked = self.state.view.references.columns
        for piece in self._pieces(width):
            column = columns[piece.index]
            text = shown(column.name if y == 0 else column.type_name)
            if y == 0 and order is not None and order[0] == column.name:
                text = ("▼" if order[1] else "▲") + text
            if y == 0 and column.name in linked:
                text += FOREIGN_MARK
            if piece.partial:  # cut at an edge: the name and type fitted into what shows
                cells.append(Segment(fit(text, piece.width - 1, column.numeric) + " ", style))
                continue
            cells.append(Segment(fit(text, self.widths[piece.index], column.numeric) + " ", style))
        return self._line(
            Segment(fit(label, self._gutter - 1, True) + " ", style), cells, width, style
        )

    def _row_line(self, row: int, width: int) -> Strip:
        page = self.cache.get(self.state.frame, row // self.state.page_size)
        values: Row | None = None
        if page is not None:
            index = row % self.state.page_size
            values = page[index] if index < len(page) else None
        is_cursor = row == self.cursor_row
        key = (
            row,
            self.cursor_col if is_cursor else -1,
            int(self.scroll_x),
            width,
            self._gutter,  # (the row numbers' width: the count's digits)
            self.state.frame,
            self._drawn_version,
        )
        kept = self._lines.get(key)
        if kept is not None and kept[0] is values and values is not None:
            self._lines.move_to_end(key)
            return kept[1]
        line = self._draw_row(row, values, is_cursor, width)
        if values is not None:  # (a placeholder line is drawn again when the row comes)
            self._lines[key] = (values, line)
            if len(self._lines) > LINES_KEPT:
                self._lines.popitem(last=False)
        return line

    def _draw_row(self, row: int, values: Row | None, is_cursor: bool, width: int) -> Strip:
        styles = self._row_styles()
        base = styles.cursor if is_cursor else styles.base
        gutter = Segment(
            # The cursor row is marked with a glyph too, not only a colour (NO_COLOR, mono).
            f"{row + 1:>{self._gutter - 1},}{CURSOR_MARK if is_cursor else ' '}",
            styles.cursor_rownum if is_cursor else styles.rownum,
        )
        cells: list[Segment] = []
        columns = self.state.columns
        truncate = self.state.truncate
        widths = self.widths
        for piece in self._pieces(width):
            i = piece.index
            column, w = columns[i], widths[i]
            if values is None:
                text, style = fit(PLACEHOLDER, w), base + styles.placeholder
            elif (value := values[i]) is None:
                text, style = fit(NULL_TEXT, w, column.numeric), base + styles.null
            elif (placeholder := fat_placeholder(value, column)) is not None:
                text, style = fit(placeholder, w), base + styles.null  # (not converted)
            else:
                text = fit(visible(value, truncate), w, column.numeric)
                style = base
            if is_cursor and i == self.cursor_col:
                style = style + styles.cursor_cell
            if piece.partial:
                cells += self._cut(text + " ", style, piece)
            else:
                cells.append(Segment(text, style))
                cells.append(Segment(" ", base))
        return self._line(gutter, cells, width, base)

    def action_cursor_left(self) -> None:
        self._move_column(-1)

    def action_cursor_right(self) -> None:
        self._move_column(1)

    def _move_column(self, step: int) -> None:
        """Move the cursor ``step`` drawn columns right (left when negative)."""
        order = self.column_layout.order()
        if not order:
            return
        at = order.index(self.cursor_col) if self.cursor_col in order else 0
        self.show_column(order[max(0, min(at + step, len(order) - 1))])

    def show_column(self, col: int) -> None:
        """Put the cursor on column ``col`` and scroll just enough to show it whole."""
        self.cursor_col = col
        if col in self.column_layout.pinned:
            return
        left = self.column_layout.offset(col)
        right = left + self.widths[col] + 1
        view = self.scrollable_content_region.width - self._gutter - self.column_layout.pinned_width
        if left < self.scroll_x or right - left > view:
            self.scroll_to(x=left, animate=False, immediate=True)
        elif right > self.scroll_x + view:
            self.scroll_to(x=right - view, animate=False, immediate=True)

    # -- hiding and pinning columns --------------------------------------------------------
    def action_hide_column(self) -> None:
        """Hide the cursor's column (C shows it again); the cursor moves to the next."""
        if not self.laid_out or not self.column_layout.hide(self.cursor_col):
            return
        self._columns_changed()

    def action_pin_column(self) -> None:
        """Pin the cursor's column to the left (it stays when scrolling right), or unpin."""
        if not self.laid_out or not self.widths:
            return
        self.column_layout.toggle_pin(self.cursor_col)
        self._columns_changed()

    def set_hidden(self, hidden: set[int]) -> None:
        """Hide exactly these columns (at least one stays drawn)."""
        if len(hidden) >= len(self.widths):
            return
        self.column_layout.hidden = set(hidden)
        self._columns_changed()

    def _columns_changed(self) -> None:
        self._redraw_all()
        self._sync_size()
        self.refresh()
        self.show_column(self.column_layout.nearest(self.cursor_col))
