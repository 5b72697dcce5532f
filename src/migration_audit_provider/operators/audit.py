"""Operators that keep ``migration.audit`` up to date: init, refresh, and the list of rejects.

Each is idempotent: re-running it with nothing changed in the databases writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from airflow.providers.common.sql.operators.sql import BaseSQLOperator

from migration_audit_provider.constants import (
    DEFAULT_FINGERPRINT_ALL_BELOW_ROWS,
    DEFAULT_FINGERPRINT_MODE,
    DEFAULT_ON_INCOMPLETE,
    DEFAULT_SOURCE_CONN_ID,
    DEFAULT_STORE_SCHEMA,
    DEFAULT_TARGET_CONN_ID,
    IGNORED_BY_CHECK,
    NEVER_RERUN,
    ON_INCOMPLETE,
    RERUN_STATUSES,
    STATUSES,
)
from migration_audit_provider.exceptions import AuditIncompleteError, AuditInputError
from migration_audit_provider.filters import parse_filters
from migration_audit_provider.fingerprint import Normalisation
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.observe import Sides, refresh_look
from migration_audit_provider.records import AuditRow, Observation
from migration_audit_provider.status import FingerprintRule, fingerprint_rule
from migration_audit_provider.store import AuditStore, Look, RefreshResult, utcnow

if TYPE_CHECKING:
    from airflow.sdk import Context


class BaseAuditOperator(BaseSQLOperator):
    """Shared arguments of the audit operators.

    ``conn_id``, ``database`` and ``hook_params`` (from common-sql's ``BaseSQLOperator``) are the
    **target** cluster's, which also holds the audit store; the ``source_*`` arguments the source's.

    :param schema: the schema (on both clusters) to audit.
    :param source_conn_id: Airflow connection of the source cluster.
    :param source_database: database on the source connection instead of the connection's own.
    :param source_hook_params: extra keyword arguments for the source connection's hook.
    :param store_schema: schema of the audit store on the target connection.
    :param allowed_schemas: when given, ``schema`` must be one of these (checked before any SQL).
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "hook_params",
        "schema",
        "database",
        "source_conn_id",
        "source_database",
        "source_hook_params",
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
        source_database: str | None = None,
        source_hook_params: dict[str, Any] | None = None,
        store_schema: str = DEFAULT_STORE_SCHEMA,
        allowed_schemas: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.schema = schema
        self.source_conn_id = source_conn_id
        self.source_database = source_database
        self.source_hook_params = source_hook_params
        self.store_schema = store_schema
        self.allowed_schemas = allowed_schemas

    @cached_property
    def target(self) -> MigrationAuditHook:
        return self.make_target()

    @cached_property
    def source(self) -> MigrationAuditHook:
        return self.make_source()

    def make_target(self) -> MigrationAuditHook:
        """A new hook of the target (one per worker thread: a common-sql hook is not shared)."""
        return MigrationAuditHook(self.conn_id, self.hook_params, self.database)

    def make_source(self) -> MigrationAuditHook:
        return MigrationAuditHook(self.source_conn_id, self.source_hook_params, self.source_database)

    @cached_property
    def store(self) -> AuditStore:
        return AuditStore(self.target, self.store_schema)

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
        with self.source.session([schema]) as src, self.store.session(write=True) as session:
            self.source.require_schema(src, schema)  # before anything is written
            self.store.ensure(session)
            result = self.store.refresh(
                session, schema, partial(self.look, src, schema), context=context, step="init"
            )
        summary = {**result.summary, "added": result.added, "changed": result.changed}
        self.log.info(
            "Init audit of %s: %s source tables, %s added, %s changed; by status %s",
            schema,
            result.tables_seen,
            result.added,
            result.changed,
            summary["by_status"],
        )
        return summary

    def look(self, src: Any, schema: str, stored: Mapping[str, AuditRow]) -> Look:
        counts = self.source.count_tables(src, schema)
        observations = [Observation(t, src_present=True, src_row_count=n) for t, n in counts.items()]
        return Look(observations, source_complete=True, src_counted_at=utcnow())


class RefreshAuditOperator(BaseAuditOperator):
    """Recount and set every audited table's status in one pass; ``schema=None`` refreshes all.

    One connection per cluster per schema: the target's session holds the schema's lock, the count,
    the fingerprints and the status pass; the source is counted at the same time, on its own.

    :param count_source: recount the source too (default), so a source that changed shows as
        ``partial``/``overload``; ``False`` keeps the source counts from the last init/refresh.
    :param fingerprint: compare content, not only counts, of tables whose counts agree:
        ``"small_and_new"`` (default) for those that just turned complete plus every one of at most
        ``fingerprint_all_below_rows`` rows, ``"new_complete"`` for only those that just turned
        complete, ``"all"`` for every one, ``"off"`` for none (``status.fingerprint_candidates``).
        A table with equal counts and different fingerprints is a ``mismatch``;
        with a primary key (one column or several), the differing key tuples are found and recorded in
        the history.
    :param fingerprint_all_below_rows: ``small_and_new``'s bound: complete tables of at most this
        many rows are fingerprinted on every refresh (default 100,000).
    :param max_mismatch_keys: differing keys recorded at most per table.
    :param float_digits: floating-point values compared to this many significant digits (1-15) when the
        two sides are different databases (``docs/fingerprints.md``).
    :param timestamp_digits: fractional digits of seconds compared (0-6; timestamps with a time zone in
        UTC), when the two sides are different databases.
    :param char_padding: ``"ignore"`` (default) or ``"keep"`` trailing spaces of ``CHAR(n)`` columns.
    :param force: restage every table even if its counts did not change (repairs hand edits).
    :param row_filters: ``{table or "*": boolean SQL expression}`` from the settings file, applied to
        counts and fingerprints on both sides (``filters.py``). Not a template field: a filter never
        comes from a trigger's params; it is validated again here.
    """

    template_fields: Sequence[str] = (
        *BaseAuditOperator.template_fields,
        "count_source",
        "fingerprint",
        "fingerprint_all_below_rows",
        "float_digits",
        "timestamp_digits",
        "char_padding",
    )

    def __init__(
        self,
        *,
        count_source: bool = True,
        fingerprint: str = DEFAULT_FINGERPRINT_MODE,
        fingerprint_all_below_rows: int | str = DEFAULT_FINGERPRINT_ALL_BELOW_ROWS,
        max_mismatch_keys: int = 100,
        force: bool = False,
        float_digits: int | str = Normalisation.float_digits,
        timestamp_digits: int | str = Normalisation.timestamp_digits,
        char_padding: str = Normalisation.char_padding,
        row_filters: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.count_source = count_source
        self.fingerprint = fingerprint
        self.fingerprint_all_below_rows = fingerprint_all_below_rows
        self.max_mismatch_keys = max_mismatch_keys
        self.force = force
        self.row_filters = row_filters
        self.float_digits = float_digits
        self.timestamp_digits = timestamp_digits
        self.char_padding = char_padding

    def execute(self, context: Context) -> dict[str, Any]:
        mode = self.checked_fingerprint_mode()
        schemas = None if self.schema is None else [self.checked_schema(self.schema)]  # before any SQL
        # Every schema in one task: one connection per cluster, one transaction per schema.
        with self.source.one_connection(), self.target.one_connection():
            if schemas is None:
                with self.store.session(write=True) as session:
                    self.store.ensure(session)
                    schemas = self.store.audited_schemas(session)
            summaries = {schema: self.refresh_schema(schema, mode, context) for schema in schemas}
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

    def refresh_schema(self, schema: str, mode: str, context: Context) -> dict[str, Any]:
        count_source = truthy(self.count_source)
        with self.source.session([schema]) as src:
            self.source.require_schema(src, schema)  # before anything is written
            with self.store.session(schema, write=True) as tgt:
                self.store.ensure(tgt)
                sides = Sides(self.source, self.target, src, tgt, schema)
                look = partial(
                    refresh_look,
                    sides,
                    count_source=count_source,
                    mode=mode,
                    max_keys=self.max_mismatch_keys,
                    row_filters=parse_filters(self.row_filters, "row_filters"),
                    normalisation=self.checked_normalisation(),
                )
                result = self.store.refresh(
                    tgt, schema, look, context=context, step="refresh", force=self.force
                )
        return self.summarize(schema, result)

    def summarize(self, schema: str, result: RefreshResult) -> dict[str, Any]:
        summary = {
            **result.summary,
            "changed": result.changed + result.added,
            "fingerprinted": result.fingerprinted,
        }
        self.log.info(
            "Refresh of %s: %s rows changed, %s table(s) fingerprinted; by status %s",
            schema,
            summary["changed"],
            result.fingerprinted,
            summary["by_status"],
        )
        return summary

    def checked_normalisation(self) -> Normalisation:
        """The tolerances, rendered templates (text) turned back into integers; refused if out of range."""

        def whole(name: str, value: Any) -> int:
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise AuditInputError(f"{name} must be an integer, got {value!r}")

        return Normalisation(
            float_digits=whole("float_digits", self.float_digits),
            timestamp_digits=whole("timestamp_digits", self.timestamp_digits),
            char_padding=str(self.char_padding),
        )

    def checked_fingerprint_mode(self) -> FingerprintRule:
        mode = self.fingerprint if self.fingerprint is not None else "off"
        return fingerprint_rule(mode, self.fingerprint_all_below_rows)


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
        statuses: Sequence[str] = RERUN_STATUSES,
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
        if truthy(self.include_partial):
            wanted.add("partial")
        if truthy(self.include_overload):
            wanted.add("overload")
        with self.store.session() as session:
            drifted = self.store.tables_with_status(session, schema, NEVER_RERUN)
            tables = self.store.tables_with_status(session, schema, wanted - set(NEVER_RERUN))
        if drifted:
            self.log.warning(
                "Not rerun: %s table(s) of %s whose columns drifted, a copy cannot fix them (DDL fix "
                "needed): %s",
                len(drifted),
                schema,
                ", ".join(drifted[:50]),
            )
        batches = [tables[i : i + self.batch_size] for i in range(0, len(tables), self.batch_size)]
        self.log.info(
            "%s table(s) of %s in %s: %s batch(es)", len(tables), schema, sorted(wanted), len(batches)
        )
        return batches


def truthy(value: Any) -> bool:
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
        on_incomplete: str = DEFAULT_ON_INCOMPLETE,
        ignore_statuses: Sequence[str] = IGNORED_BY_CHECK,
        max_names: int = 50,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_incomplete = on_incomplete
        self.ignore_statuses = ignore_statuses
        self.max_names = max_names

    def execute(self, context: Context) -> dict[str, Any]:
        schema = self.checked_schema(self.schema)
        if self.on_incomplete not in ON_INCOMPLETE:
            raise AuditInputError(f"on_incomplete must be one of {ON_INCOMPLETE}, got {self.on_incomplete!r}")
        not_ok = [s for s in STATUSES if s != "complete" and s not in self.ignore_statuses]
        with self.store.session() as session:
            summary = self.store.summary(session, schema)
            incomplete = self.store.tables_with_status(session, schema, not_ok)
            drifted = self.store.schema_diffs(session, schema) if "drift" in not_ok else {}
        summary["incomplete"] = incomplete[: self.max_names]
        summary["incomplete_count"] = len(incomplete)
        summary["drift"] = dict(list(drifted.items())[: self.max_names])
        self.log.info("Audit result for %s: %s", schema, summary["by_status"])
        if incomplete:
            shown = ", ".join(repr(t) for t in incomplete[: self.max_names])
            more = f" and {len(incomplete) - self.max_names} more" if len(incomplete) > self.max_names else ""
            message = f"{len(incomplete)} table(s) of {schema!r} are not complete: {shown}{more}"
            if drifted:
                message += "; drift (columns differ, a DDL fix is needed, not rerun): " + "; ".join(
                    f"{t!r}: {_drift_summary(d)}" for t, d in list(drifted.items())[: self.max_names]
                )
            if self.on_incomplete == "fail":
                raise AuditIncompleteError(message)
            self.log.warning(message)
        return summary


def _drift_summary(detail: str | None) -> str:
    """``column change (source -> target)`` for each blocking difference of a ``schema_diff``."""
    import json

    try:
        entries = json.loads(detail or "{}").get("drift", [])
    except ValueError:
        return str(detail)
    return ", ".join(
        f"{e['column']} {e['change']} ({e.get('source') or '-'} -> {e.get('target') or '-'})" for e in entries
    )
