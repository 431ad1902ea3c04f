"""Render the README's screenshots from the demo database: ``python screenshots/render.py``.

The app draws itself (Textual's save_screenshot) with an injected memory probe and clock,
so the pictures only change when the screens do.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

from pgbrowse.db.catalog.relations import find_relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.demo.data import create_demo
from pgbrowse.demo.embedded import EmbeddedServer
from pgbrowse.memory import MemoryReading
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.table_view import TableView

HERE = Path(__file__).parent
MEMORY = MemoryReading(available_bytes=21 * 2**30, total_bytes=24 * 2**30, rss_bytes=52 * 2**20)


def fake_clock() -> Callable[[], float]:
    ticks = itertools.count()
    return lambda: next(ticks) * 0.0004  # every statement "takes" 0.4 ms


async def shoot(
    factory: ConnectionFactory,
    name: str | None,
    out: str,
    size: tuple[int, int],
    keys: tuple[str, ...] = (),
) -> None:
    initial = None
    if name is not None:
        conn = factory.connect()
        initial = find_relation(conn, name)
        conn.close()
    app = PgBrowseApp(
        factory, where="demo", initial=initial, memory_probe=lambda: MEMORY, clock=fake_clock()
    )
    async with app.run_test(size=size) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            views = app.screen.query(TableView)
            ready = (
                views
                and views.first().widths
                and views.first().loader.in_flight is None
                and views.first().loader.pager.stats().pages >= 1
            )
            listing = getattr(app.screen, "listing", None)
            if (name is None and listing is not None and app.screen.loaded) or ready:
                break
        for key in keys:  # ("wait": let a view that just opened load its rows)
            await (pilot.pause(0.8) if key == "wait" else pilot.press(key))
        await pilot.pause(0.5)
        app.save_screenshot(str(HERE / out))
        print("wrote", HERE / out)


async def main() -> None:
    with EmbeddedServer() as server:
        dsn = server.create_database("pgbrowse_demo")
        create_demo(dsn, progress=lambda step: None)
        factory = ConnectionFactory(dsn)
        await shoot(factory, None, "relations.svg", (110, 22))
        await shoot(factory, "shop.orders", "orders.svg", (110, 30), ("j", "j", "l"))
        await shoot(factory, "lab.samples", "samples.svg", (110, 24), ("l", "l"))
        await shoot(factory, "lab.wide", "wide-80x24.svg", (80, 24), ("l",) * 12)
        await shoot(factory, "shop.orders", "orders-end.svg", (110, 30), ("G",))
        # A sort no index gives: the first rows from one pass (top-N), the rest meanwhile.
        await shoot(factory, "shop.orders", "sort.svg", (110, 24), ("l", "l", "l", "s", "wait"))
        await shoot(factory, None, "relations-80x24.svg", (80, 24))
        await shoot(factory, "shop.orders", "help-80x24.svg", (80, 24), ("question_mark",))
        await shoot(factory, "shop.orders", "inspector.svg", (130, 32), ("i", "G"))
        await shoot(factory, "lab.samples", "compare.svg", (110, 24), ("c",))
        await shoot(factory, "lab.wide", "record-80x24.svg", (80, 24), ("j", "r"))
        await shoot(factory, "shop.orders", "profile.svg", (90, 30), ("l", "l", "p"))
        await shoot(factory, "shop.orders", "structure.svg", (100, 32), ("d",))
        # An order line → its order → that order's customer: o follows the cursor's key.
        follow = ("j", "j", "o", "wait", "l", "o", "wait")
        await shoot(factory, "shop.order_lines", "follow.svg", (110, 24), follow)
        # The SQL editor: highlighting, and completion of a column of the relations named.
        typed = "o.id, o.amount, c.name FROM shop.orders o JOIN shop.customers c "
        typed += "ON c.id = o.customer_id WHERE o.amount > 500 AND c"
        editor = ("ctrl+o", "wait", *typing(typed), "wait", "tab")
        await shoot(factory, None, "editor.svg", (100, 20), editor)
        # x at the end of a large table: the plan of the cursor pgbrowse reads it with.
        await shoot(factory, "shop.orders", "explain.svg", (100, 16), ("G", "wait", "x"))


def typing(text: str) -> tuple[str, ...]:
    """The keys that type ``text``."""
    names = {" ": "space", ".": "full_stop", ",": "comma", ">": "greater_than_sign"}
    return tuple(names.get(ch, ch) for ch in text)


if __name__ == "__main__":
    asyncio.run(main())
