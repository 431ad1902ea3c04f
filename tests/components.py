"""Real components the tests and benchmarks start: a PgBouncer and a streaming hot standby.

Both are context managers that leave nothing running, whatever happens inside them. They
are not fixtures, so the benchmarks (plain scripts) use them as the tests do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.extensions


class Unavailable(Exception):
    """The component cannot run here (not installed, or it would not start): skip."""


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found is None and os.path.exists("/usr/sbin/pgbouncer"):
        found = "/usr/sbin/pgbouncer"
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise Unavailable(f"{what} did not start: {stderr[-300:]}") from None
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextmanager
def pgbouncer(dsn: str, mode: str = "transaction", pool_size: int = 2) -> Iterator[str]:
    """``dsn``'s server through a real PgBouncer (trust auth, user postgres) in ``mode``
    with a pool of ``pool_size`` per database; yields the DSN that goes through it."""
    binary = pgbouncer_binary()
    if binary is None:
        raise Unavailable("PgBouncer is not installed (apt-get install pgbouncer)")
    params = psycopg2.extensions.parse_dsn(dsn)
    # Under /tmp itself: PgBouncer runs as the server's user when we are root, and that
    # user cannot enter pytest's private temp folders.
    folder = Path(tempfile.mkdtemp(prefix="pgbrowse-bouncer-"))
    folder.chmod(0o777)
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={params['host']} port={params.get('port', '5432')}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 100\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        "server_reset_query = DISCARD ALL\n"
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    as_user = ["-u", "pgserver"] if os.geteuid() == 0 else []  # it will not run as root
    proc = subprocess.Popen(
        [binary, *as_user, str(folder / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, proc, "PgBouncer")
        yield psycopg2.extensions.make_dsn(dsn, host="127.0.0.1", port=str(port), user="postgres")
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _server_folder(prefix: str, user: str | None) -> Path:
    """A private folder for a PostgreSQL server run as ``user`` (None: ourselves)."""
    import pwd

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if user is not None:
        owner = pwd.getpwnam(user)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    folder.chmod(0o700)
    return folder


def _runner(binaries: Path, user: str | None) -> Callable[..., None]:
    """``run(program, *args)``: a PostgreSQL program of ``binaries`` as ``user``; a failure
    is Unavailable with the program's last words."""

    def run(*args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(binaries / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user,
        )
        if done.returncode:
            raise Unavailable(f"{args[0]} failed: {(done.stderr or done.stdout)[-400:]}")

    return run


@contextmanager
def hot_standby(primary_dsn: str, **settings: str) -> Iterator[str]:
    """A streaming hot standby of the embedded server at ``primary_dsn`` (a Unix socket),
    made with the server's own ``pg_basebackup``; ``settings`` are its postgresql.conf
    settings (max_standby_streaming_delay…). Yields the DSN of the same database on it."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise Unavailable("the embedded server (pgserver) is not installed") from None
    params = psycopg2.extensions.parse_dsn(primary_dsn)
    socket_dir = params.get("host", "")
    if not socket_dir.startswith("/"):
        raise Unavailable("the standby tests need the embedded server on a Unix socket")
    # PostgreSQL will not run as root: as the embedded server's user.
    user = "pgserver" if os.geteuid() == 0 else None
    folder = _server_folder("pgbrowse-standby-", user)
    data = folder / "data"
    run = _runner(POSTGRES_BIN_PATH, user)

    started = False
    try:
        run(
            "pg_basebackup",
            *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            *("-h", socket_dir, "-p", params.get("port", "5432"), "-U", "postgres"),
        )
        options = [f"-c {name}={value}" for name, value in settings.items()]
        run(
            "pg_ctl",
            *("-D", str(data), "-w", "-t", "30", "-l", str(folder / "log")),
            *("-o", f"-h '' -k {folder} -c hot_standby=on " + " ".join(options)),
            "start",
        )
        started = True
        yield psycopg2.extensions.make_dsn(primary_dsn, host=str(folder))
    finally:
        if started:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_replay(primary_dsn: str, standby_dsn: str, timeout: float = 10) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    conn = psycopg2.connect(primary_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()")
            (target,) = cur.fetchone() or ("0/0",)
    finally:
        conn.close()
    deadline = time.monotonic() + timeout
    while True:
        conn = psycopg2.connect(standby_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
                (done,) = cur.fetchone() or (False,)
        finally:
            conn.close()
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the standby did not catch up")
        time.sleep(0.05)


@contextmanager
def cluster(bin_dir: str, tls: bool = False, **settings: str) -> Iterator[str]:
    """A throwaway PostgreSQL cluster of the binaries in ``bin_dir`` (Debian's PostgreSQL
    15 is /usr/lib/postgresql/15/bin), on a Unix socket of its own, with its defaults (JIT
    on where it was built with it) and ``settings``; yields a DSN of its postgres database.
    ``tls``: it listens on 127.0.0.1 too, with TLS (a self-signed certificate made with
    openssl), and the DSN leads there."""
    binaries = Path(bin_dir)
    if not (binaries / "postgres").exists():
        raise Unavailable(f"no PostgreSQL in {bin_dir}")
    user = None
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        user = "postgres" if _has_user("postgres") else "pgserver"
    folder = _server_folder("pgbrowse-cluster-", user)
    data = folder / "data"
    run = _runner(binaries, user)

    started = False
    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        dsn = f"host={folder} dbname=postgres user=postgres"
        if tls:
            port = _free_port()
            _certificate(folder, user)
            settings = {
                **settings,
                "listen_addresses": "127.0.0.1",
                "port": str(port),
                "ssl": "on",
                "ssl_cert_file": str(folder / "server.crt"),
                "ssl_key_file": str(folder / "server.key"),
            }
            dsn = f"host=127.0.0.1 port={port} dbname=postgres user=postgres sslmode=require"
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        run(
            "pg_ctl",
            *("-D", str(data), "-w", "-t", "30", "-l", str(folder / "log")),
            *("-o", f"-h '' -k {folder} {options}"),
            "start",
        )
        started = True
        yield dsn
    finally:
        if started:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _certificate(folder: Path, user: str | None) -> None:
    """A self-signed server certificate and its key in ``folder``, readable by ``user``."""
    import pwd

    if shutil.which("openssl") is None:
        raise Unavailable("openssl is not installed (for a test certificate)")
    done = subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(folder / "server.key")),
            *("-out", str(folder / "server.crt")),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise Unavailable(f"openssl failed: {done.stderr[-300:]}")
    for name in ("server.key", "server.crt"):
        (folder / name).chmod(0o600)
        if user is not None:
            owner = pwd.getpwnam(user)
            os.chown(folder / name, owner.pw_uid, owner.pw_gid)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


CITUS_BIN = "/usr/lib/postgresql/15/bin"  # (Debian's PostgreSQL 15, where build.sh installs it)


def citus_available() -> str | None:
    """Why the Citus tests cannot run here, or None."""
    if not (Path(CITUS_BIN) / "postgres").exists():
        return "Debian's PostgreSQL 15 is not installed (apt-get install postgresql)"
    done = subprocess.run(
        [str(Path(CITUS_BIN) / "pg_config"), "--pkglibdir"], capture_output=True, text=True
    )
    if done.returncode or not (Path(done.stdout.strip()) / "citus.so").exists():
        return "Citus is not built into it (../shared/citus/build.sh, as root; .ci/run does)"
    return None


@contextmanager
def citus(workers: int = 2) -> Iterator[str]:
    """A Citus cluster on this machine: a coordinator and ``workers`` workers, each a
    PostgreSQL 15 of its own on a Unix socket (``cluster``), the extension created and the
    workers added. Yields the coordinator's DSN (its postgres database)."""
    why = citus_available()
    if why is not None:
        raise Unavailable(why)
    from contextlib import ExitStack

    settings = {"shared_preload_libraries": "citus", "max_connections": "60"}
    with ExitStack() as stack:
        nodes = [stack.enter_context(cluster(CITUS_BIN, **settings)) for _ in range(workers + 1)]
        for dsn in nodes:
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION citus")
            conn.close()
        coordinator = nodes[0]
        conn = psycopg2.connect(coordinator)
        conn.autocommit = True
        with conn.cursor() as cur:
            host = psycopg2.extensions.parse_dsn(coordinator)["host"]
            cur.execute("SELECT citus_set_coordinator_host(%s, 5432)", (host,))
            for worker in nodes[1:]:
                host = psycopg2.extensions.parse_dsn(worker)["host"]
                cur.execute("SELECT citus_add_node(%s, 5432)", (host,))
        conn.close()
        yield coordinator
