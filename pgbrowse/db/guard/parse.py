"""The first line of defence for SQL a user types: PostgreSQL's own parser (pglast).

A filter must be exactly one SQL expression; the SQL editor's text exactly one statement of
a kind that only reads: a SELECT (``WITH … SELECT``, ``VALUES``, ``TABLE``), browsed through
a cursor, or ``EXPLAIN`` of a SELECT or ``SHOW``, run as a plain bounded query (a cursor
cannot hold them). Both are parsed by libpg_query, PostgreSQL's parser, and checked on the
parse tree, never by a regex; what is sent to the server is the tree printed back (pglast's
deparser), so the user's text never reaches pgbrowse's SQL as typed: a ``;`` cannot stack
a statement, a ``)`` cannot close pgbrowse's parenthesis, and a ``--`` or ``/*`` cannot
comment out the clauses pgbrowse appends (comments do not survive a parse).

Refused before anything is sent, each with a plain reason: a NUL byte (PostgreSQL's
protocol would cut the text there), a text too large to check quickly, more than one
statement, a statement of another kind (INSERT, COPY, SET, COMMIT…: the parser names it),
``SELECT INTO`` (a CREATE TABLE AS), and in a filter, which becomes part of pgbrowse's own
statements, anything that writes (a CTE's ``DELETE``, ``FOR UPDATE``).

What the text may *call* is not decided here: the parse also collects every function,
operator, cast and table-sampling method the text names (``Calls``), and
``pgbrowse.db.guard.allow`` decides them from the connected server's catalog before the text is
sent. The read-only transaction, and the role ``--role`` names, are the further lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pgbrowse.db.connection.errors import FilterError, QueryError

if TYPE_CHECKING:  # pglast (and its 5 MB parser) loads on the first filter or query
    from pglast import ast

# The most parse-tree nodes a text may have: checking is linear in them, and this many take
# ~0.17 s on a 2-core machine (a filter of 50,000 OR terms took 14.7 s before this bound).
MAX_NODES = 20_000

Name = tuple[str | None, str]  # (schema or None for the search path, name)

# A byte a SQL_ASCII database holds that is no character is read as a lone surrogate
# (pgbrowse.db.connection.connect), which the parser's UTF-8 cannot carry: it is parsed as a
# character of Unicode's private use area (U+10FE80 + the byte) and restored in what is
# printed back.
_TO_PRIVATE = {code: 0x10FE00 + code - 0xDC00 for code in range(0xDC80, 0xDD00)}
_FROM_PRIVATE = {value: key for key, value in _TO_PRIVATE.items()}


def _restore(text: str) -> str:
    return text.translate(_FROM_PRIVATE)


@dataclass(frozen=True)
class Calls:
    """What a text names that runs code on the server, as written (not yet resolved)."""

    functions: frozenset[Name] = frozenset()  # calls, aggregates and window functions
    operators: frozenset[Name] = frozenset()  # every operator, and those syntax implies
    types: frozenset[Name] = frozenset()  # cast targets: their input and cast functions
    attributes: frozenset[str] = frozenset()  # ``x.f``: a column, or the call ``f(x)``
    samples: frozenset[Name] = frozenset()  # TABLESAMPLE methods

    def __bool__(self) -> bool:
        return bool(
            self.functions or self.operators or self.types or self.attributes or self.samples
        )


SELECT, EXPLAIN, SHOW = "select", "explain", "show"  # the kinds of statement a query may be


@dataclass(frozen=True)
class Checked:
    """User text that passed: ``sql`` is what is sent (the parse tree printed back)."""

    text: str  # as the user typed it (for display)
    sql: str
    kind: str = SELECT  # SELECT (a cursor holds it), EXPLAIN or SHOW (run as a plain query)
    # What it calls, for pgbrowse.db.guard.allow to decide against the server's catalog.
    calls: Calls = field(default_factory=Calls, compare=False)


def check_expression(text: str) -> Checked:
    """``text`` if it is exactly one SQL expression that may be read with; raises QueryError
    ("Filter error", reason) otherwise."""
    if not text.strip():
        raise FilterError("the filter is empty")
    statements = _parse("Filter error", f"SELECT {text}", prefix=len("SELECT "))
    if len(statements) > 1:
        raise FilterError(
            f"that is {len(statements)} statements; a filter is one SQL expression (refused)",
        )
    target = _only_target(statements)
    if target is None:
        raise FilterError(
            "a filter is one SQL expression (the part after WHERE), such as id > 10 AND"
            " name LIKE 'a%'",
        )
    calls = _inspect("Filter error", target, strict=True)
    return Checked(text, _print("Filter error", target), calls=calls)


QUERY_KINDS = (
    "SELECT, WITH … SELECT, VALUES or TABLE (browsed like a table), EXPLAIN of one, or SHOW"
)


def check_query(text: str, kinds: tuple[str, ...] = (SELECT,)) -> Checked:
    """``text`` if it is exactly one statement of ``kinds``: a SELECT (WITH … SELECT, VALUES,
    TABLE), an EXPLAIN of one, a SHOW; raises QueryError("Not a query", reason) otherwise.
    Whether a SELECT writes is left to the read-only transaction (the server says so), but
    for the functions it would let act outside it."""
    from pglast import ast

    if not text.strip():
        raise QueryError("Not a query", "the query is empty")
    statements = _parse("Not a query", text)
    allowed = QUERY_KINDS if len(kinds) > 1 else "one SELECT, WITH … SELECT, VALUES or TABLE"
    if len(statements) != 1:
        raise QueryError(
            "Not a query",
            f"that is {len(statements)} statements; {allowed} can be run here",
        )
    stmt = statements[0].stmt
    kind = None
    if isinstance(stmt, ast.SelectStmt):
        kind = SELECT
    elif isinstance(stmt, ast.ExplainStmt) and isinstance(stmt.query, ast.SelectStmt):
        kind = EXPLAIN
    elif isinstance(stmt, ast.VariableShowStmt):
        kind = SHOW
    if stmt is None or kind is None or kind not in kinds:
        inner = getattr(stmt, "query", None) if isinstance(stmt, ast.ExplainStmt) else None
        name = f"EXPLAIN {_statement_name(inner)}" if inner is not None else _statement_name(stmt)
        raise QueryError(
            "Not a query",
            f"{name} is not run here: pgbrowse runs {allowed}; its session is read-only",
        )
    calls = _inspect("Not a query", stmt, strict=False)
    return Checked(text, _print("Not a query", stmt), kind, calls)


def _error(title: str, message: str) -> QueryError:
    """A refusal: a FilterError for a filter, a QueryError ("Not a query") for a query."""
    return FilterError(message) if title == "Filter error" else QueryError(title, message)


def _parse(title: str, text: str, prefix: int = 0) -> tuple[ast.RawStmt, ...]:
    """The statements of ``text``; a syntax error says where, counted in the user's text
    (``prefix`` characters of it are pgbrowse's own)."""
    from pglast import parse_sql
    from pglast.parser import ParseError, parse_sql_json

    if "\x00" in text:
        at = text.index("\x00") - prefix + 1
        raise _error(
            title,
            f"the text holds a NUL byte (character {at}); PostgreSQL would cut the text there,"
            " so none of it is sent (refused)",
        )
    text = text.translate(_TO_PRIVATE)
    try:
        # The tree as JSON first (C, fast), to bound what the Python tree and its checks cost.
        nodes = parse_sql_json(text).count("{")
        if nodes > MAX_NODES:
            raise _error(
                title,
                f"too long to check: {nodes:,} parts, pgbrowse checks at most {MAX_NODES:,}"
                " (refused; a long list of values is shorter as = ANY('{1,2,…}'))",
            )
        return parse_sql(text)
    except ParseError as error:
        message = str(error.args[0]) if error.args else str(error)
        where: int | None = None
        if len(error.args) > 1 and isinstance(error.args[1], int):
            where = max(error.args[1] - prefix, 0)  # (a character's offset, from 0)
        elif "end of input" in message:
            where = len(text) - prefix
        if where is not None:
            message += f" ({place_in(text[prefix:], where)})"
        if title == "Filter error":
            raise FilterError(f"syntax: {message}", position=where) from None
        raise QueryError("Syntax error", message, position=where) from None
    except QueryError:
        raise
    except Exception as error:  # the parser's own limits (depth, size): still a plain refusal
        raise _error(title, f"could not be parsed: {error}") from None


_TOKEN = re.compile(
    r'"(?:[^"]|"")*"'  # a quoted identifier
    r"|'(?:[^']|'')*'"  # a string
    r"|[^\W\d]\w*(?:\.[^\W\d]\w*)*"  # a name, dotted
    r"|\d+(?:\.\d+)?|\S"
)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, the token as the server reads it): words folded to lower case, a quoted
    identifier unquoted."""
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        if word.startswith('"'):
            word = word[1:-1].replace('""', '"')
        elif not word.startswith("'"):
            word = word.lower()
        out.append((match.start(), match.end(), word))
    return out


def token_at(text: str, at: int) -> tuple[int, int]:
    """The span of the token at (or right after) offset ``at`` of ``text``."""
    for start, end, _ in _tokens(text):
        if end > at:
            return start, end
    return at, at


def map_position(printed: str, text: str, at: int) -> int | None:
    """Where offset ``at`` of ``printed`` (the statement as pgbrowse sent it, re-printed from
    the parse) is in ``text`` (as the user wrote it): the same token, counted the same number
    of times from the start; None when the user's text has no such token."""
    tokens = _tokens(printed)
    hit = next(((i, word) for i, (s, e, word) in enumerate(tokens) if e > at), None)
    if hit is None:
        return None
    index, word = hit
    nth = sum(1 for _, _, w in tokens[:index] if w == word)
    mine = [start for start, _, w in _tokens(text) if w == word]
    if not mine:
        return None
    return mine[min(nth, len(mine) - 1)]


