"""KeptViews: what the user built on a relation's view (its filter, its order, the hidden and
pinned columns, the place), kept when the view is left and given back when the relation is
opened again: for the session, and across runs when the config says so (``keep_views``),
in ``$XDG_STATE_HOME/pgbrowse/views.json`` (private, like the history). Keyed by the
database (as the title line names it) and the relation.

A file that cannot be read or written loses what was kept, never the view: the app goes on
with the session's and says nothing more than the history does.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pgbrowse.crashlog import log_dir
from pgbrowse.private import private_folder, temporary_beside

KEPT_LIMIT = 200  # relations kept on disk (the most recently left)


def views_path() -> Path:
    return log_dir() / "views.json"


@dataclass(frozen=True)
class KeptView:
    filter: str | None = None
    order: tuple[str, bool] | None = None  # (column, descending)
    hidden: tuple[str, ...] = ()  # column names
    pinned: tuple[str, ...] = ()  # column names, left to right
    row: int = 0  # the cursor's row (0-based)
    column: str | None = None  # the cursor's column

    @property
    def built(self) -> bool:
        """Anything beyond what a view opens with (a kept place alone counts too)."""
        return bool(self.filter or self.order or self.hidden or self.row or self.column)

    @classmethod
    def from_json(cls, data: Any) -> KeptView | None:
        if not isinstance(data, dict):
            return None
        try:
            order = data.get("order")
            return cls(
                filter=str(data["filter"]) if data.get("filter") else None,
                order=(str(order[0]), bool(order[1])) if order else None,
                hidden=tuple(str(n) for n in data.get("hidden", ())),
                pinned=tuple(str(n) for n in data.get("pinned", ())),
                row=max(0, int(data.get("row", 0))),
                column=str(data["column"]) if data.get("column") else None,
            )
        except (TypeError, ValueError, KeyError, IndexError):
            return None


class KeptViews:
    """The views kept, by (database, relation); on disk only when ``path`` is given."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._views: dict[str, KeptView] = {}
        if path is not None:
            self._load(path)

    @staticmethod
    def key(database: str, relation: str) -> str:
        return f"{database}\x1f{relation}"

    def _load(self, path: Path) -> None:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                for key, value in data.items():
                    kept = KeptView.from_json(value)
                    if kept is not None:
                        self._views[str(key)] = kept

    def get(self, database: str, relation: str) -> KeptView | None:
        return self._views.get(self.key(database, relation))

    def keep(self, database: str, relation: str, view: KeptView) -> None:
        key = self.key(database, relation)
        self._views.pop(key, None)
        if view.built:
            self._views[key] = view  # (newest last)
        self._save()

    def forget(self, database: str, relation: str) -> None:
        if self._views.pop(self.key(database, relation), None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        while len(self._views) > KEPT_LIMIT:
            del self._views[next(iter(self._views))]
        data = {
            k: {n: v for n, v in asdict(view).items() if n != "extra"}
            for k, view in self._views.items()
        }
        with contextlib.suppress(OSError):
            private_folder(self.path.parent)
            file, temporary = temporary_beside(self.path)
            with file:
                file.write(json.dumps(data, indent=0).encode())
            os.replace(temporary, self.path)
