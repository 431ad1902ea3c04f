"""Browser: what the screens know of the app (a Protocol), so no screen imports the app.

The app (``PgBrowseApp``) imports its screens; a screen that imported the app back made an
import cycle. A screen asks ``browser_of(self.app)`` instead, typed by this protocol, and
``pgbrowse.ui.app`` checks that the app is one (mypy, ``_is_a_browser``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from pgbrowse.db.catalog.completion import Catalog
    from pgbrowse.db.catalog.references import Landing
    from pgbrowse.db.catalog.relations import Relation
    from pgbrowse.db.connection.connect import ConnectionFactory
    from pgbrowse.db.jobs.opening import Opening
    from pgbrowse.db.paging.pager import CursorPager
    from pgbrowse.history import QueryHistory
    from pgbrowse.kept import KeptViews
    from pgbrowse.memory import MemoryReading


class Browser(Protocol):
    """The app's settings and services the screens use."""

    factory: ConnectionFactory
    where: str
    memory_probe: Callable[[], MemoryReading]
    idle_release_s: float
    compare_limits: tuple[int, int]
    query_draft: str
    completion: Catalog
    initial: Relation | None  # the relation named on the command line
    welcome_rows: int | None  # the demo's size: the app starts on its welcome screen
    timing: bool  # \timing: the position line says how long the last statement took
    kept: KeptViews  # what the user built on each relation's view, kept when left

    @property
    def history(self) -> QueryHistory: ...

    def switch_database(self, factory: ConnectionFactory, where: str) -> None: ...

    def pager_for(
        self,
        relation: Relation,
        landing: Landing | None = None,
        filter: str | None = None,
        order: tuple[str, bool] | None = None,
    ) -> CursorPager: ...

    def open_relation(
        self, relation: Relation, opening: Opening | None = None, new_buffer: bool = False
    ) -> None: ...

    def action_close_buffer(self) -> None: ...


def browser_of(app: App[Any]) -> Browser:
    """The running app, as a screen knows it (it is always pgbrowse's)."""
    return cast("Browser", app)
