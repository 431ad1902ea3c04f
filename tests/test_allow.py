"""Read-only by construction (issue 24): what typed SQL may call is decided by the connected
server's catalog, and the server (a role it enforces) is the second line.

On Debian's PostgreSQL 15 with dblink and adminpack created, as a superuser and as an
ordinary role that may write the victim table: every attack of the issue is refused
before its text is sent, and after each test the world is as it was: every row of the
victim (a checksum), the sequence, the large objects, the server's files and WAL segment,
its configuration and statistics, another session, and advisory locks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgbrowse.db.catalog.relations import Relation
from pgbrowse.db.connection.connect import ConnectionFactory, SessionSettings
from pgbrowse.db.connection.errors import QueryError
from pgbrowse.db.paging.pager import CursorPager
from tests.components import Unavailable, cluster
from tests.helpers import direct, relation

DEBIAN_15 = "/usr/lib/postgresql/15/bin"


@pytest.fixture(scope="module")
def attacked() -> Iterator[dict[str, str]]:
    """A superuser's DSN and an ordinary role's, a dblink connection string back to the
    same server, a file path the server could write, and a canary session's pid."""
    try:
        with cluster(DEBIAN_15) as dsn:
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                for extension in ("dblink", "adminpack", "citext", "pg_trgm"):
                    cur.execute(f"CREATE EXTENSION {extension}")
                cur.execute(
                    "CREATE TABLE victim AS SELECT g AS id, md5(g::text) AS t,"
                    " md5(g::text)::citext AS c FROM generate_series(1, 200) g"
                )
                cur.execute("ALTER TABLE victim ADD PRIMARY KEY (id)")
                cur.execute("CREATE SEQUENCE victim_seq")
                cur.execute("CREATE ROLE app LOGIN")
                cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON victim TO app")
                cur.execute("GRANT USAGE ON SEQUENCE victim_seq TO app")
                # A user's own function that lies about its volatility, and an operator on
                # built-in types that calls it.
                params = psycopg2.extensions.parse_dsn(dsn)
                back = f"host={params['host']} dbname=postgres user=postgres"
                cur.execute(
                    "CREATE FUNCTION public.evil(int, int) RETURNS bool IMMUTABLE LANGUAGE sql"
                    f" AS $$ SELECT dblink_exec('{back}', 'DELETE FROM victim') IS NOT NULL $$"
                )
                cur.execute(
                    "CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int,"
                    " FUNCTION = public.evil)"
                )
                cur.execute("SELECT pg_backend_pid()")
                ((canary_pid,),) = cur.fetchall()
            folder = Path(dsn.split("host=")[1].split()[0])
            yield {
                "dsn": dsn,
                "app": psycopg2.extensions.make_dsn(dsn, user="app"),
                "back": back,
                "file": str(folder / "written-by-an-attack"),
                "canary": str(canary_pid),
            }
            conn.close()
    except Unavailable as why:
        pytest.skip(f"{why} (apt-get install postgresql; .ci/run installs it)")


def world(dsn: str, canary: str, file: str) -> tuple:
    """What an attack could change, read as the superuser."""
    ((state,),) = direct(
        dsn,
        "SELECT ROW((SELECT md5(string_agg(id || ':' || t || ':' || c, ',' ORDER BY id))"
        "            FROM victim),"
        " (SELECT (last_value, is_called)::text FROM victim_seq),"
        " (SELECT count(*) FROM pg_largeobject_metadata),"
        " (SELECT string_agg(f, ',' ORDER BY f) FROM pg_ls_dir('.') f),"
        " pg_stat_file(%s, true) IS NOT NULL,"
        " pg_walfile_name(pg_current_wal_lsn()),"
        " pg_conf_load_time(),"
        " (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),"
        " (SELECT count(*) FROM pg_stat_activity WHERE pid = %s),"
        " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'),"
        " (SELECT count(*) FROM pg_replication_slots))::text",
        (file, int(canary)),
    )
    return state


@pytest.fixture
def unchanged(attacked: dict[str, str]) -> Iterator[dict[str, str]]:
    before = world(attacked["dsn"], attacked["canary"], attacked["file"])
    assert "t" not in before.split(",")[4]  # (the file is not there to begin with)
    yield attacked
    assert world(attacked["dsn"], attacked["canary"], attacked["file"]) == before


