"""What typed SQL may call, decided by the connected server's catalog (never by a list of names).

The parser (``guard``) collects every function, operator, cast and table-sampling method a
filter or query names. Before the text is sent, each is resolved in the server's catalog,
for the session's search path (``current_schemas(true)``: pg_catalog first), and *every*
candidate of a name counts, whatever the argument types would pick: the text is refused
when any candidate is not allowed. Allowed:

- functions in ``pg_catalog`` and ``information_schema`` that are IMMUTABLE or STABLE,
  except the built-ins that run SQL of their own or act outside the statement although
  STABLE (``BUILTIN_REFUSED``: the ``*_to_xml*`` family, which runs a query, a cursor or a
  whole table or schema, and ``txid_current``/``pg_current_xact_id``, which take a
  transaction id);
- a short list of harmless VOLATILE built-ins (``HARMLESS_VOLATILE``: random numbers, the
  clock, new UUIDs);
- the built-in table-sampling methods (SYSTEM, BERNOULLI);
- the operators and casts of a type that is not a built-in (citext, geometry, hstore…),
  and those an extension installed (pg_trgm's ``%``, intarray's ``+``), when their function
  is IMMUTABLE or STABLE: an operator is picked by its operands' types, which the text
  does not spell out, so an extension's operator on built-in types counts like the type's
  own code (reading such a value runs that code anyway). An operator or cast a user
  created outside an extension on built-in types is refused like any other function;
- anything the user allows by name or pattern in the config
  (``allowed_functions = ["public.st_*"]``; a pattern without a schema matches any).

Everything else is refused before anything is sent: a VOLATILE built-in (``pg_sleep``,
``set_config``, ``lo_export``, ``query_to_xml``, ``pg_terminate_backend``…), any function
of another schema (a user's own, dblink, PostGIS), an operator or cast on built-in types
whose function is not a built-in. The refusal names the function, says why, and names the
config key.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgbrowse.db.connection.errors import FilterError, QueryError
from pgbrowse.db.guard.parse import Calls, Name

if TYPE_CHECKING:
    from pgbrowse.db.connection.session import Session

BUILTIN_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
# VOLATILE built-ins that change nothing: a random number, the clock, a new UUID.
HARMLESS_VOLATILE = frozenset(
    {
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
    }
)
# STABLE or IMMUTABLE built-ins that run SQL of their own (a query or cursor given as a
# string, every row of a table, schema or database) or act outside the statement (take a
# transaction id). Found by reading pg_proc's non-VOLATILE functions of PostgreSQL 15 and
# 16 (tests/test_allow.py reads them again: every one that returns xml from a query, a
# cursor, a relation, a schema or the database is refused).
BUILTIN_REFUSED = ("*_to_xml*", "*_to_xmlschema", "txid_current", "pg_current_xact_id")
CONFIG_KEY = "allowed_functions"

FUNCTION_KINDS = ("function", "aggregate", "window function", "call")
# What a name is looked up as, by the kind of candidate that found it.
_LOOKED_UP = {
    "functions": FUNCTION_KINDS[:3],
    "operators": ("operator",),
    "types": ("type input",),
    "samples": ("method",),
}
_NOUN = {
    "functions": "function",
    "operators": "operator",
    "types": "type",
    "samples": "table-sampling method",
}


@dataclass(frozen=True)
class Candidate:
    """One catalog entry a name may resolve to, and the function it would run."""

    what: str  # function, aggregate, window function, operator, cast, type input, method
    shown: str  # how the candidate reads (public.evil(integer), public.=(citext,citext))
    schema: str  # the function's schema
    name: str  # the function's name
    volatility: str  # i, s, v
    # An operator or cast of a type that is not a built-in, or one an extension installed:
    # it runs when a value of that type (or the extension's) is compared or converted.
    own_type: bool
    key: tuple[str, str] = ("", "")  # the (schema, name) looked up that found it


def why_refused(candidate: Candidate, allowed: Iterable[str]) -> str | None:
    """None when ``candidate`` may run; else why not, in words ("is VOLATILE…")."""
    if any(_matches(pattern, candidate.schema, candidate.name) for pattern in allowed):
        return None
    volatile = candidate.volatility == "v"
    builtin = candidate.schema in BUILTIN_SCHEMAS
    if candidate.what == "method" and builtin:
        return None  # TABLESAMPLE SYSTEM / BERNOULLI (their handlers are VOLATILE by kind)
    if builtin:
        if any(fnmatch.fnmatchcase(candidate.name, p) for p in BUILTIN_REFUSED):
            return "runs SQL of its own or acts outside the statement"
        if volatile and candidate.name not in HARMLESS_VOLATILE:
            return "is VOLATILE: it may change something"
        return None
    if candidate.own_type and not volatile:
        return None
    if volatile:
        return f"is VOLATILE and not a built-in (schema {candidate.schema})"
    return f"is not a built-in (schema {candidate.schema})"


def _matches(pattern: str, schema: str, name: str) -> bool:
    if "." in pattern:
        return fnmatch.fnmatchcase(f"{schema}.{name}", pattern)
    return fnmatch.fnmatchcase(name, pattern)


def resolve(conn: Any, calls: Calls) -> list[Candidate]:
    """Every candidate of every name ``calls`` holds, from the catalog of ``conn``'s server
    (one statement, in the connection's current transaction)."""
    if not calls:
        return []
    with conn.cursor() as cur:
        cur.execute(RESOLVE_SQL, _parameters(calls))
        rows = cur.fetchall()
    return [
        Candidate(row[0], row[1], row[2], row[3], row[4], row[5], (row[6], row[7])) for row in rows
    ]


def refusals(candidates: Iterable[Candidate], allowed: Iterable[str] = ()) -> list[str]:
    """Why each candidate that may not run may not, in words, each once."""
    allowed = tuple(allowed)
    said: list[str] = []
    for candidate in candidates:
        why = why_refused(candidate, allowed)
        if why is not None and (text := _refusal(candidate, why)) not in said:
            said.append(text)
    return said


def _refusal(candidate: Candidate, why: str) -> str:
    qualified = f"{candidate.schema}.{candidate.name}()"
    if candidate.what in FUNCTION_KINDS:
        return f"{qualified} {why}"
    return f"the {candidate.what} {candidate.shown} runs {qualified}, which {why}"


def vet(conn: Any, calls: Calls, allowed: Iterable[str] = (), filter: bool = False) -> None:
    """Resolve ``calls`` in the catalog of ``conn``'s server and raise FilterError
    (``filter``) or QueryError ("Refused") naming the first candidate that may not run, or
    a name the catalog does not know."""
    if not calls:
        return
    allowed = tuple(allowed)
    candidates = resolve(conn, calls)
    _refuse_missing(calls, candidates, filter)
    for candidate in candidates:
        why = why_refused(candidate, allowed)
        if why is None:
            continue
        message = (
            f"{_refusal(candidate, why)} (refused). pgbrowse calls built-in IMMUTABLE or STABLE"
            f' functions; to allow this one: {CONFIG_KEY} = ["{candidate.schema}.'
            f'{candidate.name}"] in the config file'
        )
        if filter:
            raise FilterError(message)
        raise QueryError("Refused", message)


def _refuse_missing(calls: Calls, candidates: list[Candidate], filter: bool) -> None:
    """A name the catalog does not know (in the search path) is refused before sending:
    the server would refuse it too, and nothing of the text should reach it unvetted."""
    for field, kinds in _LOOKED_UP.items():
        found = {c.key for c in candidates if c.what in kinds}
        names = {n for _, n in found}
        for schema, name in sorted(getattr(calls, field), key=lambda n: (n[0] or "", n[1])):
            if (schema is None and name in names) or (schema, name) in found:
                continue
            shown = f"{schema}.{name}" if schema else name
            message = (
                f"there is no {_NOUN[field]} {shown}"
                f"{'()' if field == 'functions' else ''} on this server"
                f"{'' if schema else ' (in the search path)'}; nothing was sent"
            )
            if filter:
                raise FilterError(message)
            raise QueryError("Not a query", message)


def _split(names: frozenset[Name]) -> tuple[list[str], list[str], list[str]]:
    """Unqualified names; and the schemas and names of the qualified ones, side by side."""
    plain = sorted(n for s, n in names if s is None)
    qualified = sorted((s, n) for s, n in names if s is not None)
    return plain, [s for s, _ in qualified], [n for _, n in qualified]


def _parameters(calls: Calls) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, names in (
        ("f", calls.functions),
        ("o", calls.operators),
        ("t", calls.types),
        ("m", calls.samples),
    ):
        out[f"{key}u"], out[f"{key}s"], out[f"{key}n"] = _split(names)
    out["a"] = sorted(calls.attributes)
    return out


# Every candidate of every name, for the session's search path (pg_catalog is always on it;
# pg_temp's functions are never found unqualified). One statement, one round trip; each
# lookup goes through a catalog index (a few ms).
_BUILTIN = (
    "({0} = 0 OR EXISTS (SELECT 1 FROM pg_catalog.pg_type bt WHERE bt.oid = {0}"
    " AND bt.typnamespace IN ('pg_catalog'::pg_catalog.regnamespace,"
    " pg_catalog.to_regnamespace('information_schema'))))"
)
# An object an extension installed (CREATE EXTENSION, by an administrator).
_EXTENSION = (
    "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
    " WHERE d.classid = 'pg_catalog.{0}'::pg_catalog.regclass"
    " AND d.objid = {1} AND d.deptype = 'e')"
)
_IN_PATH = "{0} IN (SELECT s::pg_catalog.regnamespace FROM path)"
_QUALIFIED = (
    "({0}, {1}) IN (SELECT * FROM ROWS FROM (pg_catalog.unnest(%({2}s)s::text[]),"
    " pg_catalog.unnest(%({2}n)s::text[])))"
)
_FN = (
    " JOIN pg_catalog.pg_proc p ON p.oid = {0}"
    " JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace"
)
_WANTED_TYPE = (
    "SELECT t.oid FROM pg_catalog.pg_type t"
    " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace"
    " WHERE (t.typname = ANY(%(tu)s) AND " + _IN_PATH.format("t.typnamespace") + ")"
    " OR " + _QUALIFIED.format("tn.nspname", "t.typname", "t")
)
_COLUMNS = "pn.nspname, p.proname, p.provolatile"
RESOLVE_SQL = (
    "WITH path AS (SELECT pg_catalog.unnest(pg_catalog.current_schemas(true)) AS s)"
    " SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function'"
    " ELSE 'function' END, p.oid::pg_catalog.regprocedure::text, " + _COLUMNS + ", false,"
    " pn.nspname::text, p.proname::text"
    " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace"
    " WHERE (p.proname = ANY(%(fu)s) AND " + _IN_PATH.format("p.pronamespace") + ")"
    " OR " + _QUALIFIED.format("pn.nspname", "p.proname", "f") + " UNION ALL"
    " SELECT 'operator', o.oid::pg_catalog.regoperator::text, " + _COLUMNS + ","
    " NOT (" + _BUILTIN.format("o.oprleft") + " AND " + _BUILTIN.format("o.oprright") + ")"
    " OR " + _EXTENSION.format("pg_operator", "o.oid") + ","
    " n.nspname::text, o.oprname::text"
    " FROM pg_catalog.pg_operator o"
    " JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace"
    + _FN.format("o.oprcode")
    + " WHERE (o.oprname = ANY(%(ou)s) AND "
    + _IN_PATH.format("o.oprnamespace")
    + ")"
    " OR " + _QUALIFIED.format("n.nspname", "o.oprname", "o") + " UNION ALL"
    " SELECT 'cast', pg_catalog.format_type(c.castsource, NULL) || ' AS '"
    " || pg_catalog.format_type(c.casttarget, NULL), " + _COLUMNS + ","
    " NOT (" + _BUILTIN.format("c.castsource") + " AND " + _BUILTIN.format("c.casttarget") + ")"
    " OR " + _EXTENSION.format("pg_cast", "c.oid") + ","
    " '', ''"
    " FROM pg_catalog.pg_cast c"
    + _FN.format("c.castfunc")
    + " WHERE c.casttarget IN ("
    + _WANTED_TYPE
    + ")"
    " UNION ALL"
    " SELECT 'type input', pg_catalog.format_type(t.oid, NULL), " + _COLUMNS + ","
    " NOT "
    + _BUILTIN.format("t.oid")
    + ", tn.nspname::text, t.typname::text"
    + " FROM pg_catalog.pg_type t"
    + " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace"
    + _FN.format("t.typinput")
    + " WHERE t.oid IN ("
    + _WANTED_TYPE
    + ")"
    " UNION ALL"
    " SELECT 'call', p.oid::pg_catalog.regprocedure::text, " + _COLUMNS + ", false, '', ''"
    " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace"
    " JOIN pg_catalog.pg_type a ON a.oid = p.proargtypes[0]"
    " WHERE p.proname = ANY(%(a)s) AND p.pronargs = 1 AND a.typtype IN ('c', 'p')"
    " AND " + _IN_PATH.format("p.pronamespace") + " UNION ALL"
    " SELECT 'method', p.oid::pg_catalog.regprocedure::text, " + _COLUMNS + ", false,"
    " pn.nspname::text, p.proname::text"
    " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace"
    " WHERE p.prorettype = 'pg_catalog.tsm_handler'::pg_catalog.regtype"
    " AND ((p.proname = ANY(%(mu)s) AND " + _IN_PATH.format("p.pronamespace") + ")"
    " OR " + _QUALIFIED.format("pn.nspname", "p.proname", "m") + ")"
)


def vet_on(session: Session, calls: Calls, *, filter: bool) -> None:
    """``vet`` on a view's session, with the session's allowed functions, logged as a
    statement of its own (call it inside ``Session.catalog_reads``, so the catalog locks it
    takes are not kept)."""
    started = session.clock()
    vet(session.conn, calls, session.factory.settings.allowed_functions, filter=filter)
    session.record("-- typed SQL checked against the catalog (allowed)", 0, started)
