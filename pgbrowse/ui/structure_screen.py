"""StructureScreen (d): the relation's structure from the catalog, as psql's \\d+ and more,
read on a connection of its own without reading or locking the relation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgbrowse.db.catalog.relations import KIND_NAMES, Relation
from pgbrowse.db.catalog.structure import Structure, read_structure, runs_text
from pgbrowse.db.connection.session import Session
from pgbrowse.memory import human_bytes
from pgbrowse.ui.report_screen import ReportScreen
from pgbrowse.ui.safe import shown

if TYPE_CHECKING:
    from pgbrowse.db.connection.connect import ConnectionFactory

CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "f": "foreign key",
    "c": "check",
    "x": "exclusion",
    "t": "trigger",
    "n": "not null",
}
POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def _when(value: object) -> str:
    return "never" if value is None else f"{value:%Y-%m-%d %H:%M}"


def structure_text(found: Structure) -> str:
    relation = found.relation
    head = found.one("relation")
    lines = [f"{shown(relation.qualified)}  ({relation.kind_name})"]
    if head is not None:
        kind, rls, force_rls, heap, toast, indexes, tuples, partkey, bound, _, note = head
        if note:
            lines.append(shown(note.splitlines()[0]))
        rows = f"~{tuples:,.0f} rows" if tuples is not None and tuples >= 0 else "rows unknown"
        if kind == "p":
            lines.append(f"{rows}; its rows and their sizes are in its partitions")
        elif kind not in ("v", "f"):  # (a view and a foreign table store nothing here)
            lines.append(
                f"{rows}; heap {human_bytes(heap)}, TOAST {human_bytes(toast)},"
                f" indexes {human_bytes(indexes)} (from relpages, as of the last VACUUM/ANALYZE)"
            )
        if partkey:
            lines.append(f"partitioned by {shown(partkey)}")
        if bound:
            lines.append(f"partition {shown(bound)}")
        if rls:
            lines.append("row-level security on" + (" (forced for the owner)" if force_rls else ""))
        runs = runs_text(found.runs)
        if runs:
            lines.append("⚠ " + shown(runs))
    lines += ["", "columns"]
    for name, type_name, not_null, default, collation, comment, indexed in found.parts.get(
        "columns", []
    ):
        extra = [
            *(["not null"] if not_null else []),
            *([f"default {shown(default)}"] if default else []),
            *([f"collate {shown(collation)}"] if collation else []),
            *(["indexed"] if indexed else []),
        ]
        line = f"  {shown(name)}  {shown(type_name)}"
        if extra:
            line += "  · " + ", ".join(extra)
        if comment:
            line += f"  -- {shown(comment.splitlines()[0])}"
        lines.append(line)
    if found.parts.get("indexes"):
        lines += ["", "indexes"]
        for name, definition, size, unique, primary, seekable in found.parts["indexes"]:
            marks = ["primary key" if primary else "unique" if unique else ""]
            marks += ["pgbrowse seeks on it" if seekable else ""]
            tag = ", ".join(m for m in marks if m)
            lines.append(f"  {shown(name)}  {human_bytes(size)}" + (f"  · {tag}" if tag else ""))
            lines.append(f"    {shown(definition)}")
    if found.parts.get("constraints"):
        lines += ["", "constraints"]
        for name, kind, definition in found.parts["constraints"]:
            label = CONSTRAINT_KINDS.get(kind, kind)
            lines.append(f"  {shown(name)}  {label}: {shown(definition)}")
    if found.parts.get("referenced_by"):
        lines += ["", "referenced by"]
        for table, name, definition in found.parts["referenced_by"]:
            lines.append(f"  {shown(table)} ({shown(name)}): {shown(definition)}")
    if found.parts.get("triggers"):
        lines += ["", "triggers"]
        for name, definition, enabled in found.parts["triggers"]:
            off = "  (disabled)" if enabled == "D" else ""
            lines.append(f"  {shown(name)}{off}: {shown(definition)}")
    if found.parts.get("policies"):
        lines += ["", "row-level security policies"]
        for name, command, permissive, using, check in found.parts["policies"]:
            how = "permissive" if permissive else "restrictive"
            line = f"  {shown(name)}  {POLICY_COMMANDS.get(command, command)}, {how}"
            line += f"  USING ({shown(using)})" if using else ""
            line += f"  WITH CHECK ({shown(check)})" if check else ""
            lines.append(line)
    parents = [p for (p,) in found.parts.get("parents", [])]
    count_row = found.one("child_count")
    children = int(count_row[0]) if count_row else 0
    if parents:
        lines += ["", "inherits from " + ", ".join(shown(p) for p in parents)]
    if children:
        shown_children = found.parts.get("children", [])
        lines += ["", f"partitions or children: {children:,}"]
        for child, bound in shown_children:
            lines.append(f"  {shown(child)}" + (f"  {shown(bound)}" if bound else ""))
        if children > len(shown_children):
            lines.append(f"  … and {children - len(shown_children):,} more (Ctrl+E in the list)")
    count = found.one("shard_count")
    if count is not None and count[0]:
        shards, placements, nodes = count
        lines += ["", f"shards: {shards:,} in {placements:,} placements on {nodes:,} nodes"]
        for shard, name, node, port, size in found.parts.get("shards", []):
            lines.append(f"  {shard}  {shown(name)}  on {shown(node)}:{port}  {human_bytes(size)}")
        if placements > len(found.parts.get("shards", [])):
            lines.append(f"  … and {placements - len(found.parts['shards']):,} more placements")
    upkeep = found.one("maintenance")
    if upkeep is not None:
        vacuum, autovacuum, analyze, autoanalyze, live, dead, changed = upkeep
        lines += [
            "",
            f"last vacuum {_when(vacuum)}, autovacuum {_when(autovacuum)};"
            f" analyze {_when(analyze)}, autoanalyze {_when(autoanalyze)}",
            f"live rows ~{live or 0:,}, dead ~{dead or 0:,},"
            f" changed since analyze ~{changed or 0:,}",
        ]
    if head is not None and head[9]:
        lines += ["", f"{KIND_NAMES.get(head[0], 'view')} definition", shown(head[9], lines=True)]
    return "\n".join(lines)


class StructureScreen(ReportScreen[Structure]):
    def __init__(self, factory: ConnectionFactory, relation: Relation) -> None:
        super().__init__(factory)
        self.relation = relation

    def waiting(self) -> str:
        return " reading the catalog… (Esc cancels)"

    def fetch(self, session: Session) -> Structure:
        return read_structure(session, self.relation)

    def text(self, result: Structure) -> str:
        return structure_text(result)