ATTACKS = [  # (expression, the function the refusal names)
    (
        "query_to_xml($q$select dblink_exec('{back}', 'insert into victim values"
        " (9999, ''x'', ''x'')')$q$, true, false, '') IS NOT NULL AND id = 6",
        "pg_catalog.query_to_xml",
    ),
    (
        "ts_rewrite('a'::tsquery, $q$select dblink_exec('{back}',"
        " 'delete from victim')::tsquery$q$) IS NOT NULL",
        "pg_catalog.ts_rewrite",
    ),
    ("pg_terminate_backend({canary})", "pg_catalog.pg_terminate_backend"),
    ("pg_cancel_backend({canary}) OR true", "pg_catalog.pg_cancel_backend"),
    ("lo_export(lo_from_bytea(0, 'x'), '{file}') > 0", "pg_catalog.lo_"),
    ("pg_file_write('{file}', 'x', false) > 0", "pg_catalog.pg_file_write"),
    ("pg_switch_wal() IS NOT NULL", "pg_catalog.pg_switch_wal"),
    ("pg_create_restore_point('x') IS NOT NULL", "pg_catalog.pg_create_restore_point"),
    ("pg_reload_conf()", "pg_catalog.pg_reload_conf"),
    ("pg_stat_reset() IS NULL", "pg_catalog.pg_stat_reset"),
    ("pg_log_backend_memory_contexts(pg_backend_pid())", "pg_log_backend_memory_contexts"),
    ("pg_logical_emit_message(false, 'x', 'y') IS NOT NULL", "pg_logical_emit_message"),
    ("set_config('work_mem', '1MB', false) IS NOT NULL", "pg_catalog.set_config"),
    ("pg_advisory_lock(777) IS NULL", "pg_catalog.pg_advisory_lock"),
    ("pg_notify('x', 'y') IS NULL", "pg_catalog.pg_notify"),
    ("nextval('victim_seq') > 0", "pg_catalog.nextval"),
    ("table_to_xml('victim', true, false, '') IS NOT NULL", "pg_catalog.table_to_xml"),
    ("txid_current() > 0", "pg_catalog.txid_current"),
    ("dblink_exec('{back}', 'delete from victim') = 'x'", "public.dblink_exec"),
    ("evil(id, 1)", "public.evil"),
    ("id OPERATOR(public.===) 1", "public.evil"),
    ("id === 1", "public.evil"),
    (
        "'pg_create_physical_replication_slot' IS NOT NULL"
        " AND pg_create_physical_replication_slot('s') IS NOT NULL",
        "pg_create_physical_replication_slot",
    ),
]
QUERIES = [
    (
        "SELECT * FROM ts_stat($q$select to_tsvector(dblink_exec('{back}',"
        " 'delete from victim where id <= 5'))$q$)",
        "pg_catalog.ts_stat",
    ),
    ("SELECT * FROM dblink('{back}', 'select 1') AS t(a int)", "public.dblink"),
    ("SELECT cursor_to_xml('c', 1, true, false, '')", "pg_catalog.cursor_to_xml"),
    ("SELECT database_to_xml(true, false, '')", "pg_catalog.database_to_xml"),
    ("SELECT * FROM victim WHERE id OPERATOR(public.===) 2", "public.evil"),
    ("SELECT victim.evil FROM victim", None),  # (no 1-argument evil: a column, not a call)
]


def as_role(attacked: dict[str, str], who: str) -> ConnectionFactory:
    return ConnectionFactory(attacked["dsn" if who == "superuser" else "app"])


@pytest.mark.parametrize("who", ["superuser", "ordinary"])
@pytest.mark.parametrize(("attack", "name"), ATTACKS)
def test_a_filter_that_calls_what_may_act_is_refused_unsent(
    unchanged: dict[str, str], who: str, attack: str, name: str
) -> None:
    text = attack.format(**unchanged)
    factory = as_role(unchanged, who)
    pager = CursorPager(factory, relation(factory, "public.victim"), page_size=20)
    try:
        shown = pager.rows(0, 20)
        with pytest.raises(QueryError) as caught:
            pager.set_filter(text)
        assert caught.value.title == "Filter error"
        message = caught.value.message
        assert name in message and "allowed_functions" in message, message
        assert not any(text in s.sql for s in pager.statements)  # never sent
        assert pager.filter is None and pager.rows(0, 20) == shown
    finally:
        pager.close()


@pytest.mark.parametrize("who", ["superuser", "ordinary"])
@pytest.mark.parametrize(
    ("attack", "name"), [*QUERIES, *((f"SELECT {a}", n) for a, n in ATTACKS[:6])]
)
def test_a_query_that_calls_what_may_act_is_refused_unsent(
    unchanged: dict[str, str], who: str, attack: str, name: str | None
) -> None:
    text = attack.format(**unchanged)
    pager = CursorPager(as_role(unchanged, who), Relation.of_query(text))
    try:
        if name is None:
            with pytest.raises(QueryError, match=r"column victim\.evil does not exist"):
                pager.rows(0, 1)
            return
        with pytest.raises(QueryError) as caught:
            pager.rows(0, 1)
        assert caught.value.title == "Refused", caught.value.message
        assert name in caught.value.message
        assert not any(text in s.sql for s in pager.statements)
    finally:
        pager.close()


