"""Drawing a line in the frame that is being built, not the next one."""

from __future__ import annotations

from textual.widget import Widget


def in_this_frame(widget: Widget) -> None:
    """Tell the screen now that ``widget`` needs a repaint (call it right after updating it).

    Textual tells the screen when the widget's own message queue next runs empty; by then the
    screen, told of the table's repaint first, has often drawn its frame, so a position line
    updated for a key came one frame later (20-30 ms after the rows, on a pty). Textual's own
    check, called now (a private method of Widget, stable through Textual 8)."""
    widget._check_refresh()
