"""Foreign keys both ways, from the catalog: the keys a relation's rows hold (outgoing) and
the keys that point at it (incoming), with what following each one costs.

Following an outgoing key opens the referenced table positioned on the row, found by a
seek on the referenced columns (a unique index: constant time at any size); an incoming
key opens the referencing table filtered to the rows that hold this row's key, which is
instant where an index leads with the referencing columns (``indexed``) and reads the
whole table otherwise. No statement here reads a relation: only pg_constraint, pg_class,
pg_attribute and pg_index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg2 import sql

from pgbrowse.db.catalog.relations import Relation, relation_of_row

if TYPE_CHECKING:
    from pgbrowse.db.connection.session import Session

# A constraint cloned onto a partition of the referencing table (incoming: the parent's
# constraint already says it) or for a partition of the referenced table (outgoing: the
# same) is left out: each key is listed once, as it was declared.
REFERENCES_SQL = """
SELECT co.conname, co.conrelid = {rel}, co.confrelid = {rel},
       rs.nspname, r.relname, r.relkind, r.reltuples::float8,
       r.relpages::int8 * current_setting('block_size')::int8, r.relispartition, NULL::text,
       ARRAY(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n
             ORDER BY k.i),
       fs.nspname, f.relname, f.relkind, f.reltuples::float8,
       f.relpages::int8 * current_setting('block_size')::int8, f.relispartition, NULL::text,
       ARRAY(SELECT a.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.n
             ORDER BY k.i),
       EXISTS (SELECT 1 FROM pg_catalog.pg_index i
               WHERE i.indrelid = co.conrelid AND i.indpred IS NULL AND i.indisvalid
                 AND (i.indkey::int2[])[0:cardinality(co.conkey) - 1] @> co.conkey
                 AND co.conkey @> (i.indkey::int2[])[0:cardinality(co.conkey) - 1])
FROM pg_catalog.pg_constraint co
JOIN pg_catalog.pg_class r ON r.oid = co.conrelid
JOIN pg_catalog.pg_namespace rs ON rs.oid = r.relnamespace
JOIN pg_catalog.pg_class f ON f.oid = co.confrelid
JOIN pg_catalog.pg_namespace fs ON fs.oid = f.relnamespace
WHERE co.contype = 'f' AND (co.conrelid = {rel} OR co.confrelid = {rel})
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint p
                  WHERE p.oid = co.conparentid
                    AND (p.conrelid = co.conrelid) = (co.conrelid = {rel}))
ORDER BY co.conrelid = {rel} DESC, rs.nspname, r.relname, co.conname
LIMIT 500
"""


@dataclass(frozen=True)
class ForeignKey:
    """``table(columns)`` references ``target(target_columns)``."""

    name: str
    table: Relation  # the referencing table
    columns: tuple[str, ...]
    target: Relation  # the referenced table
    target_columns: tuple[str, ...]
    indexed: bool  # an index on the referencing table leads with ``columns``

    def describe(self) -> str:
        """``orders(customer_id) → customers(id)``, for lists and messages."""
        return (
            f"{self.table.qualified}({', '.join(self.columns)}) → "
            f"{self.target.qualified}({', '.join(self.target_columns)})"
        )


@dataclass(frozen=True)
class References:  # (immutable: one empty instance is shared)
    outgoing: tuple[ForeignKey, ...] = ()  # keys this relation's rows hold
    incoming: tuple[ForeignKey, ...] = ()  # keys pointing at this relation

    def of_column(self, column: str) -> tuple[ForeignKey, ...]:
        """The outgoing keys that ``column`` is part of."""
        return tuple(fk for fk in self.outgoing if column in fk.columns)

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c for fk in self.outgoing for c in fk.columns)


NO_REFERENCES = References()


@dataclass(frozen=True)
class Landing:
    """Where a view opens: the row whose ``columns`` hold ``values`` (texts)."""

    columns: tuple[str, ...]
    values: tuple[str, ...]

    def describe(self) -> str:
        """``id = 7``, for messages (not SQL)."""
        pairs = zip(self.columns, self.values, strict=True)
        return ", ".join(f"{c} = {v}" for c, v in pairs)

    def filter_text(self) -> str:
        return " AND ".join(
            f"{quote_ident(c)} = {quote_literal(v)}"
            for c, v in zip(self.columns, self.values, strict=True)
        )


def read_references(session: Session, relation: Relation) -> References:
    """Both ways, in one catalog statement (none for a query or a view)."""
    if relation.query is not None or relation.kind not in "rpf":
        return NO_REFERENCES
    rel = relation.regclass(session.conn)
    outgoing, incoming = [], []
    with session.cursor(sql.SQL(REFERENCES_SQL).format(rel=rel)) as cur:
        found = cur.fetchall()  # (catalog rows: not counted as the view's rows fetched)
    for row in found:
        name, out, into = row[0], row[1], row[2]
        fk = ForeignKey(
            name=name,
            table=relation_of_row(row[3:10]),
            columns=tuple(row[10]),
            target=relation_of_row(row[11:18]),
            target_columns=tuple(row[18]),
            indexed=bool(row[19]),
        )
        if out:
            outgoing.append(fk)
        if into:
            incoming.append(fk)
    return References(tuple(outgoing), tuple(incoming))


def quote_literal(value: str) -> str:
    """``value`` as an SQL string literal (standard_conforming_strings is on in every
    pgbrowse transaction: a backslash is itself), for filter text the guard parses."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def referencing_filter(fk: ForeignKey, values: tuple[str, ...]) -> str:
    """The referencing table's rows that hold ``values`` (the referenced columns' texts)
    in ``fk.columns``, as filter text (shown in the filter box; parsed by the guard like
    any filter). Untyped literals take each column's own type, so the comparison is the
    column's, and its index serves it."""
    return Landing(fk.columns, values).filter_text()
