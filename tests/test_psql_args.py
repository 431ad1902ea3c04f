"""Issue 26: psql's command line (-h -p -U -d -w -W, [DBNAME [USERNAME]], -?), connection
strings and URIs as before, and a table named after them."""

from __future__ import annotations

import psycopg2.extensions
import pytest

from pgbrowse.psql_args import Target, UsageError, read_target
from tests.helpers import run_cli

MISSING = "'public.no_such_table' is not a table or view here"


@pytest.mark.parametrize(
    ("words", "options", "dsn", "relation"),
    [
        ([], {}, "", None),
        (["shop"], {}, "dbname=shop", None),
        (["shop", "app"], {}, "dbname=shop user=app", None),
        (["shop.orders"], {}, "", "shop.orders"),  # (PG* variables name the database)
        (["shop", "shop.orders"], {}, "dbname=shop", "shop.orders"),
        (["shop", "app", "shop.orders"], {}, "dbname=shop user=app", "shop.orders"),
        (
            [],
            {"host": "db1", "user": "app", "dbname": "shop"},
            "dbname=shop user=app host=db1",
            None,
        ),
        (["app"], {"dbname": "shop"}, "dbname=shop user=app", None),  # psql: -d, then USER
        ([], {"dbname": "host=db1 dbname=shop"}, "host=db1 dbname=shop", None),
        (["host=db1 dbname=shop", "events"], {}, "host=db1 dbname=shop", "events"),
        (["postgresql://db1/shop", "public.events"], {}, "postgresql://db1/shop", "public.events"),
        (["postgresql://db1/shop"], {"port": "6432"}, "dbname=shop host=db1 port=6432", None),
        (["shop"], {"table": "orders"}, "dbname=shop", "orders"),
        (["my.db"], {"table": "t"}, None, None),  # (a dotted database goes as -d)
    ],
)
def test_the_words_are_read_as_psql_reads_them(
    words: list[str], options: dict[str, str], dsn: str | None, relation: str | None
) -> None:
    if dsn is None:
        with pytest.raises(UsageError, match="two relations"):
            read_target(words, **options)
        return
    target = read_target(words, **options)
    assert target.relation == relation
    if "=" in dsn or not dsn.startswith("postgresql://"):
        got = psycopg2.extensions.parse_dsn(target.dsn) if target.dsn else {}
        assert got == (psycopg2.extensions.parse_dsn(dsn) if dsn else {})
    else:
        assert target == Target(dsn, relation)


@pytest.mark.parametrize(
    ("words", "options", "says"),
    [
        (["shop", "app", "orders"], {}, "goes as -t orders"),
        (["shop", "host=db1"], {}, "a connection string comes first"),
        (["a.b", "c.d"], {}, "two relations given"),
        (["host=x"], {"dbname": "host=y"}, "two connection strings"),
    ],
)
def test_what_cannot_be_read_one_way_shows_the_form_that_works(
    words: list[str], options: dict[str, str], says: str
) -> None:
    with pytest.raises(UsageError, match=says):
        read_target(words, **options)


def params_of(dsn: str) -> dict[str, str]:
    params = psycopg2.extensions.parse_dsn(dsn)
    return {k: str(v) for k, v in params.items()}


def test_psql_options_connect(scratch_dsn: str) -> None:
    """``pgbrowse -h H -p P -U U -d D public.t``: it connects there (and then says the table
    is not there: proof it got in), in one line, exit 2."""
    p = params_of(scratch_dsn)
    result = run_cli(
        *("-h", p["host"], "-p", p.get("port", "5432"), "-U", p["user"], "-d", p["dbname"]),
        "-w",
        "public.no_such_table",
    )
    assert result.returncode == 2 and MISSING in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_positional_dbname_and_username_with_pg_variables(scratch_dsn: str) -> None:
    p = params_of(scratch_dsn)
    env = {"PGHOST": p["host"], "PGPORT": p.get("port", "5432")}
    result = run_cli(p["dbname"], p["user"], "public.no_such_table", env=env)
    assert result.returncode == 2 and MISSING in result.stderr, result.stderr
    everything = {**env, "PGUSER": p["user"], "PGDATABASE": p["dbname"]}
    result = run_cli("public.no_such_table", env=everything)  # (no -t needed)
    assert result.returncode == 2 and MISSING in result.stderr, result.stderr


def test_a_table_read_as_a_user_name_says_the_form_that_works(scratch_dsn: str) -> None:
    p = params_of(scratch_dsn)
    env = {"PGHOST": p["host"], "PGPORT": p.get("port", "5432")}
    result = run_cli(p["dbname"], "orders", "-w", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "was read as the user name" in result.stderr and "-t orders" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_is_question_mark_and_h_is_the_host() -> None:
    helped = run_cli("-?")
    assert helped.returncode == 0 and "[DBNAME [USERNAME]]" in helped.stdout
    assert "-h HOST" in helped.stdout and "-U USERNAME" in helped.stdout
    missing = run_cli("-h")  # the host's value is missing: one line, exit 2
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    both = run_cli("-w", "-W", "shop")
    assert both.returncode == 2 and "give one of them" in both.stderr
