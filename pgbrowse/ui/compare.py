"""CompareScreen: the same relation read the naive way and the lazy way, with their costs.

For demos: the time to the first row and the client memory each way takes, and a line of the
machine's available memory, sampled while they run, falling and recovering. The naive way
is bounded by limits the user sets (``compare_rows``, ``compare_mb``).
"""

from __future__ import annotations

import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Sparkline, Static

from pgbrowse.db.catalog import Relation
from pgbrowse.db.compare import Outcome, lazy, naive
from pgbrowse.db.connect import ConnectionFactory
from pgbrowse.db.errors import PgBrowseError
from pgbrowse.memory import MemoryProbe, human_bytes

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
    BINDINGS: list[BindingType] = [  # noqa: RUF012
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
    ) -> None:
        super().__init__()
        self.factory = factory
        self.relation = relation
        self.probe = probe
        self.limit_rows = limit_rows
        self.limit_mb = limit_mb
        self.samples: list[float] = []
        self.results: dict[str, Outcome | PgBrowseError] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"[b]{self.relation.qualified}[/b]: naive (a client-side cursor, as"
                f" fetchall() reads, up to {self.limit_rows:,} rows or {self.limit_mb:,} MB)"
                " vs lazy (a named cursor's first page)",
            )
            with Horizontal():
                yield Static("[b]naive[/b]\nwaiting…", classes="way", id="naive")
                yield Static("[b]lazy[/b]\nwaiting…", classes="way", id="lazy")
            yield Sparkline([], id="available")
            yield Static("", id="available-label")
            yield Static("[dim]r runs again · Esc closes[/dim]")

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
            self.query_one(f"#{way}", Static).update(f"[b]{way}[/b]\nrunning…")
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
            text = f"[b]{way}[/b]\n[b]{result.title}[/b]: {result.message}"
        else:
            text = f"[b]{way}[/b]\n{describe_outcome(result)}"
        self.query_one(f"#{way}", Static).update(text)

    def action_close(self) -> None:
        self.dismiss()
