"""The first line of defence for SQL a user types: PostgreSQL's own parser (pglast).

A filter must be exactly one SQL expression; the SQL editor's text exactly one statement of
a kind that only reads: a SELECT (``WITH … SELECT``, ``VALUES``, ``TABLE``), browsed through
a cursor, or ``EXPLAIN`` of a SELECT or ``SHOW``, run as a plain bounded query (a cursor
cannot hold them). Both are parsed by libpg_query, PostgreSQL's parser, and checked on the
parse tree, never by a regex; what is sent to the server is the tree printed back (pglast's
deparser), so the user's text never reaches pgbrowse's SQL as typed: a ``;`` cannot stack
a statement, a ``)`` cannot close pgbrowse's parenthesis, and a ``--`` or ``/*`` cannot
comment out the clauses pgbrowse appends (comments do not survive a parse).

Refused before anything is sent, each with a plain reason: more than one statement, a
statement of another kind (INSERT, COPY, SET, COMMIT…: the parser names it), ``SELECT INTO``
(a CREATE TABLE AS), and calls to functions that act outside the transaction, which a
read-only transaction does not stop (``OUTSIDE_FUNCTIONS``: other sessions, settings, the
server's files, connections of their own). A filter is also refused, before it is sent,
anything that writes (a CTE's ``DELETE``, ``FOR UPDATE``, ``nextval``…: ``WRITING_FUNCTIONS``):
it becomes part of pgbrowse's own statements. In a query those are not guessed at: the
read-only transaction every view runs in refuses them, and the server's message is shown
as it is. A function with side effects that is in neither list (a user's own, or one that
opens its own connection) is stopped only by that transaction, which cannot stop a function
that connects elsewhere. The README's safety section says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgbrowse.db.errors import FilterError, QueryError

if TYPE_CHECKING:  # pglast (and its 5 MB parser) loads on the first filter or query
    from pglast import ast

# Functions of PostgreSQL and its contrib modules that signal or change other sessions, the
# server's files or settings, or open connections of their own: a read-only transaction
# lets them run. Refused by name (with or without a schema), whatever schema they were
# installed in, in filters and queries alike.
OUTSIDE_FUNCTIONS = frozenset(
    {
        # other sessions and the server
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_rotate_logfile_old",
        "pg_log_backend_memory_contexts",
        "pg_promote",
        "pg_wal_replay_pause",
        "pg_wal_replay_resume",
        "pg_switch_wal",
        "pg_switch_xlog",
        "pg_create_restore_point",
        "pg_backup_start",
        "pg_backup_stop",
        "pg_start_backup",
        "pg_stop_backup",
        "pg_import_system_collations",
        "pg_notify",
        "set_config",
        # replication slots and origins
        "pg_create_physical_replication_slot",
        "pg_create_logical_replication_slot",
        "pg_copy_physical_replication_slot",
        "pg_copy_logical_replication_slot",
        "pg_drop_replication_slot",
        "pg_replication_slot_advance",
        "pg_logical_slot_get_changes",
        "pg_logical_slot_get_binary_changes",
        "pg_logical_emit_message",
        "pg_replication_origin_create",
        "pg_replication_origin_drop",
        "pg_replication_origin_advance",
        "pg_replication_origin_session_setup",
        "pg_replication_origin_session_reset",
        "pg_replication_origin_xact_setup",
        "pg_replication_origin_xact_reset",
        # statistics
        "pg_stat_reset",
        "pg_stat_reset_shared",
        "pg_stat_reset_single_table_counters",
        "pg_stat_reset_single_function_counters",
        "pg_stat_reset_slru",
        "pg_stat_reset_replication_slot",
        "pg_stat_reset_subscription_stats",
        "pg_stat_statements_reset",
        # large objects: writes the server's files (the read-only transaction allows it)
        "lo_export",
        # adminpack: the server's files
        "pg_file_write",
        "pg_file_rename",
        "pg_file_unlink",
        "pg_file_sync",
        # dblink and postgres_fdw: connections of their own, outside this transaction
        "dblink",
        "dblink_exec",
        "dblink_open",
        "dblink_fetch",
        "dblink_close",
        "dblink_connect",
        "dblink_connect_u",
        "dblink_disconnect",
        "dblink_send_query",
        "dblink_get_result",
        "dblink_cancel_query",
        "postgres_fdw_disconnect",
        "postgres_fdw_disconnect_all",
        # contrib modules that change storage or caches
        "pg_truncate_visibility_map",
        "pg_prewarm",
        "autoprewarm_start_worker",
        "autoprewarm_dump_now",
        "gin_clean_pending_list",
        "brin_summarize_new_values",
        "brin_summarize_range",
        "brin_desummarize_range",
    }
)
# Functions that write, which the read-only transaction refuses itself ("cannot execute
# nextval() in a read-only transaction", measured on PostgreSQL 16): refused before sending
# in a filter only; in a query the server says so.
READ_ONLY_REFUSED = frozenset(
    {
        "nextval",
        "setval",
        "lo_import",
        "lo_create",
        "lo_creat",
        "lo_open",
        "lo_unlink",
        "lo_put",
        "lo_from_bytea",
        "lo_truncate",
        "lo_truncate64",
        "lowrite",
    }
)
WRITING_FUNCTIONS = OUTSIDE_FUNCTIONS | READ_ONLY_REFUSED
# Advisory locks are held by the session and block others; refused by prefix.
WRITING_PREFIXES = ("pg_advisory_", "pg_try_advisory_")


SELECT, EXPLAIN, SHOW = "select", "explain", "show"  # the kinds of statement a query may be


@dataclass(frozen=True)
class Checked:
    """User text that passed: ``sql`` is what is sent (the parse tree printed back)."""

    text: str  # as the user typed it (for display)
    sql: str
    kind: str = SELECT  # SELECT (a cursor holds it), EXPLAIN or SHOW (run as a plain query)


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
    _refuse_writes("Filter error", target, strict=True)
    return Checked(text, _print("Filter error", target))


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
    _refuse_writes("Not a query", stmt, strict=False)
    return Checked(text, _print("Not a query", stmt), kind)


def _error(title: str, message: str) -> QueryError:
    """A refusal: a FilterError for a filter, a QueryError ("Not a query") for a query."""
    return FilterError(message) if title == "Filter error" else QueryError(title, message)


def _parse(title: str, text: str, prefix: int = 0) -> tuple[ast.RawStmt, ...]:
    """The statements of ``text``; a syntax error says where, counted in the user's text
    (``prefix`` characters of it are pgbrowse's own)."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return parse_sql(text)
    except ParseError as error:
        message = str(error.args[0]) if error.args else str(error)
        if len(error.args) > 1 and isinstance(error.args[1], int):
            message += f" (character {max(error.args[1] - prefix, 0) + 1})"
        raise _error(title, f"syntax: {message}") from None
    except Exception as error:  # the parser's own limits (depth, size): still a plain refusal
        raise _error(title, f"could not be parsed: {error}") from None


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


def _refuse_writes(title: str, tree: ast.Node, strict: bool) -> None:
    """Refuse what acts outside the transaction; ``strict`` (a filter): anything that
    writes, too. A query's writes are left to the read-only transaction."""
    from pglast import ast

    refused = WRITING_FUNCTIONS if strict else OUTSIDE_FUNCTIONS
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
        if isinstance(node, ast.FuncCall):
            name = node.funcname[-1].sval.lower() if node.funcname else ""
            if name in refused or name.startswith(WRITING_PREFIXES):
                raise _error(
                    title,
                    f"{name}() writes or acts on other sessions; pgbrowse does not call it",
                )


def _print(title: str, tree: ast.Node) -> str:
    from pglast.stream import RawStream

    try:
        return RawStream()(tree)
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
