"""Text from outside (the database, the user, the file system) as the terminal may see it.

Two rules hold on every screen:

- Nothing from outside is parsed as Textual markup: it is shown through ``plain()`` (a
  ``Content``, never a markup string), ``SafeStatic`` (whose strings are never markup), rich
  ``Text`` for tables, and notifications with ``markup=False`` (``PgBrowseApp.notify``).
- No control or bidi-override character reaches the terminal: ``shown()`` makes each one
  visible (ESC is ``␛``, U+202E is ``<U+202E>``), and ``TerminalSafe``, a line filter on
  everything the app draws, drops any that slipped past, as the last line of defence.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.app import App
from textual.color import Color
from textual.content import Content
from textual.filter import LineFilter
from textual.visual import VisualType
from textual.widgets import Static

from pgbrowse.text import UNSAFE, UNSAFE_CHAR, for_clipboard, shown

__all__ = [
    "UNSAFE",
    "SafeStatic",
    "TerminalSafe",
    "copy_safely",
    "plain",
    "plain_text",
    "shown",
]


def copy_safely(app: App[object], text: str) -> str:
    """Copy ``text`` to the clipboard with its controls (but tab and newline), bidi and
    invisible characters made visible text; what the toast adds ("" when none were)."""
    safe, count = for_clipboard(text)
    app.copy_to_clipboard(safe)
    if not count:
        return ""
    return f" ({count:,} control or invisible character{'s' if count > 1 else ''} copied as text)"


def plain(text: str, style: str = "", lines: bool = False) -> Content:
    """Outside text as Content: never parsed as markup, controls made visible."""
    content = Content(shown(text, lines))
    return content.stylize(style) if style else content


def plain_text(text: str, style: str = "") -> Text:
    """Outside text as a rich Text (for DataTable and rich tables, which parse strings)."""
    return Text(shown(text), style=style, no_wrap=True)


class SafeStatic(Static):
    """A Static whose strings are never markup and never carry controls (Content objects,
    built with ``plain`` and ``Content.assemble``, pass through as they are)."""

    def __init__(self, content: VisualType = "", **kwargs: object) -> None:
        super().__init__(self._safe(content), markup=False, **kwargs)  # type: ignore[arg-type]

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(self._safe(content), layout=layout)

    @staticmethod
    def _safe(content: VisualType) -> VisualType:
        return shown(content, lines=True) if isinstance(content, str) else content


class TerminalSafe(LineFilter):
    """The last line of defence: drops any control or bidi character left in what is drawn.

    Each of them is zero cells wide, so dropping one keeps every line's width. Segments that
    carry terminal control codes of Textual's own are left alone.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        search = UNSAFE_CHAR.search
        if not any(search(segment.text) for segment in segments if not segment.control):
            return segments
        return [
            segment
            if segment.control or not search(segment.text)
            else Segment(UNSAFE_CHAR.sub("", segment.text), segment.style, segment.control)
            for segment in segments
        ]
