"""Hide, show and pin columns (issue 15), on the demo's 49-column lab.wide at 80x24: the key
is pinned by default and stays when scrolling right; - hides the cursor's column, C chooses
the shown ones; a column cut at the left edge keeps its name and type readable."""

from __future__ import annotations

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.choose import ColumnsScreen
from pgbrowse.ui.table_view import HEADER_LINES, TableView
from tests.helpers import fixed_memory, line, open_table, relation, rows_shown, wait_for


def wide(demo_factory: ConnectionFactory) -> PgBrowseApp:
    """The app opening the demo's 49-column lab.wide."""
    return PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.wide"), memory_probe=fixed_memory
    )


def names(view: TableView) -> list[str]:
    return [c.name for c in view.state.columns]


async def test_the_key_stays_pinned_when_scrolling_right(demo_factory: ConnectionFactory) -> None:
    app = wide(demo_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: rows_shown(view))
        assert view.column_layout.pinned == [names(view).index("id")]
        first = line(view, HEADER_LINES).split()
        for _ in range(30):
            await pilot.press("right")
        assert view.scroll_x > 0 and names(view)[view.cursor_col] == "col_30"
        header, row = line(view, 0).split(), line(view, HEADER_LINES).split()
        assert header[1] == "id" and row[1] == first[1]  # the key, still beside the row number
        assert "col_30" in header
        # P unpins it: it scrolls away like the rest.
        await pilot.press("home")
        view.show_column(0)
        await pilot.press("P")
        assert view.column_layout.pinned == []
        for _ in range(30):
            await pilot.press("right")
        assert "id" not in line(view, 0).split()
        await pilot.press("P")  # (on col_30: now it is the pinned one)
        assert view.column_layout.pinned == [names(view).index("col_30")]
        assert line(view, 0).split()[1] == "col_30"


async def test_hide_and_show_columns(demo_factory: ConnectionFactory) -> None:
    app = wide(demo_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: rows_shown(view))
        await pilot.press("right")
        assert names(view)[view.cursor_col] == "col_01"
        await pilot.press("minus")
        header = line(view, 0).split()
        assert "col_01" not in header and "col_02" in header
        assert names(view)[view.cursor_col] == "col_02"  # the cursor moved on to the next
        await pilot.press("minus", "minus")
        assert {"col_02", "col_03"}.isdisjoint(line(view, 0).split())
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnsScreen))
        await pilot.press("a", "enter")  # show all again
        await wait_for(pilot, lambda: not isinstance(app.screen, ColumnsScreen))
        assert view.column_layout.hidden == set()
        assert {"col_01", "col_02"} <= set(line(view, 0).split())


async def test_a_column_cut_at_the_left_keeps_its_name_readable(
    demo_factory: ConnectionFactory,
) -> None:
    app = wide(demo_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: rows_shown(view))
        index = names(view).index("col_05")
        width = view.widths[index]
        assert width >= 12
        target = view.column_layout.offset(index) + 4
        # (the view's width laid out first: before its scrollbar is, Textual ignores a scroll)
        await wait_for(pilot, lambda: view.allow_horizontal_scroll and view.max_scroll_x >= target)
        view.scroll_to(x=target, animate=False, immediate=True)
        await pilot.pause()
        assert int(view.scroll_x) == target
        header, types = line(view, 0).split(), line(view, 1).split()
        assert header[1] == "id" and header[2] == "col_05"  # not "05" or a cropped middle
        kind = view.state.columns[index].type_name
        assert types[1].startswith(kind[:4])  # its type too, from its first letters
