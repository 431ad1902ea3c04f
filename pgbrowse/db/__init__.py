"""The data side of pgbrowse: connections, catalog, cursor paging. Imports no Textual."""