def place_in(text: str, at: int) -> str:
    """``line 2, column 7`` of the 0-based offset ``at`` (one line: ``character 7``)."""
    before = text[:at]
    line = before.count("\n")
    column = at - (before.rfind("\n") + 1) + 1
    return f"line {line + 1}, column {column}" if "\n" in text else f"character {at + 1}"


def _only_target(statements: tuple[ast.RawStmt, ...]) -> ast.Node | None:
    """The one expression of ``SELECT <expr>`` as the user's text parsed, or None when the
    text made anything more of it (a FROM, a second column, an alias, another statement)."""
    from pglast import ast

    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return None
    select = statements[0].stmt
    extras = (
        "distinctClause",
        "intoClause",
        "fromClause",
        "whereClause",
        "groupClause",
        "havingClause",
        "windowClause",
        "valuesLists",
        "sortClause",
        "limitOffset",
        "limitCount",
        "lockingClause",
        "withClause",
        "larg",
        "rarg",
    )
    if any(getattr(select, name, None) for name in extras):
        return None
    targets = select.targetList or ()
    if len(targets) != 1:
        return None
    target = targets[0]
    if not isinstance(target, ast.ResTarget) or target.name or target.indirection:
        return None
    if isinstance(target.val, ast.ColumnRef) and any(
        isinstance(f, ast.A_Star) for f in target.val.fields or ()
    ):
        return None
    return target.val


