"""TableScreen: one relation in a TableView, its position line, and the memory footer.

The screen is assembled from parts, not a tower of base classes: the TableView (the rows,
the cursor, the loader), RowActions (the cursor's row and cell: Enter, y, Y, r, p, d) and
Following (foreign keys both ways, and the columns: o, R, C). The screen binds every key and
hands each part's to it; help groups them by part (``HELP_PARTS``)."""

from __future__ import annotations

import time
from typing import ClassVar

from psycopg2 import sql
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.errors import FilterError, PgBrowseError
from pgbrowse.db.jobs.counter import RowCounter
from pgbrowse.db.jobs.opening import Opening
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.db.paging.state import ViewState
from pgbrowse.kept import KeptView
from pgbrowse.ui.backslash import run_command
from pgbrowse.ui.browser import Browser, browser_of
from pgbrowse.ui.follow import Following
from pgbrowse.ui.frame import in_this_frame
from pgbrowse.ui.inspector import Inspector
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.position import Busy, position_line, reconnected_message, title_line
from pgbrowse.ui.row_actions import RowActions
from pgbrowse.ui.safe import SafeStatic
from pgbrowse.ui.table_view import TableView

Counted = tuple[int, object, int | None]  # the count, the seek it was for, rows before it

STOPPED = {  # what Esc on a slow statement says, by what it waited on
    "": "Cancelled on the server",
    "pool slot": "Stopped waiting for a pool slot: nothing ran on the server",
    "connecting": "Stopped waiting for the server to answer: nothing ran there",
}
SNAPSHOT_NOTE_S = 5.0  # how long the position line says the view moved to a new snapshot
NEW_SNAPSHOT = "new snapshot: the rows in sight were read again"
FAILURE_REPEAT_S = 2.0  # the same failure within this long is said once
SEARCH_COLUMN_WAIT_S = 10.0  # for a match's page, to put the cursor on the matching column


