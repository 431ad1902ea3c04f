"""Issue 26: the key bar shows the everyday keys first (sort, filter, search, go to, the
cell, copy, export, the record, back), fitted to the width; ? lists the rest."""

from __future__ import annotations

import pytest

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import fixed_memory, relation, rows_shown, wait_for


@pytest.mark.parametrize("width", [80, 120])
async def test_the_everyday_keys_come_first(demo_factory: ConnectionFactory, width: int) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        screen = app.screen
        await wait_for(pilot, lambda: rows_shown(screen.view))  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        bar = str(screen.query_one(KeyBar).render())
        assert len(bar.rstrip()) <= width
        words = bar.split()
        assert words[:2] == ["?", "Keys"], bar
        wanted = ["Sort", "Filter", "Search", "Go", "Open", "Copy", "Export"]
        places = [words.index(w) for w in wanted if w in words]
        assert len(places) >= (7 if width >= 100 else 4), bar  # (as many as fit)
        assert places == sorted(places), bar
        for key, name in (("s", "Sort"), ("f", "Filter"), ("/", "Search")):
            assert words[words.index(name) - 1] == key, bar
