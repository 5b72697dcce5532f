"""Which schemas are audited, and how: read from a YAML file shipped with the DAGs.

The file is read at DAG-parse time (a local file, no database). Everything in it is validated here,
so a typo fails the DAG import with a clear message instead of a task at 3 a.m.

.. code-block:: yaml

    defaults:               # apply to every schema unless overridden
      source_conn_id: migration_source
      target_conn_id: migration_target
      schedule: "0 3 * * *"
    schemas:
      sales: {}
      "Finance Dept": {dag_id: migration_audit__finance}
      orders:               # count and fingerprint only the rows that are no longer written
        filters: {"*": "created_at < '2026-11-01'", "order_lines": "id < 1000000"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from migration_audit_provider.constants import (
    DAG_ID_PREFIX,
    DEFAULT_FINGERPRINT_ALL_BELOW_ROWS,
    DEFAULT_FINGERPRINT_MODE,
    DEFAULT_ON_INCOMPLETE,
    DEFAULT_SOURCE_CONN_ID,
    DEFAULT_STORE_SCHEMA,
    DEFAULT_TARGET_CONN_ID,
    ON_INCOMPLETE,
)
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.filters import parse_filters
from migration_audit_provider.fingerprint import Normalisation
from migration_audit_provider.status import fingerprint_rule


@dataclass(frozen=True)
class SchemaSettings:
    """Settings of one audited schema (one DAG)."""

    schema: str
    dag_id: str
    source_conn_id: str = DEFAULT_SOURCE_CONN_ID
    target_conn_id: str = DEFAULT_TARGET_CONN_ID
    store_schema: str = DEFAULT_STORE_SCHEMA
    schedule: str | None = "0 3 * * *"
    """Cron (UTC) for the time half of the schedule; runs also start after each migration batch."""
    start_date: str = "2026-01-01"
    data_run: bool = True
    """Copy the schema's tables before auditing; ``false`` for an audit-only DAG."""
    full_reload: bool = False
    """The data run copies every table, not only those that need it (see ``status.tables_to_copy``)."""
    max_workers: int = 4
    rerun_batch_size: int = 100
    count_source: bool = True
    rerun_partials: bool = False
    rerun_overloads: bool = False
    on_incomplete: str = DEFAULT_ON_INCOMPLETE
    fingerprint: str = DEFAULT_FINGERPRINT_MODE
    """Compare the content of tables whose counts agree: ``small_and_new`` (default), ``new_complete``,
    ``all`` or ``off`` (``status.fingerprint_candidates``)."""
    fingerprint_all_below_rows: int = DEFAULT_FINGERPRINT_ALL_BELOW_ROWS
    """``small_and_new``: complete tables of at most this many rows are fingerprinted on every refresh."""
    float_digits: int = Normalisation.float_digits
    """Cross-engine fingerprints compare floating-point values to this many significant digits (1-15)."""
    timestamp_digits: int = Normalisation.timestamp_digits
    """Cross-engine fingerprints compare this many fractional digits of seconds (0-6), in UTC."""
    char_padding: str = Normalisation.char_padding
    """``ignore`` (default) or ``keep`` trailing spaces of ``CHAR(n)`` columns in fingerprints."""
    retries: int = 2
    filters: dict[str, str] | None = None
    """Row filters for tables still being written: ``{table or "*": boolean SQL expression}``, applied
    to counts and fingerprints on both sides (``filters.py``); only from this file, never a trigger."""


def slug(schema: str) -> str:
    """A DAG-id-safe, lower-case form of a schema name (``"Finance Dept"`` -> ``finance_dept``)."""
    text = re.sub(r"[^0-9A-Za-z]+", "_", schema).strip("_").lower()
    return text or "schema"


