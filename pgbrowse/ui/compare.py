"""CompareScreen: the same relation read the naive way and the lazy way, with their costs.

For demos: the time to the first row and the client memory each way takes, and a line of the
machine's available memory, sampled while they run, falling and recovering. The naive way
is bounded by limits the user sets (``compare_rows``, ``compare_mb``).
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Sparkline, Static

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import PgBrowseError
from pgbrowse.demo.compare import Outcome, lazy, naive
from pgbrowse.memory import MemoryProbe, human_bytes
from pgbrowse.ui.safe import SafeStatic, plain

SAMPLES = 200  # 20 s of available memory at 0.1 s


def describe_outcome(outcome: Outcome) -> str:
    lines = [
        f"rows held   {outcome.rows:,}",
        f"first row   {outcome.seconds * 1000:,.1f} ms",
        f"RSS growth  {human_bytes(max(outcome.rss_growth_bytes, 0))}",
        f"rows cost   {human_bytes(outcome.held_bytes)}",
    ]
    if outcome.note:
        lines.append(outcome.note)
    return "\n".join(lines)


def _way(way: str, then: str) -> Content:
    """A side's heading (bold) and the plain text under it."""
    return Content.assemble((way, "bold"), "\n", plain(then, lines=True))


class CompareScreen(ModalScreen[None]):
    """r runs both ways again; Esc or q closes."""

    DEFAULT_CSS = """
    CompareScreen { align: center middle; }
    CompareScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    CompareScreen Horizontal { height: auto; }
    CompareScreen .way { width: 1fr; height: auto; padding: 0 1; }
    CompareScreen Sparkline { height: 3; margin: 1 0 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "run", "Run again"),
    ]

    def __init__(
        self,
        factory: ConnectionFactory,
        relation: Relation,
        probe: MemoryProbe,
        limit_rows: int,
        limit_mb: int,
        *,
        title: str = "",
    ) -> None:
        """``title``: what ``relation`` is, in words (a filtered or sorted view's query)."""
        super().__init__()
        self.title_text = title or relation.qualified
        self.factory = factory
        self.relation = relation
        self.probe = probe
        self.limit_rows = limit_rows
        self.limit_mb = limit_mb
        self.samples: list[float] = []
        self.results: dict[str, Outcome | PgBrowseError] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(
                Content.assemble(
                    plain(self.title_text, "bold"),
                    ": naive (a client-side cursor, as fetchall() reads, up to"
                    f" {self.limit_rows:,} rows or {self.limit_mb:,} MB) vs lazy (a named"
                    " cursor's first page)",
                )
            )
            with Horizontal():
                yield SafeStatic(_way("naive", "waiting…"), classes="way", id="naive")
                yield SafeStatic(_way("lazy", "waiting…"), classes="way", id="lazy")
            yield Sparkline([], id="available")
            yield SafeStatic("", id="available-label")
            yield SafeStatic(Content.styled("r runs again · Esc closes", "dim"))

    def on_mount(self) -> None:
        self.set_interval(0.1, self.sample)
        self.action_run()

    def sample(self) -> None:
        reading = self.probe()
        self.samples = [*self.samples, reading.available_bytes / 2**20][-SAMPLES:]
        self.query_one(Sparkline).data = self.samples
        low, now = min(self.samples), self.samples[-1]
        self.query_one("#available-label", Static).update(
            f"available memory: now {now:,.0f} MB, lowest {low:,.0f} MB (last 20 s)"
        )

    def action_run(self) -> None:
        self.results = {}
        for way in ("naive", "lazy"):
            self.query_one(f"#{way}", Static).update(_way(way, "running…"))
        self._run()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run(self) -> None:
        for way in ("lazy", "naive"):
            try:
                clock = time.perf_counter  # real time: the figures are the point of it
                if way == "lazy":
                    result: Outcome | PgBrowseError = lazy(self.factory, self.relation, clock=clock)
                else:
                    result = naive(
                        self.factory,
                        self.relation,
                        limit_rows=self.limit_rows,
                        limit_mb=self.limit_mb,
                        clock=clock,
                    )
            except PgBrowseError as error:
                result = error
            self.app.call_from_thread(self._show, way, result)

    def _show(self, way: str, result: Outcome | PgBrowseError) -> None:
        self.results[way] = result
        if isinstance(result, PgBrowseError):
            text = Content.assemble(
                _way(way, ""), plain(result.title, "bold"), ": ", plain(result.message)
            )
        else:
            text = _way(way, describe_outcome(result))
        self.query_one(f"#{way}", Static).update(text)

    def action_close(self) -> None:
        self.dismiss()
