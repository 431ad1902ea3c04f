"""Column profiles without a scan (issue 15): PostgreSQL's statistics in one catalog read
(no statement reads the table), a bounded sample where there are none, and the screen."""

from __future__ import annotations

import re

from textual_plotext import PlotextPlot

from pgbrowse.db.catalog.profile import SAMPLE_ROWS, read_profile
from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.session import Session
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.profile_screen import ProfileScreen, distribution, label_of
from tests.helpers import fixed_memory, open_table, relation, wait_for


def test_a_profile_from_the_statistics_reads_no_row(demo_factory: ConnectionFactory) -> None:
    orders = relation(demo_factory, "shop.orders")
    session = Session(demo_factory)
    try:
        profile = read_profile(session, orders, "status")
    finally:
        session.close()
    assert profile.source == "statistics" and profile.common
    assert abs(sum(f for _, f in profile.common) + (profile.null_frac or 0) - 1) < 0.05
    sent = [s.sql for s in session.log if not s.sql.startswith(("ROLLBACK", "--"))]
    assert len(sent) == 2 and all("pg_stat" in s for s in sent)  # the catalog only
    sources = [re.findall(r"FROM\s+(\S+)", s) for s in sent]
    assert all(t.startswith("pg_catalog.pg_stat") for found in sources for t in found), sources


def test_without_statistics_a_bounded_sample(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS unprofiled")
        cur.execute(
            "CREATE TABLE unprofiled WITH (autovacuum_enabled = false) AS"
            " SELECT g AS id, g % 7 AS bucket FROM generate_series(1, 200000) g"
        )
    factory = ConnectionFactory(scratch_dsn)
    table = Relation("public", "unprofiled", "r", 200_000, 0)
    session = Session(factory)
    try:
        profile = read_profile(session, table, "bucket")
    finally:
        session.close()
    assert profile.source == "sample" and 0 < profile.sampled <= SAMPLE_ROWS
    assert "TABLESAMPLE SYSTEM" in " ".join(s.sql for s in session.log)
    assert {v for v, _ in profile.common} <= {str(n) for n in range(7)}
    assert profile.distinct == 7 and "no statistics" in profile.note


def test_the_histogram_is_drawn_as_a_density() -> None:
    drawn = distribution([str(x) for x in (0, 1, 2, 3, 50, 100)], buckets=10)
    assert drawn is not None and len(drawn) == 10
    assert drawn[0][0] == 0 and drawn[-1][0] == 90  # (each bar's place on the value axis)
    assert drawn[0][1] > 3 * drawn[-1][1] and abs(sum(p for _, p in drawn) - 100) < 1e-6
    assert distribution(["a", "b", "c"]) is None  # (text: no density)


def test_a_chart_label_is_terminal_safe() -> None:
    """plotext's output is read back as ANSI text: a value's escape must not reach it."""
    label = label_of("\x1b[31mred [b]bold[/b]\nsecond line that is long")
    assert "\x1b" not in label and "\n" not in label and len(label) <= 24


async def test_the_profile_screen(demo_factory: ConnectionFactory) -> None:
    orders = relation(demo_factory, "shop.orders")
    app = PgBrowseApp(demo_factory, initial=orders, memory_probe=fixed_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_table(app, pilot)
        names = [c.name for c in view.state.columns]
        for _ in range(names.index("status")):
            await pilot.press("right")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None)
        text = str(screen.query_one("#report-text").render())
        assert "most common values" in text and "pg_stats" in text
        await wait_for(pilot, lambda: bool(screen.query(PlotextPlot)))
        (chart,) = screen.query(PlotextPlot)
        drawn = chart.render().plain  # type: ignore[union-attr]
        assert "most common values" in drawn and "% of the rows" in drawn
        for status in ("new", "paid", "shipped"):  # (a bar's label each, by its axis tick)
            assert f"{status}┤" in drawn, drawn
        assert "\x1b" not in drawn
        await pilot.press("escape")
        assert app.screen is not screen
        await pilot.press("left")  # amount: numbers, a histogram drawn as bars
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileScreen))
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.query(PlotextPlot)), timeout=10)
        charts = [c.render().plain for c in screen.query(PlotextPlot)]  # type: ignore[union-attr]
        assert any("how the rows spread over amount" in c for c in charts), charts
