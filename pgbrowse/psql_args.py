"""psql's command line, as pgbrowse reads it: ``[OPTION]... [DBNAME [USERNAME]] [RELATION]``.

The words after the options are read the way a psql user means them:

- a connection string (``host=db1 dbname=shop``) or URI (``postgresql://…``) is the
  connection, and a word after it the relation to open (pgbrowse's own form);
- otherwise, as psql: the first plain word is DBNAME and the second USERNAME (with ``-d``
  given, the first is USERNAME);
- a schema-qualified word (``shop.orders``) is the relation to open, wherever it stands
  (``-t`` names one too, qualified or not).

``-h -p -U -d`` are psql's; ``-d`` takes a connection string or URI as psql's does. What is
given twice or cannot be told apart is one line that shows the form that works.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions


class UsageError(ValueError):
    """The words cannot be read one way only; the message shows the form that works."""


@dataclass(frozen=True)
class Target:
    dsn: str  # for libpq ('' : its defaults and PG* variables, as psql)
    relation: str | None  # to open at once, or None for the list
    user_word: str | None = None  # a plain word read as USERNAME (perhaps meant as a table)


def is_connection_string(word: str) -> bool:
    return "=" in word or word.startswith(("postgresql://", "postgres://"))


def _qualified(word: str) -> bool:
    """``schema.table`` (or ``"a.b".c``): a relation, not a database or a user name."""
    return "." in word and not is_connection_string(word)


def read_target(
    words: list[str],
    *,
    host: str | None = None,
    port: str | None = None,
    user: str | None = None,
    dbname: str | None = None,
    table: str | None = None,
) -> Target:
    """The connection and the relation the command line names (see the module doc)."""
    dsn = ""
    relation = table
    plain: list[str] = []  # database and user names, in psql's order
    for word in words:
        if is_connection_string(word):
            if dsn or plain:
                raise UsageError(
                    f"{word!r}: a connection string comes first, once"
                    " (pgbrowse 'host=… dbname=…' [schema.table])"
                )
            dsn = word
        elif _qualified(word) or dsn:
            if relation is not None:
                raise UsageError(
                    f"two relations given ({relation!r} and {word!r}): open one,"
                    " as pgbrowse [DBNAME [USERNAME]] schema.table"
                )
            relation = word
        else:
            plain.append(word)
    if dbname is not None and is_connection_string(dbname):  # psql -d 'host=… dbname=…'
        if dsn:
            raise UsageError("two connection strings given: use -d or a positional, not both")
        dsn, dbname = dbname, None
    names: dict[str, str] = {}
    if dbname is not None:
        names["dbname"] = dbname
    if user is not None:
        names["user"] = user
    for word in plain:  # psql: DBNAME, then USERNAME, each unless given as an option
        slot = next((s for s in ("dbname", "user") if s not in names), None)
        if slot is None:
            raise UsageError(
                f"{word!r}: the database and the user are already given; a table to open"
                f" goes as -t {word} (or schema-qualified: pgbrowse DBNAME schema.{word})"
            )
        names[slot] = word
    if host is not None:
        names["host"] = host
    if port is not None:
        names["port"] = port
    user_word = names["user"] if "user" in names and names["user"] in plain else None
    if not names:
        return Target(dsn, relation)
    try:
        made = psycopg2.extensions.make_dsn(dsn or None, **names)
        return Target(made, relation, user_word)
    except psycopg2.ProgrammingError as error:
        raise UsageError(f"bad connection string: {str(error).strip()}") from None


def hint_for(target: Target, message: str) -> str:
    """A connection error, with the form that works where a word was read as psql reads it
    but meant otherwise: ``pgbrowse shop orders`` is database shop, user orders."""
    word = target.user_word
    if word is not None and f'role "{word}" does not exist' in message:
        return (
            f"{message} ({word!r} was read as the user name, as psql reads its second word;"
            f" a table to open goes as -t {word} or schema-qualified: public.{word})"
        )
    return message
