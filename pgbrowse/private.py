"""Files pgbrowse writes, created safely: private state, and never through a planted link.

- State (the query history, crash logs) lives in a folder only the user may enter (0700),
  in files only the user may read (0600), as psql keeps its history.
- A file is never opened by a name someone else could have made first: a new file is
  created exclusively (``O_EXCL``, so a symlink planted at its name is refused, never
  followed), an appended one with ``O_NOFOLLOW``, and a file that replaces another (an
  export, a rewritten history) is written to a fresh temporary file in the same folder
  (``mkstemp``) and renamed over it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(folder: Path) -> Path:
    """``folder``, made if missing, entered by its owner only."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # (not ours to change: it stays as it is)
        if folder.stat().st_mode & 0o077:
            folder.chmod(PRIVATE_FOLDER)
    return folder


def create_new(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """A new file at ``path`` (FileExistsError if anything, a link included, is there)."""
    flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    file: IO[Any] = os.fdopen(os.open(path, flags, PRIVATE_FILE), mode, **kwargs)
    return file


def append_private(path: Path, **kwargs: Any) -> IO[Any]:
    """``path`` opened to append, made 0600 if new; a symlink at its name is refused."""
    flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    with contextlib.suppress(OSError):
        os.fchmod(fd, PRIVATE_FILE)
    file: IO[Any] = os.fdopen(fd, "a", **kwargs)
    return file


def temporary_beside(path: Path) -> tuple[IO[bytes], Path]:
    """A new, exclusively created file in ``path``'s folder, to be renamed over ``path``
    once whole (``os.replace``); it is 0600 until then."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    return os.fdopen(fd, "wb", buffering=0), Path(name)


def shared_mode() -> int:
    """The mode a file the user asked for gets (an export): 0666 less the umask, as any
    program's new file; read from /proc where it can be (os.umask would set it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644
