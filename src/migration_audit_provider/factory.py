"""Build the per-schema audit DAG: data run -> refresh -> get rejects -> rerun rejects -> refresh again.

One DAG per schema (see ``docs/adr/0002-one-dag-per-schema.md``): each schema's runs are seen,
triggered and backfilled on their own; ``max_active_runs=1`` keeps two runs of a schema apart while
different schemas run side by side. Building a DAG touches no database.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, task

from migration_audit_provider.config import SchemaSettings
from migration_audit_provider.constants import (
    DEFAULT_FINGERPRINT_ALL_BELOW_ROWS,
    FINGERPRINT_MODES,
    ON_INCOMPLETE,
)
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.operators.audit import (
    CheckAuditOperator,
    GetRejectsOperator,
    InitAuditOperator,
    RefreshAuditOperator,
)
from migration_audit_provider.operators.copy import DataRunOperator, RejectRerunOperator
from migration_audit_provider.operators.lease import LeaseRenewal, ReleaseLeaseOperator, TakeLeaseSensor

if TYPE_CHECKING:
    from collections.abc import Mapping

TAGS = ["migration-audit"]
BOOLEAN_PARAMS = ("count_source", "rerun_partials", "rerun_overloads", "full_reload")
AGAIN_FINGERPRINT = "{{ 'new_complete' if params.fingerprint == 'small_and_new' else params.fingerprint }}"
"""``refresh_again``'s mode: ``small_and_new`` re-hashes its small complete tables once per DAG run."""


def migration_batch_asset(schema: str) -> Asset:
    """The asset a migration job emits after each batch of ``schema``; it starts that schema's audit.

    Emit it from the migration job with ``outlets=[migration_batch_asset("sales")]``.
    """
    from migration_audit_provider.config import slug

    return Asset(
        name=f"migration_batch__{slug(schema)}", uri=f"migration-batch://{slug(schema)}", group="migration"
    )


def audit_params(settings: SchemaSettings) -> dict[str, Param]:
    """The trigger form: validated by Airflow when a run is created (UI, REST, ``--conf``)."""
    return {
        "schema": Param(
            settings.schema,
            type="string",
            enum=[settings.schema],
            title="Schema",
            description="The schema this DAG audits (one DAG per schema).",
        ),
        "count_source": Param(
            settings.count_source,
            type="boolean",
            title="Recount the source",
            description="Recount source tables too, so a source that changed shows as partial/overload.",
        ),
        "full_reload": Param(
            settings.full_reload,
            type="boolean",
            title="Copy every table",
            description="The data run copies every table; otherwise only those not complete, changed "
            "in the source since the last audit, or never copied.",
        ),
        "rerun_partials": Param(settings.rerun_partials, type="boolean", title="Rerun partial tables too"),
        "rerun_overloads": Param(
            settings.rerun_overloads, type="boolean", title="Rerun overloaded tables too"
        ),
        "fingerprint": Param(
            settings.fingerprint,
            type="string",
            enum=list(FINGERPRINT_MODES),
            title="Compare content",
            description="small_and_new: tables that just turned complete plus every complete table of at "
            "most the row bound below, on every refresh; new_complete: only tables that just turned "
            "complete; all: every table whose counts agree; off: counts only.",
        ),
        "fingerprint_all_below_rows": Param(
            settings.fingerprint_all_below_rows,
            type="integer",
            minimum=0,
            title="Fingerprint every refresh up to (rows)",
            description="small_and_new: complete tables of at most this many rows are fingerprinted on "
            "every refresh; larger ones only when they just turned complete or are a mismatch.",
        ),
        "on_incomplete": Param(
            settings.on_incomplete,
            type="string",
            enum=list(ON_INCOMPLETE),
            title="When tables are still incomplete",
            description="fail: the run fails naming them; warn: log them and succeed.",
        ),
    }


def validate_run_params(params: Mapping[str, Any], schema: str) -> dict[str, Any]:
    """Check a run's params again inside the run (``dags test --conf`` and old runs skip the form)."""
    if params.get("schema") != schema:
        raise AuditInputError(f"this DAG audits schema {schema!r}; got schema={params.get('schema')!r}")
    for name in BOOLEAN_PARAMS:
        if not isinstance(params.get(name), bool):
            raise AuditInputError(f"param {name} must be true or false, got {params.get(name)!r}")
    if params.get("fingerprint") not in FINGERPRINT_MODES:
        raise AuditInputError(
            f"param fingerprint must be one of {FINGERPRINT_MODES}, got {params.get('fingerprint')!r}"
        )
    bound = params.get("fingerprint_all_below_rows", DEFAULT_FINGERPRINT_ALL_BELOW_ROWS)
    if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
        raise AuditInputError(
            f"param fingerprint_all_below_rows must be a non-negative integer (rows), got {bound!r}"
        )
    if params.get("on_incomplete") not in ON_INCOMPLETE:
        raise AuditInputError(
            f"param on_incomplete must be one of {ON_INCOMPLETE}, got {params.get('on_incomplete')!r}"
        )
    return {
        **{k: params[k] for k in ("schema", *BOOLEAN_PARAMS, "fingerprint", "on_incomplete")},
        "fingerprint_all_below_rows": bound,
    }


