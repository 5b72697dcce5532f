"""Copying tables from the source cluster to the target: one primitive, a fast path per pair of databases."""

from __future__ import annotations

from migration_audit_provider.transfers.base import DEFAULT_BATCH_SIZE, CopyJob, CopyOutcome, CopyStrategy
from migration_audit_provider.transfers.table_copy import (
    CopyResult,
    Endpoints,
    copy_table,
    copy_tables,
    record_copy,
    strategy_for,
    summarize,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "CopyJob",
    "CopyOutcome",
    "CopyResult",
    "CopyStrategy",
    "Endpoints",
    "copy_table",
    "copy_tables",
    "record_copy",
    "strategy_for",
    "summarize",
]
