"""Read-only means read-only (issue 11): filters and free queries cannot write, stack
statements, reach the server's shell, or comment out what pgbrowse appends.

Every case runs against a real server. After each attempt the victim table's rows are the
same (a checksum over every row) and no file was written where ``COPY … TO PROGRAM`` would
have written one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pglast import ast, parse_sql

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.guard.parse import check_expression
from pgbrowse.db.paging.pager import CursorPager
from tests.helpers import direct, relation

VICTIM_ROWS = 2000


@pytest.fixture(scope="module")
def victim_dsn(scratch_dsn: str) -> str:
    """public.victim: 2,000 rows with a key, and a sequence to (not) advance."""
    conn = __import__("psycopg2").connect(scratch_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS public.victim")
        cur.execute(
            "CREATE TABLE public.victim AS SELECT g AS id, md5(g::text) AS t"
            f" FROM generate_series(1, {VICTIM_ROWS}) g"
        )
        cur.execute("ALTER TABLE public.victim ADD PRIMARY KEY (id)")
        cur.execute("DROP SEQUENCE IF EXISTS public.victim_seq")
        cur.execute("CREATE SEQUENCE public.victim_seq")
        cur.execute("ANALYZE public.victim")
    conn.close()
    return scratch_dsn


def fingerprint(dsn: str) -> tuple:
    """Every row of the victim (a checksum), and the sequence's state."""
    ((rows, digest),) = direct(
        dsn, "SELECT count(*), md5(string_agg(id || ':' || t, ',' ORDER BY id)) FROM victim"
    )
    ((called,),) = direct(dsn, "SELECT is_called FROM victim_seq")
    return rows, digest, called


@pytest.fixture
def untouched(victim_dsn: str, tmp_path: Path) -> Iterator[Path]:
    """Yields a path COPY TO PROGRAM would write; afterwards the victim and the path are as
    they were."""
    before = fingerprint(victim_dsn)
    marker = tmp_path / "pwned"
    yield marker
    assert fingerprint(victim_dsn) == before, "the victim table changed"
    assert not marker.exists(), "a command ran on the server host"


@pytest.fixture
def pager(victim_dsn: str) -> Iterator[CursorPager]:
    factory = ConnectionFactory(victim_dsn)
    opened = CursorPager(factory, relation(factory, "public.victim"), page_size=50)
    yield opened
    opened.close()


FILTER_ATTACKS = [
    "true); COMMIT; BEGIN READ WRITE; DELETE FROM public.victim WHERE id <= 10; COMMIT;"
    " EXPLAIN (FORMAT JSON) SELECT 1 WHERE (true",
    "true; DELETE FROM public.victim",
    "id > 0; COMMIT; BEGIN READ WRITE; TRUNCATE public.victim; COMMIT",
    "true) OR (true); UPDATE victim SET t = 'x'; SELECT (1",
    "EXISTS (WITH d AS (DELETE FROM victim RETURNING 1) SELECT 1 FROM d)",
    "id IN (SELECT id FROM victim FOR UPDATE)",
    "nextval('victim_seq') > 0",
    "pg_catalog.setval('victim_seq', 5) > 0",
    "pg_terminate_backend(pg_backend_pid())",
    "set_config('default_transaction_read_only', 'off', false) IS NOT NULL",
    "dblink_exec('dbname=x', 'DELETE FROM victim') IS NOT NULL",
    "lo_import('/etc/passwd') > 0",
    "pg_advisory_lock(1) IS NULL",
    "1 FROM victim; DELETE FROM victim WHERE (true",
]


@pytest.mark.parametrize("attack", FILTER_ATTACKS)
def test_a_filter_cannot_write(pager: CursorPager, untouched: Path, attack: str) -> None:
    shown = pager.rows(0, 20)
    before = len(pager.statements)
    with pytest.raises(QueryError) as caught:
        pager.set_filter(attack.replace("/some/file", str(untouched)))
    assert caught.value.title == "Filter error"
    assert len(pager.statements) == before, "a refused filter must send nothing"
    assert pager.filter is None and pager.rows(0, 20) == shown  # the view is as it was