def build_audit_dag(settings: SchemaSettings, *, fileloc: str | None = None, **dag_kwargs: Any) -> DAG:
    """Return the audit DAG of one schema.

    :param fileloc: the DAG file that builds it (default: the caller's file), so that Airflow's
        DAG processor and ``dag.test()`` find the DAG where it is defined, not in this module.
    """
    schema = settings.schema
    fileloc = fileloc or sys._getframe(1).f_code.co_filename
    common: dict[str, Any] = {
        "schema": schema,  # fixed per DAG; validate_params refuses a run asking for another
        "conn_id": settings.target_conn_id,
        "source_conn_id": settings.source_conn_id,
        "store_schema": settings.store_schema,
        "allowed_schemas": [schema],
    }
    # One run of the schema at a time, backfills included (lease.py): taken first, renewed before each
    # task (pre_execute: a run that lost it fails instead of working on), released in a teardown.
    lease = {"schema": schema, "conn_id": settings.target_conn_id, "store_schema": settings.store_schema}
    common["pre_execute"] = LeaseRenewal(**lease)
    schedule: Any = migration_batch_asset(schema)
    if settings.schedule:
        schedule = AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(settings.schedule, timezone="UTC"), assets=schedule
        )
    with DAG(
        dag_id=settings.dag_id,
        description=f"Migrate and audit schema {schema!r}: data run, refresh, rerun rejects, refresh.",
        schedule=schedule,
        start_date=pendulum.parse(settings.start_date, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        params=audit_params(settings),
        tags=[*TAGS, f"schema:{schema}"],
        default_args={"retries": settings.retries, "retry_delay": timedelta(seconds=30)},
        doc_md=__doc__,
        **dag_kwargs,
    ) as dag:

        @task(retries=0)
        def validate_params(params: dict[str, Any] | None = None) -> dict[str, Any]:
            return validate_run_params(params or {}, schema)

        validated = validate_params()
        take_lease = TakeLeaseSensor(task_id="take_lease", **lease)
        init = InitAuditOperator(task_id="init_audit", **common)
        refresh = RefreshAuditOperator(
            task_id="refresh_audit",
            count_source="{{ params.count_source }}",
            fingerprint="{{ params.fingerprint }}",
            fingerprint_all_below_rows="{{ params.fingerprint_all_below_rows }}",
            row_filters=settings.filters,
            float_digits=settings.float_digits,
            timestamp_digits=settings.timestamp_digits,
            char_padding=settings.char_padding,
            **common,
        )
        get_rejects = GetRejectsOperator(
            task_id="get_rejects",
            include_partial="{{ params.rerun_partials }}",
            include_overload="{{ params.rerun_overloads }}",
            batch_size=settings.rerun_batch_size,
            **common,
        )
        rerun = RejectRerunOperator.partial(
            task_id="rerun_rejects", max_workers=settings.max_workers, fail_on_error=False, **common
        ).expand(tables=get_rejects.output)
        final_refresh = RefreshAuditOperator(
            task_id="refresh_again",
            count_source="{{ params.count_source }}",
            # small_and_new's small tables were hashed by refresh_audit minutes ago; what the reruns
            # copied is new or a mismatch and is hashed here anyway (status.fingerprint_candidates).
            fingerprint=AGAIN_FINGERPRINT,
            fingerprint_all_below_rows="{{ params.fingerprint_all_below_rows }}",
            row_filters=settings.filters,
            float_digits=settings.float_digits,
            timestamp_digits=settings.timestamp_digits,
            char_padding=settings.char_padding,
            trigger_rule="none_failed",  # runs when there was nothing to rerun (rerun skipped)
            **common,
        )
        check = CheckAuditOperator(
            task_id="audit_result", on_incomplete="{{ params.on_incomplete }}", retries=0, **common
        )

        if settings.data_run:
            data_run = DataRunOperator(
                task_id="data_run",
                max_workers=settings.max_workers,
                fail_on_error=False,
                full_reload="{{ params.full_reload }}",
                **common,
            )
            validated >> take_lease >> init >> data_run >> refresh
        else:
            validated >> take_lease >> init >> refresh
        refresh >> get_rejects >> rerun >> final_refresh >> check
        check >> ReleaseLeaseOperator(task_id="release_lease", **lease).as_teardown(setups=take_lease)
    dag.fileloc = fileloc
    return dag
