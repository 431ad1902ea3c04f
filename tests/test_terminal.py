"""At home in any terminal: 80x24, no colour, keys only, help from the bindings, config."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from pgbrowse.config import SETTINGS
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.catalog_view import CatalogView
from pgbrowse.ui.help import HelpScreen, key_name, screen_keys
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import CURSOR_MARK, HEADER_LINES, TableView
from tests.helpers import (
    fetch_count,
    fixed_memory,
    line,
    listed,
    open_from_list,
    open_table,
    relation,
    rows_shown,
    run_cli,
    wait_for,
)

SMALL = (80, 24)


def inside(app: PgBrowseApp, selector: str) -> bool:
    """Is the widget wholly on the screen, with room to show something?"""
    region = app.screen.query_one(selector).region
    return region.width > 0 and region.height > 0 and app.screen.region.contains_region(region)


async def test_the_list_fits_80x24(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SMALL) as pilot:
        table = app.screen.query_one(CatalogView)
        await wait_for(pilot, lambda: listed(app) > 0)
        for part in ("#filter", "#relations", "#status", "MemoryFooter", "KeyBar"):
            assert inside(app, part), part
        assert table.region.height >= 10  # room for rows, not just chrome
        header = table.render_line(0).text.split()
        assert header[:3] == ["schema", "name", "kind"]  # the columns that matter come first
        await pilot.press(*"orders", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))


async def test_the_table_fits_80x24_and_a_resize_fetches_only_what_it_shows(
    demo_factory: ConnectionFactory,
) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_from_list(pilot, "lab.wide")
        for part in ("#title", "#table", "#position", "MemoryFooter", "KeyBar"):
            assert inside(app, part), part
        assert view.data_height >= 10
        text = str(app.screen.query_one("#position").render())
        assert text.startswith(" row 1 of") and "column 1/49" in text  # not cut off
        assert all(w >= 4 for w in view.widths)  # columns scroll, never squeeze to nothing
        fetched = fetch_count(view)
        await pilot.resize_terminal(80, 60)  # taller: the rows now on screen, no more
        await wait_for(pilot, lambda: rows_shown(view) and view.data_height > 40)
        assert fetch_count(view) - fetched <= 1
        await pilot.resize_terminal(*SMALL)  # smaller: nothing to fetch
        await pilot.pause(0.2)
        assert fetch_count(view) - fetched <= 1


@pytest.mark.parametrize("where", ["list", "table"])
async def test_help_lists_every_binding_of_its_screen(
    demo_factory: ConnectionFactory, where: str
) -> None:
    initial = relation(demo_factory, "shop.orders") if where == "table" else None
    app = PgBrowseApp(demo_factory, initial=initial, memory_probe=fixed_memory)
    async with app.run_test(size=SMALL) as pilot:
        expected = TableScreen if where == "table" else RelationListScreen
        await wait_for(pilot, lambda: isinstance(app.screen, expected))
        if where == "table":
            await wait_for(pilot, lambda: rows_shown(app.screen.query_one(TableView)))
        else:  # in the filter box, ? is text (a relation may be named a?b): F1 is help
            assert app.focused is app.screen.query_one("#filter")
        origin = app.screen
        bindings = origin.active_bindings
        await pilot.press("question_mark" if where == "table" else "f1")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=76, record=True, file=io.StringIO())
        console.print(app.screen.table())  # what the help screen draws
        shown = console.export_text()
        lines = shown.splitlines()
        own = 0
        for key, active in bindings.items():
            binding = active.binding
            declared = [  # by pgbrowse's own classes (Textual's, like Tab's focus, are not)
                b
                for cls in type(active.node).__mro__
                if cls.__module__.startswith("pgbrowse")
                for b in cls.__dict__.get("BINDINGS", ())
                if b.action == binding.action
            ]
            if not declared:
                continue
            own += 1
            description = binding.description or binding.action.replace("_", " ")
            # its key (named one way: Ctrl+G, Esc, PgDn) on the line of its description
            row = [line for line in lines if key_name(key) in line]
            assert any(description.lower() in line.lower() for line in row), key
        assert own >= (20 if where == "table" else 8)
        table = ("Anywhere", "Moving", "The view", "The row and its column")
        table += ("Foreign keys and columns",)  # (the parts' groups: issue 25)
        for heading in table if where == "table" else ("Anywhere",):
            assert any(line.strip() == heading for line in lines), heading
        assert "^" not in shown and "Focus Next" not in shown and "Copy selected" not in shown
        assert inside(app, "HelpScreen > VerticalScroll")
        await pilot.press("escape")
        assert app.screen is origin


async def test_the_palette_offers_every_action(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.orders"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SMALL) as pilot:
        view = await open_table(app, pilot)
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        for item in screen_keys(app.screen):
            if item.action not in ("quit", "command_palette"):
                assert item.description in titles, item
        await app.run_action("app.command_palette")
        await pilot.press(*"Last", "enter")  # run "Last" (End) from the palette
        await wait_for(pilot, lambda: view.cursor_row == view.row_count - 1)


async def test_no_color_keeps_everything_distinguishable(
    demo_factory: ConnectionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "lab.samples"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SMALL) as pilot:
        assert app.no_color
        view = await open_table(app, pilot)
        assert CURSOR_MARK in view.render_line(HEADER_LINES).text  # the cursor row, by a glyph
        assert CURSOR_MARK not in view.render_line(HEADER_LINES + 1).text
        # NULL is the word NULL in italics; an empty string is blank; a missing row is "·".
        label = [c.name for c in view.pager.columns].index("label")
        rows = view.pager.cached(0) or []
        null_row = next(i for i, r in enumerate(rows) if r[label] is None)
        segments = view.render_line(HEADER_LINES + null_row)
        assert any(s.text.strip() == "NULL" and s.style.italic for s in segments)


def test_theme_flag(demo_factory: ConnectionFactory) -> None:
    assert PgBrowseApp(demo_factory, theme="nord").theme == "nord"
    done = run_cli("--theme", "no-such-theme", "--print-config")
    assert done.returncode == 2 and "no theme 'no-such-theme'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


EVERY_SETTING = """\
statement_timeout = 12.5
idle_release = 45
lock_timeout = 0.5
page-size = 250
cache_mb = 16
truncate = 80
theme = "nord"
demo_rows = 5000000
compare_rows = 1000
compare_mb = 64
role = "pg_read_all_data"
allowed_functions = ["public.st_*", "similarity"]
keep_views = true
"""


def test_a_config_file_sets_every_default_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EVERY_SETTING)
    assert {s.key for s in SETTINGS} <= {
        line.split("=")[0].strip().replace("-", "_") for line in EVERY_SETTING.splitlines()
    }
    done = run_cli("--print-config", "--truncate", "120", env={"PGBROWSE_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    lines = {ln.split("=")[0].strip(): ln for ln in done.stdout.splitlines() if "=" in ln}
    assert "12.5" in lines["statement_timeout"] and "config file" in lines["statement_timeout"]
    assert "250" in lines["page_size"] and '"nord"' in lines["theme"]
    assert "= 5000000 " in lines["demo_rows"]
    assert '["public.st_*", "similarity"]' in lines["allowed_functions"]
    assert '"pg_read_all_data"' in lines["role"]
    assert "= true " in lines["keep_views"] and "config file" in lines["keep_views"]
    assert "120" in lines["truncate"] and "--truncate" in lines["truncate"]
    # The printed settings are themselves a valid config file.
    again = tmp_path / "again.toml"
    again.write_text(done.stdout)
    assert run_cli("--print-config", "--config", str(again)).stdout.splitlines()[1:] == [
        ln.replace("--truncate", "config file") for ln in done.stdout.splitlines()[1:]
    ]


def test_xdg_config_home_is_where_the_file_lives(tmp_path: Path) -> None:
    (tmp_path / "pgbrowse").mkdir()
    (tmp_path / "pgbrowse" / "config.toml").write_text("page_size = 333\n")
    done = run_cli("--print-config", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 0 and "333" in done.stdout
    assert str(tmp_path / "pgbrowse" / "config.toml") in done.stdout


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("page_size = ", "config.toml"),
        ("page_size = 100\npage_size = 200\n", "config.toml"),
        ("colour = 'red'\n", "unknown setting 'colour'"),
        ("lock_timeout = -1\n", "lock_timeout: must not be negative"),
        ("page_size = 'many'\n", "page_size: not a whole number"),
        ("theme = true\n", "theme: not a name"),
    ],
)
def test_a_bad_config_file_is_one_line_and_status_2(tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    done = run_cli("--print-config", env={"PGBROWSE_CONFIG": str(config)})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(config) in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr


async def test_holding_pagedown_drops_the_pages_scrolled_past(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:  # 0.5 s a page: a slow link, or a busy server
        cur.execute(
            "CREATE OR REPLACE VIEW slow_pages AS"
            " SELECT g AS n, pg_sleep(0.005)::text AS nap FROM generate_series(1, 5000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    app = PgBrowseApp(factory, initial=relation(factory, "slow_pages"), memory_probe=fixed_memory)
    async with app.run_test(size=SMALL) as pilot:
        view = await open_table(app, pilot)
        first = fetch_count(view)
        for _ in range(40):  # held down: 40 screens (about 8 pages) in a moment
            app.simulate_key("pagedown")
        await wait_for(pilot, lambda: view.cursor_row >= 40 * view.data_height - 1, timeout=5)
        await wait_for(pilot, lambda: rows_shown(view), timeout=30)
        pages_passed = view.cursor_row // view.pager.page_size
        assert pages_passed >= 7
        assert fetch_count(view) - first <= 4  # not one fetch per page passed
        assert int(line(view, HEADER_LINES).split()[1]) == int(view.scroll_y) + 1
