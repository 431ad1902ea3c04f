"""ProfileScreen: what a column holds, from PostgreSQL's statistics (one catalog read at any
size) or, where there are none, a bounded sample: nulls, distinct values, the most common
values as bars, the histogram as a distribution, the correlation with the physical order,
and how old the statistics are. Read on a connection of its own; Esc cancels and closes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pgbrowse.db.catalog.profile import Profile, read_profile
from pgbrowse.db.catalog.relations import Column, Relation
from pgbrowse.db.connection.session import Session
from pgbrowse.ui.report_screen import ReportScreen
from pgbrowse.ui.safe import shown

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory

BAR = 30
SPARKS = "▁▂▃▄▅▆▇█"


def _ago(when: datetime) -> str:
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def distribution(bounds: list[str], width: int = 48) -> str | None:
    """Equal-frequency histogram bounds drawn as a density over the value range (numbers
    only): each bucket holds as many rows, so narrow buckets are dense."""
    try:
        values = [float(b) for b in bounds]
    except ValueError:
        return None
    if len(values) < 3 or values[-1] <= values[0]:
        return None
    lo, hi = values[0], values[-1]
    cells = [0.0] * width
    share = 1.0 / (len(values) - 1)
    scale = width / (hi - lo)
    for left, right in itertools.pairwise(values):  # each bucket's rows spread over it
        a, b = (left - lo) * scale, (right - lo) * scale
        if b <= a:  # (a bucket of one repeated value)
            cells[min(width - 1, int(a))] += share
            continue
        for cell in range(int(a), min(width, int(b) + 1)):
            overlap = min(b, cell + 1) - max(a, cell)
            if overlap > 0:
                cells[cell] += share * overlap / (b - a)
    top = max(cells) or 1.0
    return "".join(SPARKS[min(len(SPARKS) - 1, int(c / top * (len(SPARKS) - 1)))] for c in cells)


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
        lines += ["", "most common values"]
        width = min(30, max(len(shown(v)) for v, _ in profile.common))
        for value, freq in profile.common[:10]:
            bar = "█" * max(1, round(freq * BAR)) if freq > 0 else ""
            lines.append(f"  {shown(value)[:width]:{width}}  {bar:{BAR}} {100 * freq:5.1f} %")
    if profile.bounds:
        lines += ["", f"histogram: {len(profile.bounds) - 1} buckets of equal row counts"]
        drawn = distribution(profile.bounds)
        if drawn:
            lines.append(f"  {drawn}")
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
