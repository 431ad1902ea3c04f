"""The connection factory and the command line's handling of bad connections."""

from __future__ import annotations

import os

import psycopg2
import psycopg2.extensions
import pytest

from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import ConnectError
from pgbrowse.demo.embedded import EmbeddedServer
from tests.helpers import password_role, run_cli, spawn_on_pty


def test_session_settings(scratch_dsn: str, monkeypatch) -> None:
    """pgbrowse's settings hold in each of its transactions (SET LOCAL, BEGIN READ ONLY),
    and end with it; the user's own options (PGOPTIONS) and name (PGAPPNAME) are kept."""
    monkeypatch.setenv("PGOPTIONS", "-c search_path=mine,public -c work_mem=7MB")
    factory = ConnectionFactory(
        scratch_dsn, SessionSettings(statement_timeout_s=7, lock_timeout_s=2)
    )
    conn = factory.connect()
    try:
        with conn.cursor() as cur:
            names = (
                "transaction_read_only",
                "application_name",
                "statement_timeout",
                "lock_timeout",
                "synchronize_seqscans",
                "jit",
                "standard_conforming_strings",
                "search_path",
                "work_mem",
            )
            values = []
            for name in names:
                cur.execute(f"SHOW {name}")
                values.append(cur.fetchone()[0])
            assert values == [
                "on", "pgbrowse", "7s", "2s", "off", "off", "on", "mine,public", "7MB"
            ]  # fmt: skip
            with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
                cur.execute("CREATE TABLE nope (x int)")
        conn.rollback()
        conn.autocommit = True  # outside pgbrowse's transactions: nothing of its settings
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] != "7s"
    finally:
        conn.close()
    monkeypatch.setenv("PGAPPNAME", "alice's browser")
    conn = ConnectionFactory(scratch_dsn).connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW application_name")
            assert cur.fetchone()[0] == "alice's browser"
    finally:
        conn.close()


def test_negative_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        SessionSettings(lock_timeout_s=-1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"dbname": "no_such_db"}, 'database "no_such_db" does not exist'),
        ({"user": "no_such_user"}, 'role "no_such_user" does not exist'),
        ({"host": "127.0.0.1", "port": "1"}, "Connection refused"),
    ],
)
def test_bad_connections_say_one_line(scratch_dsn: str, change: dict[str, str], expected: str):
    dsn = psycopg2.extensions.make_dsn(scratch_dsn, **change)
    with pytest.raises(ConnectError) as caught:
        ConnectionFactory(dsn).connect()
    assert expected in caught.value.message
    result = run_cli(dsn)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert expected in result.stderr


def test_wrong_password(server: EmbeddedServer | None, scratch_dsn: str) -> None:
    if server is None:
        pytest.skip("needs the embedded server's pg_hba.conf")
    with password_role(server, scratch_dsn, "pw_user", "right"):
        dsn = psycopg2.extensions.make_dsn(scratch_dsn, user="pw_user", password="wrong")
        result = run_cli(dsn)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert 'password authentication failed for user "pw_user"' in result.stderr
        ok = psycopg2.extensions.make_dsn(scratch_dsn, user="pw_user", password="right")
        ConnectionFactory(ok).connect().close()


def test_libpq_defaults_from_environment(scratch_dsn: str) -> None:
    params = psycopg2.extensions.parse_dsn(scratch_dsn)
    env = {"PGHOST": params["host"], "PGDATABASE": params["dbname"], "PGUSER": params["user"]}
    if "port" in params:
        env["PGPORT"] = params["port"]
    result = run_cli("--table", "no_such_table", env=env)  # connects, then fails on the name
    assert result.returncode == 2
    assert "'no_such_table' is not a table or view here" in result.stderr


def test_malformed_dsn_and_options() -> None:
    for args, expected in (
        (["dbname='unterminated"], "Bad connection string"),
        (["--lock-timeout", "-3"], "must not be negative"),
        (["--no-such-option"], "unrecognized arguments"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one clear line
        assert "Traceback" not in result.stderr


def test_help_and_version() -> None:
    assert run_cli("--version").stdout.startswith("pgbrowse ")
    helped = run_cli("--help")
    assert helped.returncode == 0 and "--demo-rows" in helped.stdout


def test_no_server_keeps_libpq_hints_and_points_at_the_demo(tmp_path) -> None:
    """libpq's whole message (its "Is the server running…" hint too), and the demo."""
    dsn = f"host={tmp_path} port=5999 dbname=x user=x"  # a socket folder with no server
    with pytest.raises(ConnectError) as caught:
        ConnectionFactory(dsn).connect()
    message = caught.value.message
    assert "Is the server running locally" in message and "pgbrowse --demo" in message
    result = run_cli(dsn)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--demo" in result.stderr


def test_a_password_is_asked_for_on_the_terminal_as_psql_does(server, scratch_dsn: str) -> None:
    import time

    if server is None:
        pytest.skip("needs the embedded server's pg_hba.conf")
    dsn = psycopg2.extensions.make_dsn(scratch_dsn, user="prompt_user")

    def run(*extra: str, answer: bytes | None) -> tuple[int, bytes]:
        proc, leader = spawn_on_pty(*extra, dsn, "no_such_table")
        out = b""
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                out += os.read(leader, 4096)
            except OSError:
                break
            if answer is not None and b"Password for user prompt_user:" in out:
                os.write(leader, answer)
                answer = None
        proc.wait(10)
        os.close(leader)
        return proc.returncode, out

    with password_role(server, scratch_dsn, "prompt_user", "sesame"):
        code, out = run(answer=b"sesame\n")  # asked once, and the right password connects
        assert code == 2 and b"'no_such_table' is not a table or view here" in out, out
        assert out.count(b"Password for user prompt_user:") == 1 and b"sesame" not in out
        code, out = run("-w", answer=b"sesame\n")  # -w never asks
        assert code == 2 and b"Password for user" not in out and b"no password supplied" in out
