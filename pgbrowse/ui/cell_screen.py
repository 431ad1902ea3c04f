"""CellScreen: one value whole (up to 1 MB), fetched on demand: JSON pretty-printed, long
text wrapped and scrollable, everything else exactly as PostgreSQL prints it."""

from __future__ import annotations

import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import TextArea

from pgbrowse.db.catalog.relations import Column
from pgbrowse.db.paging.pager import CellValue
from pgbrowse.memory import human_bytes
from pgbrowse.ui.safe import SafeStatic, copy_safely, plain, shown


def presented(column: Column, value: CellValue) -> str:
    """The text to show: JSON indented (when whole), anything else as printed; JSON too deep
    for Python's parser (nested 10,000 deep) is shown raw, as the server printed it."""
    if value.text is None:
        return "NULL"
    if column.type_name in ("json", "jsonb") and not value.cut:
        try:
            return json.dumps(json.loads(value.text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            return value.text
    return value.text


class CellScreen(ModalScreen[None]):
    """Esc or q closes; y copies the value (OSC 52: works over SSH)."""

    DEFAULT_CSS = """
    CellScreen { align: center middle; }
    CellScreen > Vertical {
        width: 90%; height: 90%; border: round $accent; background: $surface;
    }
    CellScreen TextArea { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("y", "copy", "Copy value"),
    ]

    def __init__(self, column: Column, value: CellValue) -> None:
        super().__init__()
        self.column = column
        self.value = value
        self.text = presented(column, value)

    def compose(self) -> ComposeResult:
        value = self.value
        size = f"{value.length:,} characters"
        if value.text is not None:
            size += f" ({human_bytes(len(value.text.encode()))} shown)"
        cut = (
            f" · cut: the first {len(value.text or ''):,} characters of a larger value"
            if value.cut
            else ""
        )
        with Vertical():
            yield SafeStatic(
                Content.assemble(
                    " ",
                    plain(self.column.name, "bold"),
                    " ",
                    plain(self.column.type_name),
                    f" · {size}{cut}  (Esc closes, y copies)",
                ),
                id="cell-title",
            )
            # The value as the terminal may show it: escapes and bidi overrides made visible
            # (y still copies the value itself).
            yield TextArea(
                shown(self.text, lines=True), read_only=True, soft_wrap=True, id="cell-text"
            )

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_copy(self) -> None:
        said = copy_safely(self.app, self.value.text or "")
        cut = " (as far as it was fetched)" if self.value.cut else ""
        self.notify("Copied the value" + cut + said)

    def action_close(self) -> None:
        self.dismiss()
