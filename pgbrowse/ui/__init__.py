"""The Textual side of pgbrowse."""
