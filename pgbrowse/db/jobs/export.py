"""Export: a view's rows streamed to a file by the server's COPY, memory flat: CSV, TSV or
JSON lines.

``COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)`` on a connection of its own (TSV:
COPY's text format, PostgreSQL's own tab-separated form, with a header line of the column
names; JSON lines: one object per row built on the server, ``json_object`` of the column
names and each value's text as CSV has it, so nothing is rounded), written to
``<file>.partial`` in chunks as they arrive (the client holds one chunk at a time) and renamed
when complete. Progress: bytes written, and rows from ``pg_stat_progress_copy`` (PostgreSQL
14+) read on a second connection. A cancel stops it on the server and removes the partial
file, so a file with the chosen name is always a whole export.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbrowse.db.connection.cancel import keep_cancelling
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import Cancelled, PgBrowseError, QueryError
from pgbrowse.db.connection.session import Session
from pgbrowse.private import shared_mode, temporary_beside

CHUNK = 64 * 1024
FORMATS = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON lines"}  # format -> its name
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_of(path: Path) -> str | None:
    """The format a file name asks for by its extension (None: no known extension)."""
    return EXTENSIONS.get(path.suffix.lower())


def tsv_field(text: str) -> str:
    """``text`` as COPY's text format writes a value (backslash escapes)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


Progress = Callable[[int, int | None], None]  # bytes written, rows (None if unknown)


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    bytes: int
    seconds: float


BUFFER = 1024 * 1024  # bytes the export's file buffers (its writes are C's, not Python's)


class Export:
    """One export; ``run`` on a worker thread, ``cancel`` from any other."""

    def __init__(
        self,
        factory: ConnectionFactory,
        query: sql.Composable | Sequence[sql.Composable],
        path: Path,
        what: str,
        format: str = "csv",
        header: tuple[str, ...] = (),
    ) -> None:
        """``query``: the rows (for JSON lines, one JSON text per row), or batches of them
        copied one after the other into the file, in one snapshot (a distributed table's
        key ranges: Citus gathers a COPY's whole result on the coordinator first);
        ``header``: the column names (a TSV's first line)."""
        if format not in FORMATS:
            raise ValueError(f"unknown export format {format!r}")
        self.factory = factory
        self.queries = [query] if isinstance(query, sql.Composable) else list(query)
        self._rows_before = 0  # rows copied by the batches done (the watcher adds the current)
        self.format = format
        self.header = header
        self.path = path
        self.partial: Path | None = None  # the temporary file beside it, while written
        self.what = what
        self.sent: list[str] = []  # the statements it sent (for tests and the curious)
        self.session = Session(factory)  # errors and a lost session, as for views
        self._cancelled = threading.Event()
        self._done = threading.Event()
        self._rows: int | None = None
        self._pid: int | None = None
        self._file: IO[bytes] | None = None  # the file being written (its size: progress)

    def copy_statement(self, conn: psycopg2.extensions.connection, batch: int = 0) -> str:
        """The COPY of batch ``batch`` (a CSV's header only with the first)."""
        options = {
            "csv": "FORMAT csv, HEADER" if batch == 0 else "FORMAT csv",
            "tsv": "FORMAT text",
            # A JSON text never holds a raw control character (JSON escapes them), so CSV
            # with these as quote and delimiter writes each one as it is, one per line.
            "jsonl": "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'",
        }[self.format]
        return (
            sql.SQL("COPY ({}) TO STDOUT WITH ({})")
            .format(self.queries[batch], sql.SQL(options))
            .as_string(conn)
        )

    def run(self, on_progress: Progress | None = None) -> Exported:
        report = on_progress or (lambda written, rows: None)
        started = time.perf_counter()
        session = self.session

        def copy() -> tuple[int, int]:
            if self._cancelled.is_set():
                raise Cancelled("Cancelled", f"exporting {self.what}: cancelled")
            conn = session.conn
            self._pid = conn.get_backend_pid()
            # (again from the start after a reconnect)
            self._remove_partial()
            file, self.partial = temporary_beside(self.path)  # (O_EXCL: no planted link)
            with file:
                os.fchmod(file.fileno(), shared_mode())
                # COPY hands over one row at a time: a buffered file's write is C's, a
                # Python write per row (counting the bytes) cost 40 % more client CPU and,
                # with both cores busy, 18 % of psql's throughput. The watcher reports the
                # bytes from the file's size instead.
                out = io.BufferedWriter(file, BUFFER)
                self._file = file
                if self.format == "tsv" and self.header:
                    out.write(("\t".join(map(tsv_field, self.header)) + "\n").encode())
                rows = self._rows_before = 0
                with conn.cursor() as cur:
                    # Bounded by the user's cancel, not the browsing timeout: a large export
                    # on a slow server takes longer than any statement of a view should.
                    cur.execute("SET LOCAL statement_timeout = 0")
                    for batch in range(len(self.queries)):
                        if self._cancelled.is_set():
                            raise Cancelled("Cancelled", f"exporting {self.what}: cancelled")
                        statement = self.copy_statement(conn, batch)
                        self.sent.append(statement)
                        cur.copy_expert(statement, out, size=CHUNK)
                        rows += max(cur.rowcount, 0)
                        self._rows_before = rows
                out.flush()
                self._file = None
                written = os.fstat(file.fileno()).st_size
            return rows, written

        watcher = threading.Thread(target=self._watch_rows, args=(report,), daemon=True)
        try:
            session.conn  # noqa: B018 (connect first, so the watcher has a backend to watch)
            watcher.start()
            rows, written = session.run(f"exporting {self.what}", copy)
            assert self.partial is not None
            os.replace(self.partial, self.path)
            self.partial = None
            report(written, rows)
            return Exported(self.path, rows, written, time.perf_counter() - started)
        except OSError as error:  # a full disk, a read-only file system, a folder, no rights
            self._remove_partial()
            reason = error.strerror or str(error)
            where = error.filename or self.path
            raise QueryError("Could not write the file", f"{reason}: {where}") from None
        except BaseException:
            self._remove_partial()
            raise
        finally:
            self._done.set()
            session.close()

    def _remove_partial(self) -> None:
        if self.partial is not None:
            with contextlib.suppress(OSError):  # (gone already)
                self.partial.unlink()
            self.partial = None

    def _watch_rows(self, report: Progress) -> None:
        """Rows so far, from pg_stat_progress_copy (quietly none before 14), and the bytes
        in the file, reported every 0.25 s."""
        try:
            conn = self.factory.connect()
        except PgBrowseError:
            return
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                while not self._done.wait(0.25):
                    try:
                        cur.execute(
                            "SELECT tuples_processed FROM pg_stat_progress_copy WHERE pid = %s",
                            (self._pid,),
                        )
                    except psycopg2.Error:
                        return
                    row = cur.fetchone()
                    if row is not None:
                        self._rows = self._rows_before + int(row[0])
                    file = self._file
                    with contextlib.suppress(OSError, ValueError):  # (closed meanwhile)
                        if file is not None:
                            report(os.fstat(file.fileno()).st_size, self._rows)
        finally:
            conn.close()

    def cancel(self) -> None:
        """Stop the export on the server (returns at once; re-sent until it has stopped)."""
        self._cancelled.set()
        keep_cancelling(self.session.cancel, self._done.is_set)
