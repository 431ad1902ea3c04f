"""Fewer bytes per frame, the same screen: what Textual writes, said shorter.

Textual writes each changed line whole: every cell, a full style before each run of text,
a reset after it, and a cursor move before each widget's part of the line. Over a slow SSH
link the bytes are the time. ``compact`` rewrites a frame so a terminal draws exactly the same
cells from less:

- a run of at least ``MIN_RUN`` spaces becomes ECH (erase that many cells, in the current
  background) and CUF (move past them): ``ESC[nX ESC[nC``, about 10 bytes for a line's
  blank end of 100 (only where the style has nothing an erase leaves out: no reverse,
  underline, strike or blink);
- a reset followed by a style becomes one sequence (``ESC[0m ESC[1;31m`` -> ``ESC[0;1;31m``);
- a cursor move to where the cursor already is goes (where the cells since the last move are
  known to be one each: printable ASCII), and so does a newline followed by a move to a
  lower row (it cannot have scrolled: a row below it exists).

``CompactingDriver`` wraps the platform's driver (``PgBrowseApp.get_driver_class``). The
figures: 200x50, PageDown on a 5-column table, 13.5 KB a key before (bench_ssh.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.driver import Driver

MIN_RUN = 12  # spaces: shorter runs cost fewer bytes than ESC[nX ESC[nC
_TOKEN = re.compile(
    r"\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)?"  # a string (a title, a clipboard copy): as it is
    r"|\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[^\[]|[^\x1b\n]+|\n"
)
_MOVE = re.compile(r"\x1b\[(\d+);(\d+)H")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_SPACES = re.compile(" {" + str(MIN_RUN) + ",}")
_STILL = {"\x1b[?2026h", "\x1b[?2026l", "\x1b[?25h", "\x1b[?25l"}  # (move no cursor)
_PRINTABLE = re.compile(r"[ -~]*")
# Attributes an erase does not give the cells it erases: underline, blink, reverse, conceal,
# strike (and double underline).
_NOT_ERASABLE = frozenset({4, 5, 6, 7, 8, 9, 21})
_OFF = {22: (1, 2), 23: (3,), 24: (4, 21), 25: (5, 6), 27: (7,), 28: (8,), 29: (9,)}


@dataclass(frozen=True)
class Style:
    """What SGR sets: the colours (their parameters; None for the default) and attributes."""

    fg: tuple[int, ...] | None = None
    bg: tuple[int, ...] | None = None
    attrs: frozenset[int] = frozenset()

    def after(self, params: str) -> Style | None:
        """This style changed by ``ESC[{params}m``; None where a parameter is not one this
        models (the terminal's state is then unknown here)."""
        try:
            numbers = [int(p) if p else 0 for p in params.split(";")]
        except ValueError:  # (a colon form: 38:2::r:g:b)
            return None
        fg, bg, attrs = self.fg, self.bg, set(self.attrs)
        i = 0
        while i < len(numbers):
            n = numbers[i]
            if n in (38, 48):
                size = {5: 3, 2: 5}.get(numbers[i + 1] if i + 1 < len(numbers) else -1)
                if size is None or i + size > len(numbers):
                    return None
                colour = tuple(numbers[i : i + size])
                fg, bg = (colour, bg) if n == 38 else (fg, colour)
                i += size
                continue
            if n == 0:
                fg, bg, attrs = None, None, set()
            elif 1 <= n <= 9:
                attrs.add(n)
            elif n in _OFF:
                attrs.difference_update(_OFF[n])
            elif 30 <= n <= 37 or 90 <= n <= 97:
                fg = (n,)
            elif 40 <= n <= 47 or 100 <= n <= 107:
                bg = (n,)
            elif n == 39:
                fg = None
            elif n == 49:
                bg = None
            else:
                return None
            i += 1
        return Style(fg, bg, frozenset(attrs))

    def whole(self) -> list[str]:
        """The parameters that set this style from the default."""
        params = [str(a) for a in sorted(self.attrs)]
        if self.fg is not None:
            params.append(";".join(map(str, self.fg)))
        if self.bg is not None:
            params.append(";".join(map(str, self.bg)))
        return params

    def from_(self, before: Style | None) -> str:
        """The shortest SGR this style is reached by from ``before`` (None: unknown)."""
        if before is None or before.attrs - self.attrs:
            return "\x1b[" + ";".join(["0", *self.whole()]) + "m"
        params = [str(a) for a in sorted(self.attrs - before.attrs)]
        if self.fg != before.fg:
            params.append("39" if self.fg is None else ";".join(map(str, self.fg)))
        if self.bg != before.bg:
            params.append("49" if self.bg is None else ";".join(map(str, self.bg)))
        return "\x1b[" + ";".join(params) + "m" if params else ""


DEFAULT = Style()


@functools.lru_cache(maxsize=4096)
def _after(style: Style, params: str) -> Style | None:
    return style.after(params)  # (a frame repeats a few styles many times: parsed once)


@functools.lru_cache(maxsize=4096)
def _reach(style: Style, before: Style | None) -> str:
    return style.from_(before)


def compact(data: str) -> str:
    """``data`` (a frame Textual wrote) as fewer bytes that draw the same cells."""
    out: list[str] = []
    term: Style | None = None  # the style the terminal has (None: not known here)
    want: Style | None = DEFAULT  # the style Textual has set for what comes next
    cursor: tuple[int, int] | None = None  # (row, column), 1-based, where known
    below: int | None = None  # the row a newline was written on, where known
    for token in _TOKEN.findall(data):
        sgr = _SGR.fullmatch(token)
        if sgr is not None:
            params = sgr.group(1)
            base = DEFAULT if params in ("", "0") or params.startswith("0;") else want
            want = _after(base, params) if base is not None else None
            if want is None:  # (a style this does not model: as it is)
                out.append(token)
                term = None
            continue
        if token.startswith("\x1b") or token == "\n":
            move = _MOVE.fullmatch(token)
            if move is not None:
                to = (int(move.group(1)), int(move.group(2)))
                if to == cursor:
                    continue
                if out and out[-1] == "\n" and below is not None and to[0] > below:
                    out.pop()  # (a line below it exists: the newline scrolled nothing)
                cursor = to
            elif token not in _STILL:
                below = cursor[0] if token == "\n" and cursor is not None else None
                cursor = None
            out.append(token)
            continue
        if want is not None and want != term:
            out.append(_reach(want, term))
            term = want
        if cursor is not None and _PRINTABLE.fullmatch(token):
            cursor = (cursor[0], cursor[1] + len(token))
        else:
            cursor = None  # (wide or combining characters: the column is not known here)
        if term is not None and not term.attrs & _NOT_ERASABLE and len(token) >= MIN_RUN:
            out.append(_SPACES.sub(_erase, token))
        else:
            out.append(token)
    if term != DEFAULT:  # (a frame leaves the terminal's style reset, inside its update)
        out.insert(len(out) - 1 if out and out[-1] == "\x1b[?2026l" else len(out), "\x1b[0m")
    return "".join(out)


def _erase(run: re.Match[str]) -> str:
    n = len(run.group())
    return f"\x1b[{n}X\x1b[{n}C"


def compacting(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class`` whose frames are written through ``compact``."""

    class CompactingDriver(driver_class):  # type: ignore[valid-type,misc]
        def write(self, data: str) -> None:
            super().write(compact(data))

    CompactingDriver.__name__ = f"Compacting{driver_class.__name__}"
    return CompactingDriver
