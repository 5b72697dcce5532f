"""PostgreSQL: ``%(name)s`` parameters, 63-byte identifiers, advisory locks."""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

from migration_audit_provider.dialects.base import _NAMED_PARAM, AuditDialect, Session


class PostgresAuditDialect(AuditDialect):
    name: ClassVar[str] = "postgres"
    conn_types: ClassVar[tuple[str, ...]] = ("postgres", "postgresql")
    max_identifier_bytes: ClassVar[int | None] = 63

    def convert_params(self, sql: str) -> str:
        return _NAMED_PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))

    def prepare(self, conn: Any, schemas: list[str], *, write: bool) -> None:
        conn.autocommit = False

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        key = zlib.crc32(f"{store_schema}\x00{schema}".encode())
        session.execute("SELECT pg_advisory_xact_lock(:k1, :k2)", {"k1": 7245, "k2": key - 2**31})
