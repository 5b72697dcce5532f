"""Provider metadata, found by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from migration_audit_provider import __version__


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
        "integrations": [
            {
                "integration-name": "Migration Audit",
                "tags": ["software"],
            }
        ],
    }
