"""The Vertica copy statements and encoders, without a server: the rendered SQL against Vertica's
grammar, the password literal and scrubbing, the ``COPY FROM STDIN`` record format, the choice of
strategy. The copies themselves run through vertica-python against the tests' Vertica-protocol
server in ``tests/integration/test_vertica_copy.py`` and ``test_copy.py``.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlglot
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.providers.vertica.hooks.vertica import VerticaHook
from sqlglot.errors import ErrorLevel, ParseError

from migration_audit_provider.dialects.postgres import PostgresAuditDialect, PostgresCopyStrategy
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.dialects.vertica import (
    RowStream,
    VerticaAuditDialect,
    VerticaToVerticaStrategy,
    copy_record,
    scrub,
    string_literal,
)
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.sql import load_statement
from migration_audit_provider.transfers import strategy_for
from migration_audit_provider.transfers.generic import GenericCopyStrategy

PASSWORD = "pa'ss|Wörd\\-SECRET-9f1c"
SCHEMA = 'Sales "EU" 2024'
TABLE = "Mixed Case;t"
COLUMNS = ["Order ID", 'say "hi"', "amount"]
VERTICA = VerticaAuditDialect(VerticaHook())  # a hook object only: nothing connects


# -- a strict grammar for what sqlglot's Vertica plugin cannot parse ----------------------------------
_IDENT = r'(?:"(?:[^"\x00]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_STRING = r"'(?:[^'\x00]|'')*'"
_CONNECT = re.compile(
    rf"CONNECT\s+TO\s+VERTICA\s+{_IDENT}\s+USER\s+{_IDENT}\s+PASSWORD\s+{_STRING}"
    rf"\s+ON\s+{_STRING}\s*,\s*\d{{1,5}}(?:\s+TLSMODE\s+PREFER)?",
    re.IGNORECASE,
)
_DISCONNECT = re.compile(rf"DISCONNECT\s+{_IDENT}", re.IGNORECASE)


def without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()


def valid_connect(sql: str) -> bool:
    return _CONNECT.fullmatch(without_comments(sql)) is not None


def valid_disconnect(sql: str) -> bool:
    return _DISCONNECT.fullmatch(without_comments(sql)) is not None


def parse_vertica(sql: str) -> sqlglot.Expression:
    return sqlglot.parse_one(sql, read="vertica", error_level=ErrorLevel.RAISE)


def render(name: str, **slots: str) -> str:
    return load_statement(f"copy/{name}", "vertica").format(**slots)


q = VERTICA.quote
TARGET = VERTICA.qualified(SCHEMA, TABLE)
COLS = ", ".join(q(c) for c in COLUMNS)


def test_connect_and_disconnect_render_to_the_grammar():
    connect = render(
        "connect_to_source",
        source_database=q("src db"),
        source_user=q('us"er'),
        password=string_literal(PASSWORD),
        host=string_literal("vertica-src.internal"),
        port="5433",
    )
    assert valid_connect(connect)
    assert "'pa''ss|Wörd\\-SECRET-9f1c'" in connect  # the quote doubled, nothing else touched
    assert valid_disconnect(render("disconnect", source_database=q("src db")))


@pytest.mark.parametrize(
    "statement",
    [
        "CONNECT TO VERTICA db USER u PASSWORD secret ON 'h', 5433",  # password not a literal
        "CONNECT TO VERTICA db USER u PASSWORD 'a'b' ON 'h', 5433",  # quote not doubled
        "CONNECT TO VERTICA db USER u PASSWORD 'p' ON 'h', port",  # port not a number
        "CONNECT TO VERTICA db USER u PASSWORD 'p' ON 'h', 5433; DROP TABLE t",  # a second statement
        "CONNECT TO VERTICA db USER u PASSWORD 'p'",  # no ON
        "CONNECT TO VERTICA \"d\"b\" USER u PASSWORD 'p' ON 'h', 5433",  # identifier quote not doubled
        "CONNECT TO VERTICA my db USER u PASSWORD 'p' ON 'h', 5433",  # unquoted name with a space
        "CONNECT VERTICA db USER u PASSWORD 'p' ON 'h', 5433",
    ],
)
def test_the_connect_grammar_rejects_malformed_statements(statement):
    assert not valid_connect(statement)


@pytest.mark.parametrize(
    "statement", ["DISCONNECT", "DISCONNECT db extra", 'DISCONNECT "db', "DISCONNECT db;"]
)
def test_the_disconnect_grammar_rejects_malformed_statements(statement):
    assert not valid_disconnect(statement)


def test_copy_from_vertica_parses_with_the_vertica_plugin():
    sql = render(
        "copy_from_vertica",
        target=TARGET,
        columns=COLS,
        source_database=q("src db"),
        source_schema=q(SCHEMA),
        source_table=q(TABLE),
    )
    tree = parse_vertica(sql)
    assert type(tree).__name__ == "VerticaCopy"
    assert tree.this.name == TABLE and tree.this.db == SCHEMA
    assert [c.name for c in tree.expressions] == COLUMNS
    source = tree.args["source"]
    assert type(source).__name__ == "CopyFromVertica"
    generated = tree.sql("vertica", comments=False)
    assert '"src db"."Sales ""EU"" 2024"."Mixed Case;t"' in generated
    assert generated.endswith("NO COMMIT")


def test_copy_from_stdin_and_the_rest_parse_with_the_vertica_plugin():
    stdin = parse_vertica(render("copy_from_stdin", target=TARGET, columns=COLS))
    assert [c.name for c in stdin.expressions] == COLUMNS
    text = stdin.sql("vertica", comments=False)
    assert "FROM STDIN ABORT ON ERROR" in text and text.endswith("NO COMMIT")
    delete = parse_vertica(render("clear_target", target=TARGET))
    assert isinstance(delete, sqlglot.exp.Delete) and delete.this.name == TABLE
    select = parse_vertica(render("select_rows", columns=COLS, source=TARGET))
    assert [c.name for c in select.expressions] == COLUMNS
    parse_vertica(render("rows_loaded"))


def test_the_plugin_rejects_a_misordered_copy():
    """The parse checks above can fail: NO COMMIT must come last, options in Vertica's order."""
    with pytest.raises(ParseError):
        parse_vertica(f"COPY {TARGET} ({COLS}) FROM STDIN NO COMMIT ABORT ON ERROR")
    with pytest.raises(ParseError):
        parse_vertica(f"COPY {TARGET} ({COLS}) FROM STDIN ENFORCELENGTH ABORT ON ERROR NO COMMIT")


