"""Issue 26: going back keeps what you built. Esc from a filtered, sorted table with hidden
and pinned columns, and in again: the same view at the same place; across runs when the
config says so; u clears it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.kept import KeptView, KeptViews
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from tests.helpers import fixed_memory, open_table, relation, wait_for

FILTER = "amount > 500"


async def build_a_view(app: PgBrowseApp, pilot) -> TableView:  # type: ignore[no-untyped-def]
    """Open shop.orders from the list, filter it, sort it by its second column, hide the
    third, pin the fourth, go to row 40."""
    await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
    app.open_relation(relation(app.factory, "shop.orders"))
    view = await open_table(app, pilot)
    screen = app.screen
    await pilot.press("f", *FILTER, "enter")
    await wait_for(pilot, lambda: view.state.filter == FILTER, timeout=10)
    await wait_for(pilot, lambda: not screen.query_one("#filter-bar").display)
    await pilot.press("right", "s")
    await wait_for(pilot, lambda: view.state.order is not None and view.sorting is None, 20)
    await pilot.press("right", "minus", "right", "P")
    view.goto(40)
    await wait_for(pilot, lambda: view.cursor_row == 40)
    return view


def names(view: TableView, indices: object) -> list[str]:
    columns = [c.name for c in view.state.columns]
    return [columns[i] for i in indices]  # type: ignore[attr-defined]


async def test_esc_and_back_keeps_the_view(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 30)) as pilot:
        view = await build_a_view(app, pilot)
        left = view.kept_now()
        assert left.filter == FILTER and left.order is not None and left.hidden and left.row == 40
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        app.open_relation(relation(demo_factory, "shop.orders"))
        again = await open_table(app, pilot)
        assert again is not view
        await wait_for(pilot, lambda: again.cursor_row == 40, timeout=10)
        assert again.state.filter == FILTER and again.state.order == left.order
        assert tuple(names(again, sorted(again.column_layout.hidden))) == left.hidden
        assert tuple(names(again, again.column_layout.pinned)) == left.pinned
        assert "filter: amount > 500" in str(app.screen.query_one("#title").render())
        # u: back to the view as it first opens, and nothing is kept of it
        await pilot.press("u")
        await wait_for(pilot, lambda: again.state.filter is None and again.state.order is None, 10)
        assert not again.column_layout.hidden
        assert app.kept.get(app.where, "shop.orders") is None


async def test_kept_across_runs_only_when_the_config_says_so(
    demo_factory: ConnectionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = PgBrowseApp(demo_factory, memory_probe=fixed_memory, keep_views=True)
    async with first.run_test(size=(120, 30)) as pilot:
        await build_a_view(first, pilot)
        await pilot.press("escape")
    saved = tmp_path / "pgbrowse" / "views.json"
    assert saved.exists() and oct(saved.stat().st_mode & 0o777) == "0o600"
    for keep, kept in ((True, True), (False, False)):
        app = PgBrowseApp(demo_factory, memory_probe=fixed_memory, keep_views=keep)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))  # noqa: B023
            app.open_relation(relation(demo_factory, "shop.orders"))
            view = await open_table(app, pilot)
            assert isinstance(app.screen, TableScreen)
            await pilot.pause(0.3)
            assert (view.state.filter == FILTER) is kept
            if kept:
                await wait_for(pilot, lambda: view.cursor_row == 40, timeout=10)  # noqa: B023


def test_a_damaged_file_loses_what_was_kept_not_the_app(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    path.write_text('{"a\\u001fb": {"row": "x"}, "c\\u001fd": {"filter": "id > 1", "row": 3},')
    assert KeptViews(path).get("c", "d") is None  # (not JSON: nothing kept, no error)
    path.write_text('{"a\\u001fb": {"row": "x"}, "c\\u001fd": {"filter": "id > 1", "row": 3}}')
    kept = KeptViews(path)
    assert kept.get("a", "b") is None and kept.get("c", "d") == KeptView(filter="id > 1", row=3)


async def test_kept_for_a_table_named_on_the_command_line(
    demo_factory: ConnectionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line's table is opened (its first page read) while the app is imported;
    when a view of it was kept, that pager gives way to one with the kept filter and order,
    and is closed."""
    from pgbrowse.db.jobs.opening import Opening
    from pgbrowse.db.paging.pager import CursorPager

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = PgBrowseApp(demo_factory, memory_probe=fixed_memory, keep_views=True)
    async with first.run_test(size=(120, 30)) as pilot:
        await build_a_view(first, pilot)
        await pilot.press("escape")
    opening = Opening(demo_factory, "shop.orders", lambda r: CursorPager(demo_factory, r)).start()
    _, found = opening.resolved()
    app = PgBrowseApp(
        demo_factory,
        where=first.where,
        initial=found,
        opening=opening,
        memory_probe=fixed_memory,
        keep_views=True,
    )
    async with app.run_test(size=(120, 30)) as pilot:
        view = await open_table(app, pilot)
        assert view.pager is not opening.pager
        await wait_for(pilot, lambda: view.cursor_row == 40, timeout=10)
        assert view.state.filter == FILTER
        unused = opening.pager
        assert unused is not None
        await wait_for(pilot, lambda: unused.session._conn is None, timeout=10)
