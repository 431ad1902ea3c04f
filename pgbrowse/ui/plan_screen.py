"""StatementScreen: a statement a cursor cannot hold (``EXPLAIN``, ``SHOW``), run as a plain
bounded query on a session of its own; an EXPLAIN's plan is drawn as a tree.

A plan in PostgreSQL's text format is a tree by indentation: each ``->`` line is a node
under the nearest less-indented node, and the lines under a node (``Index Cond: …``) are its
details. ``plan_tree`` reads it back into that tree (Textual's Tree, every node open), so
the seek a view runs reads as what it is: an Index Scan from a key, a TID Range Scan from a
block, a Limit over a Sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from psycopg2 import sql
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from pgbrowse.db.connection.session import Session
from pgbrowse.db.guard.allow import vet
from pgbrowse.db.guard.parse import Calls
from pgbrowse.ui.keybar import KeyBar
from pgbrowse.ui.report_screen import ReportScreen
from pgbrowse.ui.safe import SafeStatic, shown

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory

ROW_LIMIT = 10_000  # rows of a plain statement shown (SHOW ALL has about 350)

Result = tuple[list[str], list[tuple[Any, ...]], bool]  # names, rows, cut at ROW_LIMIT


def plan_tree(tree: Tree[None], lines: Sequence[str]) -> int:
    """Fill ``tree`` (its root hidden) with the plan ``lines``; returns the plan nodes."""
    stack: list[tuple[int, TreeNode[None]]] = [(-1, tree.root)]
    nodes = 0
    for raw in lines:
        text = raw.rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip())
        body = text.strip()
        is_node = body.startswith("->") or nodes == 0
        if is_node:
            body = body.removeprefix("->").strip()
            while len(stack) > 1 and stack[-1][0] >= indent:
                stack.pop()
            name, cut, rest = body.partition("  (")
            label = Text(shown(name), style="bold")
            if cut:
                label.append(shown(f"  ({rest}"), style="dim")
            node = stack[-1][1].add(label, expand=True, allow_expand=True)
            stack.append((indent, node))
            nodes += 1
        else:
            while len(stack) > 1 and stack[-1][0] >= indent:
                stack.pop()
            stack[-1][1].add_leaf(Text(shown(body)))
    return nodes


class StatementScreen(ReportScreen[Result]):
    """Esc or q closes (cancelling a statement still running)."""

    HELP_TITLE = "a statement's result"
    DEFAULT_CSS = """
    StatementScreen Tree { height: 1fr; background: $surface; }
    StatementScreen #statement-sql { color: $text-muted; height: auto; max-height: 6; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(
        self,
        factory: ConnectionFactory,
        statement: str,
        *,
        title: str = "",
        lines: list[str] | None = None,
        calls: Calls | None = None,
    ) -> None:
        """``statement``: what runs (or ran: ``lines`` are its plan, already read);
        ``calls``: what the user's statement calls, decided against the catalog first."""
        super().__init__(factory)
        self.statement = statement
        self.calls = calls
        self.title_text = title or statement
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield SafeStatic(f" {self.title_text}", id="statement-title")
            with VerticalScroll(id="statement-body"):
                yield SafeStatic(self.waiting(), id="report-text")
            tree: Tree[None] = Tree("plan", id="plan")
            tree.show_root = False
            tree.display = False
            yield tree
        yield KeyBar()

    def on_mount(self) -> None:
        if self.lines is not None:
            self.session.close()
            self._show((["QUERY PLAN"], [(line,) for line in self.lines], False))
            return
        super().on_mount()

    def waiting(self) -> str:
        return " running… (Esc cancels)"

    def fetch(self, session: Session) -> Result:
        statement = sql.SQL(self.statement)  # (the parse tree printed back: guard.py)

        def run() -> Result:
            if self.calls is not None:
                allowed = session.factory.settings.allowed_functions
                vet(session.conn, self.calls, allowed)
            with session.cursor(statement) as cur:  # (logged, as every statement is)
                names = [d.name for d in cur.description or ()]
                rows = cur.fetchmany(ROW_LIMIT + 1) if cur.description else []
            return names, rows[:ROW_LIMIT], len(rows) > ROW_LIMIT

        return session.run("running the statement", run)

    def is_plan(self, result: Result) -> bool:
        names, rows, _ = result
        return names == ["QUERY PLAN"] and all(isinstance(r[0], str) for r in rows)

    def text(self, result: Result) -> str:
        names, rows, cut = result
        if len(names) == 1:
            body = [str(r[0]) if r[0] is not None else "NULL" for r in rows]
        else:
            body = ["\t".join(names)] + [
                "\t".join("NULL" if v is None else str(v) for v in r) for r in rows
            ]
        more = f"\n(the first {ROW_LIMIT:,} rows)" if cut else ""
        return "\n".join(body) + more

    def _show(self, result: Result) -> None:
        self.result = result
        if not self.is_plan(result):
            super()._show(result)
            return
        tree = self.query_one(Tree)
        plan_tree(tree, [str(r[0]) for r in result[1]])
        self.query_one("#statement-body").display = False
        tree.display = True
        tree.focus()

    @property
    def plan_labels(self) -> list[str]:
        """Every line of the tree as drawn, depth first (for tests and the curious)."""
        out: list[str] = []

        def walk(node: TreeNode[None], depth: int) -> None:
            for child in node.children:
                out.append("  " * depth + str(child.label))
                walk(child, depth + 1)

        walk(self.query_one(Tree).root, 0)
        return out
