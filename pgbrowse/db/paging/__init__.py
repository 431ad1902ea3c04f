"""The paging core: a view's rows read lazily through named cursors. ``pager`` assembles the
parts: the page cache (one snapshot's pages), the reader (anchors, cursors, seeks,
positions), the finder (search, a row found again) and the reordering (sort, filter,
count); ``view`` holds every statement they send, ``seek`` and ``strategy`` how to seek.
"""
