"""Citus: what kind of relation a view reads on a distributed PostgreSQL, and its size.

On Citus a distributed table's rows are in shards on worker nodes; the coordinator plans a
query into one task per shard and merges the answers. Two things change for a browser:

- A cursor is eager there: the first FETCH of a cursor over a multi-shard query runs the
  whole query on every shard and keeps the whole result on the coordinator. A bounded
  keyset query (``WHERE (k…) > (…) ORDER BY k… LIMIT n``) is pushed to every shard and
  merged: its cost is the page's. So a distributed table is read in pages, never through a
  cursor (``Distribution.spread``).
- The coordinator's own statistics are empty (``pg_class.reltuples`` is 0 there, EXPLAIN
  says rows=100000 whatever the size): the estimate comes from the shards' planners.

Reference tables (a copy on every node) and local tables (on the coordinator) are read as
on a plain server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from pgbrowse.db.connection.session import Session

# One row for a relation Citus knows, none for another (only run where the extension is).
DISTRIBUTION_SQL = """
SELECT p.partmethod::text, p.repmodel::text, column_to_column_name(p.logicalrelid, p.partkey),
       (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid),
       (SELECT count(DISTINCT pl.groupid) FROM pg_dist_shard s
        JOIN pg_dist_placement pl ON pl.shardid = s.shardid
        WHERE s.logicalrelid = p.logicalrelid AND pl.groupid <> 0)
FROM pg_dist_partition p WHERE p.logicalrelid = %s::regclass
"""

# For a view: the distributed tables its rule reads (none: a view of one server's tables).
VIEW_DISTRIBUTION_SQL = """
SELECT 'v', '', NULL::text,
       (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = ANY(t.rels)),
       (SELECT count(DISTINCT pl.groupid) FROM pg_dist_shard s
        JOIN pg_dist_placement pl ON pl.shardid = s.shardid
        WHERE s.logicalrelid = ANY(t.rels) AND pl.groupid <> 0),
       t.names
FROM (SELECT array_agg(DISTINCT p.logicalrelid) AS rels,
             string_agg(DISTINCT p.logicalrelid::regclass::text, ', ') AS names
      FROM pg_rewrite r
      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
      JOIN pg_dist_partition p ON p.logicalrelid = d.refobjid AND p.partmethod = 'h'
      WHERE r.ev_class = %s::regclass) AS t
WHERE t.rels IS NOT NULL
"""

# The histogram of a column on one shard (the coordinator's own table has no statistics):
# the command is made on the server (format's %L quotes the column's name; run_command_on_
# shards then puts each shard's name where %s is).
SHARD_HISTOGRAM_SQL = """
SELECT result::text[] FROM run_command_on_shards(%s::regclass, format(
  'SELECT histogram_bounds::text FROM pg_catalog.pg_stats WHERE attname = %%L'
  ' AND (quote_ident(schemaname) || ''.'' || quote_ident(tablename))::regclass'
  ' = ''%%%%s''::regclass', %s))
WHERE success AND result IS NOT NULL AND result <> '' LIMIT 1
"""

# Whether the server has Citus's metadata at all: asked with the relation's other facts
# (seek.py's IDENTITY_SQL), so a plain server pays no round trip for it.
CITUS_PRESENT_SQL = "to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL"


@dataclass(frozen=True)
class Distribution:
    """How Citus holds a relation."""

    kind: str  # "distributed" (hash), "reference", "local" (on the coordinator), "view"
    column: str | None  # the distribution column (distributed tables)
    shards: int
    workers: int  # nodes other than the coordinator holding its shards
    over: str | None = None  # a view: the distributed tables it reads

    @property
    def spread(self) -> bool:
        """Its rows are in several shards: a cursor would gather them all first."""
        return self.kind in ("distributed", "view") and self.shards > 1

    def describe(self) -> str:
        """For the title line: ``distributed by tenant · 8 shards on 2 workers``."""
        if self.kind == "distributed":
            on = f" on {counted(self.workers, 'worker')}" if self.workers else ""
            by = f" by {self.column}" if self.column else ""
            return f"distributed{by} · {counted(self.shards, 'shard')}{on}"
        if self.kind == "view":
            return f"a view over distributed {self.over} · {counted(self.shards, 'shard')}"
        if self.kind == "reference":
            return "reference table (a copy on every node)"
        return "Citus local table (on the coordinator)"


def counted(n: int, word: str) -> str:
    """``8 shards``, ``1 worker``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def distribution_from(row: tuple[object, ...] | None) -> Distribution | None:
    """DISTRIBUTION_SQL's row as a Distribution (None: not a Citus table)."""
    if row is None:
        return None
    method, model, column, shards, workers, *over = row
    if method == "v":
        return Distribution("view", None, int(str(shards)), int(str(workers)), str(over[0]))
    if method == "h":
        kind = "distributed"
    elif model == "t":
        kind = "reference"
    else:  # (a local table, or a single-shard table: one shard, read as on one server)
        kind = "local"
    return Distribution(kind, str(column) if column else None, int(str(shards)), int(str(workers)))


def estimate(session: Session, explain: sql.Composable) -> tuple[int, dict[str, Any]]:
    """The rows of a distributed relation's query as the shards' own planners estimate
    them, and the coordinator's plan (``explain``: an ``EXPLAIN (FORMAT JSON)``). Citus
    plans one task per shard and, with ``citus.explain_all_tasks``, asks each shard for its
    plan (10 ms for 32 shards, through the connections it keeps to the workers; a
    ``run_command_on_shards`` per shard took 150 ms): their rows, summed. A statement Citus
    routes to one shard (``tenant = 5``) has one task: that shard's estimate."""
    with session.cursor(sql.SQL("SET LOCAL citus.explain_all_tasks TO on")):
        pass
    try:
        plan = session.scalar(explain)[0]["Plan"]
    finally:
        with session.cursor(sql.SQL("SET LOCAL citus.explain_all_tasks TO off")):
            pass
    return tasks_rows(plan), plan


def tasks_rows(plan: dict[str, Any]) -> int:
    """The rows of the first distributed scan in ``plan`` (a node of EXPLAIN's JSON) as
    its tasks' plans say (a task shown for several: times their count); the plan's own
    rows where it has none."""
    pending = [plan]
    while pending:
        node = pending.pop(0)
        job = node.get("Distributed Query", {}).get("Job")
        if job and job.get("Tasks"):
            tasks = job["Tasks"]
            rows = sum(_remote_rows(t) for t in tasks)
            return round(rows * max(1, int(job.get("Task Count", 1))) / len(tasks))
        pending += node.get("Plans", [])
    return max(0, int(plan.get("Plan Rows", 0)))


def _remote_rows(task: dict[str, Any]) -> float:
    remote = task.get("Remote Plan") or [[{}]]
    return float(remote[0][0].get("Plan", {}).get("Plan Rows", 0))
