"""MemoryFooter: live memory figures (system, process, client cache) and the last statement."""

from __future__ import annotations

import time

from textual.widgets import Static

from pgbrowse.db.connection.session import StatementLog
from pgbrowse.db.paging.cache import PageCache
from pgbrowse.memory import MemoryProbe, human_bytes
from pgbrowse.ui.frame import in_this_frame
from pgbrowse.ui.safe import shown

STATEMENT_WIDTH = 60
ACTIVE_S = 5.0  # after the last move, the figures are sampled every second for this long
IDLE_SAMPLE_S = 10.0  # then every this often (idle: no redraw, no CPU, nothing written)


class MemoryFooter(Static):
    """Refreshed every second from an injectable memory probe, and a view's page cache and
    statement log (both thread-safe: the footer never reads the pager)."""

    DEFAULT_CSS = """
    MemoryFooter { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(
        self, probe: MemoryProbe, cache: PageCache | None = None, log: StatementLog | None = None
    ) -> None:
        super().__init__("", markup=False)
        self.probe = probe
        self.cache = cache
        self.statements = log
        self._drawn = ""
        self._moved = self._sampled = time.monotonic()

    def on_mount(self) -> None:
        self.update_figures()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._moved < ACTIVE_S or now - self._sampled >= IDLE_SAMPLE_S:
            self.update_figures(moved=False)

    def figures(self) -> str:
        m = self.probe()
        parts = [
            f"mem avail {m.available_percent:.0f}% ({m.available_bytes / 2**20:,.0f} MB)",
            f"rss {human_bytes(m.rss_bytes)}",
        ]
        if self.cache is not None:
            stats = self.cache.stats()
            parts.append(f"cache {stats.rows:,} rows {human_bytes(stats.bytes)}")
        if self.statements is not None:
            last = self.statements.last()
            if last is not None:
                text = shown(" ".join(last.sql.split()))
                if len(text) > STATEMENT_WIDTH:
                    text = text[: STATEMENT_WIDTH - 1] + "…"
                parts.append(f"{text} {last.ms:.1f} ms")
        return " │ ".join(parts)

    def update_figures(self, moved: bool = True) -> None:
        """Redrawn only when a figure changed, and without a relayout (one line, always).
        ``moved``: the user did something (the figures are sampled every second a while)."""
        now = time.monotonic()
        self._sampled = now
        if moved:
            self._moved = now
        text = self.figures()
        if text != self._drawn:
            self._drawn = text
            self.update(text, layout=False)
            if moved:
                in_this_frame(self)  # (with the rows the key moved)
