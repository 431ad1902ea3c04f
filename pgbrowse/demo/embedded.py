"""A throwaway PostgreSQL server (the ``pgserver`` package) for ``--demo`` and the tests."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg2
from psycopg2 import sql

from pgbrowse.db.connection.errors import PgBrowseError, first_line


def _detached(args: list[str]) -> None:
    """Run ``args`` in a session of its own, its output nowhere: it finishes on its own,
    whatever becomes of this process."""
    subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class EmbeddedServer:
    """Starts a private PostgreSQL in a temporary directory; ``stop()`` removes it all."""

    def __init__(self, throwaway: bool = False) -> None:
        """``throwaway``: never wait for the disk (the demo's: its data goes with it; the
        tests' server keeps PostgreSQL's defaults, which a streaming standby relies on)."""
        self.throwaway = throwaway
        self.pgdata = Path(tempfile.mkdtemp(prefix="pgbrowse-pg-"))
        self._server: Any = None
        self._pid: int | None = None

    def start(self) -> EmbeddedServer:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            try:
                import pgserver
            except ImportError:
                shutil.rmtree(self.pgdata, ignore_errors=True)
                raise PgBrowseError(
                    "The demo is not installed",
                    "its embedded PostgreSQL comes with: pip install 'pgbrowse[demo]'",
                ) from None

        logging.getLogger("pgserver").setLevel(logging.ERROR)
        try:
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="delete")
            self._pid = self.pid
            if self.throwaway:
                self._throwaway()
        except Exception as error:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise PgBrowseError("Embedded server failed", first_line(error)) from None
        return self

    def _throwaway(self) -> None:
        """Its data is thrown away with it: never wait for the disk (no fsync, no full page
        images, commits not waited for). The demo's data is built faster for it."""
        conn = psycopg2.connect(self.uri())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                    cur.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.SQL(setting)))
                cur.execute("SELECT pg_reload_conf()")
        finally:
            conn.close()

    def uri(self, database: str = "postgres") -> str:
        assert self._server is not None, "start() the server first"
        return str(self._server.get_uri(database))

    def create_database(self, name: str) -> str:
        """Create (or re-create) database ``name`` and return its URI."""
        conn = psycopg2.connect(self.uri())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.uri(name)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        if self._server is None:
            return None
        pid = self._server.get_pid()
        return None if pid is None else int(pid)

    def restart(self) -> None:
        """Restart the server in place (same data, same socket): every session is closed,
        as by a real restart. For tests of what clients see then."""
        assert self._server is not None, "start() the server first"
        from pgserver.postgres_server import pg_ctl

        user = getattr(self._server, "system_user", None)
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self.pgdata, user=user, timeout=30)

    def kill_now(self) -> None:
        """Stop at once, for a process that is about to end anyway (a hangup): the demo's
        data is throwaway, so its processes are killed (SIGKILL) and its files removed by
        a detached ``rm -rf`` that finishes on its own (a loaded machine may need a second
        for them), so this returns in a few milliseconds."""
        import psutil

        procs: list[psutil.Process] = []
        if self._pid is not None:
            with contextlib.suppress(psutil.Error):
                postmaster = psutil.Process(self._pid)
                procs = [postmaster, *postmaster.children(recursive=True)]
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(OSError):
            _detached(["rm", "-rf", "--", str(self.pgdata)])

    def stop_in_background(self) -> None:
        """Quit at once (the demo's Ctrl+Q): a detached process stops the server without a
        checkpoint (``pg_ctl -m immediate``: its data is throwaway) and removes its files,
        and ends on its own; this returns in milliseconds."""
        server, self._server = self._server, None
        if server is None:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            return
        user = getattr(server, "system_user", None) or ""
        script = (
            "import shutil, sys\n"
            "from pathlib import Path\n"
            "from pgserver.postgres_server import pg_ctl\n"
            "try:\n"
            "    pg_ctl(['-w', '-m', 'immediate', 'stop'], pgdata=Path(sys.argv[1]),"
            " user=sys.argv[2] or None, timeout=30)\n"
            "finally:\n"
            "    shutil.rmtree(sys.argv[1], ignore_errors=True)\n"
        )
        try:
            _detached([sys.executable, "-c", script, str(self.pgdata), user])
        except OSError:
            self._server = server
            self.stop()

    def stop(self) -> None:
        """Stop the server and delete its data directory. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()
        shutil.rmtree(self.pgdata, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
