"""The databases the provider speaks, chosen by the Airflow connection's type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_audit_provider.dialects.base import AuditDialect, Session
from migration_audit_provider.dialects.postgres import PostgresAuditDialect
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.dialects.vertica import VerticaAuditDialect
from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

DIALECTS: tuple[type[AuditDialect], ...] = (PostgresAuditDialect, SqliteAuditDialect, VerticaAuditDialect)


def dialect_for(hook: DbApiHook, conn_type: str) -> AuditDialect:
    """Return the dialect for a hook of connection type ``conn_type``."""
    for dialect in DIALECTS:
        if conn_type in dialect.conn_types:
            return dialect(hook)
    known = ", ".join(sorted(t for d in DIALECTS for t in d.conn_types))
    raise AuditInputError(f"connection type {conn_type!r} has no migration-audit dialect (known: {known})")


__all__ = [
    "DIALECTS",
    "AuditDialect",
    "PostgresAuditDialect",
    "Session",
    "SqliteAuditDialect",
    "VerticaAuditDialect",
    "dialect_for",
]
