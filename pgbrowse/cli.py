"""Command line: arguments -> PgBrowseApp; bad arguments and connections exit 2, no traceback."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from pgbrowse import hangup
from pgbrowse.config import SETTINGS, ConfigError, config_path, resolve
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import ConnectError, PgBrowseError
from pgbrowse.db.jobs.opening import Opening, resolve_relation
from pgbrowse.psql_args import UsageError, hint_for, is_connection_string, read_target
from pgbrowse.text import shown
from pgbrowse.version import __version__

if TYPE_CHECKING:
    from pgbrowse.db.paging.pager import CursorPager
    from pgbrowse.demo.embedded import EmbeddedServer

EXIT_USAGE = 2
# How long the first answer may take before a screen says what pgbrowse waits for (the
# imports before this already took ~0.3 s; the answer usually comes in 40-60 ms).
STARTUP_PATIENCE_S = 0.3


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit status 2 (argparse's own prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"pgbrowse: {message} (pgbrowse --help lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pgbrowse",
        usage="pgbrowse [OPTION]... [DBNAME [USERNAME]] [SCHEMA.TABLE]\n"
        "       pgbrowse [OPTION]... 'CONNECTION STRING' | postgresql://URI [TABLE]",
        description="Browse PostgreSQL tables in the terminal, paging through named cursors."
        " It connects as psql does: psql's -h -p -U -d -w -W and [DBNAME [USERNAME]], or a"
        " connection string or URI; a schema-qualified word (or -t) is a table to open.",
        epilog="What is not given comes from libpq's defaults exactly as for psql "
        "(PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSERVICE, ~/.pgpass). "
        f"Every setting can also be set in {config_path()} (see --print-config).",
        add_help=False,
    )
    parser.add_argument("-?", "--help", action="help", help="show this help and exit")
    parser.add_argument(
        "words",
        nargs="*",
        metavar="DBNAME USERNAME SCHEMA.TABLE",
        help="as psql: the database, then the user; or a connection string or URI; a"
        " schema-qualified word is a table to open",
    )
    parser.add_argument("-h", "--host", help="database server host or socket directory")
    parser.add_argument("-p", "--port", help="database server port")
    parser.add_argument("-U", "--username", metavar="USERNAME", help="database user name")
    parser.add_argument(
        "-d", "--dbname", metavar="DBNAME", help="database name, connection string or URI"
    )
    parser.add_argument("-t", "--table", help="schema.table (or table) to open at once")
    parser.add_argument(
        "--demo", action="store_true", help="start a throwaway PostgreSQL with demo data"
    )
    parser.add_argument(
        "-w",
        "--no-password",
        action="store_true",
        help="never prompt for a password (as psql -w); by default pgbrowse asks on the"
        " terminal when the server wants one and none was given",
    )
    parser.add_argument(
        "-W",
        "--password",
        action="store_true",
        help="ask for the password before connecting (as psql -W)",
    )
    for setting in SETTINGS:
        default = setting.default
        if isinstance(default, bool):
            default = "on" if default else "off"
        elif isinstance(default, int):
            default = f"{default:,}"
        default = default if default not in ("", ()) else "none"
        parser.add_argument(
            setting.flag,
            type=setting.parse,
            default=None,  # None: not given, so the config file or the default applies
            metavar=setting.metavar,
            help=f"{setting.help} (default {default})",
        )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help=f"config file (default {config_path()})"
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the settings in force and exit"
    )
    parser.add_argument("--version", action="version", version=f"pgbrowse {__version__}")
    return parser


def _fail(message: str) -> int:
    print(f"pgbrowse: {shown(message)}", file=sys.stderr)  # it may quote the server
    return EXIT_USAGE


@contextlib.contextmanager
def _terminate_on_signals() -> Iterator[None]:
    """Before the app runs (demo start-up), SIGTERM/SIGHUP unwind so cleanup still happens."""

    def handler(signum: int, frame: FrameType | None) -> None:
        hangup.hang_up(128 + signum)  # (and gone within 2 s even if unwinding blocks)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _progress_line() -> Iterator[Callable[[str], None]]:
    """The demo's progress: on a terminal, one line rewritten in place (each step, with the
    seconds so far); elsewhere a line per step."""
    started = time.monotonic()
    live = sys.stderr.isatty()

    def say(step: str) -> None:
        if live:
            seconds = time.monotonic() - started
            sys.stderr.write(f"\r\x1b[Kpgbrowse: demo: {step}  ({seconds:.0f} s)")
            sys.stderr.flush()
        else:
            print(f"pgbrowse: demo: {step}", file=sys.stderr)

    try:
        yield say
    finally:
        if live:
            sys.stderr.write("\n")


def _may_prompt(args: argparse.Namespace) -> bool:
    return not args.no_password and sys.stdin is not None and sys.stdin.isatty()


def _ask_password(factory: ConnectionFactory) -> str:
    """As psql asks: ``Password for user alice:`` on the terminal, not echoed."""
    user = factory.user()
    try:
        return getpass.getpass(f"Password for user {user}: ")
    except (EOFError, KeyboardInterrupt):
        raise ConnectError("Could not connect", "no password given") from None


def entry() -> None:
    """The ``pgbrowse`` command: hangups end the process within 2 s, whatever happens."""
    hangup.install()
    code = 1
    try:
        code = main()
    finally:
        hangup.finished(code)
    raise SystemExit(code)


def _hide_password(dsn: str) -> None:
    """A password in the connection string is taken out of the process's command line as
    soon as it is parsed (``ps`` showed it for the whole session): the title becomes the
    command line with the connection string's password left out."""
    import psycopg2.extensions

    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return
    if not params.pop("password", None):
        return
    import setproctitle

    hidden = psycopg2.extensions.make_dsn(**params) + " password=…"
    setproctitle.setproctitle(" ".join(hidden if arg == dsn else arg for arg in sys.argv))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    connection = (args.host, args.port, args.username, args.dbname)
    if args.demo and len(args.words) == 1 and not any(connection) and not args.table:
        args.table, args.words = args.words[0], []  # `pgbrowse --demo shop.orders`
    if args.password and args.no_password:
        parser.error("-w never asks for a password and -W asks first: give one of them")
    if args.demo and (args.words or any(connection)):
        parser.error("--demo starts its own server: give no database, user or host")
    try:
        target = read_target(
            args.words,
            host=args.host,
            port=args.port,
            user=args.username,
            dbname=args.dbname,
            table=args.table,
        )
    except UsageError as error:
        parser.error(str(error))
    if argv is None:
        for word in (*args.words, args.dbname):
            if word and is_connection_string(word):
                _hide_password(word)
    table = target.relation
    try:
        named = args.config is not None or bool(os.environ.get("PGBROWSE_CONFIG"))
        config = resolve(vars(args), args.config or config_path(), required=named)
    except ConfigError as error:
        return _fail(str(error))
    if args.print_config:
        print(config.as_toml(), end="")
        return 0
    try:
        settings = SessionSettings(
            statement_timeout_s=config.statement_timeout,
            lock_timeout_s=config.lock_timeout,
            allowed_functions=config.allowed_functions,
            role=config.role or None,
        )
    except ValueError as error:
        return _fail(str(error))

    server: EmbeddedServer | None = None
    try:
        with _terminate_on_signals():
            dsn = target.dsn
            if args.demo:
                from pgbrowse.demo.data import create_demo  # (only the demo needs them)
                from pgbrowse.demo.embedded import EmbeddedServer

                print("pgbrowse: starting an embedded PostgreSQL…", file=sys.stderr)
                server = EmbeddedServer(throwaway=True).start()
                hangup.register(server.kill_now)
                dsn = server.create_database("pgbrowse_demo")
                with _progress_line() as say:
                    create_demo(dsn, config.demo_rows, progress=say)
                    say("built; starting the browser")
            factory = ConnectionFactory(dsn, settings)
            if args.password and not args.demo:  # psql -W: asked before connecting
                if not _may_prompt(args):
                    return _fail("-W asks for the password on the terminal: there is none here")
                factory = factory.with_password(_ask_password(factory))
            cache_bytes = config.cache_mb * 2**20  # (the pager's settings: as the app's)

            def pager_for(relation: Relation) -> CursorPager:
                from pgbrowse.db.paging.pager import CursorPager

                return CursorPager(
                    factory,
                    relation,
                    page_size=config.page_size,
                    cache_bytes=cache_bytes,
                    truncate=config.truncate,
                )

            # The relation is found and its first page read on a thread, while Textual and
            # the screens are imported here (opening.py); errors are said before any screen.
            started = Opening(factory, table, pager_for).start()
            opening: Opening | None = started  # (None: it gave way to a password prompt)
            from pgbrowse.ui.app import PgBrowseApp  # Textual loads only once there is an app

            if not started.found(STARTUP_PATIENCE_S):  # the server is slow to answer: say so
                from pgbrowse.ui.waiting import WaitingApp

                if not WaitingApp(started, factory.target()).run():
                    print("pgbrowse: gave up waiting for the server", file=sys.stderr)
                    return 130

            try:
                where, relation = started.resolved()
            except ConnectError as error:
                if "no password supplied" not in error.message or not _may_prompt(args):
                    raise
                factory = factory.with_password(_ask_password(factory))
                opening = None
                where, relation = resolve_relation(factory, table)

        app = PgBrowseApp(
            factory,
            where=where + (" (demo)" if args.demo else ""),
            initial=relation,
            page_size=config.page_size,
            cache_bytes=cache_bytes,
            truncate=config.truncate,
            theme=config.theme,
            idle_release_s=config.idle_release,
            welcome_rows=config.demo_rows if args.demo else None,
            opening=opening,
            compare_limits=(config.compare_rows, config.compare_mb),
            keep_views=config.keep_views,
        )
        app.run()
        hangup.install_signals()  # (asyncio left SIGHUP and SIGTERM at their defaults)
        if app.crashes:
            message, log = app.crashes[-1]
            where = f" (the traceback is in {log})" if log else ""
            print(f"pgbrowse: unexpected error: {shown(message)}{where}", file=sys.stderr)
        return app.return_code or 0
    except PgBrowseError as error:
        return _fail(f"{error.title}: {hint_for(target, error.message)}")
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:  # (stopped by a process of its own: the quit is at once)
            server.stop_in_background()
