"""Command line: arguments -> PgBrowseApp; bad arguments and connections exit 2, no traceback."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from pgbrowse import __version__
from pgbrowse.db.catalog import Relation, find_relation
from pgbrowse.db.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.demo import DEFAULT_DEMO_ROWS, create_demo
from pgbrowse.db.embedded import EmbeddedServer
from pgbrowse.db.errors import PgBrowseError
from pgbrowse.db.pager import DEFAULT_CACHE_BYTES, DEFAULT_PAGE_SIZE, DEFAULT_TRUNCATE

EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgbrowse",
        description="Browse PostgreSQL tables in the terminal, paging through named cursors.",
        epilog="With no DSN, libpq's defaults apply exactly as for psql "
        "(PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSERVICE, ~/.pgpass).",
    )
    parser.add_argument("dsn", nargs="?", default="", help="connection string or postgresql:// URI")
    parser.add_argument("relation", nargs="?", help="schema.table to open directly")
    parser.add_argument("-t", "--table", help="schema.table to open directly (same as RELATION)")
    parser.add_argument(
        "--demo", action="store_true", help="start a throwaway PostgreSQL with demo data"
    )
    parser.add_argument(
        "--demo-rows",
        type=_positive_int,
        default=DEFAULT_DEMO_ROWS,
        metavar="N",
        help=f"rows in the demo's big table (default {DEFAULT_DEMO_ROWS:,})",
    )
    defaults = SessionSettings()
    parser.add_argument(
        "--statement-timeout",
        type=_seconds,
        default=defaults.statement_timeout_s,
        metavar="SECONDS",
        help=f"server statement_timeout (default {defaults.statement_timeout_s:g}; 0 = none)",
    )
    parser.add_argument(
        "--lock-timeout",
        type=_seconds,
        default=defaults.lock_timeout_s,
        metavar="SECONDS",
        help=f"server lock_timeout (default {defaults.lock_timeout_s:g}; 0 = none)",
    )
    parser.add_argument(
        "--page-size",
        type=_positive_int,
        default=DEFAULT_PAGE_SIZE,
        metavar="ROWS",
        help=f"rows per FETCH (default {DEFAULT_PAGE_SIZE})",
    )
    parser.add_argument(
        "--cache-mb",
        type=_positive_int,
        default=DEFAULT_CACHE_BYTES // 2**20,
        metavar="MB",
        help=f"client page cache budget (default {DEFAULT_CACHE_BYTES // 2**20} MB)",
    )
    parser.add_argument(
        "--truncate",
        type=_positive_int,
        default=DEFAULT_TRUNCATE,
        metavar="CHARS",
        help=f"characters of each value fetched for the table (default {DEFAULT_TRUNCATE})",
    )
    parser.add_argument("--version", action="version", version=f"pgbrowse {__version__}")
    return parser


def _fail(message: str) -> int:
    print(f"pgbrowse: {message}", file=sys.stderr)
    return EXIT_USAGE


@contextlib.contextmanager
def _terminate_on_signals() -> Iterator[None]:
    """Before the app runs (demo start-up), SIGTERM/SIGHUP unwind so cleanup still happens."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _resolve(factory: ConnectionFactory, name: str | None) -> tuple[str, Relation | None]:
    """Check the connection once (for a one-line error) and find the relation asked for."""
    conn = factory.connect()
    try:
        info = conn.info
        where = f"{info.user}@{info.host or 'local'}:{info.port}/{info.dbname}"
        if name is None:
            return where, None
        relation = find_relation(conn, name)
        if relation is None:
            raise PgBrowseError("No such relation", f"{name!r} is not a table or view here")
        return where, relation
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    table = args.table or args.relation
    if args.demo and args.dsn:
        if args.relation is None and table is None:
            table = args.dsn  # `pgbrowse --demo shop.orders`
        else:
            parser.error("--demo starts its own server: give no DSN")
    try:
        settings = SessionSettings(
            statement_timeout_s=args.statement_timeout, lock_timeout_s=args.lock_timeout
        )
    except ValueError as error:
        return _fail(str(error))

    server: EmbeddedServer | None = None
    try:
        with _terminate_on_signals():
            dsn = args.dsn
            if args.demo:
                print("pgbrowse: starting an embedded PostgreSQL…", file=sys.stderr)
                server = EmbeddedServer().start()
                dsn = server.create_database("pgbrowse_demo")
                create_demo(
                    dsn,
                    args.demo_rows,
                    progress=lambda step: print(f"pgbrowse: demo: {step}", file=sys.stderr),
                )
            factory = ConnectionFactory(dsn, settings)
            where, relation = _resolve(factory, table)

        from pgbrowse.ui.app import PgBrowseApp  # Textual loads only once there is an app

        app = PgBrowseApp(
            factory,
            where=where + (" (demo)" if args.demo else ""),
            initial=relation,
            page_size=args.page_size,
            cache_bytes=args.cache_mb * 2**20,
            truncate=args.truncate,
        )
        app.run()
        return app.return_code or 0
    except PgBrowseError as error:
        return _fail(f"{error.title}: {error.message}")
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop()
