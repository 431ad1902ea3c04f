"""The SQL guard: what typed SQL may be. ``parse`` reads it with PostgreSQL's own parser
(one statement, read-only, what it calls); ``allow`` decides what it may call from the
connected server's catalog.
"""
