"""A column's profile without a scan: PostgreSQL's own statistics (pg_stats), one catalog
read at any table size; where there are none (a view, a query, a table never analysed), a
bounded sample (TABLESAMPLE SYSTEM for a table, the first rows otherwise), never a full
scan. Runs on a Session of its own, so it is cancelled like a count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from psycopg2 import sql

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.session import Session

SAMPLE_ROWS = 5_000
TOP = 10

STATS_SQL = """
SELECT s.null_frac, s.n_distinct, s.most_common_vals::text::text[],
       s.most_common_freqs, s.histogram_bounds::text::text[], s.correlation
FROM pg_catalog.pg_stats s
WHERE s.schemaname = {} AND s.tablename = {} AND s.attname = {}
ORDER BY s.inherited DESC  -- a parent's statistics over its whole tree first
LIMIT 1
"""
ACTIVITY_SQL = """
SELECT greatest(last_analyze, last_autoanalyze), n_mod_since_analyze, n_live_tup
FROM pg_catalog.pg_stat_all_tables WHERE relid = {}
"""


@dataclass
class Profile:
    column: str
    source: str  # "statistics" or "sample"
    null_frac: float | None = None
    distinct: float | None = None  # estimated distinct values (already scaled)
    common: list[tuple[str, float]] = field(default_factory=list)  # (value, frequency)
    bounds: list[str] = field(default_factory=list)  # equal-frequency histogram bounds
    correlation: float | None = None
    analyzed: datetime | None = None
    changed_since: int | None = None  # rows changed since the statistics were gathered
    live_rows: int | None = None
    sampled: int = 0  # rows in the sample (source "sample")
    note: str = ""  # why a sample, or why the statistics may be stale

    @property
    def stale(self) -> bool:
        """Older than the last big change: more than a fifth of the rows changed since."""
        return bool(
            self.changed_since and self.live_rows and self.changed_since > 0.2 * self.live_rows
        )


def read_profile(session: Session, relation: Relation, column: str) -> Profile:
    """The profile of ``column``: statistics if PostgreSQL has them, else a sample
    (raises PgBrowseError, in plain words)."""

    def read() -> Profile:
        if relation.query is None and relation.kind in ("r", "p", "m", "f"):
            found = _stats(session, relation, column)
            if found is not None:
                return found
        return _sample(session, relation, column)

    return session.run(f"profiling {column}", read)


def _stats(session: Session, relation: Relation, column: str) -> Profile | None:
    row = session.one(
        sql.SQL(STATS_SQL).format(*map(sql.Literal, (relation.schema, relation.name, column)))
    )
    if row is None:
        return None
    null_frac, n_distinct, common, freqs, bounds, correlation = row
    regclass = relation.regclass(session.conn)
    activity = session.one(sql.SQL(ACTIVITY_SQL).format(regclass)) or (None,) * 3
    analyzed, changed, live = activity
    rows = relation.estimated_rows or live or 0
    # n_distinct < 0 is a fraction of the rows (it grows with the table).
    distinct = -n_distinct * rows if n_distinct is not None and n_distinct < 0 else n_distinct
    profile = Profile(
        column=column,
        source="statistics",
        null_frac=null_frac,
        distinct=distinct,
        common=list(zip(common or [], freqs or [], strict=False)),
        bounds=list(bounds or []),
        correlation=correlation,
        analyzed=analyzed,
        changed_since=changed,
        live_rows=live,
    )
    if profile.stale:
        profile.note = (
            f"{changed:,} rows changed since the statistics were gathered: ANALYZE refreshes them"
        )
    return profile


def _sample(session: Session, relation: Relation, column: str) -> Profile:
    """At most SAMPLE_ROWS rows: a TABLESAMPLE SYSTEM of a table, the first rows of a view
    or a query (which cannot be sampled), counted on the server."""
    name = sql.Identifier(column)
    if relation.query is None and relation.kind in ("r", "m"):
        rows = max(relation.estimated_rows or 0, 1)
        percent = min(100.0, 100.0 * SAMPLE_ROWS * 2 / rows)
        source: sql.Composable = sql.SQL("{} TABLESAMPLE SYSTEM ({})").format(
            relation.identifier(), sql.Literal(percent)
        )
        how = f"a sample of about {percent:.3g} % of the table's pages"
    else:
        source = relation.source()
        how = "the first rows (a view or a query cannot be sampled at random)"
    sample = sql.SQL("(SELECT {c} AS v FROM {s} LIMIT {n}) AS sample").format(
        c=name, s=source, n=sql.Literal(SAMPLE_ROWS)
    )
    counts = sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE v IS NULL), count(DISTINCT v::text) FROM {}"
    ).format(sample)
    top = sql.SQL(
        "SELECT left(v::text, 80), count(*) FROM {} WHERE v IS NOT NULL"
        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {}"
    ).format(sample, sql.Literal(TOP))
    total, nulls, distinct = session.one(counts) or (0, 0, 0)
    common = [(value, n / total) for value, n in session.all(top)] if total else []
    return Profile(
        column=column,
        source="sample",
        null_frac=nulls / total if total else None,
        distinct=float(distinct),
        common=common,
        sampled=int(total),
        note=f"no statistics: {int(total):,} rows from {how}",
    )
