"""Completion for the SQL editor: PostgreSQL's keywords, and the schemas, relations,
columns, functions and foreign keys of the catalog, as pgcli completes them: the columns of
the relations in FROM through their aliases (``o.sta`` -> ``o.status``), and after ``ON``
the join conditions their foreign keys give (``o.customer_id = c.id``).

The words come from PostgreSQL's own keyword list (pglast, the parser pgbrowse checks SQL
with) and from two bounded catalog reads: every relation's schema and name once (at most
``RELATION_LIMIT``), and a relation's columns when the text names it (one small read each,
remembered). What is inserted is quoted as PostgreSQL needs it (pglast's own quoting), so
a completed ``"Order Lines"`` is a name the server reads back as it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from psycopg2 import sql

from pgbrowse.db.catalog.relations import USER_SCHEMAS_SQL
from pgbrowse.db.connection.session import Session

RELATION_LIMIT = 20_000  # relations read for completion (a huge catalog: the first, by name)
SHOWN = 12  # candidates offered at once

RELATIONS_SQL = sql.SQL(
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND "
    + USER_SCHEMAS_SQL.replace("%%", "%")
    + " ORDER BY 1, 2 LIMIT {}"
).format(sql.Literal(RELATION_LIMIT))
COLUMNS_SQL = sql.SQL(
    "SELECT a.attname FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = {} AND c.relname = {} AND a.attnum > 0 AND NOT a.attisdropped"
    " ORDER BY a.attnum"
)
FUNCTIONS_SQL = sql.SQL(
    "SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p"
    " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
    " WHERE p.prokind IN ('f', 'a', 'w') AND p.proname !~ '^_'"
    " AND (n.nspname = 'pg_catalog' OR " + USER_SCHEMAS_SQL.replace("%%", "%") + ")"
    " ORDER BY 1 LIMIT {}"
).format(sql.Literal(RELATION_LIMIT))
# The foreign keys from or to a relation: (schema, name, columns) -> (schema, name, columns).
KEYS_SQL = sql.SQL(
    "SELECT cn.nspname, c.relname,"
    " ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)"
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n"
    "  ORDER BY u.i),"
    " fn.nspname, f.relname,"
    " ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i)"
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n"
    "  ORDER BY u.i)"
    " FROM pg_catalog.pg_constraint k"
    " JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
    " JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace"
    " JOIN pg_catalog.pg_class f ON f.oid = k.confrelid"
    " JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace"
    " WHERE k.contype = 'f' AND ((cn.nspname = {s} AND c.relname = {n})"
    " OR (fn.nspname = {s} AND f.relname = {n}))"
)
# What ends a relation's alias in FROM: the clauses and joins that follow it.
NOT_ALIASES = frozenset(
    [
        "where",
        "join",
        "inner",
        "left",
        "right",
        "full",
        "outer",
        "cross",
        "natural",
        "on",
        "using",
        "group",
        "order",
        "limit",
        "offset",
        "having",
        "window",
        "union",
        "intersect",
        "except",
        "fetch",
        "for",
        "lateral",
        "tablesample",
        "as",
    ]
)
WORD_CHARACTERS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$."')


def keywords() -> list[str]:
    """PostgreSQL's keywords (upper case), from its own parser's list."""
    from pglast import keywords as pg

    words = (
        pg.RESERVED_KEYWORDS
        | pg.UNRESERVED_KEYWORDS
        | pg.COL_NAME_KEYWORDS
        | pg.TYPE_FUNC_NAME_KEYWORDS
    )
    return sorted(word.upper() for word in words)


def quoted(name: str) -> str:
    """``name`` as SQL must write it (double quotes where PostgreSQL needs them)."""
    from pglast.stream import maybe_double_quote_name

    return str(maybe_double_quote_name(name))


def _words(text: str) -> list[str]:
    """Every name in ``text`` in order: letters, digits, ``_$.`` and double-quoted parts
    kept whole (``"Ed [x]".readings`` is one), an unclosed quote running to the end."""
    out, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted  # (a doubled "" inside a name toggles twice)
        elif not quoted and ch not in WORD_CHARACTERS:
            if current:
                out.append(current)
            current = ""
            continue
        current += ch
    if current:
        out.append(current)
    return out


def word_before(line: str) -> str:
    """The word the caret ends (``sho``, ``shop.ord``, ``"Ed [x]".re``; '' after a space)."""
    words = _words(line)
    return words[-1] if words and line.endswith(words[-1]) else ""


def split_dotted(name: str) -> list[str]:
    """A dotted name's parts as typed, split at the dots outside double quotes."""
    parts, current, quoted = [], "", False
    for ch in name:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts


def _parts(name: str) -> tuple[str, ...]:
    """A dotted name's parts as stored (``"Ed [x]".Readings`` -> ``Ed [x]``, ``readings``)."""
    return tuple(_bare(part) for part in split_dotted(name) if part)


def _bare(name: str) -> str:
    """A typed name as stored: ``"Ord"`` -> ``Ord``, ``orders`` -> ``orders`` (folded)."""
    if name.startswith('"'):
        return name.strip('"').replace('""', '"')
    return name.lower()


Key = tuple[str, str]  # (schema, name) as stored
ForeignKey = tuple[Key, tuple[str, ...], Key, tuple[str, ...]]  # from, its columns, to, …
_PART = r'(?:"(?:[^"]|"")*"|[\w$]+)'  # a name's part: quoted, or letters and digits
_FROM_TOKEN = re.compile(rf"{_PART}(?:\.{_PART})*|\S")


def from_items(text: str) -> list[tuple[str, str]]:
    """The relations FROM and JOIN name in ``text``, each with the name it goes by there
    (its alias, or its own name): ``FROM shop.orders o JOIN customers AS c`` ->
    ``[("shop.orders", "o"), ("customers", "c")]``, as typed."""
    tokens = [m.group() for m in _FROM_TOKEN.finditer(text)]
    out: list[tuple[str, str]] = []
    expecting = False  # the next name is a relation (after FROM, JOIN or a comma in FROM)
    in_from = False
    i = 0
    while i < len(tokens):
        word = tokens[i].lower()
        if word in ("from", "join"):
            expecting, in_from = True, True
        elif word == "," and in_from:
            expecting = True
        elif word in ("where", "group", "order", "limit", "having", ";", ")"):
            expecting = in_from = False
        elif expecting and (tokens[i][0].isalpha() or tokens[i][0] in '"_'):
            name, alias, j = tokens[i], "", i + 1
            if j < len(tokens) and tokens[j].lower() == "as":
                j += 1
            follows = tokens[j] if j < len(tokens) else ""
            if follows.lower() not in NOT_ALIASES and follows[:1].isalpha() | (follows[:1] in '"_'):
                alias, i = follows, j
            out.append((name, alias or split_dotted(name)[-1]))
            expecting = False
        i += 1
    return out