# -- the fake vertica-python connection ------------------------------------------------------------
class FakeSource:
    """The source endpoint as the strategy sees it: a connection id and its Airflow connection."""

    conn_id = "migration_source"

    def __init__(self, **fields: Any) -> None:
        from airflow.sdk import Connection

        defaults = {"host": "vertica-src", "port": 5433, "login": "migrator", "password": PASSWORD}
        defaults["schema"] = "srcdb"
        self.connection = Connection(conn_id=self.conn_id, conn_type="vertica", **{**defaults, **fields})

    def get_connection(self, conn_id: str) -> Any:
        return self.connection


def test_credentials_need_a_database_and_honour_the_cross_cluster_address():
    with pytest.raises(AuditInputError, match="Schema field"):
        VerticaToVerticaStrategy(FakeSource(schema=None)).credentials()
    source = FakeSource(extra='{"cross_cluster_host": "10.0.0.7", "cross_cluster_port": "15433"}')
    creds = VerticaToVerticaStrategy(source).credentials()
    assert (creds["host"], creds["port"], creds["database"]) == ("10.0.0.7", 15433, "srcdb")


def test_scrub_and_literals():
    assert scrub(f"x {PASSWORD} y '{PASSWORD.replace(chr(39), chr(39) * 2)}'", PASSWORD) == "x *** y '***'"
    assert scrub("nothing", "") == "nothing"
    assert string_literal("it's") == "'it''s'"
    with pytest.raises(AuditInputError):
        string_literal("a\x00b")


