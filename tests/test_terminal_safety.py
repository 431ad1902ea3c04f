"""Nothing from the database drives the terminal, and nothing is parsed as markup (issue 11).

A database built to attack the screen: values, column names, relation names and comments
holding OSC 52 (set the clipboard), OSC 0 (retitle), CSI 2J (clear), BEL, a right-to-left
override, and Textual markup (``[/]``, ``[b]…[/b]``, ``[deprecated]``). Every screen that
shows them is checked: its rendering (``export_screenshot``) holds no ESC, BEL or bidi
override, shows the text literally, and the app is still running. A real process on a real
pty is checked too: what it writes to the terminal never carries the stored sequences.
"""

from __future__ import annotations

import html
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg2
import pytest
from psycopg2 import sql
from textual.widgets import Input, TextArea

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.cell_screen import CellScreen
from pgbrowse.ui.export_screen import ExportScreen
from pgbrowse.ui.safe import TerminalSafe, shown
from pgbrowse.ui.table_screen import TableScreen
from tests.helpers import fixed_memory, listed, open_table, relation, wait_for

OSC52 = "\x1b]52;c;Y2VsbHB3bmVk\x1b\\"  # "cellpwned" into the clipboard
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
RLO = "\u202e"
EVIL_COLUMN = f"col{OSC52}umn"
EVIL_TABLE = f"evil{CLEAR}{RLO}name"
MARKUP_TABLE = "[b]bold[/b]"
VALUES = [
    f"A{OSC52}B",
    f"x{TITLE}y",
    f"wipe{CLEAR}out",
    f"abc{RLO}def",
    "[/]",
    "[b]not bold[/b]",
    "bell\x07here",
]
BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SIZE = (140, 40)


@pytest.fixture(scope="module")
def hostile_dsn(scratch_dsn: str) -> Iterator[str]:
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS screen CASCADE")
        cur.execute("CREATE SCHEMA screen")
        cur.execute(
            sql.SQL(
                "CREATE TABLE screen.hostile AS SELECT g AS id,"
                " (ARRAY[{}])[1 + (g - 1) % {}] AS t, g AS {}, g AS {}"
                " FROM generate_series(1, 700) g"
            ).format(
                sql.SQL(", ").join(map(sql.Literal, VALUES)),
                sql.Literal(len(VALUES)),
                sql.Identifier(EVIL_COLUMN),
                sql.Identifier("[/]"),
            )
        )
        cur.execute("ALTER TABLE screen.hostile ADD PRIMARY KEY (id)")
        cur.execute(
            sql.SQL("CREATE TABLE {} AS SELECT g AS id FROM generate_series(1, 3) g").format(
                sql.Identifier("screen", EVIL_TABLE)
            )
        )
        cur.execute(
            sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier("screen", MARKUP_TABLE))
        )
        cur.execute("CREATE TABLE screen.commented (id int)")
        cur.execute(
            "COMMENT ON TABLE screen.commented IS 'loaded nightly from [/srv/import/orders.csv]'"
        )
        cur.execute("CREATE TABLE screen.deprecated (id int)")
        cur.execute("COMMENT ON TABLE screen.deprecated IS '[deprecated] do not use'")
        cur.execute(sql.SQL("COMMENT ON TABLE screen.hostile IS {}").format(sql.Literal(OSC52)))
        cur.execute("ANALYZE screen.hostile")
    conn.close()
    yield scratch_dsn


def clean(app: PgBrowseApp) -> str:
    """The text of the screen as drawn (every widget, toasts included), asserted free of
    control and bidi characters."""
    svg = app.export_screenshot()
    text = html.unescape(re.sub(r"<[^>]*>", "", svg)).replace("\xa0", " ")
    found = BAD.findall(svg) + BAD.findall(text)
    assert not found, f"{[hex(ord(c)) for c in found]} reached the screen"
    return text


def test_shown_makes_every_control_visible() -> None:
    assert shown(f"A{OSC52}B") == "A␛]52;c;Y2VsbHB3bmVk␛\\B"
    assert shown(f"abc{RLO}def") == "abc<U+202E>def"
    assert shown("a\nb\tc") == "a↵b→c" and shown("a\nb\tc", lines=True) == "a\nb\tc"
    assert shown("\x9b31m") == "<U+009B>31m"  # C1 CSI
    assert not BAD.search(shown("".join(map(chr, range(0x20))) + "\x7f\x85\u2066\u200f"))


def test_the_line_filter_drops_what_slipped_past() -> None:
    from rich.segment import Segment
    from textual.color import Color

    segments = [Segment(f"a{OSC52}b"), Segment("\x1b[0m", None, [(1,)])]  # a control segment
    out = TerminalSafe().apply(segments, Color(0, 0, 0))
    assert out[0].text == "a]52;c;Y2VsbHB3bmVk\\b" and out[1] is segments[1]