@pytest.mark.parametrize(
    "text",
    [
        "id > 5 AND lower(t) LIKE '%a%' AND id BETWEEN 1 AND 150 AND t IN ('x', 'y') IS NOT NULL",
        "c = 'C4CA4238A0B923820DCC509A6F75849B'",  # citext's own operator (an extension type)
        "random() < 2 AND now() > '2000-01-01' AND clock_timestamp() IS NOT NULL",
        "t ~ '^[0-9a-f]+$' AND CASE id WHEN 1 THEN true ELSE id > 0 END",
        "id IN (SELECT id FROM victim v WHERE v.id % 2 = 0) AND (victim).id > 0",
        "xmlparse(content '<a/>') IS NOT NULL AND to_tsvector(t) @@ to_tsquery('a')"
        " OR length(t) = 32",
    ],
)
def test_what_only_reads_is_accepted_and_changes_nothing(
    unchanged: dict[str, str], text: str
) -> None:
    factory = ConnectionFactory(unchanged["dsn"])
    pager = CursorPager(factory, relation(factory, "public.victim"), page_size=20)
    try:
        pager.set_filter(text)
        assert pager.rows(0, 5)
    finally:
        pager.close()


def test_the_config_allows_functions_by_pattern(unchanged: dict[str, str]) -> None:
    """pg_trgm's similarity() lives in public: refused, until the config allows it by
    pattern; then it runs (and only it). Its % operator is an extension's, IMMUTABLE: it
    runs as the type code does (an operator is picked by its operands' types)."""
    text = "similarity(t, t) = 1 AND id = 1 AND t % t"
    plain = ConnectionFactory(unchanged["dsn"])
    allowed = ConnectionFactory(
        unchanged["dsn"], SessionSettings(allowed_functions=("public.similarity*",))
    )
    for factory, refused in ((plain, True), (allowed, False)):
        pager = CursorPager(factory, relation(factory, "public.victim"), page_size=20)
        try:
            if refused:
                with pytest.raises(QueryError, match=r"public\.similarity"):
                    pager.set_filter(text)
            else:
                pager.set_filter(text)
                assert [r[0] for r in pager.rows(0, 5)] == ["1"]
                with pytest.raises(QueryError, match=r"public\.dblink_exec"):
                    pager.set_filter("dblink_exec('x', 'y') = 'z'")
        finally:
            pager.close()


def test_the_title_line_says_what_the_role_can_do(attacked: dict[str, str]) -> None:
    superuser = ConnectionFactory(attacked["dsn"]).connect()
    ordinary = ConnectionFactory(attacked["app"]).connect()
    reader = ConnectionFactory(attacked["dsn"], SessionSettings(role="pg_read_all_data")).connect()
    try:
        assert superuser.powers == "superuser: typed SQL is checked by pgbrowse only"
        assert ordinary.powers.startswith("role can write tables")
        assert reader.powers == "as pg_read_all_data"  # and nothing more it can do
    finally:
        for conn in (superuser, ordinary, reader):
            conn.close()
    # A role that owns a table (no grant in its ACL: the owner's rights are implicit).
    setup = psycopg2.connect(attacked["dsn"])
    setup.autocommit = True
    with setup.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS owned_by_owner")
        cur.execute("DROP ROLE IF EXISTS owner_role")
        cur.execute("CREATE ROLE owner_role LOGIN")
        cur.execute("CREATE TABLE owned_by_owner (id int)")
        cur.execute("ALTER TABLE owned_by_owner OWNER TO owner_role")
    setup.close()
    owner = ConnectionFactory(
        psycopg2.extensions.make_dsn(attacked["dsn"], user="owner_role")
    ).connect()
    try:
        assert owner.powers.startswith("role can write tables")
    finally:
        owner.close()
    with pytest.raises(Exception, match="role 'nobody' does not exist"):
        ConnectionFactory(attacked["dsn"], SessionSettings(role="nobody")).connect()
    with pytest.raises(Exception, match="app is not a member of pg_read_all_data"):
        ConnectionFactory(attacked["app"], SessionSettings(role="pg_read_all_data")).connect()


