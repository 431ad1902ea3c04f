"""KeyBar: the screen's keys on one line, as many as fit whole (never a word cut): help's
key first, then the screen's everyday keys (its ``EVERYDAY`` actions, in that order), then
the rest as far as the width goes; help lists them all.

Textual's Footer mounts a widget per key and recomposes them all whenever the bindings
change (each focus change), which costs a new table view 100-300 ms; this draws one line of
text, and only when it changes. Mouse users lose clicking a key hint; F1 or ? lists every
key anyway.
"""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.content import Content
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background;
             color: $footer-foreground; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self._drawn: tuple[int, tuple[tuple[str, str], ...]] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.draw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.draw()

    def on_resize(self, event: Resize) -> None:
        self.draw()

    def keys(self) -> tuple[tuple[str, str], ...]:
        """(key, what it does) for each shown binding active now, once per action."""
        seen: set[str] = set()
        out = []
        screen = self.screen
        everyday: tuple[str, ...] = getattr(screen, "EVERYDAY", ())
        # Help's key first (? lists every key, so it must always fit), then the everyday
        # keys in the screen's order, then the app's, the screen's, the focused widget's.
        rank = {id(self.app): 0, id(screen): 1}

        def order(active: ActiveBinding) -> tuple[int, int]:
            action = active.binding.action
            if action == "help":
                return (0, 0)
            if action in everyday:
                return (1, everyday.index(action))
            return (2, rank.get(id(active.node), 2))

        actives = sorted(screen.active_bindings.values(), key=order)
        for active in actives:
            binding = active.binding
            shown = binding.show or binding.action in everyday
            if not shown or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((self.app.get_key_display(binding), binding.description))
        return tuple(out)

    def draw(self) -> None:
        if not self.is_attached:
            return
        width = self.size.width
        keys = self.keys()
        if self._drawn == (width, keys):
            return  # (nothing changed: nothing is redrawn)
        self._drawn = (width, keys)
        parts: list[str | tuple[str, str]] = []
        used = 0
        for key, description in keys:
            cost = len(key) + 1 + len(description) + 2
            if used + cost - 2 > width:
                break
            parts += [(f" {key}", "bold $footer-key-foreground"), f" {description} "]
            used += cost
        self.update(Content.assemble(*parts))
