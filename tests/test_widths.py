"""Columns stay aligned (issue 24): each cell's text is as wide as a real terminal draws it.

Emoji ZWJ sequences, presentation selectors (VS16) and values that start with a combining
mark are measured on a real pty (tmux: the text is written, then tmux says where its cursor
went) and compared with the width pgbrowse lays the cell out with."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from rich.cells import cell_len

from pgbrowse.ui.cells import fit, visible

SAMPLES = [
    "plain",
    "\u2764\ufe0f love",  # heart + VS16: tmux 3.3 draws one cell, rich counted two
    "\u2139\ufe0f info",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",  # a ZWJ sequence
    "\U0001f3f3\ufe0f\u200d\U0001f308 flag",
    "\u0301x",  # a combining mark first: it would join the column separator
    "e\u0301t\u00e9",
    "\ud55c\uad6d\uc5b4",  # wide characters
    "\U0001f1eb\U0001f1f7 fr",  # a flag (regional indicators)
    "a\u200bb",  # a zero-width space: made visible
]


def drawn_width(text: str, folder: Path) -> int:
    """How many cells tmux advances its cursor for ``text``."""
    session = f"pgbrowse-width-{uuid.uuid4().hex[:8]}"
    sample = folder / f"{session}.txt"
    sample.write_text(text, encoding="utf-8")
    try:
        subprocess.run(
            [
                *("tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "5"),
                *("env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "sh", "-c"),
                f"printf '\\033[H\\033[2J'; cat {sample}; sleep 30",
            ],
            check=True,
        )
        deadline = time.monotonic() + 5
        last = ""
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = subprocess.run(
                ["tmux", "display", "-p", "-t", session, "#{cursor_x}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            if now == last and now not in ("", "0"):
                return int(now)
            last = now
        return int(last or 0)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_each_cell_is_as_wide_as_the_terminal_draws_it(tmp_path: Path) -> None:
    measured = {}
    for value in SAMPLES:
        text = visible(value, 500)
        measured[value] = (cell_len(text), drawn_width(text, tmp_path))
    wrong = {v: m for v, m in measured.items() if m[0] != m[1]}
    assert not wrong, f"(laid out, drawn) differ: {wrong}"
    # and a cell padded to 12 by that measure is 12 cells on the terminal
    for value in SAMPLES[:4]:
        assert drawn_width(fit(visible(value, 500), 12), tmp_path) == 12