def _nodes(node: object) -> Iterator[ast.Node]:
    """Every node of a parse tree, depth first."""
    from pglast import ast

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            slots = getattr(type(item), "__slots__", ())
            stack.extend(getattr(item, name, None) for name in slots)
        elif isinstance(item, list | tuple):
            stack.extend(item)


# Syntax that compares with an operator found by name, though the tree names none or another.
_IMPLIED_OPERATORS = {
    "BETWEEN": ("<=", ">="),
    "NOT BETWEEN": ("<", ">"),
    "BETWEEN SYMMETRIC": ("<=", ">="),
    "NOT BETWEEN SYMMETRIC": ("<", ">"),
}


def _name(strings: object) -> Name | None:
    """(schema, name) of a qualified name's strings (a catalog-qualified one: its last two)."""
    from pglast import ast

    parts = [_restore(str(s.sval)) for s in strings or () if isinstance(s, ast.String)]  # type: ignore[attr-defined]
    if not parts:
        return None
    return (parts[-2] if len(parts) > 1 else None, parts[-1])


def _inspect(title: str, tree: ast.Node, strict: bool) -> Calls:
    """What ``tree`` calls, refusing what creates a table, and in a filter (``strict``)
    anything that writes; a query's writes are left to the read-only transaction."""
    from pglast import ast

    functions: set[Name] = set()
    operators: set[Name] = set()
    types: set[Name] = set()
    attributes: set[str] = set()
    samples: set[Name] = set()
    dml = ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt | ast.MergeStmt
    for node in _nodes(tree):
        if strict and isinstance(node, dml):
            raise _error(
                title, f"{_statement_name(node)} changes data; pgbrowse only reads (refused)"
            )
        if isinstance(node, ast.SelectStmt):
            if node.intoClause:
                raise _error(title, "SELECT INTO creates a table; pgbrowse only reads")
            if strict and node.lockingClause:
                raise _error(title, "FOR UPDATE/SHARE locks rows for writing; pgbrowse only reads")
        elif isinstance(node, ast.FuncCall):
            if (name := _name(node.funcname)) is not None:
                functions.add(name)
        elif isinstance(node, ast.A_Expr):
            name = _name(node.name)
            if name is not None:
                implied = _IMPLIED_OPERATORS.get(name[1].upper())
                operators.update([(None, op) for op in implied] if implied else [name])
        elif isinstance(node, ast.SubLink):
            operators.add(_name(node.operName) or (None, "="))  # IN (SELECT …) is = ANY
        elif isinstance(node, ast.CaseExpr) and node.arg is not None:
            operators.add((None, "="))  # CASE x WHEN v compares with =
        elif isinstance(node, ast.TypeCast) and node.typeName is not None:
            if (name := _name(node.typeName.names)) is not None:
                types.add(name)
        elif isinstance(node, ast.ColumnRef) and len(fields := node.fields or ()) > 1:
            if isinstance(fields[-1], ast.String):
                attributes.add(_restore(str(fields[-1].sval)))
        elif isinstance(node, ast.A_Indirection):
            parts = node.indirection or ()
            attributes.update(_restore(str(i.sval)) for i in parts if isinstance(i, ast.String))
        elif isinstance(node, ast.RangeTableSample) and (name := _name(node.method)):
            samples.add(name)
    return Calls(
        frozenset(functions),
        frozenset(operators),
        frozenset(types),
        frozenset(attributes),
        frozenset(samples),
    )


