"""Inspector: what the pager does, as it does it, for demos and for the curious.

The statements it sent (newest first, bounded), with rows and milliseconds; which pages the
client cache holds, as row ranges; the page being fetched; and whether the session holds a
transaction. Everything comes from the pager's own record: nothing here talks to the server.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from pgbrowse.db.jobs.loader import END
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.memory import human_bytes
from pgbrowse.ui.safe import plain_text, shown
from pgbrowse.ui.table_view import TableView

SHOWN = 40  # statements listed


def row_ranges(pages: dict[int, int], page_size: int) -> str:
    """Cached pages (page: rows) as row ranges: ``1-300, 5,001-5,100``."""
    out: list[str] = []
    for page, rows in sorted(pages.items()):
        if not rows:
            continue
        lo, hi = page * page_size + 1, page * page_size + rows
        if out and out[-1].endswith(f"-{lo - 1:,}"):
            out[-1] = out[-1].rsplit("-", 1)[0] + f"-{hi:,}"
        else:
            out.append(f"{lo:,}-{hi:,}")
    return ", ".join(out) or "none"


class Inspector(Static):
    """A panel beside the table; ``i`` shows and hides it."""

    DEFAULT_CSS = """
    Inspector {
        width: 56; max-width: 50%; height: 1fr; border-left: solid $accent;
        background: $panel; padding: 0 1; overflow-y: auto;
    }
    """

    def __init__(self, view: TableView) -> None:
        super().__init__(id="inspector")
        self.view = view  # its state (as the loader last reported it), cache, log and loader
        self.loader = view.loader
        self.drawn: Group | None = None  # what the panel shows now

    def on_mount(self) -> None:
        self.update_view()
        self.set_interval(0.5, self.update_view)
        self.set_interval(2.0, self.ask_server_side)

    def ask_server_side(self) -> None:
        """While shown: the pager's backend memory and locks, read on its loader thread."""
        if self.display and self.view.state.holds_transaction:
            self.loader.submit(CursorPager.read_server_side, background=True)

    def lines(self) -> list[tuple[str, int, float]]:
        """(statement, rows, ms), newest first."""
        statements = self.view.statements.snapshot()[-SHOWN:]
        return [(shown(" ".join(s.sql.split())), s.rows, s.ms) for s in reversed(statements)]

    def update_view(self) -> None:
        if not self.display:
            return
        pager = self.view.state
        busy = self.loader.in_flight
        fetching = "none" if busy is None else ("the end" if busy == END else f"page {busy:,}")
        holds = pager.holds_transaction
        state = "holds a transaction" if holds else "no transaction (released)"
        server = pager.server_side if holds else None
        side = ""
        if server is not None:
            if server.memory_bytes is not None:
                side += f"server memory: {human_bytes(server.memory_bytes)}   "
            if server.temp_bytes is not None:
                side += f"temp files: {human_bytes(server.temp_bytes)}   "
            side += f"locks: {shown(', '.join(server.locks)) or 'none'}\n"
        elif not holds:
            side = "locks: none\n"
        head = Text.assemble(
            ("paging inspector\n", "bold"),
            f"cache: rows {row_ranges(self.view.cache.pages_of(pager.frame), pager.page_size)}\n",
            f"fetching: {fetching}   session: {state}\n",
            side,
        )
        table = Table(box=None, expand=True, header_style="bold", padding=(0, 1), pad_edge=False)
        table.add_column("statement", ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column("rows", justify="right")
        table.add_column("ms", justify="right")
        for text, rows, ms in self.lines():
            table.add_row(plain_text(text), f"{rows:,}", f"{ms:.1f}")  # names: not markup
        self.drawn = Group(head, table)
        self.update(self.drawn)