class TableScreen(Screen[None]):
    """Browse one relation; Esc or q goes back to the list and closes the cursor."""

    HELP_TITLE = "a table"
    HELP_GROUP = "The view"
    HELP_PARTS = (RowActions, Following)  # (their keys are bound here, grouped by part)
    # The key bar's first keys, in this order (the rest follow as the width allows; ? all).
    EVERYDAY: tuple[str, ...] = ("sort", "filter", "search", "goto", "open_cell", "copy_cell")
    EVERYDAY += ("export", "record", "back")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "back", "Back"),
        Binding("colon,ctrl+g", "goto", "Go to"),
        Binding("number_sign", "count", "Count rows"),
        Binding("i", "inspector", "Inspector"),
        Binding("x", "explain", "Explain"),
        Binding("c", "compare", "Naive vs lazy"),
        Binding("e", "export", "Export"),
        Binding("f", "filter", "Filter"),
        Binding("slash", "search", "Search"),
        Binding("n", "search_next", "Next match"),
        Binding("N", "search_previous", "Previous match"),
        Binding("enter", "open_cell", "Open cell"),
        Binding("y", "copy_cell", "Copy cell"),
        Binding("Y", "copy_row", "Copy row (TSV)"),
        Binding("u", "reset", "Reset view"),
        Binding("backslash", "command", "psql command (\\d, \\x, \\?…)"),
        *RowActions.BINDINGS,
        *Following.BINDINGS,
    ]

    def __init__(
        self,
        pager: CursorPager,
        *,
        trail: tuple[str, ...] = (),
        step: str = "",
        column: str | None = None,
        opening: Opening | None = None,
        kept: KeptView | None = None,
    ) -> None:
        """``trail`` and ``step``: the path of followed keys that led here (Following);
        ``column``: the column the cursor starts on; ``opening``: what opened the pager;
        ``kept``: what the user built on this relation's view when they last left it."""
        super().__init__()
        self.opening = opening
        self.kept = kept
        self.trail, self.step, self.start_column = trail, step, column  # (for Following)
        self.pager = pager  # handed to the view's loader: its thread alone calls it
        self.factory = pager.factory  # for connections of their own (count, export, compare)
        self.counter: RowCounter | None = None
        self._count_started = 0.0
        self._warned_sort: tuple[str, bool] | None = None
        self._filter_pending = False  # a filter was sent: the box closes when it is taken
        self._footer_at = 0.0
        self._title = ""
        self.searched = ""  # the last search, for n and N
        self._was_busy = False
        self._search_doing = ""  # what the last search's job says (Esc cancels it at once)
        self._position = ""
        self._gone_back = False  # a failed open went back: later failures of it are moot
        self._failure_said: tuple[tuple[str, str], float] | None = None
        self._snapshot_at = -SNAPSHOT_NOTE_S  # when the view last moved to a new snapshot

    def compose(self) -> ComposeResult:
        self.view = TableView(
            self.pager,
            idle_release_s=self.browser.idle_release_s,
            start_column=self.start_column,
            opening=self.opening,
            kept=self.kept,
            id="table",
        )
        view = self.view
        self.rows = RowActions(view, self.factory)
        self.following = Following(view, self.browser, self._open_followed, self.trail, self.step)
        yield SafeStatic(self.title_text(), id="title")
        with Horizontal(id="body"):
            yield view
            inspector = Inspector(view)
            inspector.display = False
            yield inspector
        with Vertical(id="search-bar"):
            yield Input(
                placeholder="search: text in any column (n next, N previous)", id="search-input"
            )
        with Vertical(id="command-bar"):
            yield Input(
                placeholder="a psql command: \\d, \\dt, \\x, \\l, \\?",
                id="command-input",
                select_on_focus=False,  # (typing goes after the backslash)
            )
        with Vertical(id="filter-bar"):
            yield Input(
                placeholder="WHERE …   (an SQL expression; empty shows every row)",
                id="filter-input",
            )
            yield SafeStatic("", id="filter-error")
        yield SafeStatic("", id="position")
        yield MemoryFooter(self.browser.memory_probe, view.cache, view.statements)
        yield KeyBar()

    # -- the parts -----------------------------------------------------------------------
    @property
    def browser(self) -> Browser:
        return browser_of(self.app)

    @property
    def state(self) -> ViewState:
        """The view as the loader last reported it (the UI never reads the pager back)."""
        return self.view.state

    def path(self) -> str:
        """``orders 42 → customers 7``: the rows followed from, then this view."""
        return self.following.path()

    def _open_followed(
        self, pager: CursorPager, trail: tuple[str, ...], step: str, column: str
    ) -> None:
        self.app.push_screen(TableScreen(pager, trail=trail, step=step, column=column))

    def action_open_cell(self) -> None:
        self.rows.open_cell()

    def action_copy_cell(self) -> None:
        self.rows.copy_cell()

    def action_copy_row(self) -> None:
        self.rows.copy_row()

    def action_record(self) -> None:
        self.rows.record()

    def action_profile(self) -> None:
        self.rows.profile()

    def action_structure(self) -> None:
        self.rows.structure()

    def action_follow(self) -> None:
        self.following.follow()

    def action_referencing(self) -> None:
        self.following.referencing()

    def action_columns(self) -> None:
        self.following.columns()

    def on_mount(self) -> None:
        self.query_one(TableView).focus()
        # The spinner's clock runs only while something does: idle, no timer wakes the app.
        self._ticker = self.set_interval(0.1, self._tick)
        self.view.loader.on_work = self._ticker.resume

    def _tick(self) -> None:
        """While the server sorts, counts or is slow, keep the spinner and seconds moving."""
        view = self.query_one(TableView)
        busy = self.counter is not None or view.busy() is not None
        if busy or self._was_busy:  # (and once more when it has ended)
            self.update_position()
        self._was_busy = busy
        if not busy and self.counter is None and view.loader.in_flight is None:
            self._ticker.pause()  # (until the loader is given work again)

    def title_text(self) -> str:
        path = self.path()
        line = title_line(self.state, self.browser.where.rpartition("/")[2])
        return f" {path}  ·{line}" if path else line

    def position_text(self) -> str:
        view = self.query_one(TableView)
        busy = view.busy()
        if busy is None and self.counter is not None:
            busy = Busy("counting rows", self._count_started)
        line = position_line(self.state, view.cursor_row, view.cursor_col, busy)
        last = view.statements.last() if self.browser.timing else None
        if last is not None:  # \\timing (as psql prints it after each statement)
            line += f"  │ Time: {last.ms:.3f} ms"
        if time.monotonic() - self._snapshot_at < SNAPSHOT_NOTE_S:
            line += f"  │ {NEW_SNAPSHOT}"
        return line

    def update_position(self) -> None:
        """Redrawn only when it changed, without a relayout (it is one line whatever it says:
        a relayout per key redrew the whole screen)."""
        text = self.position_text()
        if text != self._position:
            self._position = text
            line = self.query_one("#position", Static)
            line.update(text, layout=False)
            in_this_frame(line)

    def on_table_view_cursor_moved(self, message: TableView.CursorMoved) -> None:
        self.update_position()
        now = time.monotonic()
        if now - self._footer_at >= 0.2:  # the cache and last statement, now (not per key)
            self._footer_at = now
            self.query_one(MemoryFooter).update_figures()
        self.query_one(Inspector).update_view()  # (only while shown)
        state = self.state
        if state.opened and (title := self.title_text()) != self._title:
            self._title = title  # (redrawn only when it changes)
            self.query_one("#title", Static).update(title)
        sorting = message.view.sorting
        if sorting and state.sorts_everything and self._warned_sort != sorting:
            self._warned_sort = sorting
            rows = f"~{self.state.row_count:,}" if not self.state.count_exact else "all"
            first = (
                "the first rows come from one pass over the table, then the server sorts"
                f" {rows} rows for the rest"
                if state.view.total_order
                else f"the server sorts {rows} rows before the first one shows"
            )
            self.notify(
                f"No index on {sorting[0]}: {first}. Esc cancels.",
                title="Sorting everything",
                severity="warning",
            )

    def on_table_view_reported(self, message: TableView.Reported) -> None:
        """What the loader says happened (once each): a new session, or a new order."""
        if "reconnected" in message.events:
            self.notify(reconnected_message(self.state.lost_because), title="Reconnected")
        if "new snapshot" in message.events:  # (said on the position line for a while)
            self._snapshot_at = time.monotonic()
            self.update_position()
        for event in message.events:
            if event.startswith("filter scans: "):
                rows = int(event.removeprefix("filter scans: "))
                self.notify(
                    f"No index serves this filter: the server reads ~{rows:,} rows of"
                    f" {self.state.relation.qualified} to find the matches (an index makes"
                    " this fast). Esc cancels.",
                    title="Reading the whole table",
                    severity="warning",
                )
            if event.startswith("runs: "):
                what = self.state.relation.qualified
                self.notify(f"{what}: {event.removeprefix('runs: ')}", severity="warning")
        if "landed alone" in message.events:
            self.notify(
                f"{self.state.relation.qualified} has no key order to find the row in:"
                " it is shown alone (filtered to its key)",
                severity="warning",
            )
        if "restarted" in message.events and self._filter_pending:  # the filter was taken
            self._filter_pending = False
            self._close_filter()

    # -- filter ----------------------------------------------------------------------------
    def action_filter(self) -> None:
        """Open the filter box (a WHERE expression), with the current filter in it."""
        bar = self.query_one("#filter-bar")
        bar.display = True
        box = self.query_one("#filter-input", Input)
        box.value = self.state.filter or ""
        self.query_one("#filter-error", Static).update("")
        box.focus()

    # -- search ----------------------------------------------------------------------------
    def action_search(self) -> None:
        bar = self.query_one("#search-bar")
        bar.display = True
        box = self.query_one("#search-input", Input)
        box.value = self.searched
        box.focus()

    def action_search_next(self) -> None:
        self._search(backward=False)

    def action_search_previous(self) -> None:
        self._search(backward=True)

    def _search(self, backward: bool) -> None:
        """From the cursor's row, on the server; the view jumps to the match or says none."""
        text = self.searched
        found = self.view.cursor_row_values()
        if not text or found is None:
            return
        row = found[0]
        start = self.query_one(TableView).cursor_row
        state = self.state
        way = "back from" if backward else "on from"
        doing = (
            f"searching {state.relation.qualified} for {text!r} in {len(state.columns)}"
            f" columns, {way} row {start + 1:,}"
        )

        self._search_doing = doing  # (Esc cancels this job at once)
        self.view.on_loader(
            lambda pager: pager.search(start, row, text, backward=backward),
            lambda target: self._searched(text, target, backward),
            doing,
            cancelled="Search cancelled: you are where you were",
        )

    def _searched(self, text: str, target: int | None, backward: bool) -> None:
        if target is None:
            where = "before" if backward else "after"
            self.notify(f"Not found: {text!r} {where} this row", severity="warning")
            return
        self.query_one(TableView).goto(target)
        self._to_matching_column(text, target, SEARCH_COLUMN_WAIT_S)

    def _to_matching_column(self, text: str, target: int, patience: float) -> None:
        """The cursor to the first shown column of the match's row that holds ``text`` (the
        row lands first; its page may still be on its way)."""
        view = self.view
        found = view.cursor_row_values() if view.cursor_row == target else None
        if found is None:
            if patience > 0:
                self.set_timer(
                    0.05, lambda: self._to_matching_column(text, target, patience - 0.05)
                )
            return
        row, wanted = found[0], text.lower()
        for col in view.column_layout.order():
            value = row[col] if col < len(row) else None
            if value is not None and wanted in value.lower():
                view.cursor_col = col
                view.show_column(col)
                return

    def action_command(self) -> None:
        """\\: a prompt for psql's backslash commands (Enter runs, Esc closes)."""
        self.query_one("#command-bar").display = True
        box = self.query_one("#command-input", Input)
        box.value = "\\"
        box.cursor_position = 1
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "command-input":
            event.stop()
            self.query_one("#command-bar").display = False
            self.query_one(TableView).focus()
            if event.value.strip() not in ("", "\\"):
                run_command(self, event.value.strip())
            return
        if event.input.id == "search-input":
            event.stop()
            self.searched = event.value
            self.query_one("#search-bar").display = False
            self.query_one(TableView).focus()
            self._search(backward=False)
            return
        if event.input.id != "filter-input":
            return
        event.stop()
        text = event.value
        self.query_one("#filter-error", Static).update("checking…")
        self.query_one(TableView).loader.submit(
            lambda pager: pager.set_filter(text), doing="applying the filter"
        )
        self._filter_pending = True  # the box closes when the loader reports it taken

    def _close_filter(self) -> None:
        self.query_one("#filter-bar").display = False
        self.query_one(TableView).focus()

    def action_export(self) -> None:
        """The view (its order) to a CSV file, streamed by the server's COPY."""
        if self.state.opened:
            from pgbrowse.ui.export_screen import ExportScreen

            self.app.push_screen(ExportScreen(self.factory, self.state))

    def action_compare(self) -> None:
        """The naive way and the lazy way of reading this view (its filter and order), side
        by side."""
        probe, (rows, mb) = self.browser.memory_probe, self.browser.compare_limits
        state = self.state
        if not (state.filter or state.order):
            from pgbrowse.ui.compare import CompareScreen

            screen = CompareScreen(self.factory, state.relation, probe, rows, mb)
            self.app.push_screen(screen)
            return
        from pgbrowse.ui.export_screen import what_is_written

        what = what_is_written(state)

        def compare(text: str) -> None:
            view = Relation.of_sql(text)
            from pgbrowse.ui.compare import CompareScreen

            self.app.push_screen(CompareScreen(self.factory, view, probe, rows, mb, title=what))

        self.view.on_loader(CursorPager.view_sql, compare, "composing the view")

    def action_explain(self) -> None:
        """x: the plan of the statement the view's cursor runs where it reads now (EXPLAIN
        without ANALYZE, in the view's transaction), as a tree."""
        what = self.state.relation.qualified

        def show(plan: tuple[str, list[str]]) -> None:
            statement, lines = plan
            title = f"EXPLAIN (ANALYZE false) of the view's cursor on {what}: {statement}"
            from pgbrowse.ui.plan_screen import StatementScreen

            self.app.push_screen(StatementScreen(self.factory, statement, title=title, lines=lines))

        self.view.on_loader(CursorPager.explain, show, f"explaining {what}")

    def action_inspector(self) -> None:
        """Show or hide the paging inspector beside the table."""
        inspector = self.query_one(Inspector)
        inspector.display = not inspector.display
        inspector.update_view()

    # -- goto ------------------------------------------------------------------------------
    def action_goto(self) -> None:
        view = self.query_one(TableView)
        if not self.state.row_count:
            return
        from pgbrowse.ui.goto import GotoScreen

        self.app.push_screen(
            GotoScreen(self.state.row_count, not self.state.count_exact),
            callback=lambda row: view.goto(row) if row is not None else None,
        )

    # -- the exact count -------------------------------------------------------------------
    def action_count(self) -> None:
        """Count the rows exactly, in the background; pressed again, cancel the count."""
        if self.counter is not None:
            self._cancel_count()
            return
        if self.state.count_exact and self.state.positions_exact:
            self.notify(f"{self.state.row_count:,} rows, counted exactly")
            return
        self.counter = RowCounter(self.factory, self.state.relation.qualified)
        self._count_started = time.monotonic()
        counter = self.counter

        def compose(pager: CursorPager) -> None:  # on the loader: the count of its place
            query, token = pager.count_query()
            self.app.call_from_thread(self._count, counter, query, token)

        self.view.loader.submit(compose)

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count(self, counter: RowCounter, query: sql.Composed, token: object) -> None:
        try:
            total, before = counter.run(query)
        except PgBrowseError as error:
            self.app.call_from_thread(self._counted, counter, None, error)
            return
        self.app.call_from_thread(self._counted, counter, (total, token, before), None)

    def _cancel_count(self) -> None:
        """Esc or #: cancelled on the server, the screen free at once (even from a full pool)."""
        counter, self.counter = self.counter, None
        if counter is not None:
            counter.cancel()  # (returns at once; its thread ends when it can)
            self.notify("Count cancelled")
            self.update_position()

    def _counted(
        self, counter: RowCounter, result: Counted | None, error: PgBrowseError | None
    ) -> None:
        if counter is not self.counter:
            return  # cancelled meanwhile: its late result or error is not news
        self.counter = None
        if error is not None:
            self.notify(error.message, title=error.title, severity="warning")
        elif result is not None:
            total, token, before = result
            view = self.query_one(TableView)
            view.loader.submit(lambda pager: pager.apply_count(total, token, before))
        self.update_position()

    def on_table_view_failed(self, message: TableView.Failed) -> None:
        if self._gone_back:  # (another page of the same refused open: dismissing again
            return  # would take away the screen below, the editor with the query's text)
        if isinstance(message.error, FilterError):  # inline, by the box; the view stays
            self._filter_pending = False
            self.query_one("#filter-error", Static).update(message.error.message)
            message.view.error = None
            return
        query = self.state.relation.query is not None
        if (self.step or query) and not message.view.laid_out and self.app.screen is self:
            # A followed key that leads nowhere (a row gone, a table you may not read), or a
            # query the server refused (it writes, say): one plain line where you were, and
            # you stay there, the query's text with it. (Under a screen the user opened
            # meanwhile, it is said here instead: dismissing would close that one.)
            from pgbrowse.ui.query_screen import QueryScreen

            below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
            self._gone_back = True
            self.dismiss()
            if isinstance(below, QueryScreen):
                below.refused(message.error)
            else:
                self.app.notify(message.error.message, title=message.error.title, severity="error")
            return
        gone = message.error.sqlstate == "42P01"  # the relation was dropped: moving won't help
        retry = "" if gone else "  (any move tries again)"
        self._position = f" {message.error.title}: {message.error.message}{retry}"
        self.query_one("#position", Static).update(self._position, layout=False)
        # The pages asked for together (the first and the one read ahead) fail together:
        # one toast for them (a failed open said it twice), again for a later attempt.
        said, now = (message.error.title, message.error.message), time.monotonic()
        last = self._failure_said
        if last is not None and last[0] == said and now - last[1] < FAILURE_REPEAT_S:
            return
        self._failure_said = (said, now)
        self.notify(message.error.message, title=message.error.title, severity="error")

    def cancel_running(self) -> str | None:
        """Ctrl+C (as in psql): cancel what the view runs on the server now, at once: the
        count, a sort, a search or any statement of the view. What was stopped, in words
        ('' when it says so itself), or None when nothing runs."""
        if self.counter is not None:
            self._cancel_count()  # (it says "Count cancelled")
            return ""
        view = self.view
        if view.cancel_sort():
            return "Sort cancelled: back to the order before it"
        searching = bool(self._search_doing) and view.loader.doing == self._search_doing
        waiting = view.pager.waiting()  # (before the cancel: what the statement waited on)
        if view.cancel_slow(after_s=0):
            return (
                "" if searching else STOPPED.get(waiting, STOPPED[""]) + "; you are where you were"
            )
        return None

    def action_back(self) -> None:
        if self.counter is not None:  # Esc cancels the count first
            self._cancel_count()
            return
        if self.query_one("#filter-bar").display:  # or closes the filter box
            self._close_filter()
            return
        for bar in ("#search-bar", "#command-bar"):
            if self.query_one(bar).display:
                self.query_one(bar).display = False
                self.query_one(TableView).focus()
                return
        view = self.query_one(TableView)
        searching = bool(self._search_doing) and view.loader.doing == self._search_doing
        if searching and view.cancel_slow(after_s=0):  # or a search, at once
            return  # (its job says "search cancelled" when it has stopped)
        if self.query_one(TableView).cancel_sort():  # or a sort the server is still doing
            self.notify("Sort cancelled: back to the order before it")
            return
        waiting = view.pager.waiting()  # (before the cancel: what the statement waited on)
        if view.cancel_slow():  # or any slow statement of the view
            self.notify(
                STOPPED.get(waiting, STOPPED[""]) + "; you are where you were (Esc again leaves)"
            )
            return
        if len(self.app.screen_stack) == 1:  # the first view of a view opened beside: close it
            self.browser.action_close_buffer()
            return
        self.dismiss()

    def action_reset(self) -> None:
        """u: back to the view as it first opens: no filter, the natural order, every
        column, the key pinned; what was kept of it is forgotten."""
        state = self.state
        if not state.opened:
            return
        self.browser.kept.forget(self.browser.where, state.relation.qualified)
        self.kept = None
        view = self.view
        names = [c.name for c in state.columns]
        key = [names.index(k) for k in state.view.identity if k in names]
        view.column_layout.hidden = set()
        view.column_layout.pinned = key if len(key) < len(names) else []
        view._columns_changed()
        if state.filter or state.order:
            view.loader.submit(lambda pager: (pager.set_filter(None), pager.set_order(None)))
        self.notify("The view is as it first opens: no filter, no sort, every column")

    def _keep(self) -> None:
        """Remember what the user built on this view (a relation opened from the list or
        the editor: a view reached by a key is the key's, not the relation's)."""
        state = self.state
        if self.step or state.relation.query is not None or not self.view.laid_out:
            return
        self.browser.kept.keep(self.browser.where, state.relation.qualified, self.view.kept_now())

    def on_unmount(self) -> None:
        self._keep()
        if self.counter is not None:
            self.counter.cancel()
