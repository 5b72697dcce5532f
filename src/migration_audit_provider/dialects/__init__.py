"""The databases the provider speaks: one database object per connection type.

The registry is the provider info's ``dialects`` list (``get_provider_info.py``), as common-sql's own
providers register theirs: dialect type ``migration_audit_<conn type>`` names the class. Classes are
imported only when a connection of their type is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from migration_audit_provider.dialects.base import AuditDialect

DIALECT_TYPE_PREFIX = "migration_audit_"


def registered_dialects() -> dict[str, str]:
    """``{connection type: dialect class path}`` from the provider info."""
    from migration_audit_provider.get_provider_info import get_provider_info

    return {
        entry["dialect-type"].removeprefix(DIALECT_TYPE_PREFIX): entry["dialect-class-name"]
        for entry in get_provider_info()["dialects"]
    }


def dialect_for(hook: DbApiHook, conn_type: str) -> AuditDialect:
    """The database object for a hook of connection type ``conn_type``."""
    from airflow.providers.common.compat.module_loading import import_string

    known = registered_dialects()
    if conn_type not in known:
        names = ", ".join(sorted(known))
        raise AuditInputError(
            f"connection type {conn_type!r} has no migration-audit dialect (known: {names})"
        )
    return import_string(known[conn_type])(hook)


__all__ = ["DIALECT_TYPE_PREFIX", "dialect_for", "registered_dialects"]
