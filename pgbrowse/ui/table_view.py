"""TableView: a virtual scrolling table on Textual's Line API, fed page by page by a pager.

The view never waits on the database. ``render_line`` draws what the pager's cache holds
and a placeholder for the rest; missing pages (plus one page of prefetch in the direction
of travel) are handed to a PageLoader thread, whose results come back as messages and
repaint only the lines that arrived.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollDown, ScrollUp
from textual.strip import Strip

from pgbrowse.db.cancel import keep_cancelling
from pgbrowse.db.errors import PgBrowseError
from pgbrowse.db.loader import END, PageLoader
from pgbrowse.db.pager import CursorPager, Row
from pgbrowse.db.state import ViewState
from pgbrowse.ui.cells import NULL_TEXT, fit, visible
from pgbrowse.ui.columns import ColumnLayout, Piece
from pgbrowse.ui.position import Busy
from pgbrowse.ui.safe import shown

HEADER_LINES = 2  # column names, then their types
MAX_COLUMN_WIDTH = 40
MIN_COLUMN_WIDTH = 4
PLACEHOLDER = "·"
CURSOR_MARK = "▸"
FOREIGN_MARK = "→"  # after the name of a column in a foreign key (o follows it)


class TableView(ScrollView, can_focus=True):
    """The rows of one relation, drawn from a CursorPager's page cache.

    | Key | Action |
    | :- | :- |
    | up, k / down, j | Move the cursor one row. |
    | pageup, ctrl+b / pagedown, ctrl+f | Move one screen. |
    | home, g / end, G | First / last row. |
    | left, h / right, l | Previous / next column (scrolls horizontally). |
    | s | Sort by the cursor's column on the server: ascending, descending, none. |
    | - / P | Hide the cursor's column / pin it to the left (or unpin). |

    Far moves (End, ``goto``, a click or drag on the scrollbar) cost the same at any size on
    relations the pager can seek in; the rows are then numbered from an estimate ("≈") until
    it becomes exact, when the view shifts by the difference and keeps the same rows in sight.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First"),
        Binding("end,G", "last", "Last"),
        Binding("left,h", "cursor_left", "Left", show=False),
        Binding("right,l", "cursor_right", "Right", show=False),
        Binding("s", "sort", "Sort"),
        Binding("minus", "hide_column", "Hide column", show=False),
        Binding("P", "pin_column", "Pin column", show=False),
    ]

    COMPONENT_CLASSES = {  # noqa: RUF012
        "tableview--header",
        "tableview--type",
        "tableview--rownum",
        "tableview--cursor",
        "tableview--cursor-cell",
        "tableview--null",
        "tableview--placeholder",
    }

    DEFAULT_CSS = """
    TableView { background: $surface; }
    TableView > .tableview--header { text-style: bold; color: $text; background: $panel; }
    TableView > .tableview--type { color: $text-muted; background: $panel; }
    TableView > .tableview--rownum { color: $text-muted; }
    TableView > .tableview--cursor { background: $boost; text-style: bold; }
    TableView > .tableview--cursor-cell { background: $accent; color: $text; text-style: bold; }
    TableView > .tableview--null { color: $text-muted; text-style: italic; }
    TableView > .tableview--placeholder { color: $text-disabled; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)
    cursor_col: reactive[int] = reactive(0, init=False)

    @dataclass
    class PageLoaded(Message):
        """A page arrived in the pager's cache (or failed to)."""

        page: int
        rows: list[Row] | None
        error: PgBrowseError | None
        state: ViewState

        @property
        def control(self) -> None:
            return None

    @dataclass
    class Reported(Message):
        """The loader reported events (a reconnect, a restart of the order or filter)."""

        view: TableView
        events: tuple[str, ...]

        @property
        def control(self) -> TableView:
            return self.view

    @dataclass
    class CursorMoved(Message):
        """The cursor or the row count changed: for position displays."""

        view: TableView

        @property
        def control(self) -> TableView:
            return self.view

    @dataclass
    class Failed(Message):
        """A fetch failed; the message is for the user."""

        view: TableView
        error: PgBrowseError

        @property
        def control(self) -> TableView:
            return self.view

    def __init__(
        self,
        pager: CursorPager,
        *,
        idle_release_s: float = 0.0,
        start_column: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.start_column = start_column  # the column the cursor starts on (by name)
        self._landing = pager.landing is not None  # no page is wanted until it has landed
        self.pager = pager  # for the loader (its thread alone calls it) and cancel
        # Shared with the loader, both thread-safe: the page cache and the statement log.
        self.cache = pager.cache
        self.statements = pager.statements
        self.state = ViewState.initial(pager.relation, pager.page_size, pager.truncate)
        self.loader = PageLoader(pager, self._on_loaded, idle_release_s=idle_release_s)
        self._cancelled_job = 0  # the loader job last cancelled (Esc)
        self.column_layout = ColumnLayout([])  # which columns are drawn, pinned, hidden
        self.laid_out = False  # the columns are known (there may be none: a zero-column table)
        self._sampled = False  # the widths were measured on rows (not only the header)
        self._gutter = 0
        self._last_top = 0
        self._going_to_end = False
        self._shift = 0  # the pager's shift the view last followed
        self._frame = 0  # the pager's frame the view last drew
        self.sorting: tuple[str, bool] | None = None  # a sort asked for, until its rows land
        self._sort_before: tuple[str, bool] | None = None
        self.sort_started = 0.0  # time.monotonic() when the sort was asked for
        self.error: PgBrowseError | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.loader.start()
        if self.pager.landing is not None:  # opens on a row found by its key: no row 0 first
            self.loader.submit(CursorPager.open)
        else:
            self._request_pages()

    def park(self) -> None:
        """Covered by another view (a followed key's): keep only the pages in sight, so
        coming back draws at once from the cache, and give the transaction and the
        connection back until then (a stack of views holds one connection, the top's)."""
        size = self.state.page_size
        top = int(self.scroll_y)
        keep = range(top // size, (top + self.data_height - 1) // size + 1)
        self.cache.keep_only(self.state.frame, set(keep))

        def give_back(pager: CursorPager) -> None:
            pager.release()
            pager.session.rest()

        self.loader.submit(give_back, background=True)

    @property
    def widths(self) -> list[int]:
        return self.column_layout.widths

    def on_unmount(self) -> None:
        self.loader.stop()

    def _on_loaded(
        self, page: int, rows: list[Row] | None, error: PgBrowseError | None, state: ViewState
    ) -> None:
        # Loader thread: post_message is safe, and the message carries all the UI learns.
        self.post_message(self.PageLoaded(page, rows, error, state))

    def on_table_view_page_loaded(self, message: TableView.PageLoaded) -> None:
        message.stop()
        self.state = message.state
        if message.state.events:
            self.post_message(self.Reported(self, message.state.events))
        if "reconnected" in message.state.events:  # the cache now holds one snapshot's rows
            self.refresh()
            self.call_after_refresh(self._request_pages)
        if message.error is not None and self.sorting is not None:
            # The sort failed or was cancelled: back to the order the user had.
            self.sorting = None
            before = self._sort_before
            self.loader.submit(lambda pager: pager.set_order(*(before or (None,))))
        if message.error is not None:
            self.error = message.error
            self.post_message(self.Failed(self, message.error))
            self.refresh()
            return
        self.error = None
        if self.state.opened and (not self.laid_out or (not self._sampled and message.rows)):
            self._layout(message.rows or [])
        self._sync_size()
        if "landed" in self.state.events and self.state.landed is not None:
            self.call_after_refresh(self._land, self.state.landed)
        if "restarted" in self.state.events:
            self._frame, self._shift = self.state.frame, self.state.shift
            self.refresh()
            self.scroll_to(y=0, animate=False, immediate=True)
            self.cursor_row = 0
            self._request_pages()
        if self.sorting is not None and message.page != END:
            self.sorting = None  # its first rows are here
        followed = self._follow_positions()
        if not followed and (
            self.cursor_row >= self.row_count > 0 or (message.page == END and self._going_to_end)
        ):
            self._going_to_end = False
            # After the new virtual size is laid out, so the scroll is not clamped to the old.
            self.call_after_refresh(self.move_to, self.row_count - 1)
        if message.page != END:
            start = message.page * self.state.page_size
            self.refresh_lines(start + HEADER_LINES, self.state.page_size)
        self.post_message(self.CursorMoved(self))

    def _follow_positions(self) -> bool:
        """Follow the pager when positions moved (a seek became exact) or the frame changed.

        Keeps the same rows under the cursor and on screen; returns whether anything moved.
        """
        state = self.state
        delta = state.shift - self._shift
        if not delta and state.frame == self._frame:
            return False
        self._shift, self._frame = state.shift, state.frame
        self.refresh()  # every line: the cache now answers for another frame
        if delta:
            cursor, top = self.cursor_row + delta, int(self.scroll_y) + delta
            self.call_after_refresh(self._show, cursor, top)
        else:
            self._request_pages()
        return True

    def _land(self, row: int) -> None:
        self._landing = False
        self.goto(row)
        self._request_pages()

    def _show(self, cursor: int, top: int) -> None:
        self.scroll_to(y=max(0, top), animate=False, immediate=True)
        self.move_to(cursor)
        self._request_pages()

    # -- geometry --------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return self.state.row_count

    @property
    def data_height(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - HEADER_LINES)

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
        self._sampled = bool(sample)
        self.laid_out = True

    def _sync_size(self) -> None:
        self._gutter = len(f"{max(self.row_count, 1):,}") + 1
        width = self._gutter + self.column_layout.pinned_width + self.column_layout.scroll_width
        size = Size(width, self.row_count + HEADER_LINES)
        if size != self.virtual_size:
            self.virtual_size = size

    def on_resize(self, event: Resize) -> None:
        self._request_pages()

    # -- fetching --------------------------------------------------------------------------
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._request_pages()

    def visible_rows(self) -> range:
        top = int(self.scroll_y)
        return range(top, min(self.row_count, top + self.data_height))

    def _request_pages(self) -> None:
        """Ask for the visible pages, then one page ahead in the direction of travel."""
        if self._landing:
            return  # (the pages around the row it lands on are wanted when it has)
        size = self.state.page_size
        top = int(self.scroll_y)
        bottom = top + self.data_height - 1
        pages = list(range(top // size, bottom // size + 1))
        if top >= self._last_top:
            pages.append(pages[-1] + 1)
        elif pages[0] > 0:
            pages.append(pages[0] - 1)
        self._last_top = top
        if self.state.count_exact:
            last = max(0, (self.row_count - 1) // size)
            pages = [p for p in pages if p <= last]
        self.loader.want(pages)

    # -- drawing ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self.laid_out:
            text = "loading…" if self.error is None else self.error.message
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
        return Strip([gutter, *cells]).adjust_cell_length(width, base)

    def _pieces(self, width: int) -> list[Piece]:
        return self.column_layout.pieces(int(self.scroll_x), width - self._gutter)

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
        base = self.rich_style
        is_cursor = row == self.cursor_row
        if is_cursor:
            base = base + self.get_component_rich_style("tableview--cursor")
        gutter = Segment(
            # The cursor row is marked with a glyph too, not only a colour (NO_COLOR, mono).
            f"{row + 1:>{self._gutter - 1},}{CURSOR_MARK if is_cursor else ' '}",
            base + self.get_component_rich_style("tableview--rownum", partial=True),
        )
        values: Row | None = None
        if page is not None:
            index = row % self.state.page_size
            values = page[index] if index < len(page) else None
        cells: list[Segment] = []
        null = self.get_component_rich_style("tableview--null", partial=True)
        placeholder = self.get_component_rich_style("tableview--placeholder", partial=True)
        cursor_cell = self.get_component_rich_style("tableview--cursor-cell", partial=True)
        columns = self.state.columns
        for piece in self._pieces(width):
            i = piece.index
            column, w = columns[i], self.widths[i]
            if values is None:
                text, style = fit(PLACEHOLDER, w), base + placeholder
            elif (value := values[i]) is None:
                text, style = fit(NULL_TEXT, w, column.numeric), base + null
            else:
                text = fit(visible(value, self.state.truncate), w, column.numeric)
                style = base
            if is_cursor and i == self.cursor_col:
                style = style + cursor_cell
            if piece.partial:
                cells += self._cut(text + " ", style, piece)
            else:
                cells.append(Segment(text, style))
                cells.append(Segment(" ", base))
        return self._line(gutter, cells, width, base)

    # -- cursor ----------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old + HEADER_LINES)
        self.refresh_line(new + HEADER_LINES)
        self.post_message(self.CursorMoved(self))

    def watch_cursor_col(self) -> None:
        self.refresh_line(self.cursor_row + HEADER_LINES)
        self.post_message(self.CursorMoved(self))

    def move_to(self, row: int) -> None:
        """Put the cursor on ``row`` and scroll just enough to show it."""
        if self.error is not None:  # every key retries after an error (even with no rows yet)
            self._request_pages()
        row = max(0, min(row, self.row_count - 1))
        self.cursor_row = row
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + self.data_height:
            self.scroll_to(y=row - self.data_height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor_row + 1)

    def action_page_down(self) -> None:
        step = self.data_height
        self.scroll_to(y=int(self.scroll_y) + step, animate=False, immediate=True)
        self.move_to(self.cursor_row + step)

    def action_page_up(self) -> None:
        step = self.data_height
        self.scroll_to(y=max(0, int(self.scroll_y) - step), animate=False, immediate=True)
        self.move_to(self.cursor_row - step)

    def action_first(self) -> None:
        self.move_to(0)

    def goto(self, row: int) -> None:
        """Show ``row`` at the top of the view with the cursor on it (far: the pager seeks)."""
        row = max(0, min(row, self.row_count - 1))
        self.scroll_to(y=row, animate=False, immediate=True)
        self.move_to(row)

    def action_last(self) -> None:
        if self.state.count_exact or self.state.seeks:
            # Seeking reads the end from the end, whatever the count really is.
            self.move_to(self.row_count - 1)
        else:
            # The estimate may be off: learn the real end first, then move there, rather
            # than fetch pages around an end that is not the end.
            self._going_to_end = True
            self.loader.want_end()

    def action_sort(self) -> None:
        """Sort by the cursor's column: ascending, then descending, then the natural order."""
        if not self.state.columns or self.sorting is not None:
            return
        column = self.state.columns[self.cursor_col].name
        current = self.state.order
        if current is None or current[0] != column:
            wanted: tuple[str, bool] | None = (column, False)
        elif not current[1]:
            wanted = (column, True)
        else:
            wanted = None
        self._sort_before = current
        self.sorting = wanted or (column, False)
        self.sort_started = time.monotonic()
        self.loader.submit(lambda pager: pager.set_order(*(wanted or (None,))))

    def busy(self, slow_s: float = 1.0) -> Busy | None:
        """What the server is doing for the view that the user waits on: a sort, or any
        statement running for ``slow_s`` (a seek on a slow server, a wait for a pool)."""
        if self.sorting is not None:
            return Busy(f"sorting by {self.sorting[0]}", self.sort_started)
        if self.loader.in_flight is not None and time.monotonic() - self.loader.busy_since > slow_s:
            return Busy("waiting for the server", self.loader.busy_since)
        return None

    def cancel_slow(self, after_s: float = 0.5) -> bool:
        """Cancel the view's statement if one has run for ``after_s`` (a long walk, the end
        of a slow view): the server stops it, and the next move reads from where it was."""
        if self.loader.in_flight is None or time.monotonic() - self.loader.busy_since < after_s:
            return False
        if not self._cancel_job(self.loader.job):
            return False
        self._going_to_end = False
        return True

    def cancel_sort(self) -> bool:
        """Cancel a sort whose first rows have not come yet (the server stops sorting)."""
        if self.sorting is None or self.loader.in_flight is None:
            return False
        # A cancel landing between two statements is ignored by the server: keep sending
        # one every 0.1 s (off the UI thread) until this job, and only this job, has ended
        # (the next job is the return to the previous order, which must not be cancelled).
        return self._cancel_job(self.loader.job)

    def _cancel_job(self, job: int) -> bool:
        """Cancel the loader's ``job``, and only it: not the job after it. False if it
        was cancelled already and still runs (a server that does not answer): the next
        Esc leaves instead of cancelling again."""
        if self._cancelled_job == job:
            return False
        self._cancelled_job = job
        keep_cancelling(
            self.pager.cancel, lambda: self.loader.job != job or self.loader.in_flight is None
        )
        return True

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
        self._sync_size()
        self.refresh()
        self.show_column(self.column_layout.nearest(self.cursor_col))

    def on_scroll_up(self, event: ScrollUp) -> None:
        self._jump_to_pointer(event)

    def on_scroll_down(self, event: ScrollDown) -> None:
        self._jump_to_pointer(event)

    def _jump_to_pointer(self, event: ScrollUp | ScrollDown) -> None:
        """A click in the scrollbar's track shows the rows at that place (not a page away)."""
        bar = self.vertical_scrollbar.region
        y = self.app.mouse_position.y
        if bar.height < 2 or not bar.y <= y < bar.bottom:
            return
        event.prevent_default()
        event.stop()
        self.goto(round((y - bar.y) / (bar.height - 1) * max(self.row_count - 1, 0)))

    def on_click(self, event: Click) -> None:
        if event.y >= HEADER_LINES and self.laid_out:
            self.move_to(int(self.scroll_y) + event.y - HEADER_LINES)
            width = self.scrollable_content_region.width - self._gutter
            col = self.column_layout.column_at(event.x - self._gutter, int(self.scroll_x), width)
            if col is not None:
                self.cursor_col = col