def test_refusals_name_the_function(victim_dsn: str, untouched: Path) -> None:
    """Decided by the catalog (issue 24): a filter and a query each name the function, why,
    and the config key; nothing of the text is sent."""
    factory = ConnectionFactory(victim_dsn)
    for text, name in [
        ("pg_terminate_backend(1)", "pg_catalog.pg_terminate_backend"),
        ("PG_CATALOG.PG_CANCEL_BACKEND(1)", "pg_catalog.pg_cancel_backend"),
        ("pg_reload_conf()", "pg_catalog.pg_reload_conf"),
        ("set_config('a.b', 'c', false) = 'c'", "pg_catalog.set_config"),
        ("lo_unlink(1) = 1", "pg_catalog.lo_unlink"),
        ("nextval('victim_seq') > 0", "pg_catalog.nextval"),
    ]:
        pager = CursorPager(factory, relation(factory, "public.victim"))
        query = CursorPager(factory, Relation.of_query(f"SELECT {text}"))
        try:
            with pytest.raises(QueryError, match=f"{name}\\(\\) is VOLATILE") as caught:
                pager.set_filter(text)
            assert "allowed_functions" in caught.value.message
            with pytest.raises(QueryError, match=f"{name}\\(\\)") as caught:
                query.rows(0, 1)
            assert caught.value.title == "Refused"
            sent = [s.sql for s in (*pager.statements, *query.statements)]
            assert not any(text in s for s in sent)
        finally:
            pager.close()
            query.close()
    with pytest.raises(QueryError, match=r"no function public\.dblink_exec\(\) on this server"):
        CursorPager(factory, relation(factory, "public.victim")).set_filter(
            "public.dblink_exec('x', 'y') = ''"
        )


QUERY_ATTACKS = [
    "SELECT 1) x; COMMIT; BEGIN READ WRITE; DELETE FROM public.victim WHERE id <= 20; COMMIT;"
    " SELECT * FROM (SELECT 1",
    "SELECT 1) x; COPY (SELECT 1) TO PROGRAM 'id > /some/file'; SELECT * FROM (SELECT 1",
    "COPY (SELECT 1) TO PROGRAM 'id > /some/file'",
    "SELECT 1; COPY (SELECT 1) TO PROGRAM 'id > /some/file'",
    "SELECT * INTO victim_copy FROM victim",
    "DELETE FROM victim",
    "COMMIT",
    "SET default_transaction_read_only = off",
    "EXPLAIN DELETE FROM victim",
    "SELECT 1 -- \n; DELETE FROM victim",
    "SELECT $$;$$; DELETE FROM victim",
    "EXPLAIN ANALYZE DELETE FROM victim",
]


@pytest.mark.parametrize("attack", QUERY_ATTACKS)
def test_a_query_cannot_write_or_run_commands(
    victim_dsn: str, untouched: Path, attack: str
) -> None:
    with pytest.raises(QueryError) as caught:
        Relation.of_query(attack.replace("/some/file", str(untouched)))
    assert caught.value.title in ("Not a query", "Syntax error") and caught.value.message


# One SELECT by the parser, with a write inside it: sent, and refused by the read-only
# transaction, whose message is said plainly; nothing changes.
SERVER_REFUSED = [
    "WITH d AS (DELETE FROM victim RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE victim SET t = '' RETURNING *) SELECT 1",
    "SELECT * FROM victim FOR UPDATE",
    "SELECT * FROM victim FOR SHARE SKIP LOCKED",
    "(SELECT 1) UNION (SELECT 2 FOR NO KEY UPDATE)",
]


@pytest.mark.parametrize("attack", SERVER_REFUSED)
def test_a_write_inside_a_query_is_refused_by_the_server(
    victim_dsn: str, untouched: Path, attack: str
) -> None:
    pager = CursorPager(ConnectionFactory(victim_dsn), Relation.of_query(attack))
    try:
        with pytest.raises(QueryError) as caught:
            pager.rows(0, 10)
    finally:
        pager.close()
    message = caught.value.message
    assert caught.value.sqlstate in ("25006", "0A000"), message  # read-only, or not in a cursor
    if caught.value.sqlstate == "25006":
        assert caught.value.title == "Refused: read-only"
        assert "read-only transaction" in message and "nothing was changed" in message


