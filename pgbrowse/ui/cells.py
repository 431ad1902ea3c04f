"""How one value is drawn in one cell: control characters made visible, cut values marked."""

from __future__ import annotations

import unicodedata

from rich.cells import cell_len, set_cell_size

from pgbrowse.ui.safe import shown

NULL_TEXT = "NULL"
ELLIPSIS = "…"


# Emoji presentation selectors: terminals disagree on what they do to a character's width
# (tmux 3.3 draws U+2764 U+FE0F in one cell, most others in two; rich counts two), so a cell
# draws the character without them: the same width everywhere, columns aligned.
_PRESENTATION = str.maketrans("", "", "\ufe0e\ufe0f")
DOTTED_CIRCLE = "\u25cc"  # the base Unicode draws a lone combining mark on


def visible(value: str, truncate: int) -> str:
    """``value`` as one safe line, as wide as the terminal will draw it; a value longer than
    ``truncate`` ends in an ellipsis. A value that starts with a combining mark gets a
    dotted circle to combine with (it would combine with the column's separator)."""
    cut = len(value) > truncate
    if cut:
        value = value[:truncate]
    value = shown(value)  # newlines, tabs, escapes and bidi overrides as visible marks
    if "\ufe0f" in value or "\ufe0e" in value:
        value = value.translate(_PRESENTATION)
    if value and unicodedata.category(value[0]).startswith("M"):
        value = DOTTED_CIRCLE + value
    return value + ELLIPSIS if cut else value


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` padded or cut to exactly ``width`` cells (wide characters count double)."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text[: width * 2], width - 1) + ELLIPSIS if width > 1 else ""
    pad = " " * (width - length)
    return pad + text if right else text + pad


_TSV = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def tsv_line(row: tuple[str | None, ...]) -> str:
    """A row tab-separated, as COPY's text format writes it (\\N for NULL; tabs, newlines
    and backslashes escaped)."""
    return "\t".join("\\N" if v is None else v.translate(_TSV) for v in row)
