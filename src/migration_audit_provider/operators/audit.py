"""Operators that keep ``migration.audit`` up to date: init, refresh, and the list of rejects.

Each is idempotent: re-running it with nothing changed in the databases writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.sql.operators.sql import BaseSQLOperator

from migration_audit_provider.config import FINGERPRINT_MODES
from migration_audit_provider.exceptions import AuditIncompleteError, AuditInputError
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.store import (
    DEFAULT_STORE_SCHEMA,
    STATUSES,
    AuditRow,
    AuditStore,
    Observation,
    utcnow,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from migration_audit_provider.fingerprint import Comparison

DEFAULT_SOURCE_CONN_ID = "migration_source"
DEFAULT_TARGET_CONN_ID = "migration_target"


class BaseAuditOperator(BaseSQLOperator):
    """Shared arguments of the audit operators.

    ``conn_id`` (from common-sql's ``BaseSQLOperator``) is the **target** cluster, which also holds
    the audit store; ``source_conn_id`` is the source cluster.

    :param schema: the schema (on both clusters) to audit.
    :param source_conn_id: Airflow connection of the source cluster.
    :param store_schema: schema of the audit store on the target connection.
    :param allowed_schemas: when given, ``schema`` must be one of these (checked before any SQL).
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "hook_params",
        "schema",
        "source_conn_id",
        "store_schema",
        "allowed_schemas",
    )
    ui_color = "#e8f0f8"

    def __init__(
        self,
        *,
        schema: str | None = None,
        conn_id: str = DEFAULT_TARGET_CONN_ID,
        source_conn_id: str = DEFAULT_SOURCE_CONN_ID,
        store_schema: str = DEFAULT_STORE_SCHEMA,
        allowed_schemas: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.schema = schema
        self.source_conn_id = source_conn_id
        self.store_schema = store_schema
        self.allowed_schemas = allowed_schemas

    @cached_property
    def target(self) -> MigrationAuditHook:
        return MigrationAuditHook(self.conn_id, self.hook_params)

    @cached_property
    def source(self) -> MigrationAuditHook:
        return MigrationAuditHook(self.source_conn_id)

    @cached_property
    def store(self) -> AuditStore:
        return AuditStore(self.target.dialect, self.store_schema)

    def checked_schema(self, schema: Any) -> str:
        """Validate a schema parameter before any SQL runs; raise :class:`AuditInputError` if bad."""
        if not isinstance(schema, str) or not schema.strip():
            raise AuditInputError(f"schema must be a non-empty string, got {schema!r}")
        if self.allowed_schemas is not None and schema not in self.allowed_schemas:
            raise AuditInputError(
                f"schema {schema!r} is not one of the configured schemas: {', '.join(self.allowed_schemas)}"
            )
        self.source.dialect.check_identifier(schema, "schema")
        self.target.dialect.check_identifier(schema, "schema")
        return schema


class InitAuditOperator(BaseAuditOperator):
    """Register one schema's source tables in the audit table with exact source row counts.

    New tables become ``pending``; known tables get fresh source counts; tables gone from the source
    become ``dropped`` (never deleted). Returns the schema's per-status summary.
    """

    def execute(self, context: Context) -> dict[str, Any]:
        schema = self.checked_schema(self.schema)
        started = utcnow()
        with self.source.session([schema]) as src:
            self.source.require_schema(src, schema)
            counts = self.source.count_tables(src, schema)
        counted_at = utcnow()
        observations = [Observation(t, src_present=True, src_row_count=n) for t, n in counts.items()]
        with self.store.session(write=True) as session:
            self.store.ensure(session)
            result = self.store.sync(
                session,
                schema,
                observations,
                source_complete=True,
                context=context,
                event_type="init",
                src_counted_at=counted_at,
            )
            self.store.record_run(
                session,
                context=context,
                step="init",
                schema=schema,
                started_at=started,
                tables_seen=result.tables_seen,
                rows_changed=result.changed + result.added,
            )
            summary = self.store.summary(session, schema)
        summary.update(added=result.added, changed=result.changed)
        self.log.info(
            "Init audit of %s: %s source tables, %s added, %s changed; by status %s",
            schema,
            len(counts),
            result.added,
            result.changed,
            summary["by_status"],
        )
        return summary


class RefreshAuditOperator(BaseAuditOperator):
    """Recount and set every audited table's status in one pass; ``schema=None`` refreshes all.

    :param count_source: recount the source too (default), so a source that changed shows as
        ``partial``/``overload``; ``False`` keeps the source counts from the last init/refresh.
    :param fingerprint: compare content, not only counts, of tables whose counts agree:
        ``"new_complete"`` (default) for those that just turned complete, ``"all"`` for every one,
        ``"off"`` for none. A table with equal counts and different fingerprints is a ``mismatch``;
        with a one-column primary key, the differing keys are found and recorded in the history.
    :param max_mismatch_keys: differing keys recorded at most per table.
    :param force: restage every table even if its counts did not change (repairs hand edits).
    """

    template_fields: Sequence[str] = (*BaseAuditOperator.template_fields, "count_source", "fingerprint")

    def __init__(
        self,
        *,
        count_source: bool = True,
        fingerprint: str = "new_complete",
        max_mismatch_keys: int = 100,
        force: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.count_source = count_source
        self.fingerprint = fingerprint
        self.max_mismatch_keys = max_mismatch_keys
        self.force = force

    def execute(self, context: Context) -> dict[str, Any]:
        if self.schema is None:
            with self.store.session(write=True) as session:
                self.store.ensure(session)
                schemas = self.store.audited_schemas(session)
        else:
            schemas = [self.checked_schema(self.schema)]
        summaries = {schema: self.refresh_schema(schema, context) for schema in schemas}
        totals: dict[str, int] = {}
        for summary in summaries.values():
            for status, n in summary["by_status"].items():
                totals[status] = totals.get(status, 0) + n
        result = {
            "schemas": summaries,
            "tables": sum(s["tables"] for s in summaries.values()),
            "by_status": {s: totals[s] for s in STATUSES if s in totals},
            "changed": sum(s["changed"] for s in summaries.values()),
        }
        self.log.info(
            "Refreshed %s schema(s), %s tables: %s", len(schemas), result["tables"], result["by_status"]
        )
        return result

    def refresh_schema(self, schema: str, context: Context) -> dict[str, Any]:
        started = utcnow()
        count_source = _truthy(self.count_source)
        mode = self.checked_fingerprint_mode()
        src_counts: dict[str, int] = {}
        src_counted_at = None
        with self.source.session([schema]) as src:
            self.source.require_schema(src, schema)  # before anything is written
            if count_source:
                src_counts = self.source.count_tables(src, schema)
                src_counted_at = utcnow()
        with self.store.session(write=True) as session:
            self.store.ensure(session)
            stored = self.store.read(session, schema)
        tables = sorted(stored.keys() | src_counts.keys())

        with self.target.session([schema]) as tgt:
            tgt_counts = self.target.count_tables(tgt, schema, tables)
        tgt_counted_at = utcnow()
        if not count_source:
            src_counts = {t: row.src_row_count for t, row in stored.items() if row.src_present}

        comparisons = self.compare_contents(schema, mode, stored, src_counts, tgt_counts)
        observations = []
        for table in tables:
            comparison = comparisons.get(table)
            observations.append(
                Observation(
                    table,
                    src_present=(table in src_counts) if count_source else None,
                    src_row_count=src_counts.get(table) if count_source else None,
                    tgt_present=table in tgt_counts,
                    tgt_row_count=tgt_counts.get(table),
                    src_fingerprint=comparison.source if comparison else None,
                    tgt_fingerprint=comparison.target if comparison else None,
                )
            )
        with self.store.session(schema, write=True) as session:
            result = self.store.sync(
                session,
                schema,
                observations,
                source_complete=count_source,
                context=context,
                event_type="refresh",
                src_counted_at=src_counted_at,
                tgt_counted_at=tgt_counted_at,
                force=self.force,
            )
            for comparison in comparisons.values():
                if not comparison.equal:
                    self.store.record_mismatch(session, context=context, schema=schema, comparison=comparison)
            self.store.record_run(
                session,
                context=context,
                step="refresh",
                schema=schema,
                started_at=started,
                tables_seen=result.tables_seen,
                rows_changed=result.changed + result.added,
            )
            summary = self.store.summary(session, schema)
        summary["changed"] = result.changed + result.added
        summary["fingerprinted"] = len(comparisons)
        self.log.info(
            "Refresh of %s: %s rows changed, %s table(s) fingerprinted; by status %s",
            schema,
            summary["changed"],
            len(comparisons),
            summary["by_status"],
        )
        return summary

    def checked_fingerprint_mode(self) -> str:
        mode = self.fingerprint if self.fingerprint is not None else "off"
        if mode not in FINGERPRINT_MODES:
            raise AuditInputError(f"fingerprint must be one of {FINGERPRINT_MODES}, got {mode!r}")
        return mode

    def compare_contents(
        self,
        schema: str,
        mode: str,
        stored: dict[str, AuditRow],
        src_counts: dict[str, int],
        tgt_counts: dict[str, int],
    ) -> dict[str, Comparison]:
        """Fingerprint the tables whose counts agree: all of them, or those that just turned complete.

        A table "just turned complete" when its counts agree now and its stored status is not
        ``complete`` or its stored counts differ. A table that cannot be fingerprinted (an unusual
        column type) is logged and left to the counts.
        """
        if mode == "off":
            return {}
        candidates = []
        for table, n in tgt_counts.items():
            if src_counts.get(table) != n:
                continue
            row = stored.get(table)
            fresh = (
                row is None
                or row.export_status != "complete"
                or (row.src_row_count, row.tgt_row_count)
                != (
                    src_counts[table],
                    n,
                )
            )
            if mode == "all" or fresh:
                candidates.append(table)
        if not candidates:
            return {}
        from migration_audit_provider.fingerprint import compare_table

        comparisons: dict[str, Comparison] = {}
        with self.source.session([schema]) as src, self.target.session([schema]) as tgt:
            for table in sorted(candidates):
                try:
                    comparisons[table] = compare_table(
                        src, tgt, schema, table, max_keys=self.max_mismatch_keys
                    )
                except Exception as err:
                    self.log.warning(
                        "Could not fingerprint %s.%s (%s); counts decide its status", schema, table, err
                    )
                finally:
                    # End the read transaction per table: PostgreSQL holds a lock per table read until
                    # then, and 20,000 of them exhaust its lock table ("out of shared memory").
                    src.rollback()
                    tgt.rollback()
        return comparisons


class GetRejectsOperator(BaseAuditOperator):
    """Return a schema's tables in the given statuses, in batches ready for ``.expand()``.

    The XCom value is a list of lists of table names (at most ``batch_size`` each), so thousands of
    rejects become a handful of mapped rerun tasks. An empty list means nothing to rerun.

    :param statuses: statuses to select (default ``reject`` and ``mismatch``: same count, other content).
    :param include_partial: also select ``partial`` tables.
    :param include_overload: also select ``overload`` tables.
    :param batch_size: tables per batch.
    """

    template_fields: Sequence[str] = (
        *BaseAuditOperator.template_fields,
        "statuses",
        "include_partial",
        "include_overload",
    )

    def __init__(
        self,
        *,
        statuses: Sequence[str] = ("reject", "mismatch"),
        include_partial: bool = False,
        include_overload: bool = False,
        batch_size: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.statuses = statuses
        self.include_partial = include_partial
        self.include_overload = include_overload
        self.batch_size = batch_size

    def execute(self, context: Context) -> list[list[str]]:
        schema = self.checked_schema(self.schema)
        if self.batch_size < 1:
            raise AuditInputError(f"batch_size must be at least 1, got {self.batch_size}")
        wanted = set(self.statuses)
        if _truthy(self.include_partial):
            wanted.add("partial")
        if _truthy(self.include_overload):
            wanted.add("overload")
        with self.store.session() as session:
            tables = self.store.tables_with_status(session, schema, wanted)
        batches = [tables[i : i + self.batch_size] for i in range(0, len(tables), self.batch_size)]
        self.log.info(
            "%s table(s) of %s in %s: %s batch(es)", len(tables), schema, sorted(wanted), len(batches)
        )
        return batches


def _truthy(value: Any) -> bool:
    """Template-rendered flags arrive as strings (``"True"``) unless the DAG renders native objects."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class CheckAuditOperator(BaseAuditOperator):
    """End of the chain: the schema's final result, failing the run if tables are still not complete.

    :param on_incomplete: ``"fail"`` (default) fails the task naming the tables that are not
        ``complete``; ``"warn"`` logs them and succeeds.
    :param ignore_statuses: statuses that do not count against completeness (default: ``dropped``,
        a table that no longer exists in the source).
    :param max_names: at most this many table names in the message and the XCom value.
    """

    template_fields: Sequence[str] = (*BaseAuditOperator.template_fields, "on_incomplete")

    def __init__(
        self,
        *,
        on_incomplete: str = "fail",
        ignore_statuses: Sequence[str] = ("dropped",),
        max_names: int = 50,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_incomplete = on_incomplete
        self.ignore_statuses = ignore_statuses
        self.max_names = max_names

    def execute(self, context: Context) -> dict[str, Any]:
        schema = self.checked_schema(self.schema)
        if self.on_incomplete not in ("fail", "warn"):
            raise AuditInputError(f"on_incomplete must be 'fail' or 'warn', got {self.on_incomplete!r}")
        not_ok = [s for s in STATUSES if s != "complete" and s not in self.ignore_statuses]
        with self.store.session() as session:
            summary = self.store.summary(session, schema)
            incomplete = self.store.tables_with_status(session, schema, not_ok)
        summary["incomplete"] = incomplete[: self.max_names]
        summary["incomplete_count"] = len(incomplete)
        self.log.info("Audit result for %s: %s", schema, summary["by_status"])
        if incomplete:
            shown = ", ".join(repr(t) for t in incomplete[: self.max_names])
            more = f" and {len(incomplete) - self.max_names} more" if len(incomplete) > self.max_names else ""
            message = f"{len(incomplete)} table(s) of {schema!r} are not complete: {shown}{more}"
            if self.on_incomplete == "fail":
                raise AuditIncompleteError(message)
            self.log.warning(message)
        return summary
