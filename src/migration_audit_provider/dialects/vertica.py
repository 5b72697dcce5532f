"""Vertica (production): 128-byte identifiers, table locks, one statement per call.

Vertica's own rules that shape the rest of the provider are handled here or in
``include/sql/vertica/``: ``TRUNCATE`` and ``COPY`` commit on their own, ``UPDATE`` leaves delete
vectors (so statements touch only rows that change), and an error in a later statement of a
multi-statement string can go unnoticed (so every statement is sent alone).
"""

from __future__ import annotations

from typing import Any, ClassVar

from migration_audit_provider.dialects.base import AuditDialect, Session


class VerticaAuditDialect(AuditDialect):
    name: ClassVar[str] = "vertica"
    conn_types: ClassVar[tuple[str, ...]] = ("vertica",)
    max_identifier_bytes: ClassVar[int | None] = 128

    # vertica-python binds ``:name`` parameters itself.

    def prepare(self, conn: Any, schemas: list[str], *, write: bool) -> None:
        conn.autocommit = False

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        # Vertica has no advisory locks: an exclusive lock on the audit table serialises writers
        # (readers are not blocked) until the transaction commits.
        session.execute(f"LOCK TABLE {self.qualified(store_schema, 'audit')} IN EXCLUSIVE MODE")
