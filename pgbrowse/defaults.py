"""Every setting's default, in one place that imports nothing (config.py reads these without
loading the pager, the app or Textual)."""

from __future__ import annotations

PAGE_SIZE = 100  # rows per FETCH
CACHE_BYTES = 4 * 1024 * 1024  # the client page cache
TRUNCATE = 500  # characters of each value fetched for the table
STATEMENT_TIMEOUT_S = 30.0
LOCK_TIMEOUT_S = 3.0
IDLE_RELEASE_S = 30.0
# Sooner where a held transaction costs others (measured: tests/benchmarks/bench_pooler.py).
# Behind a pooler a transaction pins one of a few server connections: give it back as soon
# as the screen has its rows (resuming a keyed view costs about a millisecond); a view that
# can only be walked to its place again keeps it a little longer between keys.
POOLED_RELEASE_S = 0.0
POOLED_WALK_RELEASE_S = 2.0
# On a hot standby a held snapshot delays replay (or, with hot_standby_feedback, holds back
# VACUUM on the primary) and invites a recovery conflict.
STANDBY_RELEASE_S = 1.0
THEME = "textual-dark"
DEMO_ROWS = 1_000_000
COMPARE_ROWS = 200_000  # compare mode: the most rows the naive way may load
COMPARE_MB = 256  # compare mode: the most MB of client memory it may load
QUERY_PREFILL = "SELECT "  # what the SQL editor opens with, the caret after it
