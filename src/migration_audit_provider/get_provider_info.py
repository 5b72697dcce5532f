"""Provider metadata, found by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from migration_audit_provider import __version__

_DIALECTS = "migration_audit_provider.dialects"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "migration-audit-provider",
        "name": "Migration Audit",
        "description": "Audit and repair a table-by-table data migration between two database clusters "
        "(Vertica, PostgreSQL, SQLite): counts, statuses, history and reruns.",
        "versions": [__version__],
        "operators": [
            {
                "integration-name": "Migration Audit",
                "python-modules": [
                    "migration_audit_provider.operators.audit",
                    "migration_audit_provider.operators.copy",
                ],
            }
        ],
        "hooks": [
            {
                "integration-name": "Migration Audit",
                "python-modules": ["migration_audit_provider.hooks.audit"],
            }
        ],
        "dialects": [
            {"dialect-type": f"migration_audit_{conn_type}", "dialect-class-name": f"{_DIALECTS}.{path}"}
            for conn_type, path in (
                ("postgres", "postgres.PostgresAuditDialect"),
                ("postgresql", "postgres.PostgresAuditDialect"),
                ("sqlite", "sqlite.SqliteAuditDialect"),
                ("vertica", "vertica.VerticaAuditDialect"),
            )
        ],
        "plugins": [
            {
                "name": "migration_audit",
                "plugin-class": "migration_audit_provider.plugins.dashboard.MigrationAuditPlugin",
            }
        ],
        "config": {
            "migration_audit": {
                "description": "The Migration audit dashboard in the Airflow UI.",
                "options": {
                    "conn_id": {
                        "description": "Connection of the target cluster that holds the audit store.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": None,
                        "default": "migration_target",
                    },
                    "store_schema": {
                        "description": "Schema of the audit store on that connection.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": None,
                        "default": "migration",
                    },
                },
            }
        },
        "integrations": [
            {
                "integration-name": "Migration Audit",
                "tags": ["software"],
            }
        ],
    }
