"""TableView: a virtual scrolling table on Textual's Line API, fed page by page by a pager.

The view never waits on the database. ``render_line`` draws what the pager's cache holds
and a placeholder for the rest; missing pages (plus one page of prefetch in the direction
of travel) are handed to a PageLoader thread, whose results come back as messages and
repaint only the lines that arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.events import Click, Resize
from textual.message import Message
from textual.scrollbar import ScrollDown, ScrollUp

from pgbrowse.crashlog import unexpected
from pgbrowse.db.connection.cancel import keep_cancelling
from pgbrowse.db.connection.errors import PgBrowseError, UserCancelled
from pgbrowse.db.jobs.loader import END, PageLoader
from pgbrowse.db.jobs.opening import Opening
from pgbrowse.db.paging.pager import CursorPager, Row
from pgbrowse.db.paging.state import ViewState
from pgbrowse.kept import KeptView
from pgbrowse.ui.grid import CURSOR_MARK, FOREIGN_MARK, HEADER_LINES, PLACEHOLDER, Grid
from pgbrowse.ui.position import Busy

__all__ = ["CURSOR_MARK", "FOREIGN_MARK", "HEADER_LINES", "PLACEHOLDER", "TableView"]

T = TypeVar("T")


def _open_landed(pager: CursorPager) -> None:
    """Open on the row a key names, and read the pages it shows at the top of the view
    in the same job (the view then draws them at once, with no second round trip)."""
    pager.open()
    if pager.landed is not None:
        first = pager.landed // pager.page_size
        pager.load(first)
        pager.load(first + 1)


class TableView(Grid, can_focus=True):
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

    HELP_GROUP = "Moving"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First"),
        Binding("end,G", "last", "Last"),
        Binding("s", "sort", "Sort"),
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
        opening: Opening | None = None,
        kept: KeptView | None = None,
        id: str | None = None,
    ) -> None:
        """``kept``: what the user built on this relation's view last time (its columns and
        place are given back once the columns are laid out; the pager took the rest)."""
        super().__init__(id=id)
        self.start_column = start_column  # the column the cursor starts on (by name)
        self.kept = kept
        if kept is not None and kept.column is not None:
            self.start_column = kept.column
        self._landing = pager.landing is not None  # no page is wanted until it has landed
        self.pager = pager  # for the loader (its thread alone calls it) and cancel
        # Shared with the loader, both thread-safe: the page cache and the statement log.
        self.cache = pager.cache
        self.statements = pager.statements
        self.state = ViewState.initial(pager.relation, pager.page_size, pager.truncate)
        self.loader = PageLoader(
            pager,
            self._on_loaded,
            idle_release_s=idle_release_s,
            first=opening.first_page if opening is not None else None,
        )
        self._cancelled_job = 0  # the loader job last cancelled (Esc)
        self._last_top = 0
        self._going_to: int | None = None  # a row past the estimate, or END: once the end is known
        self._shift = 0  # the pager's shift the view last followed
        self._frame = 0  # the pager's frame the view last drew
        self.sorting: tuple[str, bool] | None = None  # a sort asked for, until its rows land
        self._sort_before: tuple[str, bool] | None = None
        self.sort_started = 0.0  # time.monotonic() when the sort was asked for
        self.error: PgBrowseError | None = None

    # -- a view kept -----------------------------------------------------------------------
    def _give_back(self, kept: KeptView) -> None:
        """The hidden and pinned columns (by name: columns may have come or gone) and the
        place the user left."""
        names = [c.name for c in self.state.columns]
        hidden = {names.index(n) for n in kept.hidden if n in names}
        pinned = [names.index(n) for n in kept.pinned if n in names]
        self.column_layout.pinned = [i for i in pinned if i not in hidden]
        if hidden and len(hidden) < len(names):
            self.column_layout.hidden = hidden
        self._columns_changed()
        if kept.row:
            self.call_after_refresh(self.goto, kept.row)

    def kept_now(self) -> KeptView:
        """What the user built on this view, to give back when it is opened again."""
        names = [c.name for c in self.state.columns]
        layout = self.column_layout
        column = names[self.cursor_col] if 0 <= self.cursor_col < len(names) else None
        return KeptView(
            filter=self.state.filter,
            order=self.state.order,
            hidden=tuple(names[i] for i in sorted(layout.hidden) if i < len(names)),
            pinned=tuple(names[i] for i in layout.pinned if i < len(names)),
            row=self.cursor_row,
            column=column,
        )

    # -- the cursor's row, and work on the loader ------------------------------------------
    def cursor_row_values(self) -> tuple[Row, int] | None:
        """The cursor's row as the cache holds it, and the cursor's column (None: its page
        is not here yet)."""
        size = self.state.page_size
        rows = self.cache.get(self.state.frame, self.cursor_row // size)
        index = self.cursor_row % size
        if not rows or index >= len(rows):
            return None
        return rows[index], self.cursor_col

    def on_loader(
        self,
        work: Callable[[CursorPager], T],
        then: Callable[[T], object],
        doing: str,
        cancelled: str = "",
    ) -> None:
        """``work(pager)`` on the loader thread (``doing`` says what it does while it is
        slow), its result to ``then`` on the app's thread; a failure is one notification,
        and the user's cancel (Esc) the plain ``cancelled`` line where one is given."""

        def task(pager: CursorPager) -> None:
            try:
                try:
                    result = work(pager)
                except PgBrowseError:
                    raise
                except Exception as failed:  # said, never lost on the loader's thread
                    raise unexpected(failed) from None
            except PgBrowseError as error:
                if cancelled and isinstance(error, UserCancelled):
                    self.app.call_from_thread(self.notify, cancelled)
                else:
                    self.app.call_from_thread(
                        self.notify, error.message, title=error.title, severity="error"
                    )
                return
            self.app.call_from_thread(then, result)

        self.loader.submit(task, doing=doing)

    # -- lifecycle -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.loader.start()
        if self.pager.landing is not None:  # opens on a row found by its key: no row 0 first
            self.loader.submit(_open_landed)
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
            pager.session.rest("covered by another view")

        self.loader.submit(give_back, background=True)

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
        events = message.state.events
        if "reconnected" in events or "new snapshot" in events:
            # (the cache now holds one snapshot's rows: the pages in sight are read again)
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
        if self.state.opened and not (self.laid_out and self._sampled):
            sample = message.rows or self._cached_sample()  # (only until measured on rows)
            if not self.laid_out or sample:
                first = not self.laid_out
                self._layout(sample)
                if first and self.kept is not None:
                    self._give_back(self.kept)
        self._sync_size()
        if "landed" in self.state.events and self.state.landed is not None:
            # (where it is now: positions that moved since are counted in it)
            self._shift, self._frame = self.state.shift, self.state.frame
            self._show_at_top(self.state.landed)
        if "restarted" in self.state.events:
            self._frame, self._shift = self.state.frame, self.state.shift
            self.refresh()
            self.scroll_to(y=0, animate=False, immediate=True)
            self.cursor_row = 0
            self._request_pages()
        if self.sorting is not None and message.page != END:
            if self.state.sorts_everything:  # (from a top-N query): the rest, meanwhile
                doing = f"sorting every row by {self.sorting[0]} for the rows past the first pages"
                # (what the user asks meanwhile cancels it rather than waiting behind it)
                self.loader.submit(CursorPager.prepare_sort, True, doing, yields=True)
            self.sorting = None  # its first rows are here
        followed = self._follow_positions()
        going, ended = self._going_to, message.page == END
        if ended and going is not None and going != END and self.state.count_exact:
            # (a row asked for past the estimate: the end is known now)
            self._going_to = None
            if going < self.row_count:
                self.call_after_refresh(self._show_at_top, going)
            else:
                self.notify(
                    f"There are only {self.row_count:,} rows: row {going + 1:,} is not there",
                    severity="warning",
                )
                self.call_after_refresh(self.move_to, self.row_count - 1)
        elif not followed and (self.cursor_row >= self.row_count > 0 or (ended and going == END)):
            self._going_to = None
            # After the new virtual size is laid out, so the scroll is not clamped to the old.
            self.call_after_refresh(self.move_to, self.row_count - 1)
        if message.page != END:
            start = message.page * self.state.page_size
            self.refresh_lines(start + HEADER_LINES, self.state.page_size)
        self._moved()

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

    def _cached_sample(self) -> list[Row]:
        """Rows to measure the columns on when a job read them (a landing's pages)."""
        pages = self.cache.pages_of(self.state.frame)
        return (self.cache.get(self.state.frame, min(pages)) or []) if pages else []

    def _show_at_top(self, row: int, again: bool = True) -> None:
        """Show ``row`` (a landed row, a goto's) at the top, with the cursor on it; no page
        is wanted before the scroll is there (a page near row 0 would read from the start
        instead). Right after a page made the table longer, the scroll is held to the old
        size until the next layout: it is set again then."""
        row = max(0, min(row, self.row_count - 1))
        # (set, not scroll_to: before the next layout the view may not allow scrolling yet)
        self.scroll_target_y = self.scroll_y = float(min(row, self.max_scroll_y))
        self.move_to(row)
        if again and int(self.scroll_y) != min(row, int(self.max_scroll_y)):
            self.call_after_refresh(self._show_at_top, row, False)  # (the new size is not laid out)
            return
        self._landing = False
        self._request_pages()

    def _show(self, cursor: int, top: int) -> None:
        self.scroll_to(y=max(0, top), animate=False, immediate=True)
        self.move_to(cursor)
        self._request_pages()

    # -- geometry --------------------------------------------------------------------------
    @property
    def data_height(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - HEADER_LINES)

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

    # -- cursor ----------------------------------------------------------------------------
    def _moved(self) -> None:
        """Tell the screen the cursor or the row count changed. Posted to the screen itself,
        not bubbled through the containers: it gets there before this view's repaint does,
        so the position line is drawn in the same frame as the rows (bubbling, it came a
        frame later: 20-30 ms after the rows on a pty)."""
        if self.is_attached:
            self.screen.post_message(self.CursorMoved(self))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old + HEADER_LINES)
        self.refresh_line(new + HEADER_LINES)
        self._moved()

    def watch_cursor_col(self) -> None:
        self.refresh_line(self.cursor_row + HEADER_LINES)
        self._moved()

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

    def _size_settled(self) -> None:
        # A key that scrolled while the table was longer or shorter than laid out was held
        # to the old size: the cursor is shown, and the pages in sight wanted, at the new one.
        if not self._landing:
            self.move_to(self.cursor_row)
            self._request_pages()

    def action_page_down(self) -> None:
        step = self.data_height
        top = int(self.scroll_y) + step
        self.scroll_to(y=top, animate=False, immediate=True)
        self.move_to(self.cursor_row + step)
        last_top = max(0, self.row_count - step)
        if int(self.scroll_y) < min(top, last_top):  # held short of a page (a stale size)
            self.call_after_refresh(self._show, self.cursor_row, min(top, last_top))

    def action_page_up(self) -> None:
        step = self.data_height
        self.scroll_to(y=max(0, int(self.scroll_y) - step), animate=False, immediate=True)
        self.move_to(self.cursor_row - step)

    def action_first(self) -> None:
        self.move_to(0)

    def goto(self, row: int) -> None:
        """Show ``row`` at the top of the view with the cursor on it (far: the pager seeks).
        A row past an estimated count is not held to it: the end is found first (a walk on
        the server, Esc cancels), then the view goes there, or says there is no such row."""
        if row >= self.row_count and not self.state.count_exact:
            self._going_to = row
            self.loader.want_end()
            return
        self._show_at_top(min(row, max(self.row_count - 1, 0)))

    def action_last(self) -> None:
        if self.state.count_exact or self.state.seeks:
            # Seeking reads the end from the end, whatever the count really is.
            self.move_to(self.row_count - 1)
        else:
            # The estimate may be off: learn the real end first, then move there, rather
            # than fetch pages around an end that is not the end.
            self._going_to = END
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

    def busy(self, slow_s: float = 0.5) -> Busy | None:
        """What the server is doing for the view that the user waits on: a sort, or any
        statement running for ``slow_s`` (a search, a seek on a slow server, a wait for a
        pool), in the loader's words."""
        if self.sorting is not None:
            return Busy(f"sorting by {self.sorting[0]}", self.sort_started)
        loader = self.loader
        if loader.in_flight is not None and time.monotonic() - loader.busy_since > slow_s:
            return Busy(loader.doing or "waiting for the server", loader.busy_since)
        return None

    def cancel_slow(self, after_s: float = 0.5) -> bool:
        """Cancel the view's statement if one has run for ``after_s`` (a long walk, the end
        of a slow view): the server stops it, and the next move reads from where it was."""
        if self.loader.in_flight is None or time.monotonic() - self.loader.busy_since < after_s:
            return False
        if not self._cancel_job(self.loader.job):
            return False
        self._going_to = None
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
