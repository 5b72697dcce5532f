"""The audit row, defined once: its columns, its dataclass, and what one look at the databases found.

``AUDIT_COLUMNS`` is the column list of ``<store>.audit`` (``create_store.sql`` creates them); reads
select :data:`AuditRow` fields by name (``{audit_columns}`` in the statement files is filled from
the dataclass) and build rows from the cursor's column names, never from positions.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any


def utcnow() -> datetime:
    """Naive UTC, as stored in the audit tables' ``TIMESTAMP`` columns."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One table's current state in ``<store>.audit``."""

    table_schema: str
    table_name: str
    export_status: str | None = None
    src_present: bool | None = None
    src_row_count: int | None = None
    tgt_present: bool | None = None
    tgt_row_count: int | None = None
    src_fingerprint: str | None = None
    tgt_fingerprint: str | None = None
    src_counted_at: Any = None
    tgt_counted_at: Any = None
    count_method: str | None = None
    fingerprinted_at: Any = None
    export_success: bool | None = None
    update_ts: Any = None
    created_ts: Any = None
    last_run_id: str | None = None
    schema_drift: bool | None = None
    """The columns differ in a way a copy cannot bridge (status ``drift``); see ``drift.py``."""
    schema_diff: str | None = None
    """JSON of the column differences, drift and allowed widenings (``None``: the columns agree)."""

    @property
    def table(self) -> str:
        return self.table_name


AUDIT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AuditRow))
"""Every column of ``<store>.audit``."""
_FLAGS = ("src_present", "tgt_present", "export_success", "schema_drift")


def audit_rows(cursor: Any) -> Iterator[AuditRow]:
    """The cursor's rows as :class:`AuditRow`, matched by the column names of its description.

    Built for a million rows: the name → field order is worked out once, flags are made ``bool``
    (SQLite returns ``1``/``0``).
    """
    names = [column[0].lower() for column in cursor.description]
    unknown = set(names) - set(AUDIT_COLUMNS)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not audit row fields")
    flags = [i for i, name in enumerate(names) if name in _FLAGS]
    for row in cursor.fetchall():
        if flags:
            row = list(row)
            for i in flags:
                if row[i] is not None:
                    row[i] = bool(row[i])
        yield AuditRow(**dict(zip(names, row, strict=True)))


def stored_rows(cursor: Any) -> dict[str, Any]:
    """The cursor's audit rows by table name, as light read-only tuples with :class:`AuditRow`'s
    attribute names (a field the statement did not select reads as ``None``).

    For the status pass's read of every stored row (``read_inputs.sql``): a frozen dataclass costs
    ~6 us a row to build, which at 1,000,000 tables was most of an unchanged refresh (BENCHMARKS.md);
    a tuple costs a fraction of that. Flags stay as the driver returns them (SQLite's ``1``/``0``
    compare equal to ``True``/``False``).
    """
    names = tuple(column[0].lower() for column in cursor.description)
    unknown = set(names) - set(AUDIT_COLUMNS)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not audit row fields")
    make = _row_class(names)._make
    key = names.index("table_name")
    return {row[key]: make(row) for row in cursor.fetchall()}


@lru_cache(maxsize=8)
def _row_class(names: tuple[str, ...]) -> type:
    missing = frozenset(AUDIT_COLUMNS).difference(names)

    class StoredRow(namedtuple("StoredRow", names)):  # noqa: PYI024 - names known only at run time
        __slots__ = ()

        def __getattr__(self, name: str) -> Any:  # only for names the statement did not select
            if name in missing:
                return None
            raise AttributeError(name)

        @property
        def table(self) -> str:
            return self.table_name

    return StoredRow


def column_list(columns: Sequence[str] = AUDIT_COLUMNS, alias: str = "") -> str:
    """``a.col1, a.col2, …`` for a statement's ``{audit_columns}`` slot (our own column names)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column for column in columns)


@dataclass(frozen=True)
class Observation:
    """What one look at the catalogs and counts found for a table; ``None`` means "not looked"."""

    table: str
    src_present: bool | None = None
    src_row_count: int | None = None
    tgt_present: bool | None = None
    tgt_row_count: int | None = None
    src_fingerprint: str | None = None
    tgt_fingerprint: str | None = None
    """Content fingerprints, both or neither; taken only when the counts agree."""
    schema_drift: bool | None = None
    """Columns compared and a difference found that a copy cannot bridge; ``None``: not compared."""
    schema_diff: str | None = None
    """The differences as JSON (``drift.SchemaDiff.detail``), ``None`` when the columns agree."""
    filtered: bool = False
    """Counted (and fingerprinted) under a row filter from the settings."""


STAGE_COLUMNS: tuple[str, ...] = (
    "table_name",
    "old_status",
    "src_present",
    "src_row_count",
    "tgt_present",
    "tgt_row_count",
    "src_counted_at",
    "tgt_counted_at",
    "count_method",
    "src_fingerprint",
    "tgt_fingerprint",
    "schema_drift",
    "schema_diff",
)
"""The columns of one staged row (``stage_counts.sql`` names the same), in the order
:func:`migration_audit_provider.status.staged_rows` builds them. One pass stages one schema, in a
table of its own session: no pass id or schema column (the statements take ``:schema``)."""

__all__ = ["AUDIT_COLUMNS", "STAGE_COLUMNS", "AuditRow", "Observation", "audit_rows", "column_list"]
