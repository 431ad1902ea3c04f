"""Outside text made safe for a terminal: control, bidi-override and invisible characters
made visible.

Used by the UI (``pgbrowse.ui.safe``) and by the command line's one-line messages, which
often quote the server (an error naming a database, say).
"""

from __future__ import annotations

import re

# Invisible and format characters: Unicode's category Cf (Unicode 14: soft hyphen, zero-width
# space, word joiner, Mongolian vowel separator, tags U+E0000-E007F…) but the zero-width
# joiner inside an emoji sequence; the fillers that draw nothing (combining grapheme joiner,
# Hangul fillers); and a variation selector with nothing before it to vary.
_CF = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_FILLERS = "\u034f\u115f\u1160\u3164\uffa0"
_PICTOGRAPHS = "\u00a9\u00ae\u203c-\u3299\U0001f000-\U0001faff"
_INVISIBLE = (
    f"[{_CF}{_FILLERS}]"
    f"|(?<![{_PICTOGRAPHS}\ufe0f])\u200d|\u200d(?![{_PICTOGRAPHS}])"
    "|(?:^|(?<=[\\s\x00-\x1f]))[\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
# C0 and C1 controls, DEL, the bidi embeddings, overrides, isolates and marks, the line and
# paragraph separators, the BOM / zero-width no-break space, and the invisible ones above.
# (and a lone surrogate: a byte a SQL_ASCII database holds that is no character, drawn \x9b)
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]|" + _INVISIBLE)
# Each character of those, one at a time (the terminal's last filter drops them as drawn).
UNSAFE_CHAR = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff{_CF}{_FILLERS}]")
_LINE_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]|" + _INVISIBLE)
_MARKS = {"\n": "↵", "\r": "␍", "\t": "→", "\x7f": "␡"}


def _mark(match: re.Match[str]) -> str:
    char = match.group()
    if char in _MARKS:
        return _MARKS[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is no character (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␀ … ␛ … ␟
    return f"<U+{code:04X}>"


def shown(text: str, lines: bool = False) -> str:
    """``text`` with every control and bidi-override character made visible; with
    ``lines``, newlines and tabs are kept (a multi-line value or message)."""
    pattern = _LINE_UNSAFE if lines else UNSAFE
    return pattern.sub(_mark, text) if pattern.search(text) else text


def for_clipboard(text: str) -> tuple[str, int]:
    """``text`` as it may go to the clipboard: every control but tab and newline (ESC above
    all: a pasted ``ESC[201~`` ends a shell's bracketed paste), every bidi and invisible
    character, made visible text; and how many were."""
    count = len(_LINE_UNSAFE.findall(text))
    return (_LINE_UNSAFE.sub(_mark, text) if count else text), count