def _print(title: str, tree: ast.Node) -> str:
    from pglast.stream import RawStream

    try:
        return _restore(RawStream()(tree))
    except Exception as error:  # a construct the printer does not know: refuse, never guess
        raise _error(title, f"could not be checked ({error}); it was not run") from None


_STATEMENT_NAMES = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "CopyStmt": "COPY",
    "ExplainStmt": "EXPLAIN",
    "SelectStmt": "SELECT",
    "TransactionStmt": "a transaction command",
    "VariableSetStmt": "SET",
    "DoStmt": "DO",
    "CallStmt": "CALL",
    "DropStmt": "DROP",
    "VacuumStmt": "VACUUM",
    "TruncateStmt": "TRUNCATE",
    "CreateStmt": "CREATE TABLE",
    "CreateTableAsStmt": "CREATE TABLE AS",
    "IndexStmt": "CREATE INDEX",
    "ViewStmt": "CREATE VIEW",
    "CreateFunctionStmt": "CREATE FUNCTION",
    "AlterTableStmt": "ALTER",
    "GrantStmt": "GRANT",
    "LockStmt": "LOCK",
    "NotifyStmt": "NOTIFY",
    "ListenStmt": "LISTEN",
    "DeclareCursorStmt": "DECLARE",
    "FetchStmt": "FETCH",
    "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE",
    "VariableShowStmt": "SHOW",
    "ClusterStmt": "CLUSTER",
    "ReindexStmt": "REINDEX",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "CheckPointStmt": "CHECKPOINT",
}


def _statement_name(node: ast.Node | None) -> str:
    name = type(node).__name__
    if name in _STATEMENT_NAMES:
        return _STATEMENT_NAMES[name]
    words = name.removesuffix("Stmt")
    return f"this statement ({words})" if words else "this statement"
