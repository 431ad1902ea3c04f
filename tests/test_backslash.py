"""Issue 26: psql's backslash commands in the SQL editor, the relation list's box and the
table screen's prompt, each against the real server."""

from __future__ import annotations

import psycopg2.extensions
import pytest
from textual.widgets import Input, TextArea

from pgbrowse.db.catalog.backslash import (
    BackslashError,
    list_query,
    parse_command,
    split_pattern,
)
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.backslash import BackslashHelp
from pgbrowse.ui.databases import DatabaseScreen
from pgbrowse.ui.query_screen import QueryScreen
from pgbrowse.ui.record_screen import RecordScreen
from pgbrowse.ui.relation_list import RelationListScreen
from pgbrowse.ui.structure_screen import StructureScreen
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import (
    direct,
    execute,
    fixed_memory,
    open_table,
    relation,
    rows_shown,
    wait_for,
)

HOSTILE = "it's [b]x\x1b"


@pytest.fixture(scope="module")
def listed_dsn(scratch_dsn: str) -> str:
    execute(
        scratch_dsn,
        "DROP SCHEMA IF EXISTS bs CASCADE",
        "CREATE SCHEMA bs",
        "CREATE TABLE bs.alpha AS SELECT n FROM generate_series(1, 10) n",
        "CREATE TABLE bs.alphabet (id int PRIMARY KEY)",
        'CREATE TABLE bs."Beta" (id int)',
        "CREATE VIEW bs.alpha_view AS SELECT n FROM bs.alpha",
        "CREATE MATERIALIZED VIEW bs.alpha_mat AS SELECT n FROM bs.alpha",
        "CREATE INDEX alpha_n ON bs.alpha (n)",
        "CREATE FUNCTION bs.twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2'",
        f'CREATE TABLE bs."{HOSTILE}" (v text)',
    )
    return scratch_dsn


def listed(dsn: str, text: str) -> list[tuple]:
    query = list_query(parse_command(text))
    assert query is not None
    return direct(dsn, query)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("\\dt bs.*", {"alpha", "alphabet", "Beta", HOSTILE}),
        ("\\dt bs.alpha*", {"alpha", "alphabet"}),
        ("\\dt bs.alpha?", set()),
        ("\\dt bs.alph?", {"alpha"}),
        ('\\dt bs."Beta"', {"Beta"}),
        ("\\dt bs.beta", set()),  # (folded to lower case, as psql)
        ("\\dv bs.*", {"alpha_view"}),
        ("\\dm bs.*", {"alpha_mat"}),
        ("\\di bs.*", {"alpha_n", "alphabet_pkey"}),
        ("\\dtv bs.alpha*", {"alpha", "alphabet", "alpha_view"}),
        ("\\d bs.alpha*", {"alpha", "alphabet", "alpha_view", "alpha_mat"}),
        (f'\\dt "bs"."{HOSTILE}"', {HOSTILE}),
    ],
)
def test_lists_match_as_psql_matches(listed_dsn: str, text: str, names: set[str]) -> None:
    rows = listed(listed_dsn, text)
    assert {row[1] for row in rows} == names
    assert all(row[0] == "bs" for row in rows)


def test_schemas_and_functions(listed_dsn: str) -> None:
    assert [r[0] for r in listed(listed_dsn, "\\dn bs")] == ["bs"]
    assert "pg_catalog" not in {r[0] for r in listed(listed_dsn, "\\dn")}
    (row,) = listed(listed_dsn, "\\df bs.tw*")
    assert row[:4] == ("bs", "twice", "integer", "integer") and row[4] == "func"


def test_what_is_not_a_command_is_said() -> None:
    with pytest.raises(BackslashError):
        parse_command("dt")
    with pytest.raises(BackslashError, match="t v m i s E"):
        list_query(parse_command("\\dz"))
    assert split_pattern('"a.b".c') == ("^(a\\.b)$", "^(c)$")


async def run_in_editor(app: PgBrowseApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(app.screen, QueryScreen):
        await pilot.press("ctrl+o")
    screen = app.screen
    assert isinstance(screen, QueryScreen)
    screen.query_one(TextArea).text = text
    await pilot.press("ctrl+r")


async def test_each_command_in_the_editor(listed_dsn: str, demo_dsn: str) -> None:
    factory = ConnectionFactory(listed_dsn)
    app = PgBrowseApp(factory, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        await run_in_editor(app, pilot, "\\d bs.alpha")
        await wait_for(pilot, lambda: isinstance(app.screen, StructureScreen), timeout=10)
        assert app.screen.relation.qualified == "bs.alpha"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await run_in_editor(app, pilot, "\\dt bs.alpha*")
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen), timeout=10)
        view = app.screen.view  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: rows_shown(view), timeout=10)
        rows = view.cache.get(view.state.frame, 0)
        assert [r[1] for r in rows] == ["alpha", "alphabet"]
        await pilot.press("escape")
        await run_in_editor(app, pilot, "\\d bs.no_such")
        await wait_for(
            pilot, lambda: any("Did not find" in n.message for n in app._notifications), 10
        )
        await run_in_editor(app, pilot, "\\zz")
        await wait_for(
            pilot, lambda: any("invalid command" in n.message for n in app._notifications)
        )
        await run_in_editor(app, pilot, "\\?")
        await wait_for(pilot, lambda: isinstance(app.screen, BackslashHelp))
        await pilot.press("escape")
        await run_in_editor(app, pilot, "\\timing")
        await wait_for(pilot, lambda: app.timing)
        await run_in_editor(app, pilot, "\\l")
        await wait_for(pilot, lambda: isinstance(app.screen, DatabaseScreen))
        await pilot.press("escape")
        other = psycopg2.extensions.parse_dsn(demo_dsn)["dbname"]
        await run_in_editor(app, pilot, f"\\c {other}")
        await wait_for(pilot, lambda: other in app.where, timeout=10)
        assert isinstance(app.screen, RelationListScreen)


async def test_the_list_box_and_the_table_prompt(demo_factory: ConnectionFactory) -> None:
    app = PgBrowseApp(demo_factory, memory_probe=fixed_memory)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RelationListScreen))
        app.screen.query_one("#filter", Input).value = "\\d shop.orders"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StructureScreen), timeout=10)
        await pilot.press("escape")
        assert app.screen.query_one("#filter", Input).value == ""
        app.open_relation(relation(demo_factory, "shop.orders"))
        await open_table(app, pilot)
        table = app.screen
        await pilot.press("backslash", "x", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen), timeout=10)
        await pilot.press("escape")
        await pilot.press("backslash", *"timing", "enter")
        await wait_for(pilot, lambda: app.timing)
        await pilot.press("down")
        await wait_for(pilot, lambda: "Time: " in table.position_text())  # type: ignore[attr-defined]
        await pilot.press("backslash", "d", "enter")  # (\d alone: the list of relations)
        await wait_for(
            pilot, lambda: app.screen is not table and isinstance(app.screen, TableScreen)
        )
        await pilot.press("escape")
        await pilot.press("backslash", "q", "enter")
        await wait_for(pilot, lambda: not app.is_running, timeout=5)
