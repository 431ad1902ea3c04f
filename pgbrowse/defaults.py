"""Every setting's default, in one place that imports nothing (config.py reads these without
loading the pager, the app or Textual)."""

from __future__ import annotations

PAGE_SIZE = 100  # rows per FETCH
CACHE_BYTES = 4 * 1024 * 1024  # the client page cache
TRUNCATE = 500  # characters of each value fetched for the table
STATEMENT_TIMEOUT_S = 30.0
LOCK_TIMEOUT_S = 3.0
IDLE_RELEASE_S = 30.0
THEME = "textual-dark"
DEMO_ROWS = 1_000_000
COMPARE_ROWS = 200_000  # compare mode: the most rows the naive way may load
COMPARE_MB = 256  # compare mode: the most MB of client memory it may load
