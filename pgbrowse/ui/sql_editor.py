"""SqlEditor: Textual's code editor (TextArea, SQL highlighting by tree-sitter) with
completion from the catalog and steps through the query history.

Completion is an OptionList the editor shows under the caret: Tab completes the word before
the caret (at once when one word fits, else a list: Up/Down choose, Tab or Enter inserts,
Esc closes; typing narrows it); after ``ON`` it offers the join conditions the foreign keys
give. As you type (two letters, or a dot), the list shows by itself without taking a key:
Tab or Down goes into it (Tab takes the word when only one fits), and Enter still starts a
new line unless you went into the list. It is pgbrowse's own because textual-autocomplete and
Textual's Suggester complete an Input, not a TextArea. Up on the first line and Down on
the last step through the history (``HistoryStep``); anywhere else they move the caret.
"""

from __future__ import annotations

import re

from textual import events
from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from pgbrowse.db.catalog.completion import Catalog, word_before
from pgbrowse.ui.safe import plain

AFTER_ON = re.compile(r"\bon\s+$", re.IGNORECASE)  # the caret after ``ON ``: a join condition


class Completions(OptionList):
    """The list of candidates under the caret (never focused: the editor keeps the keys)."""

    DEFAULT_CSS = """
    Completions {
        overlay: screen; position: absolute; constrain: inside inside;
        width: auto; min-width: 20; max-width: 60; height: auto; max-height: 12;
        border: none; padding: 0; background: $panel; display: none;
    }
    """
    can_focus = False


class SqlEditor(TextArea):
    """The query text; ``catalog`` gives the words completion offers."""

    class HistoryStep(Message):
        """Up on the first line (-1) or Down on the last (+1): an older or newer run."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class WantColumns(Message):
        """The text names relations whose columns completion does not know yet."""

    def __init__(self, text: str, catalog: Catalog, **kwargs: object) -> None:
        try:
            super().__init__(text, language="sql", **kwargs)  # type: ignore[arg-type]
        except Exception:  # (no tree-sitter grammar here: the same editor, unhighlighted)
            super().__init__(text, **kwargs)  # type: ignore[arg-type]
        self.catalog = catalog
        self.show_line_numbers = True
        self.tab_behavior = "indent"
        self.popup: Completions | None = None
        self._word = ""  # the word the shown candidates complete
        self._passive = False  # shown as you typed: no candidate chosen, Enter is a newline

    # -- completion ------------------------------------------------------------------------
    def line_before_caret(self) -> str:
        row, column = self.cursor_location
        return self.document.get_line(row)[:column]

    def text_before_caret(self) -> str:
        return self.document.get_text_range((0, 0), self.cursor_location)

    def complete(self) -> bool:
        """Tab: complete the word before the caret; after ``ON``, a join condition; False
        when there is nothing to complete (Tab indents)."""
        before = self.line_before_caret()
        word = word_before(before)
        if not word and AFTER_ON.search(before):
            if self.catalog.named_in(self.text):
                self.post_message(self.WantColumns())
            conditions = self.catalog.join_conditions(self.text_before_caret())
            if len(conditions) == 1:
                self._insert("", conditions[0])
            elif conditions:
                self._show("", conditions)
            return bool(conditions)
        if not word:
            return False
        if self.catalog.named_in(self.text):
            self.post_message(self.WantColumns())
        found = self.catalog.candidates(word, self.text)
        if not found:
            self.app.bell()
            return True
        if len(found) == 1:
            self._insert(word, found[0])
            return True
        self._show(word, found)
        return True

    def suggest(self) -> None:
        """As you type: the candidates for the word being written, shown without taking a
        key (two letters or more, or right after a dot; not when the word is whole)."""
        word = word_before(self.line_before_caret())
        if not word or (len(word) < 2 and not word.endswith(".")):
            self.hide_completions()
            return
        if word.endswith(".") and self.catalog.named_in(self.text):
            self.post_message(self.WantColumns())
        found = self.catalog.candidates(word, self.text)
        if found and found != [word]:
            self._show(word, found, passive=True)
        else:
            self.hide_completions()

    def _show(self, word: str, found: list[str], passive: bool = False) -> None:
        popup = self.popup
        if popup is None:
            return
        self._word = word
        self._passive = passive
        popup.clear_options()
        popup.add_options([Option(plain(candidate)) for candidate in found])
        popup.highlighted = None if passive else 0
        x, y = self.cursor_screen_offset
        popup.styles.offset = (max(x - len(word), 0), y + 1)
        popup.display = True

    def hide_completions(self) -> None:
        if self.popup is not None:
            self.popup.display = False

    @property
    def completing(self) -> bool:
        return self.popup is not None and bool(self.popup.display)

    def _insert(self, word: str, candidate: str) -> None:
        row, column = self.cursor_location
        self.replace(candidate, (row, column - len(word)), (row, column))
        self.hide_completions()

    def _accept(self) -> None:
        popup = self.popup
        if popup is None or popup.option_count == 0:
            return
        option = popup.get_option_at_index(popup.highlighted or 0)
        self._insert(self._word, str(option.prompt))

    def refresh_completions(self) -> None:
        """After typing while the list is shown: narrow it (closed when nothing fits)."""
        if not self.completing:
            return
        word = word_before(self.line_before_caret())
        found = self.catalog.candidates(word, self.text) if word else []
        if found:
            self._show(word, found, passive=self._passive)
        else:
            self.hide_completions()

    async def _on_key(self, event: events.Key) -> None:
        if self.completing and self.popup is not None:
            handled = True
            if event.key == "tab" and self._passive and self.popup.option_count > 1:
                self._passive = False  # (as Tab does: several fit, choose among them)
                self.popup.highlighted = 0
            elif event.key == "tab" or (event.key == "enter" and not self._passive):
                self._accept()
            elif event.key == "enter":  # (shown as you typed, not chosen: a new line)
                self.hide_completions()
                handled = False
            elif event.key == "escape":
                self.hide_completions()
            elif event.key in ("down", "up") and self._passive:
                self._passive = False  # (into the list: Enter takes the word now)
                self.popup.highlighted = 0
            elif event.key == "down":
                self.popup.action_cursor_down()
            elif event.key == "up":
                self.popup.action_cursor_up()
            else:
                handled = False
            if handled:
                event.stop()
                event.prevent_default()
                return
        if event.key == "escape":  # the screen's (back, the text kept), not a focus move
            event.prevent_default()
            return
        if event.key == "tab" and self.selection.is_empty and self.complete():
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)
        if event.is_printable and event.character not in (None, " "):
            self.call_after_refresh(self.suggest)  # (once the character is in the text)
        elif event.key in ("space", "backspace"):
            self.hide_completions()

    # -- history ---------------------------------------------------------------------------
    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0 and self.selection.is_empty:
            self.post_message(self.HistoryStep(-1))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        last = self.document.line_count - 1
        if not select and self.cursor_location[0] == last and self.selection.is_empty:
            self.post_message(self.HistoryStep(+1))
            return
        super().action_cursor_down(select)

    def set_text(self, text: str) -> None:
        """Replace the text, the caret after it."""
        self.load_text(text)
        self.move_cursor(self.document.end)
