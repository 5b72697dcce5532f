"""SQLite, the embedded default: a "schema" is a database file attached to the connection.

The connection's database file names a folder; schema ``sales`` is the file ``sales.db`` in that
folder, attached as ``sales`` when a session needs it. Only schemas asked for are attached (SQLite
attaches at most ten databases per connection). Writers take the database lock up front
(``BEGIN IMMEDIATE``), which serialises them just as the other dialects' locks do.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from migration_audit_provider.dialects.base import AuditDialect, Session
from migration_audit_provider.exceptions import AuditInputError

BUSY_TIMEOUT_MS = 60_000


class SqliteAuditDialect(AuditDialect):
    name: ClassVar[str] = "sqlite"
    conn_types: ClassVar[tuple[str, ...]] = ("sqlite",)
    max_identifier_bytes: ClassVar[int | None] = 128

    def prepare(self, conn: sqlite3.Connection, schemas: list[str], *, write: bool) -> None:
        conn.isolation_level = None  # we open the transaction ourselves
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        folder = self.folder(conn)
        attached = {row[1] for row in conn.execute("PRAGMA database_list")}
        for schema in dict.fromkeys(schemas):
            if schema in attached:
                continue
            path = self.schema_file(folder, schema)
            if not path.exists() and not write:
                continue  # schema_exists() answers False; nothing is created by a reader
            conn.execute("ATTACH DATABASE ? AS " + self.quote(schema), (str(path),))
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def schema_file(self, folder: Path, schema: str) -> Path:
        self.check_identifier(schema, "schema")
        if schema.lower() in {"main", "temp"} or "/" in schema or "\\" in schema or schema.startswith("."):
            raise AuditInputError(f"schema {schema!r} cannot name a SQLite database file")
        return folder / f"{schema}.db"

    @staticmethod
    def folder(conn: sqlite3.Connection) -> Path:
        main = next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")
        if not main:
            raise AuditInputError("the SQLite connection must point at a database file, not :memory:")
        return Path(main).parent

    def create_schema(self, session: Session, schema: str) -> None:
        attached = {row[1] for row in session.fetchall("PRAGMA database_list")}
        if schema not in attached:
            raise AuditInputError(f"SQLite schema {schema!r} must be opened with write=True first")

    def schema_exists(self, session: Session, schema: str) -> bool:
        return any(row[1] == schema for row in session.fetchall("PRAGMA database_list"))

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        """``BEGIN IMMEDIATE`` in :meth:`prepare` already holds the write lock."""

    def adapt(self, params: Any) -> Any:
        """Timestamps as ISO text (Python 3.12 deprecates sqlite3's implicit datetime adapter)."""
        return {k: (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for k, v in params.items()}