def test_a_comment_cannot_drop_the_order(pager: CursorPager) -> None:
    """``id > 10) --`` once commented out the ORDER BY: now it is refused, and a trailing
    comment is harmless (comments do not survive the parse)."""
    with pytest.raises(QueryError, match="syntax"):
        pager.set_filter("id > 10) --")
    pager.set_filter("id > 10 -- the rest of the line")
    assert [r[0] for r in pager.rows(0, 3)] == ["11", "12", "13"]
    with pytest.raises(QueryError, match="unterminated"):  # nor what it cannot close
        pager.set_filter("id > 10 /* unclosed")
    pager.set_filter("id > 1990 /* closed */")
    pager.find_end()
    assert pager.count_exact and pager.row_count == 10
    assert [r[0] for r in pager.rows(8, 2)] == ["1999", "2000"]
    sent = [s.sql for s in pager.statements if not s.sql.startswith("-- ")]  # not notes
    assert any("1990" in s for s in sent)
    assert not any("--" in s or "/*" in s for s in sent)


def test_a_trailing_comment_in_a_query_is_harmless(victim_dsn: str) -> None:
    factory = ConnectionFactory(victim_dsn)
    query = Relation.of_query("SELECT id FROM victim WHERE id <= 5 -- ) x ORDER BY 1 DESC")
    pager = CursorPager(factory, query)
    try:
        assert [r[0] for r in pager.rows(0, 10)] == ["1", "2", "3", "4", "5"]
    finally:
        pager.close()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("SELECT 1, 2", ["?column?", "?column?_2"]),
        ("SELECT 1 AS a, 2 AS a, 3 AS a_2", ["a", "a_3", "a_2"]),
        (
            "SELECT * FROM victim a JOIN victim b ON a.id = b.id WHERE a.id <= 3",
            ["id", "t", "id_2", "t_2"],
        ),
    ],
)
def test_repeated_output_names_are_browsable(victim_dsn: str, text: str, names: list) -> None:
    pager = CursorPager(ConnectionFactory(victim_dsn), Relation.of_query(text))
    try:
        rows = pager.rows(0, 5)
        assert [c.name for c in pager.columns] == names
        assert rows and len(rows[0]) == len(names)
        pager.set_order(names[-1], True)  # every column can be named: sorted by the last one
        assert pager.rows(0, 5)
        pager.set_filter(f'"{names[1]}" IS NOT NULL')
        assert pager.rows(0, 5)
    finally:
        pager.close()


def test_the_session_stays_read_only_if_the_first_line_is_bypassed(
    victim_dsn: str, untouched: Path
) -> None:
    """The second line of defence: a filter that somehow passed still cannot write."""
    factory = ConnectionFactory(victim_dsn)
    bypassed = Relation(
        "", "pgbrowse_query", "q", None, 0, query="SELECT nextval('victim_seq') AS n"
    )
    pager = CursorPager(factory, bypassed)
    try:
        with pytest.raises(QueryError):
            pager.rows(0, 1)
    finally:
        pager.close()


# -- a property: the parser refuses, or exactly one read-only statement runs -------------

FRAGMENTS = [
    ";",
    "--",
    "/*",
    "*/",
    "$$",
    "'",
    "''",
    '"',
    "(",
    ")",
    " ",
    "\n",
    "id",
    "t",
    "1",
    "> 5",
    "=",
    "OR",
    "AND",
    "SELECT",
    "FROM victim",
    "DELETE FROM victim",
    "UPDATE victim SET t = 'x'",
    "COMMIT",
    "BEGIN READ WRITE",
    "COPY (SELECT 1) TO PROGRAM 'touch /some/file'",
    "WITH d AS (DELETE FROM victim RETURNING id)",
    "FOR UPDATE",
    "INTO x",
    "nextval('victim_seq')",
    "$q$ ; $q$",
    "E'\\''",
    "true",
    "id IN (SELECT id FROM victim)",
    "ORDER BY 1",
    "LIMIT 1",
]
# Valid expressions, with hostile fragments spliced in anywhere: many parse, many do not.
leaf = st.sampled_from(["id > 5", "t LIKE '%a%'", "true", "id = 1", "t IS NULL", "$$;$$ = t"])
expression = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map(
            lambda p: f"({p[0]}{p[1]}{p[2]})"
        ),
        inner.map(lambda e: f"NOT {e}"),
    ),
    max_leaves=4,
)


