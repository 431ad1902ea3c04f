"""Completion for the SQL editor: PostgreSQL's keywords, and the schemas, relations and
columns of the catalog.

The words come from PostgreSQL's own keyword list (pglast, the parser pgbrowse checks SQL
with) and from two bounded catalog reads: every relation's schema and name once (at most
``RELATION_LIMIT``), and a relation's columns when the text names it (one small read each,
remembered). What is inserted is quoted as PostgreSQL needs it (pglast's own quoting), so
a completed ``"Order Lines"`` is a name the server reads back as it is stored.
"""

from __future__ import annotations

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


def _split(name: str) -> list[str]:
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
    return tuple(_bare(part) for part in _split(name) if part)


def _bare(name: str) -> str:
    """A typed name as stored: ``"Ord"`` -> ``Ord``, ``orders`` -> ``orders`` (folded)."""
    if name.startswith('"'):
        return name.strip('"').replace('""', '"')
    return name.lower()


@dataclass
class Catalog:
    """What completion knows of the database: filled by ``read_relations`` and
    ``read_columns`` on a worker thread, read on the UI thread."""

    relations: list[tuple[str, str]] = field(default_factory=list)  # (schema, name)
    columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
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

    def _named(self, text: str) -> list[tuple[str, str]]:
        """The relations ``text`` names (``orders``, ``shop.orders``, ``"Odd"``)."""
        tokens = {_parts(word)[-2:] for word in _words(text)}
        return [(s, n) for s, n in self.relations if (s, n) in tokens or (n,) in tokens]

    def named_in(self, text: str) -> list[tuple[str, str]]:
        """The relations ``text`` names whose columns are not known yet."""
        return [key for key in self._named(text) if key not in self.columns]

    def read_columns(self, session: Session, relations: Iterable[tuple[str, str]]) -> None:
        for schema, name in relations:
            rows = session.all(COLUMNS_SQL.format(sql.Literal(schema), sql.Literal(name)))
            self.columns[(schema, name)] = [row[0] for row in rows]

    def candidates(self, word: str, text: str) -> list[str]:
        """What ``word`` may complete to (whole words, as they are inserted), best first:
        after ``schema.`` its relations, after ``relation.`` its columns; otherwise the
        columns of the relations ``text`` names, relations, schemas, keywords."""
        *typed_qualifier, tail = _split(word)
        columns = dict(self.columns)  # (a copy: a worker may be adding to it)
        if typed_qualifier:
            qualifier = tuple(_bare(part) for part in typed_qualifier if part)[-2:]
            names: list[str] = []
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
