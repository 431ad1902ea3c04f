"""How one value is drawn in one cell: control characters made visible, cut values marked."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

from pgbrowse.ui.safe import shown

NULL_TEXT = "NULL"
ELLIPSIS = "…"


def visible(value: str, truncate: int) -> str:
    """``value`` as one safe line; a value longer than ``truncate`` ends in an ellipsis."""
    cut = len(value) > truncate
    if cut:
        value = value[:truncate]
    value = shown(value)  # newlines, tabs, escapes and bidi overrides as visible marks
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
