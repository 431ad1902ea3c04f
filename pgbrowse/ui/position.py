"""The table screen's words: the title (what is shown, and how jumps work there), the
position (where the cursor is, how sure the numbers are, what is running), and what a
reconnect toast says."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pgbrowse.db.paging.state import ViewState

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True)
class Busy:
    """Something the server is doing for the view that Esc cancels (a sort, a count)."""

    doing: str
    since: float  # time.monotonic() when it started


def title_line(state: ViewState, database: str = "") -> str:
    """What is shown, and from where: the relation, how Citus holds it, its filter, what
    the role can do beyond reading ("superuser: typed SQL is checked by pgbrowse only"),
    how the view finds its rows (its warning, such as "far jumps walk the rows"), the
    database and how the connection goes. The most needed first: a narrow terminal cuts
    the end of the line."""
    relation = state.relation
    where = f"  · {state.held}" if state.held else ""  # (Citus: how it is distributed)
    where += f"  · filter: {state.filter}" if state.filter else ""
    where += f"  · {state.powers}" if state.powers else ""  # (where the user stands)
    why = f"  · {state.why}" if state.why else ""
    connection = f"  · {state.connection}" if state.connection else ""
    database = f"  · in {database}" if database else ""
    return f" {relation.qualified}  ({relation.kind_name}){where}{why}{database}{connection}"


def position_line(state: ViewState, row: int, col: int, busy: Busy | None) -> str:
    if not state.opened:
        if busy is None:
            return " opening…"
        elapsed = time.monotonic() - busy.since
        return f" opening… {busy.doing} {elapsed:.1f} s (Esc twice leaves)"
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


def reconnected_message(why: str) -> str:
    """What a toast says when a lost session was replaced, naming the cause where known."""
    if "conflict with recovery" in why:
        return (
            "The standby ended the session to apply replication (a conflict with recovery):"
            " reconnected with a new snapshot, back where you were. On a standby,"
            " max_standby_streaming_delay or hot_standby_feedback make this rarer."
        )
    because = f" ({why})" if why else ""
    return (
        f"The connection was lost{because}: reconnected with a new snapshot, back where you were."
    )
