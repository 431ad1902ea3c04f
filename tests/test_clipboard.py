"""Nothing leaves through the clipboard, and nothing invisible reaches the screen (issue 24).

A value holding ``ESC[201~echo … > file`` and a newline, copied with ``y`` and pasted into
bash inside tmux, ended the bracketed paste and ran the command. Every copy now makes each
control but tab and newline, and every bidi and invisible character, visible text, and
the toast says how many.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.text import for_clipboard, shown
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.record_screen import RecordScreen
from tests.helpers import fixed_memory, open_table, relation, wait_for

SIZE = (100, 30)
PASTE = "\x1b[201~touch {file}\n"  # ends a bracketed paste, then a command and Enter


@pytest.fixture(scope="module")
def sneaky_dsn(scratch_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = tmp_path_factory.mktemp("paste") / "pasted"
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS sneaky")
        cur.execute(
            sql.SQL(
                "CREATE TABLE sneaky AS SELECT g AS id,"
                " CASE g WHEN 1 THEN {} WHEN 2 THEN {} ELSE 'plain' || g END AS t"
                " FROM generate_series(1, 50) g"
            ).format(
                sql.Literal(PASTE.format(file=target)),
                sql.Literal("zero\u200bwidth\u2060join\u00adsoft\U000e0041tag\u3164"),
            )
        )
        cur.execute("ALTER TABLE sneaky ADD PRIMARY KEY (id)")
    conn.close()
    yield scratch_dsn


def test_the_clipboard_text_carries_no_controls() -> None:
    text, count = for_clipboard("a\x1b[201~b\r\n\tc\x9b\u202ed\u200be")
    assert text == "a␛[201~b␍\n\tc<U+009B><U+202E>d<U+200B>e" and count == 5
    assert for_clipboard("plain\ttext\n") == ("plain\ttext\n", 0)
    # An emoji's joiner and variation selector stay; lone ones are shown.
    assert shown("👨\u200d👩\u200d👧 ❤\ufe0f") == "👨\u200d👩\u200d👧 ❤\ufe0f"
    assert shown("a\u200db \ufe0f") == "a<U+200D>b <U+FE0F>"


async def test_y_and_the_record_view_copy_visible_text(sneaky_dsn: str) -> None:
    factory = ConnectionFactory(sneaky_dsn)
    app = PgBrowseApp(
        factory, initial=relation(factory, "public.sneaky"), memory_probe=fixed_memory
    )
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await pilot.press("right")
        await wait_for(pilot, lambda: view.cursor_col == 1)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.clipboard))
        assert "\x1b" not in app.clipboard and app.clipboard.startswith("␛[201~touch ")
        assert app.clipboard.endswith("\n")  # the newline is the value's own: kept
        toasts = [n.message for n in app._notifications]
        assert any("1 control or invisible character copied as text" in t for t in toasts)
        await pilot.press("down", "Y")  # the row: invisible characters shown
        await wait_for(pilot, lambda: "zero" in app.clipboard)
        assert app.clipboard == "2\tzero<U+200B>width<U+2060>join<U+00AD>soft<U+E0041>tag<U+3164>"
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen))
        record = app.screen
        await wait_for(pilot, lambda: bool(record.values))
        await pilot.press("Y")
        await wait_for(pilot, lambda: app.clipboard.startswith("2\tzero<U+200B>"))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_paste_into_a_shell_runs_nothing(tmp_path: Path) -> None:
    """On a real pty: bash in tmux, the value pasted as a bracketed paste (tmux
    ``paste-buffer -p``). The raw value runs its command (the test can fail); what pgbrowse
    copies does not."""
    session = f"pgbrowse-paste-{uuid.uuid4().hex[:8]}"
    ran = []
    try:
        subprocess.run(
            [
                *("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "20"),
                *("env", "-i", "TERM=xterm-256color", "HOME=/tmp", "bash", "--norc"),
            ],
            check=True,
        )
        time.sleep(0.5)
        for name, text in (("raw", None), ("copied", True)):
            target = tmp_path / name
            value = PASTE.format(file=target)
            pasted = for_clipboard(value)[0] if text else value
            subprocess.run(["tmux", "set-buffer", "-b", name, "--", pasted], check=True)
            subprocess.run(["tmux", "paste-buffer", "-p", "-b", name, "-t", session], check=True)
            time.sleep(1.0)
            subprocess.run(["tmux", "send-keys", "-t", session, "C-c"], check=True)
            time.sleep(0.3)
            ran.append(target.exists())
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert ran == [True, False], "the raw paste should run its command; pgbrowse's must not"