def splice(text: str, pieces: list[tuple[str, int]]) -> str:
    for piece, at in pieces:
        at %= len(text) + 1
        text = text[:at] + piece + text[at:]
    return text


texts = st.builds(
    splice,
    expression,
    st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.integers(0, 200)), max_size=3),
)
EXAMPLES = int(os.environ.get("PGBROWSE_HYPOTHESIS_EXAMPLES", "60"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize="PGBROWSE_HYPOTHESIS_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
READING = (
    ast.SelectStmt,
    ast.DeclareCursorStmt,
    ast.FetchStmt,
    ast.ClosePortalStmt,
    ast.ExplainStmt,
)


def assert_each_sent_statement_is_one_read(pager: CursorPager, since: int) -> None:
    for statement in list(pager.statements)[since:]:
        if statement.sql.startswith("-- "):  # the record's own notes, never sent
            continue
        parsed = parse_sql(statement.sql)
        assert len(parsed) == 1, statement.sql
        assert isinstance(parsed[0].stmt, READING), statement.sql


@PROPERTY
@given(texts)
def test_any_filter_is_refused_or_one_read(
    pager: CursorPager, victim_dsn: str, tmp_path: Path, text: str
) -> None:
    text = text.replace("/some/file", str(tmp_path / "pwned"))
    since = len(pager.statements)
    try:
        checked = check_expression(text)
    except QueryError as refused:
        assert refused.title == "Filter error" and refused.message
        return
    assert len(parse_sql(f"SELECT {checked.sql}")) == 1
    try:
        pager.set_filter(text)
        pager.rows(0, 5)
    except QueryError as failed:  # a type error, say: said plainly, and nothing written
        assert failed.message
    assert_each_sent_statement_is_one_read(pager, since)
    assert pager.is_open  # the transaction was never ended by the text
    assert not (tmp_path / "pwned").exists()


@PROPERTY
@given(texts.map(lambda t: "SELECT " + t))
def test_any_query_is_refused_or_one_read(victim_dsn: str, tmp_path: Path, text: str) -> None:
    text = text.replace("/some/file", str(tmp_path / "pwned"))
    try:
        query = Relation.of_query(text)
    except QueryError as refused:
        assert refused.title in ("Not a query", "Syntax error") and refused.message
        return
    pager = CursorPager(ConnectionFactory(victim_dsn), query)
    try:
        try:
            pager.rows(0, 5)
        except QueryError as failed:
            assert failed.message
        assert_each_sent_statement_is_one_read(pager, 0)
    finally:
        pager.close()
    assert not (tmp_path / "pwned").exists()


def test_the_property_tests_left_the_victim_alone(victim_dsn: str) -> None:
    rows, _, called = fingerprint(victim_dsn)
    assert rows == VICTIM_ROWS and called is False


def test_a_nul_byte_or_an_endless_text_is_refused_whole() -> None:
    """Issue 24: ``SELECT 1\\x00; DELETE …`` silently sent ``SELECT 1`` (libpq ends the text
    at the NUL); a filter of 50,000 OR terms took 14.7 s inside the guard."""
    with pytest.raises(QueryError, match=r"NUL byte \(character 7\)"):
        check_expression("id = 1\x00 OR true")
    with pytest.raises(QueryError, match="NUL byte"):
        Relation.of_query("SELECT 1\x00; DELETE FROM victim")
    huge = " OR ".join(f"id = {i}" for i in range(50_000))
    started = time.perf_counter()
    with pytest.raises(QueryError, match="too long to check"):
        check_expression(huge)
    assert time.perf_counter() - started < 2.5  # (0.16 s measured on a loaded 2-core machine)
    assert check_expression(" OR ".join(f"id = {i}" for i in range(1000))).sql
