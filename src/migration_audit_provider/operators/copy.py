"""Operators that move the data: the data run of a schema, and the rerun of rejected tables.

Both copy with :func:`migration_audit_provider.transfers.copy_tables`: each table's target rows are
replaced by the source's in one target transaction and the outcome is appended to the audit history.
Running them again, or after a crash at any point, ends with each target table holding exactly the
source's rows. Neither changes audit statuses: run ``RefreshAuditOperator`` afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowSkipException

from migration_audit_provider.exceptions import AuditInputError, CopyFailedError
from migration_audit_provider.operators.audit import BaseAuditOperator, truthy
from migration_audit_provider.status import needs_ddl, tables_to_copy
from migration_audit_provider.store import AuditStore
from migration_audit_provider.transfers import (
    DEFAULT_BATCH_SIZE,
    CopyResult,
    Endpoints,
    copy_tables,
    summarize,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

DEFAULT_MAX_WORKERS = 4
FAILURES_NAMED = 20
"""Failed tables spelled out (with their errors) in the task's error message; the rest are counted."""


class BaseCopyOperator(BaseAuditOperator):
    """Shared arguments and the copy loop of the data run and the rerun.

    :param max_workers: tables copied at the same time, each on its own connections.
    :param batch_size: rows per batch on the row-by-row path (other paths stream).
    :param fail_on_error: raise :class:`CopyFailedError` at the end when a table failed (default);
        ``False`` logs the failures and returns the summary, leaving the verdict to the audit.
    """

    ui_color = "#e8f8ec"

    def __init__(
        self,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fail_on_error: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_workers = max_workers
        self.batch_size = batch_size
        self.fail_on_error = fail_on_error

    def checked_settings(self) -> tuple[int, int]:
        values = []
        for name in ("max_workers", "batch_size"):
            value = getattr(self, name)
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if isinstance(value, bool) or number < 1:
                raise AuditInputError(f"{name} must be a positive integer, got {value!r}")
            values.append(number)
        return values[0], values[1]

    def endpoints(self) -> Endpoints:
        """Fresh hooks and store for one worker thread (hooks keep per-connection state)."""
        target = self.make_target()
        return Endpoints(
            source=self.make_source(), target=target, store=AuditStore(target, self.store_schema)
        )

    def run_copies(self, schema: str, tables: Sequence[str], context: Context) -> dict[str, Any]:
        max_workers, batch_size = self.checked_settings()
        started = time.perf_counter()
        self.log.info("Copying %s table(s) of %s, up to %s at a time", len(tables), schema, max_workers)
        results = copy_tables(
            tables,
            schema=schema,
            make_endpoints=self.endpoints,
            context=context,
            batch_size=batch_size,
            max_workers=max_workers,
            on_result=self._log_result,
        )
        summary = summarize(schema, results, time.perf_counter() - started)
        self.log.info(
            "Copy of %s: %s copied, %s failed, %s missing, %s rows written in %.1f s",
            schema,
            summary["copied"],
            len(summary["failed"]),
            len(summary["missing"]),
            summary["rows_written"],
            summary["seconds"],
        )
        failed = [r for r in results if r.status == "failed"]
        if failed:
            message = _failure_message(schema, failed, len(results))
            if self.fail_on_error:
                raise CopyFailedError(message)
            self.log.error("%s (fail_on_error=False: the task succeeds)", message)
        return summary

    def _log_result(self, result: CopyResult) -> None:
        if result.status == "copied":
            self.log.info(
                "Copied %s.%s: %s rows in %.2f s (%s)",
                result.schema,
                result.table,
                result.rows_written,
                result.seconds,
                result.method,
            )
        elif result.status == "missing":
            self.log.warning("Not copied %s.%s: %s", result.schema, result.table, result.error)
        else:
            self.log.error("Copy of %s.%s failed: %s", result.schema, result.table, result.error)


class DataRunOperator(BaseCopyOperator):
    """Copy a schema's tables that need it from the source to the target, a few at a time.

    Which tables: ``status.tables_to_copy`` - those present in the source that are not ``complete``,
    changed in the source since the last audit, or never copied; with ``full_reload``, every table
    the store has as present in the source. If the store knows nothing of the schema yet, every table
    of the source catalog. A table that fails does not stop the others;
    the task fails at the end, naming the failed tables. Target tables that do not exist are
    reported as ``missing`` and do not fail the task. Returns a summary (copied, failed, missing,
    rows written, seconds, and how many tables were left as they were); a schema with no tables
    gives an empty one (not a skip, so that the refresh after the data run still runs).

    :param full_reload: copy every table, not only those that need it.
    """

    template_fields: Sequence[str] = (*BaseCopyOperator.template_fields, "full_reload")

    def __init__(self, *, full_reload: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.full_reload = full_reload

    def execute(self, context: Context) -> dict[str, Any]:
        schema = self.checked_schema(self.schema)
        self.checked_settings()
        with self.source.session([schema]) as src:
            self.source.require_schema(src, schema)
            catalog = self.source.dialect.list_tables(src, schema)
        with self.store.session(write=True) as session:
            self.store.ensure(session)
            audited = self.store.read(session, schema)
            copied = self.store.copied_tables(session, schema)
        if audited:
            full = truthy(self.full_reload)
            tables = tables_to_copy(audited, copied, full_reload=full)
            ddl = needs_ddl(audited)
            present = sum(1 for row in audited.values() if row.src_present)
            reason = " (full reload)" if full else ""
            self.log.info("%s of %s table(s) of %s need copying%s", len(tables), present, schema, reason)
            if ddl:
                self.log.warning(
                    "Not copied, a DDL fix first (target table missing, or its columns differ): %s",
                    ", ".join(f"{t} ({audited[t].export_status})" for t in ddl),
                )
        else:
            tables, present, ddl = list(catalog), len(catalog), []
        summary = self.run_copies(schema, tables, context)
        summary["needs_ddl"] = ddl
        summary["unchanged"] = present - len(tables) - len(ddl)
        return summary


class RejectRerunOperator(BaseCopyOperator):
    """Copy the given tables again (one batch of ``GetRejectsOperator``'s output).

    Made for dynamic task mapping over the batches::

        rerun = RejectRerunOperator.partial(task_id="rerun_rejects", schema="sales").expand(
            tables=get_rejects.output
        )

    :param tables: table names; each must be in the audit store for ``schema``.
    """

    template_fields: Sequence[str] = (*BaseAuditOperator.template_fields, "tables")

    def __init__(self, *, tables: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tables = tables

    def checked_tables(self) -> list[str]:
        tables = self.tables
        if isinstance(tables, str) or not isinstance(tables, (list, tuple)):
            raise AuditInputError(f"tables must be a list of table names, got {tables!r}")
        bad = [t for t in tables if not isinstance(t, str) or not t]
        if bad:
            raise AuditInputError(f"tables must be non-empty strings, got {bad!r}")
        for table in tables:
            self.target.dialect.check_identifier(table, "table")
        return list(dict.fromkeys(tables))

    def execute(self, context: Context) -> dict[str, Any]:
        schema = self.checked_schema(self.schema)
        tables = self.checked_tables()
        self.checked_settings()
        if not tables:
            raise AirflowSkipException("no tables to rerun")
        with self.source.session([schema]) as src:
            self.source.require_schema(src, schema)
        with self.store.session(write=True) as session:
            self.store.ensure(session)
            audited = self.store.read(session, schema)
        unknown = [t for t in tables if t not in audited]
        if unknown:
            raise AuditInputError(
                f"table(s) not in the audit store for schema {schema!r}: {', '.join(map(repr, unknown))}"
            )
        return self.run_copies(schema, tables, context)


def _failure_message(schema: str, failed: list[CopyResult], total: int) -> str:
    named = "; ".join(f"{r.table}: {_first_line(r.error)}" for r in failed[:FAILURES_NAMED])
    more = f"; and {len(failed) - FAILURES_NAMED} more" if len(failed) > FAILURES_NAMED else ""
    return f"{len(failed)} of {total} table(s) of {schema} failed to copy: {named}{more}"


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return (lines[0] if lines else "unknown error")[:300]
