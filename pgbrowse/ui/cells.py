"""How one value is drawn in one cell: control characters made visible, cut values marked."""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size

# Newlines and tabs would break the table's layout: draw them as visible marks instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARKS = {"\n": "↵", "\r": "␍", "\t": "→"}

NULL_TEXT = "NULL"
ELLIPSIS = "…"


def visible(value: str, truncate: int) -> str:
    """``value`` as one safe line; a value longer than ``truncate`` ends in an ellipsis."""
    cut = len(value) > truncate
    if cut:
        value = value[:truncate]
    value = _CONTROL.sub(lambda m: _MARKS.get(m.group(), "·"), value)
    return value + ELLIPSIS if cut else value


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` padded or cut to exactly ``width`` cells (wide characters count double)."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text[: width * 2], width - 1) + ELLIPSIS if width > 1 else ""
    pad = " " * (width - length)
    return pad + text if right else text + pad