# -- rows from another database into Vertica -------------------------------------------------------
def parse_copy_stream(data: bytes) -> list[list[str | None]]:
    """Read a stream as Vertica's DELIMITED parser does with DELIMITER '|', ENCLOSED BY '''',
    the default ESCAPE AS '\\' and NULL '': an empty unenclosed field is NULL."""
    text, records, fields, i = data.decode("utf-8"), [], [], 0
    field: list[str] = []
    enclosed = was_enclosed = False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            field.append(text[i + 1])
            i += 2
            continue
        if ch == "'" and not field and not enclosed and not was_enclosed:
            enclosed = was_enclosed = True
        elif ch == "'" and enclosed:
            enclosed = False
        elif ch in "|\n" and not enclosed:
            fields.append("".join(field) if field or was_enclosed else None)
            field, was_enclosed = [], False
            if ch == "\n":
                records.append(fields)
                fields = []
        else:
            field.append(ch)
        i += 1
    assert not fields and not field, "the stream must end with a record terminator"
    return records


ROWS = [
    (1, "plain", Decimal("12.50"), datetime(2024, 1, 2, 3, 4, 5), True),
    (2, "it's | piped \\ back\nslash", None, None, False),
    (3, "", Decimal("-0.01"), datetime(2024, 2, 29), None),
    (4, None, Decimal("1E+3"), datetime(1999, 12, 31, 23, 59, 59, 123456), True),
    (5, "ünïcødé ✓ 🚀 '' \\N", Decimal("3"), datetime(2024, 1, 1), False),
]


def test_copy_records_round_trip_through_the_delimited_parser():
    data = "".join(copy_record(r) for r in ROWS).encode()
    assert parse_copy_stream(data) == [[None if v is None else str(v) for v in row] for row in ROWS]
    assert copy_record([None, ""]) == "|''\n"  # NULL and the empty string stay apart


def test_rows_stream_batch_by_batch_in_bounded_reads():
    pulled = []

    def batches():
        for n in range(50):
            pulled.append(n)
            yield [(n, "x" * 100)] * 10

    stream = RowStream(batches())
    first = stream.read(4096)
    assert len(first) == 4096 and len(pulled) < 10  # only what the first read needed
    rest = b""
    while chunk := stream.read(4096):
        assert len(chunk) <= 4096
        rest += chunk
    assert len(parse_copy_stream(first + rest)) == 500 and len(pulled) == 50


SOURCE_COLUMNS = ["id", "name", "amount", "ts", "flag"]


# -- the registry ----------------------------------------------------------------------------------
class Named:
    """An endpoint as the strategy choice sees it: only its database object."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect


DIALECTS = {
    "vertica": VERTICA,
    "postgres": PostgresAuditDialect(PostgresHook()),
    "sqlite": SqliteAuditDialect(SqliteHook()),
}


@pytest.mark.parametrize(
    "pair, strategy, method",
    [
        (("vertica", "vertica"), VerticaToVerticaStrategy, "copy_from_vertica"),
        (("postgres", "postgres"), PostgresCopyStrategy, "pg_copy_stream"),
        (("sqlite", "vertica"), GenericCopyStrategy, "batched_vertica_copy"),
        (("postgres", "vertica"), GenericCopyStrategy, "batched_vertica_copy"),
        (("vertica", "postgres"), GenericCopyStrategy, "batched_pg_copy"),
        (("sqlite", "postgres"), GenericCopyStrategy, "batched_pg_copy"),
        (("postgres", "sqlite"), GenericCopyStrategy, "batched_insert"),
        (("vertica", "sqlite"), GenericCopyStrategy, "batched_insert"),
    ],
)
def test_the_pair_of_databases_picks_the_strategy(pair, strategy, method):
    chosen = strategy_for(Named(DIALECTS[pair[0]]), Named(DIALECTS[pair[1]]))
    assert type(chosen) is strategy
    assert getattr(chosen, "method_name", chosen.method) == method