@pytest.mark.parametrize(
    ("attack", "refusal"),
    [
        ("pg_terminate_backend({canary})", "terminate"),
        ("pg_file_write('{file}', 'x', false) > 0", "permission denied"),
        ("lo_export(lo_from_bytea(0, 'x'), '{file}') > 0", "permission denied"),
        ("dblink_exec('{back}', 'delete from victim') = 'x'", "password"),
    ],
)
def test_a_role_the_server_enforces_refuses_what_a_weakened_guard_let_through(
    unchanged: dict[str, str], monkeypatch: pytest.MonkeyPatch, attack: str, refusal: str
) -> None:
    """--role pg_read_all_data: with pgbrowse's catalog check switched off (deliberately
    weakened, here only), the server itself refuses, as the role has no such right."""
    monkeypatch.setattr("pgbrowse.db.guard.allow.vet", lambda *args, **kwargs: None)
    factory = ConnectionFactory(unchanged["dsn"], SessionSettings(role="pg_read_all_data"))
    pager = CursorPager(factory, relation(factory, "public.victim"), page_size=20)
    try:
        with pytest.raises(QueryError) as caught:
            pager.set_filter(attack.format(**unchanged))
            pager.rows(0, 5)
        assert refusal in caught.value.message.lower(), caught.value.message
    finally:
        pager.close()


