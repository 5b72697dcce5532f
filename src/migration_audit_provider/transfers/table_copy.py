"""The one per-table copy primitive, the registry of fast paths, and the runner that copies many tables.

:func:`copy_table` replaces a target table's rows with the source table's rows and returns what it
did; :func:`record_copy` appends that to the audit history; :func:`copy_tables` does both for many
tables, a few at a time, and keeps going when one fails. The data run and the reject rerun are both
built on :func:`copy_tables`, so running either again, or after a crash at any point, ends with the
same rows: every strategy replaces the whole table in one target transaction (see each strategy's
docstring for what "atomic" means on its database).

Which strategy copies a table is the target database object's answer (``server_copy``: e.g. Vertica
pulls from Vertica, PostgreSQL streams from PostgreSQL); any other pair gets
:class:`~.generic.GenericCopyStrategy`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.transfers.base import DEFAULT_BATCH_SIZE, CopyJob, CopyStrategy
from migration_audit_provider.transfers.generic import GenericCopyStrategy

if TYPE_CHECKING:
    from migration_audit_provider.hooks.audit import MigrationAuditHook
    from migration_audit_provider.store import AuditStore

COPIED, FAILED, MISSING = "copied", "failed", "missing"


def strategy_for(source: MigrationAuditHook, target: MigrationAuditHook) -> CopyStrategy:
    """The strategy for copying from ``source``'s database to ``target``'s: the target database's own
    server-side copy from that source if it has one, else the batched row-by-row path."""
    return target.dialect.server_copy(source, target) or GenericCopyStrategy(source, target)


@dataclass
class CopyResult:
    """What one table's copy did; ``status`` is ``copied``, ``failed`` or ``missing``."""

    schema: str
    table: str
    status: str
    method: str
    rows_read: int | None = None
    rows_written: int | None = None
    seconds: float = 0.0
    error: str | None = None


def copy_table(
    source: MigrationAuditHook,
    target: MigrationAuditHook,
    schema: str,
    table: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    strategy: CopyStrategy | None = None,
    target_schema_exists: bool = True,
) -> CopyResult:
    """Replace the rows of ``schema.table`` on the target with the source's; never raises for the table.

    Columns are matched by name (the target may order them differently); a column on one side only is
    an error for this table. A table the target does not have is reported as ``missing``.
    """
    strategy = strategy or strategy_for(source, target)
    method = getattr(strategy, "method_name", strategy.method)
    started = time.perf_counter()

    def result(status: str, **kw: Any) -> CopyResult:
        seconds = round(time.perf_counter() - started, 3)
        return CopyResult(schema, table, status, kw.pop("method", method), seconds=seconds, **kw)

    try:
        target.dialect.check_identifier(table, "table")
        if not target_schema_exists:
            return result(MISSING, error=f"missing: schema {schema!r} does not exist on the target")
        with source.session([schema]) as src:
            source_columns = source.dialect.list_columns(src, schema, table)
            if not source_columns:
                raise AuditInputError(f"source table {schema}.{table} does not exist")
            with target.session([schema], write=True) as tgt:
                target_columns = target.dialect.list_columns(tgt, schema, table)
                if not target_columns:
                    return result(MISSING, error=f"missing: target table {schema}.{table} does not exist")
                check_columns(schema, table, source_columns, target_columns)
                job = CopyJob(schema, table, list(source_columns), src, tgt, batch_size)
                outcome = strategy.copy(job)
        return result(
            COPIED, method=outcome.method, rows_read=outcome.rows_read, rows_written=outcome.rows_written
        )
    except Exception as exc:
        return result(FAILED, error=f"{type(exc).__name__}: {exc}")


def check_columns(schema: str, table: str, source: Sequence[str], target: Sequence[str]) -> None:
    source_names, target_names = set(source), set(target)
    only_source = [c for c in source if c not in target_names]
    only_target = [c for c in target if c not in source_names]
    if only_source or only_target:
        parts = []
        if only_source:
            parts.append(f"source columns missing on the target: {', '.join(map(repr, only_source))}")
        if only_target:
            parts.append(f"target columns missing in the source: {', '.join(map(repr, only_target))}")
        raise AuditInputError(f"columns of {schema}.{table} differ: {'; '.join(parts)}")


def record_copy(store: AuditStore, context: Mapping[str, Any], result: CopyResult) -> None:
    """Append ``result`` to the audit history as one ``copy`` event (its own small transaction)."""
    with store.session(write=True) as session:
        store.record_copy(session, context=context, result=result)


@dataclass
class Endpoints:
    """One worker's own hooks (a common-sql hook is not safe to share between threads) and store."""

    source: MigrationAuditHook
    target: MigrationAuditHook
    store: AuditStore


def copy_tables(
    tables: Sequence[str],
    *,
    schema: str,
    make_endpoints: Callable[[], Endpoints],
    context: Mapping[str, Any],
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_workers: int = 4,
    on_result: Callable[[CopyResult], None] | None = None,
) -> list[CopyResult]:
    """Copy and record each table, at most ``max_workers`` at a time; results in ``tables`` order.

    Each worker thread opens its own connections. A table that fails does not stop the others; its
    failure is in its result and in the history. The strategy may lower the concurrency (SQLite
    takes one writer at a time).
    """
    tables = list(dict.fromkeys(tables))
    if not tables:
        return []
    probe = make_endpoints()
    with probe.target.session([schema]) as session:
        target_schema_exists = probe.target.dialect.schema_exists(session, schema)
    limit = strategy_for(probe.source, probe.target).max_parallel or max_workers
    workers = max(1, min(max_workers, limit, len(tables)))

    local = threading.local()

    def work(table: str) -> CopyResult:
        try:
            if not hasattr(local, "endpoints"):
                local.endpoints = make_endpoints()
            ep: Endpoints = local.endpoints
            result = copy_table(
                ep.source,
                ep.target,
                schema,
                table,
                batch_size=batch_size,
                target_schema_exists=target_schema_exists,
            )
        except Exception as exc:  # setting up the worker failed: this table failed, the others go on
            return CopyResult(schema, table, FAILED, "none", error=f"{type(exc).__name__}: {exc}")
        try:
            record_copy(ep.store, context, result)
        except Exception as exc:
            result.status = FAILED
            result.error = f"{result.error + '; ' if result.error else ''}history not recorded: {exc}"
        return result

    results: dict[str, CopyResult] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="table-copy")
    finished = False
    try:
        futures = [pool.submit(work, table) for table in tables]
        for future in as_completed(futures):
            result = future.result()
            results[result.table] = result
            if on_result is not None:
                on_result(result)
        finished = True
    finally:
        # Interrupted (task killed or timed out): start no further table; running copies roll back
        # when their connections close with the process.
        pool.shutdown(wait=finished, cancel_futures=True)
    return [results[table] for table in tables]


def summarize(schema: str, results: Sequence[CopyResult], seconds: float) -> dict[str, Any]:
    """The operators' XCom value: small and JSON-serialisable."""
    methods: dict[str, int] = {}
    for r in results:
        if r.status == COPIED:
            methods[r.method] = methods.get(r.method, 0) + 1
    return {
        "schema": schema,
        "tables": len(results),
        "copied": sum(r.status == COPIED for r in results),
        "failed": sorted(r.table for r in results if r.status == FAILED),
        "missing": sorted(r.table for r in results if r.status == MISSING),
        "rows_written": sum(r.rows_written or 0 for r in results if r.status == COPIED),
        "seconds": round(seconds, 3),
        "methods": methods,
    }
