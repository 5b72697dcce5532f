"""The Vertica copy paths, which cannot run here: their SQL is parsed, their statement sequence and
password handling are driven through a fake DB-API connection that records what it is sent.

The fake is the only stand-in in the copy tests (PostgreSQL and SQLite run for real in
``tests/integration/test_copy.py``). It behaves like vertica-python where it matters here: one
cursor per connection, a per-connection logger that logs every statement's text, errors that quote
the failing statement, ``cursor.copy(sql, stream)`` reading the stream in ``buffer_size`` chunks.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel, ParseError

from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.sqlite.hooks.sqlite import SqliteHook
from airflow.providers.vertica.hooks.vertica import VerticaHook

from migration_audit_provider.dialects.postgres import PostgresAuditDialect, PostgresCopyStrategy
from migration_audit_provider.dialects.session import Session
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.dialects.vertica import (
    RowStream,
    VerticaAuditDialect,
    VerticaCopyError,
    VerticaToVerticaStrategy,
    copy_record,
    scrub,
    string_literal,
)
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.sql import load_statement
from migration_audit_provider.transfers import CopyJob, strategy_for
from migration_audit_provider.transfers.base import CopyCountMismatch
from migration_audit_provider.transfers.generic import GenericCopyStrategy
from migration_audit_provider.transfers.table_copy import copy_table

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
class FakeVerticaError(Exception):
    """Like vertica_python.errors.QueryError: the message quotes the statement that failed."""

    def __init__(self, message: str, sql: str) -> None:
        super().__init__(f"Severity: ERROR, Message: {message}, SQL: {sql!r}")


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self._rows: list[list[Any]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.conn._logger.info("Execute simple query: [%s]", sql)  # what vertica-python logs
        self.conn.events.append(("execute", sql))
        for pattern, message in self.conn.fail_on.items():
            if pattern in sql:
                raise FakeVerticaError(message, sql)
        self._rows = []
        if sql.lstrip().startswith("COPY") or "COPY " in sql.split("\n")[-1]:
            self._rows = [[self.conn.rows_loaded]]
        elif "GET_NUM_ACCEPTED_ROWS" in sql:
            self._rows = [[self.conn.accepted if self.conn.accepted is not None else self.conn.records]]

    def copy(self, sql: str, stream: Any, buffer_size: int = 131072) -> None:
        self.conn._logger.info("Execute COPY statement: [%s]", sql)
        self.conn.events.append(("copy", sql))
        chunks = []
        while chunk := stream.read(buffer_size):
            assert len(chunk) <= buffer_size
            chunks.append(chunk)
        self.conn.copied = b"".join(chunks)
        self.conn.records = len(parse_copy_stream(self.conn.copied))

    def fetchone(self) -> list[Any] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[list[Any]]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, rows_loaded: int = 42, fail_on: dict[str, str] | None = None) -> None:
        self._logger = logging.getLogger(f"vertica_fake_{uuid.uuid4().hex}")
        self._logger.setLevel(logging.DEBUG)
        self.events: list[tuple] = []
        self.rows_loaded = rows_loaded
        self.fail_on = fail_on or {}
        self.accepted: int | None = None
        self.records = 0
        self.copied = b""
        self.autocommit = False

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def commit(self) -> None:
        self.events.append(("commit",))

    def rollback(self) -> None:
        self.events.append(("rollback",))

    def close(self) -> None:
        self.events.append(("close",))


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


def job_for(conn: FakeConnection) -> CopyJob:
    return CopyJob(SCHEMA, TABLE, COLUMNS, Session(VERTICA, FakeConnection()), Session(VERTICA, conn))


def assert_secret_absent(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text
        assert PASSWORD.replace("'", "''") not in text
        assert "SECRET-9f1c" not in text


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    chain = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


# -- Vertica -> Vertica ----------------------------------------------------------------------------
def test_server_side_copy_runs_one_transaction_and_disconnects(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    conn = FakeConnection(rows_loaded=1234)

    outcome = VerticaToVerticaStrategy(FakeSource()).copy(job_for(conn))

    assert (outcome.rows_written, outcome.method) == (1234, "copy_from_vertica")
    kinds = [e[0] if e[0] != "execute" else e[1].split()[0] for e in conn.events]
    sql = [e[1] for e in conn.events if e[0] == "execute"]
    assert [without_comments(s).split()[0] for s in sql] == ["CONNECT", "DELETE", "COPY", "DISCONNECT"]
    assert kinds.index("commit") == 3, conn.events  # COMMIT after the COPY, before DISCONNECT
    assert "rollback" not in kinds
    assert valid_connect(sql[0]) and valid_disconnect(sql[3])
    assert isinstance(parse_vertica(sql[1]), sqlglot.exp.Delete)
    copy = parse_vertica(sql[2]).sql("vertica", comments=False)
    assert copy.endswith("NO COMMIT") and "FROM VERTICA" in copy
    assert "ON 'vertica-src', 5433" in sql[0] and 'USER "migrator"' in sql[0]
    # The driver logged every statement but the CONNECT, and nothing printed the password.
    assert "DELETE FROM" in caplog.text and "CONNECT TO VERTICA" not in caplog.text
    out, err = capsys.readouterr()
    assert_secret_absent(caplog.text, out, err)


def test_a_failed_copy_rolls_back_scrubs_the_error_and_still_disconnects(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    conn = FakeConnection(fail_on={"FROM VERTICA": f"remote said password {PASSWORD} is odd"})

    with pytest.raises(VerticaCopyError) as err:
        VerticaToVerticaStrategy(FakeSource()).copy(job_for(conn))

    kinds = [e[0] if e[0] != "execute" else without_comments(e[1]).split()[0] for e in conn.events]
    assert kinds == ["CONNECT", "DELETE", "COPY", "rollback", "DISCONNECT"]
    assert "***" in str(err.value) and "Mixed Case;t" in str(err.value)
    chain = exception_chain(err.value)
    assert len(chain) == 1, "the driver's error (which quotes the SQL) must not ride along"
    out, err_out = capsys.readouterr()
    assert_secret_absent(str(err.value), repr(err.value), caplog.text, out, err_out)


def test_a_refused_connect_never_shows_the_password(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    conn = FakeConnection(fail_on={"CONNECT TO VERTICA": "authentication failed"})

    with pytest.raises(VerticaCopyError) as err:
        VerticaToVerticaStrategy(FakeSource()).copy(job_for(conn))

    # The fake's error quotes the whole CONNECT statement, password included: it must be scrubbed.
    assert "PASSWORD ***" in str(err.value)
    assert [e[0] for e in conn.events] == ["execute", "rollback"]  # no DELETE, nothing to disconnect
    assert not conn._logger.disabled  # the driver's logger is switched back on afterwards
    out, err_out = capsys.readouterr()
    assert_secret_absent(str(err.value), caplog.text, out, err_out)


def test_the_primitive_records_a_scrubbed_error(caplog):
    """Through copy_table, as the operators call it: the history text is scrubbed too."""
    caplog.set_level(logging.DEBUG)
    conn = FakeConnection(fail_on={"FROM VERTICA": f"bad {PASSWORD}"})
    endpoint = FakeEndpoint(conn)

    result = copy_table(endpoint, endpoint, SCHEMA, TABLE, strategy=VerticaToVerticaStrategy(FakeSource()))

    assert result.status == "failed" and result.method == "copy_from_vertica"
    assert result.error.startswith("VerticaCopyError: COPY FROM VERTICA of")
    assert_secret_absent(result.error, caplog.text)


class FakeEndpoint:
    """A MigrationAuditHook stand-in whose sessions use the fake connection and answer the catalog."""

    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.dialect = VERTICA
        self.dialect.list_columns = lambda session, schema, table: list(COLUMNS)  # type: ignore[method-assign]

    def session(self, schemas=(), *, write=False):
        from contextlib import contextmanager

        @contextmanager
        def opened():
            yield Session(VERTICA, self.conn)

        return opened()


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


def stored(row: tuple) -> tuple:
    """A row as SQLite keeps it: decimals and timestamps as text, booleans as integers."""
    return tuple(
        None if v is None else int(v) if isinstance(v, bool) else v if isinstance(v, (int, str)) else str(v)
        for v in row
    )


def sqlite_source(rows) -> Session:
    conn = sqlite3.connect(":memory:")
    conn.execute(f'CREATE TABLE "main".{q(TABLE)} ({", ".join(map(q, SOURCE_COLUMNS))})')
    conn.executemany(f'INSERT INTO "main".{q(TABLE)} VALUES (?, ?, ?, ?, ?)', [stored(r) for r in rows])
    return Session(SqliteAuditDialect(SqliteHook()), conn)


def test_rows_into_vertica_use_copy_from_stdin_no_commit_in_one_transaction():
    target = FakeConnection()
    job = CopyJob("main", TABLE, SOURCE_COLUMNS, sqlite_source(ROWS), Session(VERTICA, target), batch_size=2)

    outcome = GenericCopyStrategy(None, Named(VERTICA)).copy(job)

    assert (outcome.rows_read, outcome.rows_written, outcome.method) == (5, 5, "batched_vertica_copy")
    kinds = [(e[0], without_comments(e[1]).split()[0] if len(e) > 1 else "") for e in target.events]
    assert kinds == [("execute", "DELETE"), ("copy", "COPY"), ("execute", "SELECT")]
    assert "commit" not in [e[0] for e in target.events]  # the session commits, after the strategy
    copy_sql = target.events[1][1]
    assert parse_vertica(copy_sql).sql("vertica", comments=False).endswith("NO COMMIT")
    assert [c.name for c in parse_vertica(copy_sql).expressions] == SOURCE_COLUMNS
    loaded = parse_copy_stream(target.copied)
    assert loaded == [[None if v is None else str(v) for v in stored(row)] for row in ROWS]


def test_rows_into_vertica_fail_when_vertica_accepts_fewer_rows():
    target = FakeConnection()
    target.accepted = 4
    job = CopyJob("main", TABLE, SOURCE_COLUMNS, sqlite_source(ROWS), Session(VERTICA, target))
    with pytest.raises(CopyCountMismatch, match="read 5 rows"):
        GenericCopyStrategy(None, Named(VERTICA)).copy(job)


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