def test_no_advisory_lock_outlives_pgbrowse_behind_a_pooler(bouncer_dsn: str) -> None:
    """Behind PgBouncer a session-level lock taken inside query_to_xml stayed on the pooled
    server connection after pgbrowse quit: now it is never taken."""
    factory = ConnectionFactory(bouncer_dsn)
    text = "SELECT query_to_xml('select pg_advisory_lock(777)', true, false, '')"
    pager = CursorPager(factory, Relation.of_query(text))
    try:
        with pytest.raises(QueryError, match="query_to_xml"):
            pager.rows(0, 1)
    finally:
        pager.close()
    locks = direct(bouncer_dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert locks == [(0,)]


# -- a property over the catalog: refused, or run and nothing changed --------------------
LITERALS = {
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "text": "'x'",
    "boolean": "true",
    "double precision": "1.5",
    "numeric": "1.5",
    "oid": "1",
    "name": "'victim'",
    "regclass": "'victim'",
    "bytea": "'\\x00'",
    "jsonb": "'{}'",
    "tsquery": "'a'",
    "anyelement": "1",
}


@pytest.fixture(scope="module")
def callables(attacked: dict[str, str]) -> list[str]:
    """Expressions calling every function and operator of pg_catalog and public whose
    arguments are all of a simple type, volatile ones included: each with literals."""
    types = list(LITERALS)
    functions = direct(
        attacked["dsn"],
        "SELECT n.nspname, p.proname, ARRAY(SELECT format_type(a, NULL)"
        "  FROM unnest(p.proargtypes) a)"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname IN ('pg_catalog', 'public') AND p.prokind = 'f' AND NOT p.proretset"
        " AND p.pronargs <= 3 AND NOT EXISTS (SELECT FROM unnest(p.proargtypes) a"
        "  WHERE format_type(a, NULL) <> ALL(%s))",
        (types,),
    )
    operators = direct(
        attacked["dsn"],
        "SELECT n.nspname, o.oprname, format_type(o.oprleft, NULL),"
        " format_type(o.oprright, NULL)"
        " FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace"
        " WHERE n.nspname IN ('pg_catalog', 'public') AND o.oprleft <> 0"
        " AND format_type(o.oprleft, NULL) = ANY(%s) AND format_type(o.oprright, NULL) = ANY(%s)",
        (types, types),
    )
    made = [
        f"(({schema}.{name}({', '.join(f'{LITERALS[a]}::{a}' for a in args)})) IS NULL)"
        for schema, name, args in functions
        if name not in ("pg_sleep",)  # (refused anyway; never run)
    ]
    made += [
        f"(({LITERALS[left]}::{left} OPERATOR({schema}.{op}) {LITERALS[right]}::{right}) IS NULL)"
        for schema, op, left, right in operators
    ]
    assert len(made) > 500
    return made


EXAMPLES = int(os.environ.get("PGBROWSE_HYPOTHESIS_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    derandomize="PGBROWSE_HYPOTHESIS_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_catalog_call_is_refused_or_changes_nothing(
    attacked: dict[str, str], callables: list[str], data: st.DataObject
) -> None:
    picked = data.draw(st.lists(st.sampled_from(callables), min_size=1, max_size=3))
    text = " OR ".join(picked)
    before = world(attacked["dsn"], attacked["canary"], attacked["file"])
    factory = ConnectionFactory(attacked["dsn"], SessionSettings(statement_timeout_s=5))
    pager = CursorPager(factory, relation(factory, "public.victim"), page_size=20)
    try:
        pager.set_filter(text)
        pager.rows(0, 5)
    except QueryError:
        pass  # refused by pgbrowse, or an error of the server's: nothing ran to its end
    finally:
        pager.close()
    assert world(attacked["dsn"], attacked["canary"], attacked["file"]) == before, text


def test_opening_a_view_says_whose_code_it_runs(attacked: dict[str, str]) -> None:
    """A view whose definition calls a function outside pg_catalog, or a VOLATILE one, runs
    it as it is read (the owner's code, as in psql): a warning on open and in the
    structure pane, not a refusal."""
    from pgbrowse.db.catalog.structure import read_structure
    from pgbrowse.db.connection.session import Session
    from pgbrowse.ui.structure_screen import structure_text

    conn = psycopg2.connect(attacked["dsn"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "CREATE OR REPLACE FUNCTION public.noisy(int) RETURNS int VOLATILE LANGUAGE sql"
            " AS 'SELECT $1'"
        )
        cur.execute(
            "CREATE OR REPLACE VIEW leaky AS SELECT id, public.noisy(id) AS n, random() AS r"
            " FROM victim"
        )
        cur.execute(
            "CREATE OR REPLACE VIEW tidy AS SELECT id, lower(t) AS t, c FROM victim"
            " WHERE c = 'x' OR id > 0"
        )
    conn.close()
    factory = ConnectionFactory(attacked["dsn"])
    said = {}
    for name in ("public.leaky", "public.tidy"):
        pager = CursorPager(factory, relation(factory, name), page_size=20)
        try:
            assert pager.rows(0, 5)  # read all the same
            said[name] = [e for e in pager.state().events if e.startswith("runs: ")]
            session = Session(factory)
            try:
                text = structure_text(read_structure(session, relation(factory, name)))
            finally:
                session.close()
            said[name + " pane"] = [line for line in text.splitlines() if "owner's code" in line]
        finally:
            pager.close()
    (warning,) = said["public.leaky"]
    assert "public.noisy() is VOLATILE and not a built-in (schema public)" in warning
    assert "pg_catalog.random() is VOLATILE" not in warning  # (a harmless VOLATILE one)
    assert said["public.leaky pane"] and "public.noisy()" in said["public.leaky pane"][0]
    assert said["public.tidy"] == [] and said["public.tidy pane"] == []


async def test_the_title_line_says_it_early(attacked: dict[str, str]) -> None:
    """Right after the relation, so a narrow terminal keeps it."""
    import html
    import re

    from pgbrowse.ui.app import PgBrowseApp
    from tests.helpers import fixed_memory, open_table

    factory = ConnectionFactory(attacked["dsn"])
    app = PgBrowseApp(
        factory, initial=relation(factory, "public.victim"), memory_probe=fixed_memory
    )
    async with app.run_test(size=(100, 24)) as pilot:
        await open_table(app, pilot)
        svg = app.export_screenshot()
        text = html.unescape(re.sub(r"<[^>]*>", "", svg)).replace("\xa0", " ")
        top = [line for line in text.splitlines() if "victim" in line]
        assert any("superuser: typed SQL is checked by pgbrowse only" in t for t in top), top


def test_every_builtin_that_returns_a_query_s_rows_as_xml_is_refused(
    attacked: dict[str, str],
) -> None:
    """The STABLE built-ins that run SQL of their own (BUILTIN_REFUSED), read from the
    catalog: every non-VOLATILE pg_catalog function returning xml from a query or cursor
    (text, refcursor), a relation (regclass), a schema (name) or the whole database."""
    from pgbrowse.db.guard.allow import Candidate, why_refused

    found = direct(
        attacked["dsn"],
        "SELECT p.proname, p.provolatile FROM pg_proc p"
        " WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.provolatile <> 'v'"
        " AND p.prorettype = 'xml'::regtype AND (p.proname LIKE 'database%'"
        " OR p.proargtypes[0] IN ('text'::regtype, 'refcursor'::regtype, 'regclass'::regtype,"
        " 'name'::regtype))",
    )
    names = {name for name, _ in found}
    assert {"table_to_xml", "schema_to_xml", "database_to_xml"} <= names
    for name, volatility in found:
        if name in ("xml", "xmlcomment"):
            continue  # (text to xml: a value, not a query)
        candidate = Candidate("function", name, "pg_catalog", name, volatility, False)
        assert why_refused(candidate, ()) is not None, name
