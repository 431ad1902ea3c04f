"""The data layer stands on its own, and the embedded server leaves nothing behind."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg2

import pgbrowse
from pgbrowse.demo.embedded import EmbeddedServer


def test_data_layer_imports_no_textual() -> None:
    code = (
        "import sys\n"
        "import pgbrowse.db.catalog.relations, pgbrowse.db.connection.connect, pgbrowse.demo.data\n"
        "import pgbrowse.demo.embedded, pgbrowse.config, pgbrowse.db.paging.view\n"
        "import pgbrowse.db.connection.errors, pgbrowse.db.jobs.loader\n"
        "import pgbrowse.db.paging.pager, pgbrowse.memory\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def import_graph() -> dict[str, set[str]]:
    """Which pgbrowse module imports which, every import counted (at the top, inside a
    function, or only for type checking)."""
    root = Path(pgbrowse.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pgbrowse"):
                for alias in node.names:
                    whole = f"{node.module}.{alias.name}"
                    graph[name].add(whole if whole in modules else str(node.module))
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules)
        graph[name] &= set(modules) - {name}
    return graph


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Issue 25: ui/app.py with the screens that imported it back, db/connect.py with
    db/errors.py, ui/record_screen.py with ui/row_actions.py, ui/follow.py with
    ui/table_screen.py. Every import counts, even one made only for type checking."""
    graph = import_graph()
    assert graph.get("pgbrowse.ui.app")

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo.extend(graph[here])
        return False

    cycles = sorted(
        (a, b) for a, targets in graph.items() for b in targets if a < b and reaches(b, a)
    )
    assert not cycles, cycles


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
        "bad = sorted(m for m in sys.modules if m in ('pgbrowse.db.paging.pager', 'pgbrowse.demo',"
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


def test_the_core_and_the_table_screen_are_parts_not_towers() -> None:
    """Issue 25: CursorPager was CursorPager(Reordering(RowFinder(AnchorReader))), and
    TableScreen was TableScreen(Following(RowActions(Screen))): one object every part could
    reach into. Now each is assembled from parts that own their state."""
    from textual.screen import Screen

    from pgbrowse.db.paging.pager import CursorPager
    from pgbrowse.db.paging.reader import Reader
    from pgbrowse.ui.table_screen import TableScreen

    assert CursorPager.__mro__ == (CursorPager, object)
    assert Reader.__mro__ == (Reader, object)
    assert TableScreen.__bases__ == (Screen,)
    names = {name for name in dir(CursorPager) if not name.startswith("__")}
    assert not {"_read", "_bound", "_anchor_for", "_land", "_restart"} & names