async def test_the_relation_list(hostile_dsn: str) -> None:
    app = PgBrowseApp(ConnectionFactory(hostile_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: listed(app) > 0)
        await pilot.press(*"screen.")
        await wait_for(pilot, lambda: listed(app) == 5)
        await pilot.pause(0.1)
        drawn = clean(app)
        # Markup is shown as typed, whole; escapes as visible marks.
        for literal in ("[b]bold[/b]", "[/srv/import/orders.csv]", "[deprecated] do not use"):
            assert literal in drawn
        assert "evil␛[2J" in drawn
        assert app.is_running


async def test_the_table_cells_names_and_cell_view(hostile_dsn: str) -> None:
    factory = ConnectionFactory(hostile_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "screen.hostile"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        drawn = clean(app)
        assert "col␛]52" in drawn  # the column name, made visible
        texts = [view.render_line(y).text for y in range(2, 2 + len(VALUES))]
        assert any("A␛]52;c;Y2VsbHB3bmVk␛\\B" in t for t in texts)
        assert any("abc<U+202E>def" in t for t in texts)
        await pilot.press("right")  # the cell view of an escape-laden value
        await wait_for(pilot, lambda: view.cursor_col == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CellScreen))
        area = app.screen.query_one(TextArea)
        assert area.text == "A␛]52;c;Y2VsbHB3bmVk␛\\B"
        clean(app)
        await pilot.press("escape")
        for _ in range(len(VALUES)):  # each value in turn in the cell view, and its toast
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CellScreen))
            clean(app)
            await pilot.press("y")  # copy: a toast naming the column
            await pilot.pause(0.05)
            clean(app)
            await pilot.press("escape")
        await pilot.press("right", "y")  # a toast with the OSC 52 column's name in it
        await pilot.pause(0.2)
        clean(app)
        await pilot.press("i")  # the inspector lists statements naming the evil column
        await pilot.pause(0.6)
        drawn = clean(app)
        assert "paging inspector" in drawn
        assert app.is_running


@pytest.mark.parametrize(
    ("where", "literal"),
    [
        ("t LIKE '%[/]%'", "t LIKE '%[/]%'"),
        ("t ~ '^[a-f]'", "t ~ '^[a-f]'"),
        ('"[/]" > 690', '"[/]" > 690'),
        ('"[/]nope" > 1', "[/]nope"),  # an error text holding markup
        ("t = E'\\x1b]0;pwned\\x07'", "t = E'"),
    ],
)
async def test_filters_and_errors_are_plain_text(hostile_dsn: str, where: str, literal: str):
    factory = ConnectionFactory(hostile_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "screen.hostile"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("f")
        box = app.screen.query_one("#filter-input", Input)
        box.value = where
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                view.pager.filter == where
                or str(app.screen.query_one("#filter-error").render()) not in ("", "checking…")
            ),
        )
        await pilot.pause(0.2)
        drawn = clean(app)
        assert literal in drawn
        screen = app.screen
        assert isinstance(screen, TableScreen)
        title = str(screen.query_one("#title").render())
        error = str(screen.query_one("#filter-error").render())
        assert literal in title or literal in error
        assert app.is_running


async def test_export_names_a_safe_file(hostile_dsn: str) -> None:
    factory = ConnectionFactory(hostile_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, f'screen."{EVIL_TABLE}"'), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_table(app, pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        name = app.screen.query_one("#export-path", Input).value
        assert not BAD.search(name) and "/" not in name and name.endswith(".csv")
        assert name == "screen.evil_[2J_name.csv"
        clean(app)


def test_a_real_terminal_never_receives_the_stored_sequences(hostile_dsn: str) -> None:
    """The process on a pty: everything it writes, read raw, for the table with escapes in
    its values, a column's name and its comment; then the cell view."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgbrowse", hostile_dsn, "screen.hostile"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    out = bytearray()

    def read_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                try:
                    out.extend(os.read(leader, 65536))
                except OSError:
                    return

    try:
        read_for(4.0)
        os.write(leader, b"l\r")  # the second column's first value: OSC 52, in the cell view
        read_for(1.5)
        os.write(leader, b"\x1b")
        read_for(0.5)
        os.write(leader, b"\x11")  # Ctrl+Q
        proc.wait(timeout=10)
        read_for(0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    written = out.decode("utf-8", errors="replace")
    assert "hostile" in written  # it drew the table
    assert "]52;c;Y2VsbHB3bmVk" not in written.replace("␛]52", "")  # no OSC 52 at all
    assert "\x1b]0;pwned" not in written and "\x1b[2J" not in written.replace("␛[2J", "")
    own = re.sub("\x1b]22;[a-z-]*\x07", "", written)  # Textual's pointer shape (OSC 22)
    assert "\x07" not in own
    assert RLO not in written
    assert "␛]52;c;Y2VsbHB3bmVk" in written  # shown, as visible marks


async def test_compare_and_help_with_a_hostile_name(hostile_dsn: str) -> None:
    from pgbrowse.ui.compare import CompareScreen
    from pgbrowse.ui.help import HelpScreen

    factory = ConnectionFactory(hostile_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, f'screen."{EVIL_TABLE}"'), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_table(app, pilot)
        assert "evil␛[2J<U+202E>name" in clean(app)  # the title line
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: len(screen.results) == 2, timeout=20)
        assert "evil␛[2J<U+202E>name" in clean(app)
        await pilot.press("escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        clean(app)


async def test_free_sql_errors_and_names_are_plain(hostile_dsn: str) -> None:
    from pgbrowse.ui.query_screen import QueryScreen

    app = PgBrowseApp(ConnectionFactory(hostile_dsn), memory_probe=fixed_memory)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, QueryScreen))
        screen = app.screen
        error = screen.query_one("#query-error")
        screen.query_one(TextArea).text = 'SELECT "[/]x" FROM screen.hostile'
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "does not exist" in str(error.render()))
        assert '"[/]x"' in clean(app)
        screen.query_one(TextArea).text = "SELECT 1 AS x; DELETE FROM screen.hostile"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "2 statements" in str(error.render()))
        screen.query_one(TextArea).text = f'SELECT t AS "{TITLE}", id AS "[/]" FROM screen.hostile'
        await pilot.press("ctrl+r")
        view = await open_table(app, pilot)
        assert [c.name for c in view.pager.columns] == [TITLE, "[/]"]
        drawn = clean(app)
        assert "␛]0;pwned␇" in drawn and "[/]" in drawn
