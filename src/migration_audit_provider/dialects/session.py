"""One open connection, spoken to in its database's dialect.

A :class:`Session` is what every layer above the hook works with: the store, the fingerprints and
the copy strategies run statements through it and never touch the DB-API connection's parameter
style. The hook (:meth:`MigrationAuditHook.session`) opens, commits and closes it; a session never
opens or closes a connection itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from migration_audit_provider.sql import load_statement, split_statements


class ParamStyle(Protocol):
    """What a session needs of its dialect (the full object is ``dialects.base.AuditDialect``)."""

    name: str

    def convert_params(self, sql: str) -> str: ...

    def adapt(self, params: Mapping[str, Any]) -> Mapping[str, Any]: ...


class Session:
    """One open connection with the dialect's parameter style applied to every statement.

    :param dialect: the database object of the connection (``AuditDialect``).
    :param conn: the open DB-API connection; its transaction is the hook's to end.
    """

    def __init__(self, dialect: Any, conn: Any) -> None:
        self.dialect = dialect
        self.conn = conn
        self.cursor = conn.cursor()
        self.catalog: dict[str, Any] = {}
        """What the database object last read of a schema's catalog in this session, by schema (the
        PostgreSQL object lists a schema's tables once per refresh: ``PostgresAuditDialect.list_tables``)."""

    def statement(self, name: str, **identifiers: str) -> str:
        """Text of statement ``name`` for this database, ``{slots}`` filled with quoted identifiers."""
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

    def fetch_dicts(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows as ``{column name: value}``: what reads of records use, never positions."""
        cursor = self.execute(sql, params)
        names = [column[0].lower() for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def script(self, text: str) -> None:
        """Run a file of our own statements one at a time (the Vertica driver can miss later errors)."""
        for stmt in split_statements(text):
            self.cursor.execute(stmt)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
