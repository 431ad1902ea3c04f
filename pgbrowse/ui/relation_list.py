"""RelationListScreen: every user relation, filtered as you type; Enter opens one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from pgbrowse.db.catalog import Relation, list_relations
from pgbrowse.db.errors import PgBrowseError, QueryError, first_line
from pgbrowse.memory import human_bytes
from pgbrowse.ui.memory_footer import MemoryFooter
from pgbrowse.ui.safe import SafeStatic, plain_text

if TYPE_CHECKING:
    from pgbrowse.ui.app import PgBrowseApp


def matches(relation: Relation, text: str) -> bool:
    """Case-insensitive match of every word of ``text`` against schema.name and kind."""
    haystack = f"{relation.qualified} {relation.kind_name}".casefold()
    return all(word in haystack for word in text.casefold().split())


class FilterInput(Input):
    """The list's filter box: it leaves ``?`` to the app (help), as no relation name needs it."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character != "?" and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "?":
            event.prevent_default()  # not typed into the box: the app's binding takes it


class RelationListScreen(Screen[None]):
    """The first screen: schema, name, kind, estimated rows, size, comment."""

    HELP_TITLE = "the relation list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.relations: list[Relation] = []
        self.shown: list[Relation] = []

    @property
    def browser(self) -> PgBrowseApp:
        from pgbrowse.ui.app import PgBrowseApp

        assert isinstance(self.app, PgBrowseApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield SafeStatic(f" pgbrowse  {self.browser.where}", id="title")
        yield FilterInput(placeholder="type to filter relations (schema.name or kind)", id="filter")
        table: DataTable[str] = DataTable(id="relations", cursor_type="row", zebra_stripes=True)
        table.add_column("schema", key="schema")
        table.add_column("name", key="name")
        table.add_column("kind", key="kind")
        table.add_column("rows (est.)", key="rows")
        table.add_column("size", key="size")
        table.add_column("comment", key="comment")
        yield table
        yield SafeStatic(" loading the catalog…", id="status")
        yield MemoryFooter(self.browser.memory_probe)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.load()

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def load(self) -> None:
        """One catalog query on a short-lived connection of its own."""
        try:
            conn = self.browser.factory.connect()
            try:
                relations = list_relations(conn)
            finally:
                conn.close()
        except PgBrowseError as error:
            self.app.call_from_thread(self._failed, error)
            return
        except Exception as error:  # a driver error: say it plainly
            self.app.call_from_thread(self._failed, QueryError("Catalog failed", first_line(error)))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, relations)

    def _failed(self, error: PgBrowseError) -> None:
        self.query_one("#status", Static).update(f" {error.title}: {error.message}")

    def _loaded(self, relations: list[Relation]) -> None:
        self.relations = relations
        self.show(self.query_one(Input).value)

    def show(self, text: str) -> None:
        self.shown = [r for r in self.relations if matches(r, text)]
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows(
            (  # names and comments are the database's text: never markup, no controls
                plain_text(r.schema),
                plain_text(r.name),
                r.kind_name,
                "?" if r.estimated_rows is None else f"~{r.estimated_rows:,}",
                human_bytes(r.size_bytes),
                plain_text((r.comment or "").splitlines()[0] if r.comment else ""),
            )
            for r in self.shown
        )
        shown = (
            f"{len(self.shown):,} of {len(self.relations):,}"
            if text
            else f"{len(self.relations):,}"
        )
        self.query_one("#status", Static).update(
            f" {shown} relations  │ Enter opens, typing filters, Ctrl+R reloads"
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show(event.value)

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.shown and 0 <= table.cursor_row < len(self.shown):
            self.browser.open_relation(self.shown[table.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_reload(self) -> None:
        self.query_one("#status", Static).update(" loading the catalog…")
        self.load()

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""
