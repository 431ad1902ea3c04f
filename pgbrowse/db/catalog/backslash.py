"""psql's backslash commands, read as psql reads them: the command, its pattern, and the
catalog query that lists what matches (opened in the lazy view like any query).

Patterns follow psql (``\\? `` in psql, "Patterns"): ``*`` is any text, ``?`` one
character, a dot separates the schema from the name, double quotes keep case and take
everything inside literally, other letters fold to lower case, and other regular
expression characters work as such (``$`` is literal). Without a schema, what is visible on
the search path is listed (as psql does); without a pattern, the system schemas are left
out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pgbrowse.db.catalog.completion import split_dotted

LIST_KINDS = {  # \d letters -> (relkinds, what psql calls them)
    "t": ("r", "p"),
    "v": ("v",),
    "m": ("m",),
    "i": ("i", "I"),
    "s": ("S",),
    "E": ("f",),
}
ALL_RELATIONS = ("r", "p", "v", "m", "S", "f")  # \d with no letter: psql's "List of relations"
TYPE_NAMES = (
    "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'"
    " WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'I' THEN 'partitioned index'"
    " WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END"
)
SYSTEM_SCHEMAS = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
COMMANDS = (  # (command, arguments, what it does): what \? lists
    ("\\d", "[NAME]", "the structure of a table, view, or other relation (no name: list them)"),
    ("\\dt", "[PATTERN]", "list tables (\\dv views, \\dm materialized views, \\di indexes,"),
    ("", "", "\\ds sequences, \\dE foreign tables; letters combine: \\dtv)"),
    ("\\dn", "[PATTERN]", "list schemas"),
    ("\\df", "[PATTERN]", "list functions"),
    ("\\l", "", "list databases (Enter connects)"),
    ("\\c", "DBNAME", "connect to another database"),
    ("\\x", "", "the cursor's row as a record (on a table)"),
    ("\\timing", "[on|off]", "show how long each statement took"),
    ("\\?", "", "this list"),
    ("\\q", "", "quit"),
)


class BackslashError(ValueError):
    """A command pgbrowse does not know, or one given what it cannot take."""


@dataclass(frozen=True)
class Command:
    name: str  # without the backslash: d, dt, dtv, dn, df, l, c, x, timing, ?, q
    args: tuple[str, ...]

    @property
    def pattern(self) -> str | None:
        return self.args[0] if self.args else None


def parse_command(text: str) -> Command:
    """``\\dt shop.*`` -> Command('dt', ('shop.*',)); double-quoted arguments kept whole."""
    text = text.strip()
    if not text.startswith("\\"):
        raise BackslashError("a command starts with a backslash (\\? lists them)")
    match = re.match(r"\\([a-zA-Z?]+\+?)", text)
    if match is None:
        raise BackslashError(f"{text.split()[0]!r}: not a command (\\? lists them)")
    name = match.group(1).rstrip("+")  # (psql's + adds detail: the same list here)
    args = tuple(m.group() for m in re.finditer(r'(?:"[^"]*"|[^\s"])+', text[match.end() :]))
    return Command(name, args)


def _regex_part(part: str) -> str:
    """One dot-separated part of a psql pattern as a regular expression (unanchored)."""
    out = []
    quoted = False
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == '"':
            if quoted and part[i + 1 : i + 2] == '"':  # "" inside quotes: a quote
                out.append('"')
                i += 2
                continue
            quoted = not quoted
        elif quoted:
            out.append(re.escape(ch))
        elif ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "$":
            out.append("\\$")
        else:
            out.append(ch.lower())
        i += 1
    return "".join(out)


def split_pattern(pattern: str) -> tuple[str | None, str]:
    """(schema regex or None, name regex), anchored, for a psql pattern."""
    parts = split_dotted(pattern)
    if len(parts) > 2:  # (database.schema.name: the database must be this one)
        parts = parts[-2:]
    regexes = [f"^({_regex_part(p) or '.*'})$" for p in parts]
    return (regexes[0], regexes[1]) if len(regexes) == 2 else (None, regexes[0])


def literal(text: str) -> str:
    """A string literal whatever standard_conforming_strings says (E'…')."""
    if "\x00" in text:
        raise BackslashError("a pattern cannot hold a NUL byte")
    return "E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(pattern: str | None, schema_col: str, name_col: str, visible: str) -> str:
    if pattern is None:
        return f"{SYSTEM_SCHEMAS} AND {visible}"
    schema, name = split_pattern(pattern)
    if schema is None:
        return f"{name_col} ~ {literal(name)} AND {visible}"
    return f"{schema_col} ~ {literal(schema)} AND {name_col} ~ {literal(name)}"


def has_wildcards(pattern: str) -> bool:
    return any(c in pattern.replace('""', "") for c in "*?")


def relations_query(letters: str, pattern: str | None) -> str:
    """psql's \\d, \\dt, \\dv, \\dm, \\di, \\ds, \\dE (and their combinations) as one SELECT."""
    unknown = set(letters) - set(LIST_KINDS)
    if unknown:
        raise BackslashError(f"\\d{letters}: pgbrowse lists t v m i s E (\\? lists the commands)")
    kinds = [k for letter in letters for k in LIST_KINDS[letter]] or list(ALL_RELATIONS)
    where = _where(pattern, "n.nspname", "c.relname", "pg_catalog.pg_table_is_visible(c.oid)")
    table = (
        ', t.relname AS "Table"' if letters and set(letters) <= {"i"} else ""
    )  # (\di: the table of each index)
    join = (
        " LEFT JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid"
        " LEFT JOIN pg_catalog.pg_class t ON t.oid = x.indrelid"
        if table
        else ""
    )
    kinds_list = ", ".join(f"'{k}'" for k in kinds)
    return (
        f'SELECT n.nspname AS "Schema", c.relname AS "Name", {TYPE_NAMES} AS "Type",'
        f' pg_catalog.pg_get_userbyid(c.relowner) AS "Owner"{table}'
        " FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        f"{join}"
        f" WHERE c.relkind IN ({kinds_list}) AND {where}"
        ' ORDER BY "Schema", "Name"'
    )


