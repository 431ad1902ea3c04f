"""The data layer stands on its own, and the embedded server leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys

import psutil
import psycopg2

from pgbrowse.demo.embedded import EmbeddedServer


def test_data_layer_imports_no_textual() -> None:
    code = (
        "import sys\n"
        "import pgbrowse.db.catalog, pgbrowse.db.connect, pgbrowse.demo.data\n"
        "import pgbrowse.demo.embedded, pgbrowse.config, pgbrowse.db.view\n"
        "import pgbrowse.db.errors, pgbrowse.db.loader, pgbrowse.db.pager, pgbrowse.memory\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_server_stops_and_cleans_up() -> None:
    server = EmbeddedServer().start()
    pid = server.pid
    assert pid is not None and psutil.pid_exists(pid)
    conn = psycopg2.connect(server.uri())
    conn.close()
    postmaster = psutil.Process(pid)  # taken before the stop: it may be gone right after
    children = postmaster.children(recursive=True)
    server.stop()
    server.stop()  # twice is harmless
    _gone, alive = psutil.wait_procs([postmaster, *children], timeout=10)
    assert not alive
    assert not server.pgdata.exists()


def test_config_reads_defaults_without_the_pager_or_the_demo() -> None:
    code = (
        "import sys\n"
        "import pgbrowse.config\n"
        "bad = sorted(m for m in sys.modules if m in ('pgbrowse.db.pager', 'pgbrowse.demo',"
        " 'pgbrowse.demo.embedded', 'pgserver') or m.startswith('textual'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_m_pgbrowse_runs_from_the_folder_that_holds_the_clone(tmp_path) -> None:
    """From there, Python takes the clone's folder (named pgbrowse) for a namespace package
    and never runs pgbrowse/__init__.py (issue 13: ImportError on __version__)."""
    from pathlib import Path

    from pgbrowse.version import __version__

    (tmp_path / "pgbrowse").symlink_to(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-m", "pgbrowse", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pgbrowse {__version__}"
