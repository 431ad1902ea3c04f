"""Following: foreign keys both ways from the cursor's row, and the stack of views they
open; and the choice of columns. A part of TableScreen, not a base class: it holds the
table's view, the browser (to open pagers) and the path that led here, and opens a followed
view through a function the screen gives it.

``o`` on a column of a foreign key opens the referenced table on the row the key names
(found by a seek on its unique columns: constant time at any size); ``R`` lists the keys
that point at this table and opens the rows that reference this row, as a filtered lazy
view. Each opens a new table view on top of this one, which keeps its rows in sight and
gives its connection back (``TableView.park``); Esc comes back to exactly the row and
column you left. The title line shows the path (``orders 42 → customers 7``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType

from pgbrowse.db.catalog.references import ForeignKey, Landing, referencing_filter
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.db.paging.pager import CursorPager, Row
from pgbrowse.db.paging.state import ViewState
from pgbrowse.ui.browser import Browser
from pgbrowse.ui.choose import ChooseScreen, ColumnsScreen
from pgbrowse.ui.table_view import FOREIGN_MARK, TableView

Followed = Callable[[CursorPager, tuple[str, ...], str, str], None]

SYSTEM_IDENTITY = {"ctid", "tableoid"}  # not a key a person reads: a row number instead


class Following:
    """o, R and C of the table screen, and the path of the views followed to get here."""

    HELP_GROUP = "Foreign keys and columns"
    BINDINGS: ClassVar[list[BindingType]] = [  # (the screen binds them: help groups them)
        Binding("o", "follow", "Follow key"),
        Binding("R", "referencing", "Referencing rows"),
        Binding("C", "columns", "Columns"),
    ]

    def __init__(
        self,
        view: TableView,
        browser: Browser,
        open_followed: Followed,
        trail: tuple[str, ...] = (),
        step: str = "",
    ) -> None:
        """``open_followed(pager, trail, step, column)``: show a view reached by a key;
        ``trail``: where the user was in each view below this one; ``step``: how this view
        was reached ('' for one opened from the list)."""
        self.view = view
        self.browser = browser
        self._open_followed = open_followed
        self.trail = trail
        self.step = step

    @property
    def state(self) -> ViewState:
        return self.view.state

    def path(self) -> str:
        """``orders 42 → customers 7``: the rows followed from, then this view."""
        return " → ".join((*self.trail, self.step)) if self.step else ""

    def row_label(self, row: Row, position: int) -> str:
        """The row as the path names it: its key, or its number where it has none."""
        view = self.state.view
        if view.identity and not SYSTEM_IDENTITY & set(view.identity):
            values = view.hidden_values(row, view.identity)
            return f"{view.relation.name} {', '.join(v or 'NULL' for v in values)}"
        return f"{view.relation.name} row {position + 1:,}"

    def _key_values(self, row: Row, columns: tuple[str, ...]) -> tuple[str, ...] | str:
        """The texts of ``columns`` in ``row``, or why they cannot name a row."""
        names = [c.name for c in self.state.columns]
        values = []
        for name in columns:
            if name not in names:
                return f"{name} is not shown in this view"
            value = row[names.index(name)]
            if value is None:
                return f"{name} is NULL: it references no row"
            if len(value) > self.state.truncate:
                return f"{name} holds more than {self.state.truncate:,} characters: too long a key"
            values.append(value)
        return tuple(values)

    # -- both ways -------------------------------------------------------------------------
    def follow(self) -> None:
        """o: open the row the cursor's foreign key references."""
        found = self.view.cursor_row_values()
        if found is None:
            return
        row, col = found
        name = self.state.columns[col].name
        references = self.state.view.references
        keys = references.of_column(name)
        if not keys:
            marked = ", ".join(sorted(references.columns))
            hint = f"; these are ({FOREIGN_MARK}): {marked}" if marked else "; this view has none"
            self.view.notify(f"{name} is not part of a foreign key{hint}", severity="warning")
            return
        self._pick(
            f" {name} is part of {len(keys)} foreign keys: follow which?",
            keys,
            lambda fk: self._follow(fk, row),
        )

    def _follow(self, fk: ForeignKey, row: Row) -> None:
        values = self._key_values(row, fk.columns)
        if isinstance(values, str):
            self.view.notify(values, severity="warning")
            return
        landing = Landing(fk.target_columns, values)
        pager = self.browser.pager_for(fk.target, landing=landing)
        self._push(pager, f"{fk.target.name} {', '.join(values)}", fk.target_columns[0], row)

    def referencing(self) -> None:
        """R: the foreign keys that point at this table; open the rows referencing this row."""
        found = self.view.cursor_row_values()
        if found is None:
            return
        row = found[0]
        incoming = self.state.view.references.incoming
        if not incoming:
            relation = self.state.relation.qualified
            self.view.notify(f"No foreign key points at {relation}", severity="warning")
            return
        self._pick(
            " Foreign keys pointing here: open the rows that reference this row",
            incoming,
            lambda fk: self._referencing(fk, row),
        )

    def _referencing(self, fk: ForeignKey, row: Row) -> None:
        values = self._key_values(row, fk.target_columns)
        if isinstance(values, str):
            self.view.notify(values, severity="warning")
            return
        try:
            pager = self.browser.pager_for(fk.table, filter=referencing_filter(fk, values))
        except PgBrowseError as error:
            self.view.notify(error.message, title=error.title, severity="error")
            return
        where = Landing(fk.columns, values).describe()
        self._push(pager, f"{fk.table.name} where {where}", fk.columns[0], row)
        if not fk.indexed:
            rows = fk.table.estimated_rows
            size = f"~{rows:,} rows of " if rows else ""
            self.view.notify(
                f"No index on {fk.table.qualified}({', '.join(fk.columns)}): the server reads"
                f" {size}{fk.table.qualified} to find them (an index makes this instant)."
                " Esc cancels.",
                title="Reading the whole table",
                severity="warning",
            )

    def _pick(
        self, title: str, keys: tuple[ForeignKey, ...], then: Callable[[ForeignKey], None]
    ) -> None:
        if len(keys) == 1:
            then(keys[0])
            return
        labels = [fk.describe() + ("" if fk.indexed else "   (no index)") for fk in keys]

        def chosen(index: int | None) -> None:
            if index is not None:
                then(keys[index])

        self.view.app.push_screen(ChooseScreen(title, labels), callback=chosen)

    def _push(self, pager: CursorPager, step: str, column: str, row: Row) -> None:
        here = self.row_label(row, self.view.cursor_row)
        self.view.park()
        self._open_followed(pager, (*self.trail, here), step, column)

    # -- columns ---------------------------------------------------------------------------
    def columns(self) -> None:
        """C: choose the columns shown (- hides the cursor's, P pins it)."""
        view = self.view
        if not view.laid_out or not self.state.columns:
            return
        columns = self.state.columns

        def apply(hidden: set[int] | None) -> None:
            if hidden is not None:
                view.set_hidden(hidden)

        self.view.app.push_screen(
            ColumnsScreen(
                [c.name for c in columns],
                [c.type_name for c in columns],
                set(view.column_layout.hidden),
            ),
            callback=apply,
        )