def schemas_query(pattern: str | None) -> str:
    """psql's \\dn."""
    if pattern is None:
        where = SYSTEM_SCHEMAS
    else:
        where = f"n.nspname ~ {literal(split_pattern(pattern)[1])}"
    return (
        'SELECT n.nspname AS "Name", pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"'
        f' FROM pg_catalog.pg_namespace n WHERE {where} ORDER BY "Name"'
    )


def functions_query(pattern: str | None) -> str:
    """psql's \\df."""
    where = _where(pattern, "n.nspname", "p.proname", "pg_catalog.pg_function_is_visible(p.oid)")
    return (
        'SELECT n.nspname AS "Schema", p.proname AS "Name",'
        ' pg_catalog.pg_get_function_result(p.oid) AS "Result data type",'
        ' pg_catalog.pg_get_function_arguments(p.oid) AS "Argument data types",'
        " CASE p.prokind WHEN 'a' THEN 'agg' WHEN 'w' THEN 'window' WHEN 'p' THEN 'proc'"
        " ELSE 'func' END AS \"Type\""
        " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
        f' WHERE {where} ORDER BY "Schema", "Name", "Argument data types"'
    )


def list_query(command: Command) -> str | None:
    """The SELECT that lists what a list command names; None for other commands."""
    name = command.name
    if len(command.args) > 1:
        raise BackslashError(f"\\{name} takes one pattern (quote one with spaces)")
    if name == "dn":
        return schemas_query(command.pattern)
    if name == "df":
        return functions_query(command.pattern)
    if name.startswith("d") and (name != "d" or command.pattern is None):
        return relations_query(name[1:], command.pattern)
    if name == "d" and command.pattern is not None and has_wildcards(command.pattern):
        return relations_query("", command.pattern)
    return None