@dataclass
class Catalog:
    """What completion knows of the database: filled by ``read_relations`` and
    ``read_columns`` on a worker thread, read on the UI thread."""

    relations: list[tuple[str, str]] = field(default_factory=list)  # (schema, name)
    columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    keys: set[ForeignKey] = field(default_factory=set)  # of the relations whose columns are read
    _words: list[str] | None = None

    @property
    def words(self) -> list[str]:
        """The keywords, read from the parser's list when first completed (not at start:
        importing pglast for them cost the first screen 38 ms)."""
        if self._words is None:
            self._words = keywords()
        return self._words

    @property
    def schemas(self) -> list[str]:
        return sorted({schema for schema, _ in self.relations})

    def read_relations(self, session: Session) -> None:
        self.relations = [(s, n) for s, n in session.all(RELATIONS_SQL)]
        self.functions = [row[0] for row in session.all(FUNCTIONS_SQL)]

    def resolve(self, typed: str) -> Key | None:
        """The relation a name in FROM stands for (``shop.orders``, ``orders``, ``"Odd"``)."""
        parts = _parts(typed)[-2:]
        for schema, name in self.relations:
            if parts in ((schema, name), (name,)):
                return schema, name
        return None

    def aliases(self, text: str) -> dict[str, Key]:
        """What each name in FROM stands for, by the name it goes by (folded as SQL folds
        it: ``o``, ``"O"`` -> ``O``)."""
        out: dict[str, Key] = {}
        for typed, alias in from_items(text):
            key = self.resolve(typed)
            if key is not None:
                out[_bare(alias)] = key
        return out

    def _named(self, text: str) -> list[tuple[str, str]]:
        """The relations ``text`` names (``orders``, ``shop.orders``, ``"Odd"``)."""
        tokens = {_parts(word)[-2:] for word in _words(text)}
        return [(s, n) for s, n in self.relations if (s, n) in tokens or (n,) in tokens]

    def named_in(self, text: str) -> list[tuple[str, str]]:
        """The relations ``text`` names whose columns are not known yet."""
        return [key for key in self._named(text) if key not in self.columns]

    def read_columns(self, session: Session, relations: Iterable[tuple[str, str]]) -> None:
        """The columns of ``relations``, and the foreign keys from and to them."""
        for schema, name in relations:
            rows = session.all(COLUMNS_SQL.format(sql.Literal(schema), sql.Literal(name)))
            keys = session.all(KEYS_SQL.format(s=sql.Literal(schema), n=sql.Literal(name)))
            self.keys |= {((a, b), tuple(c), (d, e), tuple(f)) for a, b, c, d, e, f in keys}
            self.columns[(schema, name)] = [row[0] for row in rows]

    def join_conditions(self, text: str) -> list[str]:
        """After ``ON``: the conditions the foreign keys between the relations in FROM
        give, each written with the names they go by (the last relation joined first)."""
        items = [(self.resolve(typed), alias) for typed, alias in from_items(text)]
        named = [(key, alias) for key, alias in items if key is not None]
        out: list[str] = []
        for later, (key, alias) in reversed(list(enumerate(named))):
            for other, other_alias in named[:later]:
                for source, columns, target, target_columns in sorted(self.keys):
                    if (source, target) == (key, other):
                        pairs = list(zip(columns, target_columns, strict=True))
                    elif (source, target) == (other, key):
                        pairs = list(zip(target_columns, columns, strict=True))
                    else:
                        continue
                    out.append(
                        " AND ".join(
                            f"{quoted(alias)}.{quoted(a)} = {quoted(other_alias)}.{quoted(b)}"
                            for a, b in pairs
                        )
                    )
        return [c for c in dict.fromkeys(out) if c]

    def candidates(self, word: str, text: str) -> list[str]:
        """What ``word`` may complete to (whole words, as they are inserted), best first:
        after ``schema.`` its relations, after ``relation.`` its columns; otherwise the
        columns of the relations ``text`` names, relations, schemas, keywords."""
        *typed_qualifier, tail = split_dotted(word)
        columns = dict(self.columns)  # (a copy: a worker may be adding to it)
        if typed_qualifier:
            qualifier = tuple(_bare(part) for part in typed_qualifier if part)[-2:]
            aliased = self.aliases(text).get(qualifier[0]) if len(qualifier) == 1 else None
            names: list[str] = list(columns.get(aliased, ())) if aliased else []
            for (schema, name), known in columns.items():
                if qualifier in ((schema, name), (name,)):
                    names += known
            names += [name for schema, name in self.relations if (schema,) == qualifier]
            pool = [quoted(n) for n in dict.fromkeys(names)]
            prefix = ".".join(typed_qualifier) + "."
        else:
            mentioned = [c for key in self._named(text) for c in columns.get(key, ())]
            pool = [quoted(n) for n in dict.fromkeys(mentioned)]
            pool += [quoted(n) for n in dict.fromkeys(n for _, n in self.relations)]
            pool += [quoted(s) for s in self.schemas]
            pool += [quoted(n) for n in self.functions]
            upper = tail[:1].isupper() or not tail
            pool += [w if upper else w.lower() for w in self.words]
            prefix = ""
        folded = _bare(tail).lower()
        out = []
        for candidate in dict.fromkeys(pool):
            if _bare(candidate).lower().startswith(folded) and candidate != tail:
                out.append(prefix + candidate)
                if len(out) >= SHOWN:
                    break
        return out
