"""The table screen's two lines of words: the title (what is shown, and how jumps work
there) and the position (where the cursor is, how sure the numbers are, what is running)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pgbrowse.db.state import ViewState

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True)
class Busy:
    """Something the server is doing for the view that Esc cancels (a sort, a count)."""

    doing: str
    since: float  # time.monotonic() when it started


def title_line(state: ViewState) -> str:
    relation = state.relation
    why = f"  · {state.why}" if state.why else ""
    where = f"  · filter: {state.filter}" if state.filter else ""
    return f" {relation.qualified}  ({relation.kind_name}){where}{why}"


def position_line(state: ViewState, row: int, col: int, busy: Busy | None) -> str:
    if not state.opened:
        return " opening…"
    count = f"{'' if state.count_exact else '~'}{state.row_count:,}"
    at = "" if state.positions_exact else "≈ "
    where = f" {at}row {row + 1:,} of {count}" if state.row_count else " no rows"
    if state.columns:
        column = state.columns[min(col, len(state.columns) - 1)]
        where += f"  │ column {col + 1}/{len(state.columns)}: {column.name}"
    if busy is not None:
        elapsed = time.monotonic() - busy.since
        spin = SPINNER[int(elapsed * 10) % len(SPINNER)]
        where += f"  │ {spin} {busy.doing}… {elapsed:.1f} s (Esc cancels)"
    elif not state.count_exact:
        where += "  │ ~ estimated: # counts exactly"
    return where
