"""RelationListScreen: every relation of the database, filtered as you type; Enter opens one.

The first screenful comes from one small query and is drawn at once; the whole catalog
follows on a worker thread into a CatalogIndex (compact arrays, no object per relation),
and the list switches to it keeping the filter, the order and the cursor's relation.
Typing filters in memory, a slice of the catalog per event-loop turn.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from pgbrowse.db.catalog.index import CatalogIndex, read_all, read_first
from pgbrowse.db.catalog.listing import Listing
from pgbrowse.db.connection.errors import PgBrowseError, QueryError, describe, first_line
from pgbrowse.ui.backslash import run_command
from pgbrowse.ui.browser import Browser, browser_of
from pgbrowse.ui.catalog_view import CatalogView
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.safe import SafeStatic

FIRST_LINES = 200  # the first screenful (and then some), read before the whole catalog


class RelationListScreen(Screen[None]):
    """The first screen: schema, name, kind, estimated rows, size, comment."""

    HELP_TITLE = "the relation list"
    HELP_GROUP = "The relation list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "page(1)", "Page down", show=False, priority=True),
        Binding("pageup", "page(-1)", "Page up", show=False, priority=True),
        Binding("ctrl+home", "edge(0)", "First", show=False, priority=True),
        Binding("ctrl+end", "edge(1)", "Last", show=False, priority=True),
        # (priority: the filter box would take Ctrl+E as "end of line")
        Binding("ctrl+e", "expand", "Partitions", priority=True),
        Binding("ctrl+s", "sort", "Sort", priority=True),
        Binding("ctrl+l", "databases", "Databases", priority=True),
        Binding("ctrl+r", "reload", "Reload", priority=True),
        Binding("ctrl+t", "open_beside", "Open beside", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.listing = Listing(CatalogIndex())
        self.loaded = False  # the whole catalog is in
        self._started = False  # its read has begun (when the list was first in front)
        self.error: PgBrowseError | None = None

    @property
    def browser(self) -> Browser:
        return browser_of(self.app)

    def compose(self) -> ComposeResult:
        yield SafeStatic(f" pgbrowse  {self.browser.where}", id="title")
        yield Input(
            placeholder="type to filter relations (schema.name or kind), or a psql command (\\dt);"
            " F1 for help",
            id="filter",
        )
        yield CatalogView(self.listing, id="relations")
        yield SafeStatic(" loading the catalog…", id="status")
        yield MemoryFooter(self.browser.memory_probe)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_screen_resume(self) -> None:
        """The catalog is read when the list is first in front: a table opened from the
        command line covers it, and nothing the user does not look at may cost the UI
        thread (building the list of 10,000 relations made End there 15 times slower)."""
        if self._started:
            return
        browser = self.browser
        if browser.initial is None and browser.welcome_rows is None:
            self._load_if_in_front()  # (nothing will cover it: read at once)
        else:  # (once the app has put what covers it in front)
            self.call_after_refresh(self._load_if_in_front)

    def _load_if_in_front(self) -> None:
        if not self._started and self.app.screen is self:
            self._started = True
            self.load()

    # -- loading -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def load(self) -> None:
        """The first screenful, then everything, on a short-lived connection of its own."""
        worker = get_current_worker()
        try:
            conn = self.browser.factory.connect()
            try:
                first = read_first(conn, FIRST_LINES)
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._loaded, first)
                whole = read_all(conn)
            except Exception as error:
                raise _plain(error) from None
            finally:
                conn.close()
        except PgBrowseError as error:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, error)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, whole)

    def _failed(self, error: PgBrowseError) -> None:
        """The list keeps what it had; the status line says what went wrong."""
        self.error = error
        self.update_status()

    def _loaded(self, index: CatalogIndex) -> None:
        view = self.query_one(CatalogView)
        current = view.current
        self.error = None
        self.loaded = index.complete
        self.listing.replace_index(index)
        self._filter_rest()
        view.lines_changed()
        if current is not None:  # the cursor stays on its relation
            for row, line in enumerate(self.listing.lines):
                entry = index.entry(line)
                if (entry.schema, entry.name) == (current.schema, current.name):
                    view.move(to=row)
                    break
        self.update_status()

    # -- filtering ---------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self.listing.set_filter(event.value)
        view = self.query_one(CatalogView)
        view.cursor = 0
        view.scroll_to(y=0, animate=False, immediate=True)
        view.lines_changed()
        self.update_status()
        self._filter_rest()

    def _filter_rest(self) -> None:
        """The rest of the catalog, a slice per turn of the event loop (keys come first)."""
        if not self.listing.done:
            self.call_after_refresh(self._filter_step)

    def _filter_step(self) -> None:
        if self.listing.step():
            self.call_after_refresh(self._filter_step)  # (the screen is drawn in between)
            if len(self.listing.lines) < 200:
                self.query_one(CatalogView).lines_changed()
            return
        self.query_one(CatalogView).lines_changed()
        self.update_status()

    def update_status(self) -> None:
        listing = self.listing
        index = listing.index
        total = f"{index.count:,}" + ("" if self.loaded else "+")
        if listing.text.split():
            counted = f"{listing.matched:,}" + ("" if listing.done else "…")
            shown = f"{counted} of {total} relations match"
        elif len(index.tops) < index.count:
            shown = f"{len(index.tops):,} relations ({total} with partitions and children)"
        else:
            shown = f"{total} relations"
        if not self.loaded and self.error is None:
            shown += " (loading the rest…)"
        if self.error is not None:
            shown += f"  │ {self.error.title}: {self.error.message} (Ctrl+R tries again)"
        self.query_one("#status", Static).update(
            f" {shown}  │ by {listing.sort}  │ Enter opens, Ctrl+E partitions, Ctrl+S sorts"
        )

    # -- keys --------------------------------------------------------------------------
    def on_catalog_view_moved(self, message: CatalogView.Moved) -> None:
        message.stop()

    def action_move(self, step: int) -> None:
        self.query_one(CatalogView).move(step)

    def action_page(self, direction: int) -> None:
        view = self.query_one(CatalogView)
        view.move(direction * view.page)

    def action_edge(self, end: int) -> None:
        self.query_one(CatalogView).move(to=len(self.listing.lines) - 1 if end else 0)

    def action_open(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value.startswith("\\"):  # psql's commands: \dt shop.*, \d name, \l…
            text, box.value = box.value, ""
            run_command(self, text)
            return
        entry = self.query_one(CatalogView).current
        if entry is not None:
            self.browser.open_relation(entry.relation())

    def action_open_beside(self) -> None:
        """Ctrl+T: open the highlighted relation in a view of its own, beside the others
        (F2 lists them, Ctrl+PgDn/Ctrl+PgUp go from one to the next)."""
        entry = self.query_one(CatalogView).current
        if entry is not None:
            self.browser.open_relation(entry.relation(), new_buffer=True)

    def action_expand(self) -> None:
        view = self.query_one(CatalogView)
        entry = view.current
        if entry is None or not self.listing.toggle(entry.line):
            self.notify("Not a partitioned table or an inheritance parent", severity="warning")
            return
        view.lines_changed()

    def action_sort(self) -> None:
        self.listing.next_sort()
        view = self.query_one(CatalogView)
        view.lines_changed()
        view.move(to=0)
        self.update_status()

    def action_databases(self) -> None:
        from pgbrowse.ui.databases import DatabaseScreen

        self.app.push_screen(DatabaseScreen())

    def switched(self) -> None:
        """Another database: its name in the title, its catalog in the list."""
        self.query_one("#title", Static).update(f" pgbrowse  {self.browser.where}")
        self.listing = Listing(CatalogIndex())
        view = self.query_one(CatalogView)
        view.listing, view.cursor = self.listing, 0
        view.lines_changed()
        self.loaded = False
        self.action_reload()

    def action_reload(self) -> None:
        self._started = True
        self.query_one("#status", Static).update(" loading the catalog…")
        self.load()

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""


def _plain(error: Exception) -> PgBrowseError:
    """A catalog read's failure in plain words (a timeout, a lost connection…)."""
    import psycopg2

    if isinstance(error, PgBrowseError):
        return error
    if isinstance(error, psycopg2.Error):
        return describe(error, "reading the catalog")
    return QueryError("Catalog failed", first_line(error))
