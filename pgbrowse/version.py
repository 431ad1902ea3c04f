"""The version, in a module of its own: ``python -m pgbrowse`` run from the folder that
holds a clone named pgbrowse makes Python see that folder as a namespace package named
pgbrowse, whose path the editable install extends with the real package's folder, so every
submodule imports but ``pgbrowse/__init__.py`` never runs. Nothing may need it."""

from __future__ import annotations

__version__ = "0.1.0"
