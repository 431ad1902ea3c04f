"""Compare mode: the naive way, bounded, beside the lazy way (issue 6)."""

from __future__ import annotations

import threading

import psutil
import psycopg2
import pytest

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.demo.compare import Outcome, Refused, estimate, lazy, naive
from pgbrowse.memory import MemoryReading
from pgbrowse.ui.app import PgBrowseApp
from pgbrowse.ui.compare import CompareScreen
from pgbrowse.ui.table_screen import TableScreen
from pgbrowse.ui.table_view import TableView
from tests.helpers import relation, rows_shown, wait_for


def test_the_naive_way_refuses_above_its_limits(demo_factory: ConnectionFactory) -> None:
    orders = relation(demo_factory, "shop.orders")
    with pytest.raises(Refused, match=r"~1,000,000 rows .* limit of 1,000 rows"):
        naive(demo_factory, orders, limit_rows=1_000)
    with pytest.raises(Refused, match=r"limit of .* or 1 MB"):
        naive(demo_factory, relation(demo_factory, "lab.samples"), limit_mb=1)


def test_the_naive_way_never_holds_more_than_its_limit(scratch, scratch_dsn: str) -> None:
    with scratch.cursor() as cur:  # analyzed with 4 wide rows a page, then 5,000 narrow ones:
        cur.execute("DROP TABLE IF EXISTS underestimated")  # the planner thinks ~200 rows
        cur.execute("CREATE TABLE underestimated (id int, pad text)")
        cur.execute("ALTER TABLE underestimated ALTER pad SET STORAGE PLAIN")  # no compression
        cur.execute(
            "INSERT INTO underestimated SELECT g, repeat('x', 1800) FROM generate_series(1, 100) g"
        )
        cur.execute("ANALYZE underestimated")
        cur.execute("INSERT INTO underestimated SELECT g, NULL FROM generate_series(101, 5000) g")
    factory = ConnectionFactory(scratch_dsn)
    rel = relation(factory, "underestimated")
    cut = naive(factory, rel, limit_rows=1_000)
    assert cut.rows == 1_000 and "cut at the limit" in cut.note
    whole = naive(factory, rel, limit_rows=10_000)
    assert whole.rows == 5_000 and not whole.note
    assert cut.rows < whole.rows


def peak_rss_growth(action) -> tuple[int, object]:
    """The most the process's RSS grew while ``action`` ran (sampled every 2 ms), and what
    it returned or raised."""
    process = psutil.Process()
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.002):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result: object = action()
    except Exception as error:
        result = error
    finally:
        done.set()
        sampler.join()
    return max(peak, process.memory_info().rss) - before, result


@pytest.fixture(scope="module")
def fat_dsn(scratch_dsn: str) -> str:
    """40 rows of 10 MB text that compresses to almost nothing: the planner's width for
    them is tiny, so the estimate alone would let the naive way load 400 MB."""
    conn = psycopg2.connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS fat")
        cur.execute(
            "CREATE TABLE fat AS SELECT g AS id, repeat(chr(65 + g % 26), 10000000) AS body"
            " FROM generate_series(1, 40) g"
        )
        cur.execute("ANALYZE fat")
    conn.close()
    return scratch_dsn


def test_the_memory_bound_holds_on_compressed_fat_values(fat_dsn: str) -> None:
    factory = ConnectionFactory(fat_dsn)
    fat = relation(factory, "fat")
    rows, estimated = estimate(factory, fat)
    assert rows == 40 and estimated < 1 * 2**20  # the planner thinks it is small
    limit_mb = 64
    growth, refused = peak_rss_growth(lambda: naive(factory, fat, limit_mb=limit_mb))
    assert isinstance(refused, Refused) and "measured on the server" in refused.message
    assert growth < 16 * 2**20, f"RSS grew {growth / 2**20:.0f} MB while refusing"
    # Within the limit (2 rows of 10 MB: 40 MB of client memory at the peak): loaded, and
    # the peak stays under the limit plus a margin.
    two = Relation.of_query("SELECT * FROM fat WHERE id <= 2")
    growth, outcome = peak_rss_growth(lambda: naive(factory, two, limit_mb=limit_mb))
    assert isinstance(outcome, Outcome) and outcome.rows == 2
    assert growth < (limit_mb + 16) * 2**20, f"RSS grew {growth / 2**20:.0f} MB"


def test_naive_holds_everything_and_lazy_one_page(demo_factory: ConnectionFactory) -> None:
    samples = relation(demo_factory, "lab.samples")  # 5,000 rows, 8.5 MB with a 20 MB value
    slow = naive(demo_factory, samples, limit_rows=10_000, limit_mb=512)
    fast = lazy(demo_factory, samples)
    assert slow.rows == 5_000 and fast.rows == 100
    assert slow.held_bytes > 20 * fast.held_bytes  # every row, and the 20 MB value whole


async def test_compare_mode_shows_both_ways_and_refuses_above_the_limit(
    demo_factory: ConnectionFactory,
) -> None:
    readings = iter(range(10**6))

    def probe() -> MemoryReading:  # available memory falling, then recovering
        n = next(readings)
        return MemoryReading((6000 - 40 * (n % 30)) * 2**20, 16 * 2**30, 100 * 2**20)

    app = PgBrowseApp(
        demo_factory,
        initial=relation(demo_factory, "shop.orders"),
        memory_probe=probe,
        compare_limits=(1_000, 64),
    )
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TableScreen))
        await wait_for(pilot, lambda: rows_shown(app.screen.query_one(TableView)))
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: len(screen.results) == 2, timeout=20)
        refused = screen.results["naive"]
        assert isinstance(refused, Refused) and "limit of 1,000 rows" in refused.message
        assert "Refused" in str(screen.query_one("#naive").render())
        lazy_text = str(screen.query_one("#lazy").render())
        assert "rows held   100" in lazy_text and "first row" in lazy_text
        await wait_for(pilot, lambda: len(screen.samples) > 5)
        assert min(screen.samples) < max(screen.samples)  # the line moves as memory does
        assert "lowest" in str(screen.query_one("#available-label").render())
        await pilot.press("escape")
        assert isinstance(app.screen, TableScreen)
