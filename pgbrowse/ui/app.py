"""PgBrowseApp: the relation list, and a TableScreen for each relation opened."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.actions import ActionParseResult
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.driver import Driver
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, TextArea

from pgbrowse import defaults, hangup
from pgbrowse.config import DEFAULT_IDLE_RELEASE_S, DEFAULT_THEME
from pgbrowse.crashlog import one_line, write_crash_log
from pgbrowse.db.catalog.completion import Catalog
from pgbrowse.db.catalog.references import Landing
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.jobs.opening import Opening
from pgbrowse.db.paging.pager import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TRUNCATE,
    CursorPager,
)
from pgbrowse.history import QueryHistory
from pgbrowse.kept import KeptView, KeptViews, views_path
from pgbrowse.memory import MemoryProbe, read_memory
from pgbrowse.ui.browser import Browser
from pgbrowse.ui.compact import compacting
from pgbrowse.ui.help import HelpScreen, key_name, screen_keys
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.safe import TerminalSafe, shown
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from pgbrowse.version import __version__

STARTUP_S = 1.5  # after this, what the app has built is frozen out of the collector


class _NoWaitExecutor(ThreadPoolExecutor):
    """The event loop's default executor, where Textual runs thread workers: at exit it does
    not wait for them. asyncio.run joins the default executor's threads when the app ends,
    so one worker waiting on a server that stopped answering (a catalog read connecting to
    a hung host: up to the connect timeout) kept the app from quitting; what a worker still
    does is given up at exit (hangup.finished ends the process soon after)."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


