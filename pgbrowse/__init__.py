"""pgbrowse: a terminal browser for PostgreSQL tables that pages through named cursors."""

from __future__ import annotations

__version__ = "0.1.0"
