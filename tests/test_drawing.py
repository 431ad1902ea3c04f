"""What a key draws: the frames the app renders (what a terminal would be sent), the row
lines drawn again from the grid's line cache, and nothing drawn for a screen out of sight."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from textual._compositor import CompositorUpdate

from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.memory import MemoryProbe, MemoryReading
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import HEADER_LINES, TableView
from tests.helpers import FIXED_MEMORY, fixed_memory, line, open_table, relation, wait_for

SIZE = (120, 30)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Frames:
    """Every frame the app renders, as the text its terminal would be sent (the headless
    driver writes nothing; the same CompositorUpdate renders it)."""

    def __init__(self, app: PgBrowseApp) -> None:
        self.sent: list[str] = []
        display = app._display

        def recorded(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate):
                self.sent.append(ANSI.sub("", renderable.render_segments(app.console)))
            display(screen, renderable)

        app._display = recorded  # type: ignore[method-assign]

    def since(self, mark: int) -> list[str]:
        return self.sent[mark:]


def orders(factory: ConnectionFactory, probe: MemoryProbe = fixed_memory) -> PgBrowseApp:
    """The app on the demo's 1,000,000-row shop.orders."""
    return PgBrowseApp(factory, initial=relation(factory, "shop.orders"), memory_probe=probe)


def growing_memory() -> Iterator[MemoryReading]:
    rss = FIXED_MEMORY.rss_bytes
    while True:
        rss += 2**20
        yield MemoryReading(FIXED_MEMORY.available_bytes, FIXED_MEMORY.total_bytes, rss)


async def test_a_pagedown_is_one_frame_with_its_position_line(
    demo_factory: ConnectionFactory,
) -> None:
    app = orders(demo_factory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: view.loader.in_flight is None)
        frames = Frames(app)
        for _ in range(3):
            mark, before = len(frames.sent), view.cursor_row
            await pilot.press("pagedown")
            await wait_for(pilot, lambda before=before: view.cursor_row != before)
            row = view.cursor_row + 1

            said = f"row {row:,} of"

            def drawn() -> str:  # the cursor's row, as the view draws it
                return view.render_line(view.cursor_row - int(view.scroll_y) + HEADER_LINES).text

            await wait_for(pilot, lambda mark=mark: any(drawn() in f for f in frames.since(mark)))
            sent = frames.since(mark)
            rows_at = next(i for i, f in enumerate(sent) if drawn() in f)
            # The position line is never a frame late: it is in the frame that draws the new
            # rows (in the headless harness a whole screen laid out between the two may
            # bring it a frame early; never after).
            assert any(said in f for f in sent[: rows_at + 1]), sent[rows_at]
            assert line(view, view.cursor_row - int(view.scroll_y) + HEADER_LINES).split()[
                0
            ] == str(row)


async def test_a_screen_under_another_draws_nothing(demo_factory: ConnectionFactory) -> None:
    """The relation list's memory line ticks under the table screen (its figures change
    every second here): nothing of it reaches the terminal, and the table is not repainted
    (Textual repainted the whole front screen for each change under it)."""
    readings = growing_memory()
    app = orders(demo_factory, lambda: next(readings))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        await wait_for(pilot, lambda: view.loader.in_flight is None)
        await pilot.pause(0.5)  # (the table settles: its size once the count is in)
        frames = Frames(app)
        await pilot.pause(2.5)  # (the list's footer samples every second for 5 s)
        title = "shop.orders"
        repainted = [f for f in frames.sent if title in f or "#" in f.split("\n")[0]]
        assert repainted == [], [f.splitlines()[-4:] for f in repainted]
        # What the table screen itself sends meanwhile: its own memory line, nothing more.
        assert all(len(f) < SIZE[0] * 2 for f in frames.sent), [len(f) for f in frames.sent]


async def test_rows_drawn_once_are_drawn_from_the_line_cache(
    demo_factory: ConnectionFactory,
) -> None:
    app = orders(demo_factory)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_table(app, pilot)
        drawn: list[int] = []
        draw = view._draw_row

        def counted(row: int, *args: Any) -> Any:
            drawn.append(row)
            return draw(row, *args)

        view._draw_row = counted  # type: ignore[method-assign]
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: view.loader.in_flight is None)
        await pilot.pause(0.2)
        assert len(drawn) >= view.data_height - 1  # (new rows: drawn)
        drawn.clear()
        await pilot.press("pageup")
        await pilot.pause(0.2)
        # Back on rows already drawn: at most the cursor's old and new lines are drawn again.
        assert view.cursor_row == 0
        assert set(drawn) <= {0, view.data_height}, drawn
        # Row numbers grown a digit wider (an estimate that became a larger count): drawn
        # again, not the kept line of the narrower numbers.
        narrow = "".join(seg.text for seg in view.render_line(3))
        view._gutter += 2
        assert "".join(seg.text for seg in view.render_line(3)) != narrow
        view._gutter -= 2
        before = [seg.style for seg in view.render_line(3)]
        drawn.clear()
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause(0.3)
        assert drawn, "a new theme draws every line again"
        assert [seg.style for seg in view.render_line(3)] != before
        assert isinstance(view, TableView)
