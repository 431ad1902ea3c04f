"""pgbrowse: a terminal browser for PostgreSQL tables that pages through named cursors.

Nothing else may live here: see pgbrowse/version.py."""

from __future__ import annotations

from pgbrowse.version import __version__

__all__ = ["__version__"]
