"""The statement files, listed for the tests that parse every one of them."""

from __future__ import annotations

from migration_audit_provider.dialects import registered_dialects
from migration_audit_provider.sql import sql_root


def dialect_folders() -> set[str]:
    """Folder names under ``sql/`` that belong to a database object (its overrides)."""
    from airflow.providers.common.compat.module_loading import import_string

    return {import_string(path).name for path in registered_dialects().values()}


def statement_names() -> dict[str, list[str]]:
    """Map each dialect folder (and ``""`` for portable files) to the statement names it holds.

    A folder named after a dialect holds that dialect's overrides; any other folder (``dashboard/``)
    groups portable statements, listed as ``"folder/name"``. Sub-folders of a dialect folder
    (``vertica/copy/``) hold templates with their own placeholders and are not listed.
    """
    dialects = dialect_folders()
    root = sql_root()
    out: dict[str, list[str]] = {"": []}
    for entry in root.iterdir():
        if entry.is_dir() and entry.name in dialects:
            out[entry.name] = sorted(p.name[:-4] for p in entry.iterdir() if p.name.endswith(".sql"))
        elif entry.is_dir():
            out[""] += [f"{entry.name}/{p.name[:-4]}" for p in entry.iterdir() if p.name.endswith(".sql")]
        elif entry.name.endswith(".sql"):
            out[""].append(entry.name[:-4])
    out[""].sort()
    return out
