"""One side of the migration (source or target cluster), reached through an Airflow connection.

The SQL hook comes from common-sql by connection id (any connection type whose hook is a
``DbApiHook`` and that has a dialect works); the dialect is chosen by the connection's type.
Nothing here connects until a session is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from migration_audit_provider.dialects import AuditDialect, Session, dialect_for
from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook


class MigrationAuditHook(BaseHook):
    """A migration endpoint: a common-sql hook plus the dialect that speaks to it.

    :param conn_id: Airflow connection of the cluster (``migration_source`` / ``migration_target``).
    :param hook_params: extra keyword arguments for the connection's own hook.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "migration_target"
    conn_type = "migration_audit"
    hook_name = "Migration audit endpoint"

    def __init__(self, conn_id: str = default_conn_name, hook_params: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.hook_params = hook_params or {}

    @cached_property
    def sql_hook(self) -> DbApiHook:
        from airflow.providers.common.sql.hooks.sql import DbApiHook

        hook = self.get_connection(self.conn_id).get_hook(hook_params=self.hook_params)
        if not isinstance(hook, DbApiHook):
            raise AuditInputError(
                f"connection {self.conn_id!r} gives a {type(hook).__name__}, not a common-sql DbApiHook"
            )
        return hook

    @cached_property
    def dialect(self) -> AuditDialect:
        return dialect_for(self.sql_hook, self.get_connection(self.conn_id).conn_type)

    def get_conn(self) -> Any:
        return self.sql_hook.get_conn()

    def session(self, schemas: Sequence[str] = (), *, write: bool = False):
        """Context manager: a :class:`Session` with ``schemas`` reachable, committed on success."""
        return self.dialect.session(schemas, write=write)

    def require_schema(self, session: Session, schema: str) -> None:
        """Refuse a schema this cluster's catalog does not have (a bound-parameter lookup)."""
        self.dialect.check_identifier(schema, "schema")
        if not self.dialect.schema_exists(session, schema):
            raise AuditInputError(f"schema {schema!r} does not exist on connection {self.conn_id!r}")

    def count_tables(
        self, session: Session, schema: str, tables: Sequence[str] | None = None
    ) -> dict[str, int]:
        """Exact row counts of ``tables`` (default: every table of ``schema`` in the catalog).

        Tables the catalog does not list are left out of the result: the caller sees them as absent.
        """
        for attempt in (1, 2):
            listed = self.dialect.list_tables(session, schema)
            if tables is not None:
                present = set(listed)
                listed = [t for t in tables if t in present]
            try:
                return self.dialect.count_rows(session, schema, listed)
            except Exception:
                if attempt == 2:
                    raise
                # A table dropped between the catalog read and the count: read the catalog again.
                self.log.warning("Counting %s failed; reading the catalog again and retrying once", schema)
                session.rollback()
        raise AssertionError("unreachable")
