"""Work around a view, on threads and connections of its own: the loader thread that owns a
pager, opening a relation, the exact count, export.
"""
