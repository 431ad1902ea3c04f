"""HelpScreen: every key of the screen it was opened from, read from that screen's bindings.

Nothing here is a hand-kept list: the rows come from ``Screen.active_bindings`` (the focused
widget's bindings, its screen's and the app's), so a new binding shows up by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen

from pgbrowse.ui.safe import SafeStatic

KEY_NAMES = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Space",
    "backspace": "Backspace",
    "delete": "Del",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "minus": "-",
    "number_sign": "#",
    "colon": ":",
    "slash": "/",
    "question_mark": "?",
    "ctrl": "Ctrl",
    "shift": "Shift",
    "alt": "Alt",
}


def key_name(key: str) -> str:
    """A key as pgbrowse names it everywhere (help, key bar, README): ``Ctrl+R``, ``Esc``,
    ``PgDn``, ``↑``, ``G``, ``#``."""
    parts = key.split("+")
    names = [KEY_NAMES.get(part, part) for part in parts]
    if len(parts) > 1 or len(names[-1]) > 1:  # (a lone letter keeps its case: g and G)
        names = [n[:1].upper() + n[1:] if n.isascii() else n for n in names]
    return "+".join(names)


@dataclass(frozen=True)
class KeyHelp:
    """The keys of one action, as the user types them, and the group help lists it in."""

    keys: tuple[str, ...]
    description: str
    action: str
    group: str = ""


def _declared(node: object) -> dict[tuple[str, str], str]:
    """(action, description) -> group, for the bindings pgbrowse's own classes declare on
    ``node`` (Textual's own, such as Tab's focus moves or a TextArea's editing keys, are
    not pgbrowse's keys: help leaves them out)."""
    out: dict[tuple[str, str], str] = {}
    for part in getattr(node, "HELP_PARTS", ()):  # (parts whose keys the screen binds)
        for binding in part.BINDINGS:
            if isinstance(binding, Binding):
                out.setdefault((binding.action, binding.description), part.HELP_GROUP)
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("pgbrowse"):
            continue
        group = str(cls.__dict__.get("HELP_GROUP") or getattr(cls, "HELP_GROUP", ""))
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                out.setdefault((binding.action, binding.description), group)
    return out


def screen_keys(screen: Screen[Any]) -> list[KeyHelp]:
    """Every pgbrowse action bound on ``screen`` (in binding order, grouped), with all the
    keys that run it, and the screen's ``HELP_EXTRA`` (keys a widget reads itself)."""
    grouped: dict[tuple[int, str], tuple[list[str], Binding, str]] = {}
    declared: dict[int, dict[tuple[str, str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        own = declared.setdefault(id(node), _declared(node))
        group = own.get((binding.action, binding.description))
        if group is None:
            continue
        slot = grouped.setdefault((id(node), binding.action), ([], binding, group))
        if key_name(key) not in slot[0]:
            slot[0].append(key_name(key))
    out = []
    for keys, binding, group in grouped.values():
        description = binding.description or binding.action.replace("_", " ").capitalize()
        out.append(KeyHelp(tuple(keys), description, binding.action, group))
    for keys, description in getattr(screen, "HELP_EXTRA", ()):
        out.append(KeyHelp(tuple(keys), description, "", getattr(screen, "HELP_GROUP", "")))
    order = list(dict.fromkeys(item.group for item in out))
    return sorted(out, key=lambda item: order.index(item.group))


class HelpScreen(ModalScreen[None]):
    """Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help"),
    ]

    def __init__(self, origin: Screen[Any]) -> None:
        super().__init__()
        self.origin = origin
        self.keys = screen_keys(origin)

    def table(self) -> Table:
        table = Table(box=None, expand=True, show_header=False)
        table.add_column("Keys", no_wrap=True)
        table.add_column("Does", ratio=1)  # (the keys take what they need)
        group = None
        for item in self.keys:
            if item.group != group:
                group = item.group
                table.add_row(Text(group or "This screen", style="bold underline"), "")
            table.add_row(Text(", ".join(item.keys)), Text(item.description))
        return table

    def compose(self) -> ComposeResult:
        table = self.table()
        title = getattr(self.origin, "HELP_TITLE", type(self.origin).__name__)
        with VerticalScroll():
            yield SafeStatic(
                Content.assemble(
                    (f"Keys: {title}", "bold"), "  (Esc closes; Ctrl+P searches every command)"
                )
            )
            yield SafeStatic(table, id="help-keys")

    def action_close(self) -> None:
        self.dismiss()
