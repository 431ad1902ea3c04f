"""Issue 26: the README is what a user needs, readable as a table of keys; the details live
under docs/, and every link between them leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_leads_to_a_file() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_readme_stays_short_and_its_tables_readable() -> None:
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) < 320, len(lines)
    longest = max(lines, key=len)
    assert len(longest) <= 260, longest[:80]  # (a key's row, not a paragraph in a cell)
    for heading in ("## Two commands", "### Keys", "## Safe on a production server"):
        assert heading in text
    assert "## Compared with psql, pgcli, Harlequin and VisiData" in text
