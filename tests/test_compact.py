"""Frames in fewer bytes, the same screen (issue 27): ``compact`` rewrites what Textual writes
(blank runs as erase + move, a style as its difference from the last, moves to where the
cursor already is dropped), and a terminal emulator (pyte) draws the same cells from both.
The real app on a pty: its frames are compacted, and what a terminal shows from them is the
table's rows."""

from __future__ import annotations

import os
import re
import time

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbrowse.ui.compact import compact
from tests.helpers import TerminalOutput, spawn_on_pty

COLUMNS, LINES = 60, 8


def screen_of(data: str, columns: int = COLUMNS, lines: int = LINES) -> list[list[tuple]]:
    """Every cell a terminal shows after ``data``: its character and its whole style."""
    screen = pyte.Screen(columns, lines)
    pyte.Stream(screen).feed(data)
    return [
        [
            (c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.strikethrough, c.reverse)
            for c in (screen.buffer[y][x] for x in range(columns))
        ]
        for y in range(lines)
    ]


COLOURS = ["", "38;5;253", "48;5;17", "38;5;231;48;5;234", "38;2;10;20;30", "31;42", "97;104"]
ATTRS = ["", "1", "3", "4", "7", "9", "1;7", "2"]
TEXTS = st.text(alphabet=" abcXYZ019|▸漢é", min_size=1, max_size=40)


@st.composite
def frames(draw: st.DrawFn) -> str:
    """A frame as Textual writes one: for some lines, a move to a column, then runs of text
    each in a full style followed by a reset (sometimes with no reset, sometimes a newline
    after the line), never past the line's end."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        y = draw(st.integers(1, LINES))
        x = draw(st.integers(1, COLUMNS))
        parts.append(f"\x1b[{y};{x}H")
        room = COLUMNS - x + 1
        for _ in range(draw(st.integers(0, 4))):
            text = draw(TEXTS)
            if draw(st.booleans()):
                text += " " * draw(st.integers(0, 30))
            width = sum(2 if ch == "漢" else 1 for ch in text)
            if width > room:
                break
            room -= width
            style = ";".join(
                p for p in (draw(st.sampled_from(ATTRS)), draw(st.sampled_from(COLOURS))) if p
            )
            parts.append(f"\x1b[{style}m{text}")
            if draw(st.integers(0, 4)):
                parts.append("\x1b[0m")
        if draw(st.booleans()):
            parts.append("\n")
    parts.append("\x1b[0m")
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(frames(), frames())
def test_a_compacted_frame_draws_the_same_cells(first: str, second: str) -> None:
    # Two frames in a row: the second starts from what the first left on the screen.
    assert screen_of(compact(first) + compact(second)) == screen_of(first + second)


def test_compacting_saves_what_it_says() -> None:
    row = "\x1b[5;1H\x1b[38;5;231;48;5;234m    134 \x1b[0m\x1b[38;5;253;48;5;234m    134 abc"
    row += " " * 90 + "\x1b[0m\x1b[5;108H\x1b[38;5;253;48;5;16m  \x1b[0m\n"
    frame = "".join(row.replace("5;", f"{y};", 1) for y in range(5, 9))
    small = compact(frame)
    assert "\x1b[90X\x1b[90C" in small  # the blank run: erased and stepped over
    assert "\x1b[38;5;253m" in small  # only what changed: the foreground
    assert "\x1b[6;108H" not in small  # the cursor is there already
    assert len(small) < len(frame) / 2
    assert screen_of(small, 120, 10) == screen_of(frame, 120, 10)


def test_strings_and_modes_pass_as_they_are() -> None:
    title = "\x1b]0;a            title\x07"  # (an OSC string: never rewritten inside)
    clip = "\x1b]52;c;YWJj" + " " * 20 + "\x1b\\"
    frame = f"\x1b[?2026h{title}{clip}\x1b[1;1H\x1b[7m{' ' * 20}\x1b[0m\x1b[?2026l"
    small = compact(frame)
    assert title in small and clip in small
    assert "7m" + " " * 20 in small  # reverse: an erase would not draw it
    assert small.endswith("\x1b[0m\x1b[?2026l")  # (the reset inside the update)
    assert screen_of(small) == screen_of(frame)


def test_the_app_writes_compacted_frames_a_terminal_draws(demo_dsn: str) -> None:
    proc, leader = spawn_on_pty(demo_dsn, "shop.customers")
    try:
        output = TerminalOutput(leader)
        output.wait_for(b"row 1 of", 30)
        time.sleep(0.5)
        written = output.out.decode("utf-8", "replace")
        assert "X\x1b[" in written  # blank runs went as erases
        screen = pyte.Screen(100, 30)  # (spawn_on_pty's size)
        pyte.Stream(screen).feed(written)
        shown = "\n".join(screen.display)
        assert "shop.customers" in shown and "row 1 of" in shown
        # The first row: its number, the cursor's mark, its id.
        assert any(re.match(r" *1\W? +1 ", line) for line in screen.display), shown
    finally:
        proc.kill()
        proc.wait()
        os.close(leader)
