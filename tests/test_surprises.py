"""Issue 26, point 12: small surprises a new user met. The status on a direct connection
does not speak of a pooler; export says the file's whole path; a filter no index serves says
it scans; a search puts the cursor on the column that matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.export_screen import ExportScreen
from tests.helpers import fixed_memory, open_table, relation, wait_for


def test_a_covered_view_on_a_direct_connection_is_not_said_to_be_behind_a_pooler(
    demo_factory: ConnectionFactory,
) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)
        assert pager.release()
        pager.session.rest("covered by another view")
        said = pager.last_statement()
        assert said is not None and "covered by another view" in said.sql
        assert "pooler" not in said.sql and "given back" in said.sql
    finally:
        pager.close()


@pytest.mark.parametrize(("where", "scans"), [("note LIKE '%wrap%'", True), ("id < 5000", False)])
def test_a_filter_no_index_serves_says_it_scans(
    demo_factory: ConnectionFactory, where: str, scans: bool
) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        pager.load(0)
        pager.state()
        pager.set_filter(where)
        events = pager.state().events
        said = [e for e in events if e.startswith("filter scans: ")]
        assert bool(said) is scans, events
        if scans:
            assert int(said[0].removeprefix("filter scans: ")) >= 100_000
    finally:
        pager.close()


async def test_the_app_warns_of_a_scanning_filter_and_search_lands_on_the_column(
    demo_factory: ConnectionFactory,
) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(160, 30)) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("f", *"note LIKE '%wrap%'", "enter")
        await wait_for(
            pilot,
            lambda: any("No index serves this filter" in n.message for n in app._notifications),
            timeout=20,
        )
        await pilot.press("f", "ctrl+u", "enter")  # (no filter again)
        await wait_for(pilot, lambda: view.state.filter is None, timeout=10)
        names = [c.name for c in view.state.columns]
        assert view.cursor_col == 0
        await pilot.press("slash", *"gift", "enter")
        await wait_for(pilot, lambda: view.cursor_col == names.index("note"), timeout=20)
        found = view.cursor_row_values()
        assert found is not None and "gift" in (found[0][names.index("note")] or "")


async def test_export_says_the_whole_path(
    demo_factory: ConnectionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(140, 30)) as pilot:
        await open_table(app, pilot)
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#export-path").value = "here.csv"  # (relative)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, timeout=30)
        status = str(screen.query_one("#export-status").render())
        assert str(tmp_path / "here.csv") in status, status
        assert (tmp_path / "here.csv").exists()
