"""Limits that hold and bad input said in one line (issue 11): export to a full disk, a
read-only file system or a folder; non-finite timeouts; a config file that is missing or not
UTF-8; two crash logs in one second."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgbrowse.crashlog import write_crash_log
from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.jobs import export as export_module
from pgbrowse.db.jobs.export import Export
from pgbrowse.db.paging.pager import CursorPager
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.export_screen import ExportScreen
from tests.helpers import fixed_memory, open_table, relation, run_cli, wait_for


def read_only_dir() -> Path | None:
    """A folder no file can be made in, even by root: /proc (or None where there is none)."""
    folder = Path("/proc")
    try:
        (folder / "pgbrowse-probe").open("wb").close()
    except OSError:
        return folder
    return None


def full_disk(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``path``, whose temporary file writes to /dev/full: every write fails with ENOSPC
    (the temporary file itself is made as usual, so its removal is checked too)."""
    made = export_module.temporary_beside

    def beside(target: Path) -> tuple:
        file, partial = made(target)
        if target != path:
            return file, partial
        file.close()
        return open("/dev/full", "wb", buffering=0), partial

    monkeypatch.setattr(export_module, "temporary_beside", beside)
    return path


def partials(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".partial")]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_is_said_and_leaves_no_partial_file(
    demo_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pager = CursorPager(demo_factory, relation(demo_factory, "shop.orders"))
    try:
        out = full_disk(tmp_path / "orders.csv", monkeypatch)
        export = Export(demo_factory, pager.export_query(), out, "shop.orders")
        with pytest.raises(QueryError) as caught:
            export.run()
        assert caught.value.title == "Could not write the file"
        assert "No space left on device" in caught.value.message
        assert not out.exists() and export.partial is None and partials(tmp_path) == []
    finally:
        pager.close()


async def test_the_export_dialog_says_each_file_system_error_and_stays_usable(
    demo_factory: ConnectionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = PgBrowseApp(
        demo_factory, initial=relation(demo_factory, "shop.customers"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await open_table(app, pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        box = screen.query_one("#export-path")

        def status() -> str:
            return str(screen.query_one("#export-status").render())

        box.value = str(tmp_path)  # a folder
        await pilot.press("enter")
        assert "is a folder" in status()
        attempts = []
        if Path("/dev/full").exists():
            full = full_disk(tmp_path / "full.csv", monkeypatch)
            attempts.append((full, "No space left on device"))
        read_only = read_only_dir()
        if read_only is not None:
            attempts.append((read_only / "x.csv", "Could not write the file"))
        assert attempts
        for path, says in attempts:
            screen.result = None
            box.value = str(path)
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.result is not None, timeout=30)
            assert says in status() and "Esc closes" in status()
            assert screen.export is None  # usable again
            assert partials(path.parent) == []
        screen.result = None
        good = tmp_path / "customers.csv"
        box.value = str(good)
        await pilot.press("enter")  # and a good path still works
        await wait_for(pilot, lambda: screen.result is not None, timeout=30)
        assert "Exported" in status() and good.exists()
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
@pytest.mark.parametrize("flag", ["--statement-timeout", "--lock-timeout", "--idle-release"])
def test_non_finite_seconds_are_one_line_and_status_2(flag: str, value: str) -> None:
    done = run_cli(flag, value, "--print-config")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert flag in done.stderr


@pytest.mark.parametrize("key", ["statement_timeout", "lock_timeout", "idle_release"])
def test_non_finite_seconds_in_the_config_file(tmp_path: Path, key: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"{key} = nan\n")
    done = run_cli("--config", str(config), "--print-config")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert f"{key}: not a number of seconds" in done.stderr


def test_session_settings_refuse_non_finite_timeouts() -> None:
    with pytest.raises(ValueError, match="number of seconds"):
        SessionSettings(statement_timeout_s=float("nan"))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\xff\xfep\x00a\x00", "not UTF-8"),  # UTF-16 with its BOM
        (None, "no such file"),
    ],
    ids=["utf-16", "missing"],
)
def test_a_config_file_that_cannot_be_read(tmp_path: Path, content, says: str) -> None:
    config = tmp_path / "config.toml"
    if content is not None:
        config.write_bytes(content)
    for how in (["--config", str(config)], []):
        env = {} if how else {"PGBROWSE_CONFIG": str(config)}
        done = run_cli(*how, "--print-config", env=env)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert str(config) in done.stderr and says in done.stderr


def test_two_errors_in_one_second_keep_two_tracebacks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    logs = []
    for n in range(3):
        try:
            raise RuntimeError(f"failure {n}")
        except RuntimeError as error:
            logs.append(write_crash_log(error))
    assert len(set(logs)) == 3 and all(log is not None for log in logs)
    for n, log in enumerate(logs):
        assert log is not None and f"failure {n}" in log.read_text()


def test_a_server_error_quoting_escapes_is_printed_safely(admin_dsn: str) -> None:
    """The command line's one line quotes the server: its escapes are made visible too."""
    import psycopg2.extensions

    dsn = psycopg2.extensions.make_dsn(admin_dsn, dbname="no\x1b]0;pwned\x07db")
    done = run_cli(dsn)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "no␛]0;pwned␇db" in done.stderr


def test_the_demo_without_its_extra_says_how_to_get_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pgserver'] = None\n"  # as if pgbrowse[demo] were not installed
        "from pgbrowse.cli import main; sys.exit(main(['--demo']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pip install 'pgbrowse[demo]'" in done.stderr.strip().splitlines()[-1]