def parse_settings(raw: Any, source: str = "config") -> list[SchemaSettings]:
    if not isinstance(raw, dict) or not isinstance(raw.get("schemas"), dict) or not raw["schemas"]:
        raise AuditInputError(f"{source}: expected a mapping with a non-empty 'schemas' mapping")
    allowed = {f.name for f in fields(SchemaSettings)} - {"schema"}
    defaults = raw.get("defaults") or {}
    _check_keys(defaults, allowed - {"dag_id"}, f"{source}: defaults")
    out: list[SchemaSettings] = []
    for schema, overrides in raw["schemas"].items():
        overrides = overrides or {}
        _check_keys(overrides, allowed, f"{source}: schema {schema!r}")
        if not isinstance(schema, str) or not schema or any(ord(c) < 32 for c in schema):
            raise AuditInputError(f"{source}: schema names must be non-empty strings, got {schema!r}")
        if any(marker in schema for marker in ("{{", "{%", "{#")):
            raise AuditInputError(f"{source}: schema {schema!r} holds Jinja template markers")
        merged = {**defaults, **overrides}
        merged.setdefault("dag_id", DAG_ID_PREFIX + slug(schema))
        settings = SchemaSettings(schema=schema, **merged)
        _check_values(settings, source)
        out.append(settings)
    dag_ids = [s.dag_id for s in out]
    duplicates = sorted({d for d in dag_ids if dag_ids.count(d) > 1})
    if duplicates:
        raise AuditInputError(f"{source}: schemas map to the same DAG id {duplicates}; set dag_id for them")
    return out


def load_settings(path: str | Path) -> list[SchemaSettings]:
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise AuditInputError(f"cannot read migration audit config {path}: {err}") from err
    return parse_settings(raw, str(path))


def _check_keys(mapping: Any, allowed: set[str], where: str) -> None:
    if not isinstance(mapping, dict):
        raise AuditInputError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise AuditInputError(f"{where}: unknown setting(s) {unknown}; known: {sorted(allowed)}")


def _check_values(s: SchemaSettings, source: str) -> None:
    where = f"{source}: schema {s.schema!r}"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", s.dag_id):
        raise AuditInputError(f"{where}: dag_id {s.dag_id!r} may hold only letters, digits, '_', '.', '-'")
    for name in ("data_run", "full_reload", "count_source", "rerun_partials", "rerun_overloads"):
        if not isinstance(getattr(s, name), bool):
            raise AuditInputError(f"{where}: {name} must be true or false")
    for name in ("max_workers", "rerun_batch_size"):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise AuditInputError(f"{where}: {name} must be a positive integer")
    if not isinstance(s.retries, int) or s.retries < 0:
        raise AuditInputError(f"{where}: retries must be a non-negative integer")
    if isinstance(s.fingerprint_all_below_rows, str):  # "100000" is a typo here, not a template
        raise AuditInputError(f"{where}: fingerprint_all_below_rows must be a non-negative integer (rows)")
    try:
        fingerprint_rule(s.fingerprint, s.fingerprint_all_below_rows)
    except AuditInputError as err:
        raise AuditInputError(f"{where}: {err}") from err
    try:
        Normalisation(s.float_digits, s.timestamp_digits, s.char_padding)
    except AuditInputError as err:
        raise AuditInputError(f"{where}: {err}") from err
    if s.on_incomplete not in ON_INCOMPLETE:
        raise AuditInputError(f"{where}: on_incomplete must be one of {ON_INCOMPLETE}")
    parse_filters(s.filters, f"{where}: filters")
    if s.schedule is not None:
        from croniter import croniter

        if not isinstance(s.schedule, str) or not croniter.is_valid(s.schedule):
            raise AuditInputError(f"{where}: schedule {s.schedule!r} is not a valid cron expression")
    try:
        from datetime import date

        date.fromisoformat(str(s.start_date))
    except ValueError as err:
        raise AuditInputError(f"{where}: start_date {s.start_date!r} is not a YYYY-MM-DD date") from err


__all__ = ["DAG_ID_PREFIX", "SchemaSettings", "load_settings", "parse_settings", "slug"]
