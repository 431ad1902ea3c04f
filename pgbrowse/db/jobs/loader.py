"""PageLoader: the one thread that talks to a pager's connection.

The view says which pages it wants, most wanted first; each call replaces the previous
wish list, so pages scrolled past are dropped instead of queueing up. The loader fetches
them one at a time and reports each result through a callback (which, in the UI, posts a
Textual message: thread-safe) with the page's rows and the view's state as they now are
(``ViewState``): this thread alone calls the pager, and the UI never reads it back. The
pager is closed on this thread when the loader stops.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from pgbrowse.crashlog import unexpected
from pgbrowse.db.connection.cancel import keep_cancelling
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.paging.pager import CursorPager, Row
from pgbrowse.db.paging.state import ViewState

# (page or END, the page's rows or None, the error or None, the view as it now is)
LoadedCallback = Callable[[int, list[Row] | None, PgBrowseError | None, ViewState], None]

ABANDON_AFTER_S = 1.0  # a stopped view's statement that outlives its cancel by this is given up
END = -1  # the "page" reported when the end was found or a task ran: anything may have moved


class PageLoader:
    """Fetches the pages a view wants on a thread of its own, newest wish first."""

    def __init__(
        self,
        pager: CursorPager,
        on_loaded: LoadedCallback,
        *,
        idle_release_s: float = 0.0,
        first: Callable[[], tuple[list[Row] | None, Exception | None]] | None = None,
    ) -> None:
        """``idle_release_s`` > 0: after that long with nothing to do, the pager gives its
        transaction back (``CursorPager.release``) until the next page is wanted; behind a
        pooler or on a standby sooner, even when it is 0 (``CursorPager.release_after``).
        ``first``: the pager's first page was read before the loader (``Opening``): its
        rows, or what reading them raised, are reported first."""
        self.pager = pager
        self._first = first
        self.idle_release_s = idle_release_s
        self._on_loaded = on_loaded
        self._wanted: list[int] = []
        self._stopping = False
        self._find_end = False
        self._tasks: deque[tuple[Callable[[CursorPager], object], bool, str, bool]] = deque()
        self._yielding = 0  # the job in flight if it gives way to the user's (0: none)
        self._active_at = time.monotonic()  # the last job the user asked for (not background)
        self._busy: int | None = None
        self.job = 0  # counts the jobs taken: a cancel aimed at one job stops at the next
        self.busy_since = 0.0  # time.monotonic() when the job in flight started
        self.doing = ""  # what the job in flight does, in words ('' for none)
        self.on_work: Callable[[], None] = lambda: None  # told (on the caller's thread) of work
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="pgbrowse-loader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def in_flight(self) -> int | None:
        """The page being fetched right now, if any."""
        return self._busy

    def want(self, pages: Sequence[int]) -> None:
        """Replace the wish list (the page in flight is skipped; pages already cached are
        skipped by the loader thread when it gets to them)."""
        self.on_work()
        with self._cond:
            self._active_at = time.monotonic()  # a move: the user is here
            self._wanted = [p for p in dict.fromkeys(pages) if p != self._busy]
            if self._wanted:
                self._cond.notify()

    def want_end(self) -> None:
        """Find the real end (exact row count) before any other page."""
        self.on_work()
        with self._cond:
            self._find_end = True
            self._cond.notify()

    def submit(
        self,
        task: Callable[[CursorPager], object],
        background: bool = False,
        doing: str = "",
        yields: bool = False,
    ) -> None:
        """Run ``task(pager)`` on the loader thread before any other page (reported as END);
        ``doing`` says what it does while it runs (the position line shows it when slow).
        ``yields`` (a background task): a task the user asks for while it runs cancels it on
        the server instead of waiting behind it (the task must take its cancel quietly)."""
        if not background:
            self.on_work()
        with self._cond:
            self._tasks.append((task, background, doing, yields))
            self._cond.notify()
            job = self._yielding
        if not background and job and self._busy is not None:
            keep_cancelling(self.pager.cancel, lambda: self.job != job or self._busy is None)

    def _release_after(self) -> float | None:
        """Idle seconds before the transaction is given back (None: never); the pager
        shortens the configured time behind a pooler or on a standby."""
        return self.pager.release_after(self.idle_release_s if self.idle_release_s > 0 else None)

    def stop(self, abandon_after_s: float = ABANDON_AFTER_S) -> None:
        """Stop the thread and close the pager; returns at once, whatever the server does.
        A running statement is cancelled on the server; if the thread still waits on it
        after ``abandon_after_s`` (a server that does not answer), its socket is shut."""
        with self._cond:
            self._stopping = True
            self._wanted = []
            self._cond.notify()
        if not self._thread.is_alive():
            self.pager.close()
            return
        if self._busy is not None:  # (sent again until it lands: one between statements is lost)
            keep_cancelling(self.pager.cancel, lambda: not self._thread.is_alive())
        timer = threading.Timer(abandon_after_s, self._abandon)
        timer.daemon = True
        timer.start()

    def _abandon(self) -> None:
        if self._thread.is_alive():
            self.pager.session.abandon()

    def _error(self, exc: Exception) -> PgBrowseError:
        """An error as the view reports it (an unexpected one with its traceback's log)."""
        return exc if isinstance(exc, PgBrowseError) else unexpected(exc)

    def _run(self) -> None:
        try:
            if self._first is not None:  # (read on the opening thread, now done)
                first, failed = self._first()
                self._first = None
                reported = None if failed is None else self._error(failed)
                self._on_loaded(0, first, reported, self.pager.state())
            while True:
                with self._cond:
                    while True:
                        while self._wanted and self.pager.cached(self._wanted[0]) is not None:
                            self._wanted.pop(0)  # (here already: nothing to fetch)
                        if self._wanted or self._find_end or self._tasks or self._stopping:
                            break
                        after = self._release_after()
                        if after is None or not self.pager.holds_transaction:
                            self._cond.wait()  # (nothing to give back until the next job)
                            continue
                        left = after - (time.monotonic() - self._active_at)
                        if left <= 0:  # idle: give it all back
                            self._tasks.append((CursorPager.release, True, "", False))
                            break
                        self._cond.wait(left)
                    if self._stopping:
                        return
                    self.job += 1
                    self.busy_since = time.monotonic()
                    task, background, doing, yields = (
                        self._tasks.popleft() if self._tasks else (None, False, "", False)
                    )
                    self._yielding = self.job if yields else 0
                    if not background:  # (the inspector's reads are not the user's activity)
                        self._active_at = time.monotonic()
                    if task is not None:
                        page = self._busy = END
                    elif self._find_end:
                        self._find_end = False
                        page = self._busy = END
                        doing = "waiting for the server (finding the last row)"
                    else:
                        page = self._busy = self._wanted.pop(0)
                        size = self.pager.page_size
                        span = f"{page * size + 1:,}-{(page + 1) * size:,}"
                        doing = f"waiting for the server (reading rows {span})"
                    self.doing = doing
                error: PgBrowseError | None = None
                rows: list[Row] | None = None
                try:
                    if task is not None:
                        task(self.pager)
                    elif page == END:
                        self.pager.find_end()
                    else:
                        rows = self.pager.load(page)
                except Exception as exc:  # reported to the view, never lost in the thread
                    error = self._error(exc)
                    with self._cond:
                        self._wanted = []  # do not hammer a failing server
                finally:
                    self._busy = None
                    self._yielding = 0
                    self.doing = ""
                    if not background:  # idle time counts from the end of the user's job
                        self._active_at = time.monotonic()
                self._on_loaded(page, rows, error, self.pager.state())
        finally:
            self.pager.close()
