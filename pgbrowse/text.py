"""Outside text made safe for a terminal: control and bidi-override characters made visible.

Used by the UI (``pgbrowse.ui.safe``) and by the command line's one-line messages, which
often quote the server (an error naming a database, say).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the bidi embeddings, overrides, isolates and marks, the line and
# paragraph separators, and the BOM / zero-width no-break space.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_LINE_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)
_MARKS = {"\n": "↵", "\r": "␍", "\t": "→", "\x7f": "␡"}


def _mark(match: re.Match[str]) -> str:
    char = match.group()
    if char in _MARKS:
        return _MARKS[char]
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␀ … ␛ … ␟
    return f"<U+{code:04X}>"


def shown(text: str, lines: bool = False) -> str:
    """``text`` with every control and bidi-override character made visible; with
    ``lines``, newlines and tabs are kept (a multi-line value or message)."""
    pattern = _LINE_UNSAFE if lines else UNSAFE
    return pattern.sub(_mark, text) if pattern.search(text) else text
