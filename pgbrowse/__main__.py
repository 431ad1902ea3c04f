"""Entry point for ``python -m pgbrowse``."""

from __future__ import annotations

from pgbrowse.cli import entry

entry()
