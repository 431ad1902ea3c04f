"""QueryScreen: the SQL editor. A SELECT is browsed through the same lazy view as a table;
EXPLAIN and SHOW, which a cursor cannot hold, run as plain bounded statements.

The text stays when you leave and come back (the app keeps it), every run goes into the
history (``QueryHistory``, kept across sessions), and completion offers keywords, schemas,
relations and columns from the catalog, read off the UI thread on a session of its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg2
from psycopg2 import sql
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Selection

from pgbrowse import defaults
from pgbrowse.db.catalog.relations import Relation, describe_query, list_columns
from pgbrowse.db.connection.errors import PgBrowseError, QueryError, describe
from pgbrowse.db.connection.session import Session
from pgbrowse.db.guard.allow import vet
from pgbrowse.db.guard.parse import (
    EXPLAIN,
    SELECT,
    SHOW,
    Checked,
    check_query,
    map_position,
    token_at,
)
from pgbrowse.history import QueryHistory
from pgbrowse.ui.backslash import run_command
from pgbrowse.ui.browser import Browser, browser_of
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.plan_screen import StatementScreen
from pgbrowse.ui.safe import SafeStatic, plain, shown
from pgbrowse.ui.sql_editor import Completions, SqlEditor

PREFILL = defaults.QUERY_PREFILL


class QueryScreen(Screen[None]):
    """Ctrl+R runs the text; Esc goes back (the text is kept)."""

    HELP_TITLE = "the SQL editor"
    HELP_GROUP = "The editor"
    HELP_EXTRA = (  # keys the editor reads itself
        (("Tab",), "Complete the word (keywords, schemas, relations, columns)"),
        (("↑", "↓"), "On the first or last line: an older or newer query from the history"),
        (("\\?",), "psql's commands (\\d, \\dt, \\l, \\c…), run with Ctrl+R"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run"),
        Binding("ctrl+t", "run(True)", "Run beside"),
        Binding("ctrl+f", "history", "Search history"),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    QueryScreen SqlEditor { height: 1fr; }
    QueryScreen #query-error { color: $error; height: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._at = -1  # the history entry shown (-1: the text being written)
        self._draft = ""

    def compose(self) -> ComposeResult:
        browser = self.browser
        with Vertical():
            yield SafeStatic(
                " SQL: a SELECT (WITH, VALUES, TABLE) is browsed like a table; EXPLAIN and"
                " SHOW show their result. Ctrl+R runs · Tab completes · ↑ on the first line:"
                " history · Ctrl+F searches it",
                id="query-hint",
            )
            yield SqlEditor(browser.query_draft, browser.completion, id="query-text")
            yield SafeStatic("", id="query-error")
        yield Completions(id="completions")
        yield KeyBar()

    @property
    def editor(self) -> SqlEditor:
        return self.query_one(SqlEditor)

    def on_mount(self) -> None:
        editor = self.editor
        editor.popup = self.query_one(Completions)
        editor.move_cursor(editor.document.end)  # after the prefilled text
        editor.focus()
        history = self.browser.history
        if history.problem:
            self.say(history.problem)
        if not self.browser.completion.relations:
            self._read_catalog()

    @property
    def browser(self) -> Browser:
        return browser_of(self.app)

    def say(self, text: str) -> None:
        self.query_one("#query-error", Static).update(text)

    # -- the catalog for completion ----------------------------------------------------------
    @work(thread=True, exclusive=True, group="completion", exit_on_error=False)
    def _read_catalog(self, columns_only: bool = False) -> None:
        catalog = self.browser.completion
        session = Session(self.browser.factory)
        try:
            if not columns_only:
                catalog.read_relations(session)
            catalog.read_columns(session, catalog.named_in(self.browser.query_draft))
        except PgBrowseError:
            return  # (completion offers keywords only; the editor works as before)
        finally:
            session.close()

    def on_sql_editor_want_columns(self, message: SqlEditor.WantColumns) -> None:
        self._read_catalog(columns_only=True)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        text = self.browser.query_draft = event.text_area.text
        self.editor.refresh_completions()
        before = self.editor.line_before_caret()
        if before and not before[-1].isalnum() and self.browser.completion.named_in(text):
            self._read_catalog(columns_only=True)  # (a relation was just named: its columns)

    # -- history -------------------------------------------------------------------------
    def on_sql_editor_history_step(self, message: SqlEditor.HistoryStep) -> None:
        entries = self.browser.history.entries
        if not entries:
            return
        if self._at == -1:
            if message.step > 0:
                return
            self._draft = self.editor.text
            self._at = len(entries) - 1
        else:
            self._at += message.step
            self._at = max(self._at, 0)
        if self._at >= len(entries):
            self._at = -1
            self.editor.set_text(self._draft)
        else:
            self.editor.set_text(entries[self._at])

    def action_history(self) -> None:
        def chosen(text: str | None) -> None:
            if text is not None:
                self._at = -1
                self.editor.set_text(text)
            self.editor.focus()

        self.app.push_screen(HistoryScreen(self.browser.history), callback=chosen)

    # -- running ---------------------------------------------------------------------------
    def action_run(self, beside: bool = False) -> None:
        """Ctrl+R: run the text (a SELECT opens in the lazy view); Ctrl+T: in a view of its
        own, beside the others."""
        self.editor.hide_completions()
        text = self.editor.text
        if text.lstrip().startswith("\\"):  # psql's commands: \d, \dt, \l, \c, \?…
            self.browser.history.add(text.strip())
            self.say("")
            run_command(self, text.strip())
            return
        try:
            checked = check_query(text, (SELECT, EXPLAIN, SHOW))
        except QueryError as refused:
            self.say(f"{refused.title}: {refused.message}")
            self.mark(refused.position)
            return
        self.browser.history.add(text)
        self._at = -1
        if checked.kind != SELECT:
            self.say("")
            self.app.push_screen(
                StatementScreen(self.browser.factory, checked.sql, calls=checked.calls)
            )
            return
        self.say("checking…")
        self._check(checked, beside)

    @work(thread=True, exclusive=True, group="query", exit_on_error=False)
    def _check(self, checked: Checked, beside: bool = False) -> None:
        """Decide what the query calls against the catalog, then describe it (no rows), on
        a short connection: its errors are said here."""
        relation = Relation.of_checked(checked)
        factory = self.browser.factory
        try:
            conn = factory.connect()
            try:
                vet(conn, checked.calls, factory.settings.allowed_functions)
                relation = describe_query(conn, relation)
                list_columns(conn, relation)
            except psycopg2.Error as failed:
                error = describe(failed, "checking the query")
                error.position = self._server_position(failed, conn, relation, checked)
                raise error from None
            finally:
                conn.close()
        except PgBrowseError as failed:
            position = getattr(failed, "position", None)
            self.app.call_from_thread(self._refused_at, failed, position)
            return
        self.app.call_from_thread(self._open, relation, beside)

    @staticmethod
    def _server_position(
        failed: psycopg2.Error, conn: Any, relation: Relation, checked: Checked
    ) -> int | None:
        """Where the server's error points (``diag.statement_position``, in the statement
        sent: the query re-printed from its parse, inside ``describe_query``'s), in the
        user's own text (the same token: ``map_position``)."""
        told = getattr(failed.diag, "statement_position", None)
        if not told or conn.closed:
            return None
        sent = sql.SQL("SELECT * FROM {} LIMIT 0").format(relation.source()).as_string(conn)
        found = sent.find(checked.sql)
        # (the settings sent before it in the same message count in the server's position)
        at = int(told) - 1 - found - getattr(conn, "prefix_chars", 0)
        if found < 0 or not 0 <= at < len(checked.sql):
            return None
        return map_position(checked.sql, checked.text, at)

    def _refused_at(self, error: PgBrowseError, position: int | None) -> None:
        self.say(f"{error.title}: {error.message}")
        self.mark(position)

    def mark(self, position: int | None) -> None:
        """The error's place in the editor: the token there selected (highlighted), the
        caret at it, in sight."""
        if position is None:
            return
        editor = self.editor
        text = editor.text
        start, end = token_at(text, min(position, len(text)))

        def location(offset: int) -> tuple[int, int]:
            before = text[:offset]
            return before.count("\n"), offset - (before.rfind("\n") + 1)

        editor.selection = Selection(location(start), location(end))
        editor.scroll_cursor_visible()
        editor.focus()

    def _open(self, relation: Relation, beside: bool = False) -> None:
        self.say("")
        self.browser.open_relation(relation, new_buffer=beside)

    def refused(self, error: PgBrowseError) -> None:
        """The view opened for the query failed before it showed a row (the server refused
        it): said here, where the text is."""
        self.say(f"{error.title}: {error.message}")
        self.editor.focus()

    def action_back(self) -> None:
        if self.editor.completing:
            self.editor.hide_completions()
            return
        self.dismiss()


class HistoryScreen(ModalScreen[str | None]):
    """The history, newest first, narrowed by the words typed; Enter puts one in the editor."""

    HELP_TITLE = "the query history"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "down", "Next", show=False),
        Binding("up", "up", "Previous", show=False),
    ]
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > Vertical { width: 90%; max-width: 120; height: 80%;
                               border: round $accent; background: $surface; padding: 0 1; }
    HistoryScreen OptionList { height: 1fr; }
    """

    def __init__(self, history: QueryHistory) -> None:
        super().__init__()
        self.history = history
        self.found: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(" Query history: type words to narrow it · Enter takes one · Esc")
            yield Input(placeholder="words the query holds", id="history-words")
            yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self._list("")
        self.query_one(Input).focus()

    def _list(self, words: str) -> None:
        self.found = self.history.search(words)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [Option(plain(" ⏎ ".join(shown(text).splitlines())[:300])) for text in self.found]
        )
        options.highlighted = 0 if self.found else None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._list(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        highlighted = self.query_one(OptionList).highlighted
        self.dismiss(self.found[highlighted] if highlighted is not None and self.found else None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.found[event.option_index])

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
