"""What every database the provider talks to must say for itself.

A dialect is the one place where a database differs from the others: how identifiers are quoted and
how long they may be, how bind parameters are written, how a transaction is opened and locked, and
which catalog queries list schemas, tables and columns. Everything else is portable SQL in
``include/sql/``; a dialect folder there overrides a portable statement only where it must.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.sql import load_statement, split_statements

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

_NAMED_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
COUNT_BATCH_SIZE = 200
"""Tables counted per round trip: one ``UNION ALL`` of ``COUNT(*)`` sub-queries."""


class Session:
    """One open connection with the dialect's parameter style applied to every statement."""

    def __init__(self, dialect: AuditDialect, conn: Any) -> None:
        self.dialect = dialect
        self.conn = conn
        self.cursor = conn.cursor()

    def statement(self, name: str, **identifiers: str) -> str:
        text = load_statement(name, self.dialect.name)
        return text.format(**identifiers) if identifiers else text

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        if params:
            self.cursor.execute(self.dialect.convert_params(sql), self.dialect.adapt(params))
        else:
            self.cursor.execute(sql)
        return self.cursor

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.cursor.executemany(
                self.dialect.convert_params(sql), [self.dialect.adapt(row) for row in rows]
            )

    def fetchall(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return list(self.execute(sql, params).fetchall())

    def script(self, text: str) -> None:
        """Run a file of our own statements one at a time (the Vertica driver can miss later errors)."""
        for stmt in split_statements(text):
            self.cursor.execute(stmt)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()


class AuditDialect:
    """Base dialect: ANSI double-quoted identifiers, ``COUNT(*)`` batched with ``UNION ALL``."""

    name: ClassVar[str] = "ansi"
    conn_types: ClassVar[tuple[str, ...]] = ()
    max_identifier_bytes: ClassVar[int | None] = 128
    """Longest identifier the database keeps without truncating it (in UTF-8 bytes)."""

    def __init__(self, hook: DbApiHook) -> None:
        self.hook = hook

    # -- identifiers -------------------------------------------------------------------------------
    def check_identifier(self, name: object, what: str = "identifier") -> str:
        """Refuse what cannot be a name in this database; return it unchanged otherwise."""
        if not isinstance(name, str) or not name:
            raise AuditInputError(f"{what} must be a non-empty string, got {name!r}")
        if any(unicodedata.category(ch) == "Cc" for ch in name):
            raise AuditInputError(f"{what} {name!r} contains control characters")
        limit = self.max_identifier_bytes
        if limit is not None and len(name.encode("utf-8")) > limit:
            raise AuditInputError(
                f"{what} {name[:40]!r}... is {len(name.encode('utf-8'))} bytes long; "
                f"{self.name} keeps at most {limit}"
            )
        return name

    def quote(self, name: str) -> str:
        """Quote one identifier: always quoted, embedded quotes doubled, so case and spaces survive."""
        self.check_identifier(name)
        return '"' + name.replace('"', '""') + '"'

    def qualified(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}"

    # -- parameters --------------------------------------------------------------------------------
    def convert_params(self, sql: str) -> str:
        """Rewrite ``:name`` bind parameters into the driver's style (default: keep them)."""
        return sql

    def adapt(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return params

    # -- connections and transactions --------------------------------------------------------------
    @contextmanager
    def session(self, schemas: Iterable[str] = (), *, write: bool = False) -> Iterator[Session]:
        """Open a connection, yield a session, commit on success, roll back on error, always close."""
        conn = self.hook.get_conn()
        session: Session | None = None
        try:
            self.prepare(conn, list(schemas), write=write)
            session = Session(self, conn)
            try:
                yield session
                conn.commit()
            except BaseException:
                _quiet(conn.rollback)
                raise
        finally:
            if session is not None:
                _quiet(session.cursor.close)  # an open statement would keep SQLite's lock alive
            _quiet(conn.close)

    def prepare(self, conn: Any, schemas: list[str], *, write: bool) -> None:
        """Make ``schemas`` reachable on ``conn`` and open the transaction (default: nothing to do)."""

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        """Serialise writers of one schema's audit rows until the transaction ends."""
        raise NotImplementedError

    def create_schema(self, session: Session, schema: str) -> None:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")

    # -- catalog -----------------------------------------------------------------------------------
    def schema_exists(self, session: Session, schema: str) -> bool:
        return bool(session.fetchall(session.statement("schema_exists"), {"schema": schema}))

    def list_tables(self, session: Session, schema: str) -> list[str]:
        return [row[0] for row in session.fetchall(session.statement("list_tables"), {"schema": schema})]

    def list_columns(self, session: Session, schema: str, table: str) -> list[str]:
        rows = session.fetchall(session.statement("list_columns"), {"schema": schema, "table": table})
        return [row[0] for row in rows]

    # -- counting ----------------------------------------------------------------------------------
    def count_rows(
        self, session: Session, schema: str, tables: Sequence[str], batch_size: int = COUNT_BATCH_SIZE
    ) -> dict[str, int]:
        """Exact ``COUNT(*)`` of each table, many tables per round trip."""
        counts: dict[str, int] = {}
        for start in range(0, len(tables), batch_size):
            batch = tables[start : start + batch_size]
            # Only integer positions and dialect-quoted catalog names go into the text.
            sql = " UNION ALL ".join(
                f"SELECT {i} AS pos, COUNT(*) AS n FROM {self.qualified(schema, table)}"  # noqa: S608
                for i, table in enumerate(batch)
            )
            for pos, n in session.fetchall(sql):
                counts[batch[int(pos)]] = int(n)
        return counts

    # -- bulk writes -------------------------------------------------------------------------------
    def bulk_insert(
        self,
        session: Session,
        insert_sql: str,
        table_sql: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table_sql`` in the current transaction.

        :param insert_sql: the statement file's ``INSERT … VALUES (:column, …)`` for those columns,
            run once per row (default: the driver's ``executemany``; vertica-python turns an
            ``INSERT … VALUES`` into one ``COPY … NO COMMIT`` by itself).
        :param table_sql: the dialect-quoted target table, for dialects with a bulk path of their own.
        """
        session.executemany(insert_sql, [dict(zip(columns, row, strict=True)) for row in rows])


def _quiet(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # noqa: S110 - the connection may already be gone; the original error matters
        pass