class PgBrowseApp(App[int]):
    """Browse a PostgreSQL database's relations through named cursors."""

    CSS_PATH = "app.tcss"
    TITLE = "pgbrowse"
    HELP_GROUP = "Anywhere"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("question_mark", "help", "Keys"),
        Binding("ctrl+o", "query", "SQL query"),
        Binding("f1", "help", "Keys", show=False, priority=True),  # also from inside text boxes
        Binding("ctrl+z", "suspend_process", "Suspend", show=False),
        # (priority: a screen's own Ctrl+C copies selected text; copying still happens
        # where nothing runs, in the editor or a text box: action_help_quit)
        Binding(
            "ctrl+c",
            "help_quit",
            "Cancel the running statement (as psql)",
            show=False,
            priority=True,
        ),
        Binding("f2", "buffers", "Views", priority=True),
        Binding("ctrl+pagedown", "next_buffer(1)", "Next view", show=False, priority=True),
        Binding("ctrl+pageup", "next_buffer(-1)", "Previous view", show=False, priority=True),
        Binding("ctrl+w", "close_buffer", "Close view", show=False, priority=True),
    ]

    def get_driver_class(self) -> type[Driver]:
        """The platform's driver, its frames written in fewer bytes (``compact``)."""
        return compacting(super().get_driver_class())

    def __init__(
        self,
        factory: ConnectionFactory,
        *,
        where: str = "",
        initial: Relation | None = None,
        memory_probe: MemoryProbe = read_memory,
        page_size: int = DEFAULT_PAGE_SIZE,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        truncate: int = DEFAULT_TRUNCATE,
        clock: Callable[[], float] = time.perf_counter,
        theme: str = DEFAULT_THEME,
        idle_release_s: float = DEFAULT_IDLE_RELEASE_S,
        welcome_rows: int | None = None,
        compare_limits: tuple[int, int] = (defaults.COMPARE_ROWS, defaults.COMPARE_MB),
        opening: Opening | None = None,
        keep_views: bool = False,
    ) -> None:
        """``opening``: the initial relation's pager, opened while the app was imported;
        ``keep_views``: keep what the user built on each view across runs too."""
        super().__init__()
        self.theme = theme
        self.factory = factory
        self.where = where
        self.initial = initial
        self.opening = opening
        self.memory_probe = memory_probe
        self.page_size = page_size
        self.cache_bytes = cache_bytes
        self.truncate = truncate
        self.clock = clock
        self.idle_release_s = idle_release_s
        self.welcome_rows = welcome_rows  # the demo's size: start on the welcome screen
        self.timing = False  # \timing
        self.kept = KeptViews(views_path() if keep_views else None)  # views left, by relation
        # Views open at once (Textual's modes: a screen stack each): (mode, label), the
        # relation list's first. One in front; the others hold no transaction or connection.
        self.buffers: list[tuple[str, str]] = [("_default", "relations")]
        self._buffer_numbers = itertools.count(1)
        self.compare_limits = compare_limits  # the naive way's (rows, MB) in compare mode
        self.crashes: list[tuple[str, Path | None]] = []  # (one line, log file) per error
        self.sub_title = f"{__version__} {where}"
        self._terminal_safe = TerminalSafe()
        self.query_draft = defaults.QUERY_PREFILL  # the SQL editor's text, kept while the app runs
        self.completion = Catalog()  # what the editor completes (read when it first opens)
        self._history: QueryHistory | None = None
        self._switch_interval = sys.getswitchinterval()

    def action_help_quit(self) -> None:
        """Ctrl+C does what it does in psql: cancel the statement the screen is running on
        the server (a screen that can says what it stopped: ``cancel_running``); with
        nothing running, how to quit, in plain words (Textual's own line is markup)."""
        cancel = getattr(self.screen, "cancel_running", None)
        said = cancel() if callable(cancel) else None
        if said:
            self.notify(said)
        if said is not None:
            return
        focused = self.focused
        if isinstance(focused, TextArea | Input) and focused.selected_text:
            focused.action_copy()  # (nothing runs: Ctrl+C copies the text selected)
            return
        self.notify("Nothing is running on the server to cancel. Ctrl+Q quits.")

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        """The screens that show through the one in front: none when it is opaque.

        Textual always counts the screen under the front one, and any change there (the
        relation list's memory line under a table, a page landing under a record) repaints
        the whole front screen: 14 KB written to the terminal each second after a key, on
        a 200x50 pty. A screen under an opaque one is redrawn when it comes back in front
        (Textual repaints a resumed screen, and lays it out again if the size changed)."""
        below = super()._background_screens
        if not below:  # (one screen: asked on every refresh, so first the cheap answer)
            return below
        try:
            return [] if self.screen.styles.background.a == 1 else below
        except ScreenStackError:  # (no screen yet)
            return []

    def get_key_display(self, binding: Binding) -> str:
        """Keys named one way everywhere (``Ctrl+R``, ``Esc``, ``PgDn``): help, key bars."""
        return key_name(binding.key)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters (no colour, dimming), then ``TerminalSafe``: no control or bidi
        character from outside reaches the terminal, whatever screen draws it."""
        return [*super().get_line_filters(), self._terminal_safe]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is plain text (its message often names a table or quotes the server):
        never markup, controls made visible."""
        super().notify(
            shown(message, lines=True),
            title=shown(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def switch_database(self, factory: ConnectionFactory, where: str) -> None:
        """Browse another database (its connection was checked): back to its relation list."""
        self.factory, self.where = factory, where
        self.sub_title = f"{__version__} {where}"
        while len(self.screen_stack) > 1 and not isinstance(self.screen, RelationListScreen):
            self.pop_screen()
        if isinstance(self.screen, RelationListScreen):
            self.screen.switched()
        self.notify(f"Connected to {where}")

    def get_default_screen(self) -> RelationListScreen:
        return RelationListScreen()

    def on_mount(self) -> None:
        # The loader threads wait on the network with the GIL released; when a statement
        # returns, the thread must get the GIL back from a busy UI thread, which takes up
        # to the switch interval (5 ms by default) per statement. Measured: a goto's four
        # statements took 4-10 ms each at 5 ms and about 1 ms each at 0.5 ms.
        sys.setswitchinterval(0.0005)
        asyncio.get_running_loop().set_default_executor(_NoWaitExecutor())
        self._watch_signals()
        # What startup built (modules, classes, styles: about 70,000 objects) lives as long
        # as the app: out of the cyclic collector's way, so that its full collections (40-57
        # ms each, every few dozen keys) do not land on a key.
        self.set_timer(STARTUP_S, gc.freeze)
        if self.initial is not None:
            self.open_relation(self.initial, self.opening)
        elif self.welcome_rows is not None:
            from pgbrowse.ui.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.welcome_rows))

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key and palette command runs here: an unexpected error in one becomes an
        error screen (the traceback goes to a log file), and the app goes on."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            log = write_crash_log(error)
            self.crashes.append((one_line(error), log))
            if len(self.crashes) > 5:  # failing over and over: stop, as below
                self._handle_exception(error)
            else:
                from pgbrowse.ui.error_screen import ErrorScreen

                self.push_screen(ErrorScreen(one_line(error), log))
            return True

    def _handle_exception(self, error: Exception) -> None:
        """Any other unexpected error has stopped the message loop it happened in (Textual
        does not resume one), so the app cannot go on: the traceback goes to a log file, the
        app exits cleanly (terminal restored) with status 1, and the command line prints one
        line with the log's path, never the traceback. Textual 8's own handler, minus the
        traceback it would print."""
        if not self.crashes or self.crashes[-1][0] != one_line(error):
            self.crashes.append((one_line(error), write_crash_log(error)))
        self._return_code = 1
        if self._exception is None:  # Pilot re-raises it in tests, as with Textual's own
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    @property
    def history(self) -> QueryHistory:
        """The SQL editor's history (read from the state folder when first wanted)."""
        if self._history is None:
            self._history = QueryHistory()
        return self._history

    def action_query(self) -> None:
        """Ctrl+O: the SQL editor (a query is browsed like a table)."""
        from pgbrowse.ui.query_screen import QueryScreen

        if not isinstance(self.screen, QueryScreen):
            self.push_screen(QueryScreen())

    def action_help(self) -> None:
        """``?``: the keys of the screen in front, from its bindings."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (Ctrl+P) offers every key's action too, with its keys."""
        yield from super().get_system_commands(screen)
        seen = {"quit", "command_palette"}
        for item in screen_keys(screen):
            if item.action in seen:
                continue
            seen.add(item.action)
            owner = next(
                a.node for a in screen.active_bindings.values() if a.binding.action == item.action
            )
            yield SystemCommand(
                item.description,
                f"keys: {', '.join(item.keys)}",
                partial(self.run_action, item.action, owner),
            )

    def action_suspend_process(self) -> None:
        """Ctrl+Z: every view gives its transaction back first (no snapshot, no lock while
        the job is stopped: a migration is not kept waiting by a forgotten terminal), at
        most 2 s; then the process stops. The next key after ``fg`` reads again."""
        self.run_worker(self._release_then_suspend(), group="suspend", exclusive=True)

    async def _release_then_suspend(self) -> None:
        views = [view for screen in self.screen_stack for view in screen.query(TableView)]
        for view in views:
            view.loader.submit(CursorPager.release, background=True)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            view.state.holds_transaction or view.loader.in_flight is not None for view in views
        ):
            await asyncio.sleep(0.02)
        super().action_suspend_process()  # (nothing here when the terminal cannot suspend)

    def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        gc.unfreeze()  # (a test runs many apps in one process)

    def _watch_signals(self) -> None:
        """SIGTERM and SIGHUP (an SSH disconnect) end the app cleanly, restoring the terminal."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            # Not possible off the main thread (tests) or on some platforms: then skip.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, partial(self._hung_up, 128 + sig))

    def _hung_up(self, code: int) -> None:
        """SIGHUP or SIGTERM: exit cleanly, and if that has not happened within the grace
        period (a terminal that is gone can block Textual's shutdown), the watchdog ends
        the process (pgbrowse.hangup)."""
        hangup.hang_up(code)
        self.exit(return_code=code)

    def pager_for(
        self,
        relation: Relation,
        landing: Landing | None = None,
        filter: str | None = None,
        order: tuple[str, bool] | None = None,
    ) -> CursorPager:
        """A pager for ``relation`` with the app's settings (opening on the row ``landing``
        names, or filtered by ``filter``: a followed foreign key; sorted by ``order``: a
        view kept)."""
        return CursorPager(
            self.factory,
            relation,
            page_size=self.page_size,
            cache_bytes=self.cache_bytes,
            truncate=self.truncate,
            clock=self.clock,
            landing=landing,
            filter=filter,
            order=order,
        )

    def open_relation(
        self, relation: Relation, opening: Opening | None = None, new_buffer: bool = False
    ) -> None:
        """Open ``relation`` in a table view over a connection and cursor of its own (the
        pager ``opening`` opened for it, if given); ``new_buffer``: in a view of its own,
        beside the others (F2 lists them)."""
        kept = self._kept_for(relation)
        if opening is not None and opening.pager is not None:
            if kept is None:
                self.push_screen(TableScreen(opening.pager, opening=opening))
                return
            # (kept from an earlier run: its filter and order need a pager of their own; the
            # one opened while the app was imported is closed once its thread is done)
            unused, pager = opening, opening.pager

            def close_unused() -> None:
                unused.first_page()  # (its thread done: the pager is no one's)
                pager.close()

            threading.Thread(target=close_unused, name="pgbrowse-unused", daemon=True).start()
        screen = self._table_screen(relation, kept)
        if not new_buffer:
            self.push_screen(screen)
            return
        self._park_buffer()
        # Textual switches only to the modes it knows, and the first one (the relation
        # list's, its default) it made itself: known from here on. (As a class's MODES, the
        # list took itself for the screen in front at start and read the catalog under a
        # table opened from the command line.)
        self._modes.setdefault(self.DEFAULT_MODE, RelationListScreen)
        mode = f"view-{next(self._buffer_numbers)}"
        label = relation.qualified if relation.query is None else "(query)"
        self.add_mode(mode, lambda: screen)
        self.buffers.append((mode, label))
        self.switch_mode(mode)
        self._said_buffer()

    def _kept_for(self, relation: Relation) -> KeptView | None:
        """What the user built on ``relation``'s view when they last left it (a query's
        view is not kept)."""
        return self.kept.get(self.where, relation.qualified) if relation.query is None else None

    def _table_screen(self, relation: Relation, kept: KeptView | None) -> TableScreen:
        """The view of ``relation``, with ``kept`` given back (the filter, the order, the
        columns, the place) when there is one."""
        if kept is None:
            return TableScreen(self.pager_for(relation))
        try:
            pager = self.pager_for(relation, filter=kept.filter, order=kept.order)
        except PgBrowseError:  # (a kept filter the guard now refuses: open it plain)
            self.kept.forget(self.where, relation.qualified)
            return TableScreen(self.pager_for(relation))
        return TableScreen(pager, kept=kept)

    # -- views open at once ------------------------------------------------------------
    def _park_buffer(self) -> None:
        """The views in front go to the background: each gives its transaction and its
        connection back, keeping only the rows in sight (as a view covered by a followed
        key does); coming back reads them again, in a new snapshot."""
        for screen in self.screen_stack:
            if isinstance(screen, TableScreen) and screen.is_mounted:
                screen.view.park()

    def _said_buffer(self) -> None:
        modes = [mode for mode, _ in self.buffers]
        at = modes.index(self.current_mode) if self.current_mode in modes else 0
        self.notify(f"View {at + 1} of {len(self.buffers)}: {self.buffers[at][1]}  (F2 lists them)")

    def action_next_buffer(self, step: int) -> None:
        """Ctrl+PgDn / Ctrl+PgUp: the next or previous view open."""
        if len(self.buffers) < 2:
            self.notify("One view is open: Ctrl+T on the list opens a relation beside it")
            return
        modes = [mode for mode, _ in self.buffers]
        at = modes.index(self.current_mode) if self.current_mode in modes else 0
        self._switch_buffer(modes[(at + step) % len(modes)])

    def _switch_buffer(self, mode: str) -> None:
        if mode == self.current_mode:
            return
        self._park_buffer()
        self.switch_mode(mode)
        self._said_buffer()

    def action_buffers(self) -> None:
        """F2: the views open; Enter goes to one."""
        from pgbrowse.ui.choose import ChooseScreen

        labels = [
            f"{i + 1}. {label}" + ("   (here)" if mode == self.current_mode else "")
            for i, (mode, label) in enumerate(self.buffers)
        ]

        def chosen(index: int | None) -> None:
            if index is not None:
                self._switch_buffer(self.buffers[index][0])

        self.push_screen(
            ChooseScreen(
                " Views open: Enter goes to one",
                labels,
                "Ctrl+PgDn/Ctrl+PgUp next/previous · Ctrl+W closes the view in front · Esc",
            ),
            callback=chosen,
        )

    def action_close_buffer(self) -> None:
        """Ctrl+W: close the view in front (its connection with it); the relation list's
        stays."""
        mode = self.current_mode
        if mode == "_default":
            self.notify("The relation list stays open (Ctrl+Q quits)")
            return
        modes = [m for m, _ in self.buffers]
        at = modes.index(mode)
        del self.buffers[at]
        self.switch_mode(self.buffers[max(at - 1, 0)][0])
        self.remove_mode(mode)
        self._said_buffer()


def _is_a_browser(app: PgBrowseApp) -> Browser:
    """(mypy checks here that the app is what the screens take it for)"""
    return app
