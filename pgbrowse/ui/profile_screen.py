"""ProfileScreen: what a column holds, from PostgreSQL's statistics (one catalog read at any
size) or, where there are none, a bounded sample: nulls, distinct values, the correlation
with the physical order and how old the statistics are, as text; the most common values as
horizontal bars with their shares, and the histogram as a bar chart of how the rows spread
over the values, its axes labelled (textual-plotext: plotext's charts in a Textual widget).
Read on a connection of its own; Esc cancels and closes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.widget import Widget
from textual_plotext import PlotextPlot

from pgbrowse.db.catalog.profile import Profile, read_profile
from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.connection.session import Session
from pgbrowse.ui.report_screen import ReportScreen
from pgbrowse.ui.safe import shown

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory

BUCKETS = 40  # bars of the distribution chart
LABEL = 24  # characters of a common value shown as a bar's label


def _ago(when: datetime) -> str:
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def distribution(bounds: list[str], buckets: int = BUCKETS) -> list[tuple[float, float]] | None:
    """Equal-frequency histogram bounds as the share of rows over equal slices of the value
    range (numbers only): each bucket holds as many rows, so narrow buckets are dense.
    (slice start, percent of the rows) per slice; None for bounds that are not numbers."""
    try:
        values = [float(b) for b in bounds]
    except ValueError:
        return None
    if len(values) < 3 or values[-1] <= values[0]:
        return None
    lo, hi = values[0], values[-1]
    cells = [0.0] * buckets
    share = 1.0 / (len(values) - 1)
    scale = buckets / (hi - lo)
    for left, right in itertools.pairwise(values):  # each bucket's rows spread over it
        a, b = (left - lo) * scale, (right - lo) * scale
        if b <= a:  # (a bucket of one repeated value)
            cells[min(buckets - 1, int(a))] += share
            continue
        for cell in range(int(a), min(buckets, int(b) + 1)):
            overlap = min(b, cell + 1) - max(a, cell)
            if overlap > 0:
                cells[cell] += share * overlap / (b - a)
    step = (hi - lo) / buckets
    return [(lo + i * step, 100 * c) for i, c in enumerate(cells)]


def common_chart(profile: Profile) -> PlotextPlot | None:
    """The most common values as horizontal bars, each labelled with its value (made
    terminal-safe: plotext's output is read back as ANSI text) and its share."""
    if not profile.common:
        return None
    common = profile.common[:10]
    labels = [label_of(value) for value, _ in common]
    plot = PlotextPlot(classes="chart")
    plot.styles.height = len(common) * 2 + 4
    plt = plot.plt
    shares = [round(100 * f, 2) for _, f in common]
    # (plotext draws the first bar at the bottom: the most common goes last, to the top)
    plt.bar(labels[::-1], shares[::-1], orientation="horizontal")
    plt.title("most common values: % of the rows")
    plt.xlabel("% of the rows")
    return plot


def distribution_chart(column: Column, profile: Profile) -> PlotextPlot | None:
    """The histogram as a bar chart: how the rows spread over the values (numbers)."""
    spread = distribution(profile.bounds)
    if spread is None:
        return None
    plot = PlotextPlot(classes="chart")
    plot.styles.height = 16
    plt = plot.plt
    plt.bar([x for x, _ in spread], [y for _, y in spread], width=1.0)
    plt.title(f"histogram: how the rows spread over {label_of(column.name)}")
    plt.xlabel(label_of(column.name))
    plt.ylabel("% of the rows")
    return plot


def label_of(value: str) -> str:
    """A value as a chart's label: terminal-safe and on one line (``shown`` marks every
    control, a newline too: plotext's output is parsed as ANSI, so an escape in a value must
    not reach it), cut."""
    text = shown(value)
    return text if len(text) <= LABEL else text[: LABEL - 1] + "…"


def profile_text(relation: Relation, column: Column, profile: Profile) -> str:
    lines = [f"{shown(relation.qualified)}.{shown(column.name)}  {shown(column.type_name)}"]
    if profile.source == "statistics":
        when = (
            f"gathered {profile.analyzed:%Y-%m-%d %H:%M} ({_ago(profile.analyzed)})"
            if profile.analyzed
            else "gathered at an unknown time"
        )
        lines.append(f"from PostgreSQL's statistics (pg_stats), {when}; no rows were read")
    if profile.note:
        lines.append(shown(profile.note))
    lines.append("")
    if profile.null_frac is not None:
        lines.append(f"nulls        {100 * profile.null_frac:.1f} %")
    if profile.distinct is not None:
        kind = "estimated" if profile.source == "statistics" else "in the sample"
        lines.append(f"distinct     ~{profile.distinct:,.0f} ({kind})")
    if profile.correlation is not None:
        lines.append(
            f"correlation  {profile.correlation:+.2f} (1: stored in this column's order;"
            " 0: scattered)"
        )
    if profile.common:
        lines += ["", "most common values (drawn below)"]
        width = min(30, max(len(shown(v)) for v, _ in profile.common))
        for value, freq in profile.common[:10]:
            lines.append(f"  {shown(value)[:width]:{width}}  {100 * freq:5.1f} %")
    if profile.bounds:
        lines += ["", f"histogram: {len(profile.bounds) - 1} buckets of equal row counts"]
        first, last = shown(profile.bounds[0])[:30], shown(profile.bounds[-1])[:30]
        middle = shown(profile.bounds[len(profile.bounds) // 2])[:30]
        lines.append(f"  from {first}  median ~{middle}  to {last}")
    if profile.source == "statistics" and not profile.common and not profile.bounds:
        lines.append("(no common values or histogram: every value is distinct or rare)")
    return "\n".join(lines)


class ProfileScreen(ReportScreen[Profile]):
    def __init__(self, factory: ConnectionFactory, relation: Relation, column: Column) -> None:
        super().__init__(factory)
        self.relation = relation
        self.column = column

    def waiting(self) -> str:
        return f" profiling {shown(self.column.name)}… (Esc cancels)"

    def fetch(self, session: Session) -> Profile:
        return read_profile(session, self.relation, self.column.name)

    def text(self, result: Profile) -> str:
        return profile_text(self.relation, self.column, result)

    def charts(self, result: Profile) -> list[Widget]:
        drawn = (common_chart(result), distribution_chart(self.column, result))
        return [chart for chart in drawn if chart is not None]
