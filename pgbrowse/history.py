"""QueryHistory: the SQL editor's runs, kept across sessions in the user's state folder.

One JSON object per line (``{"at": seconds since the epoch, "sql": text}``) in
``$XDG_STATE_HOME/pgbrowse/history.jsonl`` (platformdirs; ``~/.local/state/pgbrowse`` on
Linux), appended at each run, newest last. A run equal to the newest entry is not added
twice; past ``limit`` entries the oldest are dropped (the file is rewritten, atomically).
A file that cannot be read or written loses the history, never the query: the editor goes
on without it and says so once.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from pgbrowse.crashlog import log_dir
from pgbrowse.private import append_private, private_folder, temporary_beside

HISTORY_LIMIT = 1000


def history_path() -> Path:
    return log_dir() / "history.jsonl"


class QueryHistory:
    """The runs of the editor, oldest first (``entries``)."""

    def __init__(self, path: Path | None = None, limit: int = HISTORY_LIMIT) -> None:
        self.path = path if path is not None else history_path()
        self.limit = limit
        self.entries: list[str] = []
        self.problem = ""  # why the file could not be read or written ('' when it could)
        self._load()

    def _load(self) -> None:
        try:
            with self.path.open(encoding="utf-8", errors="replace") as file:
                for line in file:
                    with contextlib.suppress(ValueError, TypeError, AttributeError):
                        text = json.loads(line).get("sql")
                        if isinstance(text, str) and text.strip():
                            self.entries.append(text)
        except FileNotFoundError:
            return
        except OSError as error:
            self.problem = f"the query history could not be read: {error.strerror or error}"
        del self.entries[: -self.limit]

    def add(self, text: str) -> None:
        """Record a run (not twice in a row), on disk at once."""
        if not text.strip() or (self.entries and self.entries[-1] == text):
            return
        self.entries.append(text)
        line = json.dumps({"at": round(time.time(), 3), "sql": text}) + "\n"
        try:
            private_folder(self.path.parent)
            if len(self.entries) > self.limit:
                del self.entries[: -self.limit]
                self._rewrite()
            else:
                with append_private(self.path, encoding="utf-8", errors="backslashreplace") as file:
                    file.write(line)
        except OSError as error:
            self.problem = f"the query history could not be saved: {error.strerror or error}"

    def _rewrite(self) -> None:
        file, partial = temporary_beside(self.path)  # (0600, and no planted link followed)
        with file:
            for text in self.entries:
                file.write((json.dumps({"at": 0, "sql": text}) + "\n").encode())
        os.replace(partial, self.path)

    def search(self, words: str) -> list[str]:
        """Entries holding every word of ``words`` (case-insensitive), newest first, each once."""
        wanted = words.lower().split()
        seen: set[str] = set()
        found = []
        for text in reversed(self.entries):
            if text in seen:
                continue
            seen.add(text)
            lowered = text.lower()
            if all(word in lowered for word in wanted):
                found.append(text)
        return found
