"""Manual runs from the UI: pick a schema from the configured list and start its audit DAG.

The form's values are validated by Airflow when the run is created (an unknown schema is refused
before anything runs) and again by the audit DAG itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, task

from migration_audit_provider.config import load_settings
from migration_audit_provider.constants import (
    DEFAULT_FINGERPRINT_MODE,
    DEFAULT_ON_INCOMPLETE,
    FINGERPRINT_MODES,
    ON_INCOMPLETE,
)
from migration_audit_provider.factory import BOOLEAN_PARAMS

CONFIG = Path(os.environ.get("MIGRATION_AUDIT_CONFIG") or Path(__file__).with_name("migration_audit.yaml"))
SETTINGS = {s.schema: s for s in load_settings(CONFIG)}

with DAG(
    dag_id="migration_audit_trigger",
    description="Start the migration audit of one schema, with options.",
    schedule=None,
    catchup=False,
    tags=["migration-audit"],
    render_template_as_native_obj=True,
    params={
        "schema": Param(next(iter(SETTINGS)), type="string", enum=list(SETTINGS), title="Schema"),
        "count_source": Param(True, type="boolean", title="Recount the source"),
        "full_reload": Param(False, type="boolean", title="Copy every table (not only what changed)"),
        "rerun_partials": Param(False, type="boolean", title="Rerun partial tables too"),
        "rerun_overloads": Param(False, type="boolean", title="Rerun overloaded tables too"),
        "fingerprint": Param(
            DEFAULT_FINGERPRINT_MODE, type="string", enum=list(FINGERPRINT_MODES), title="Compare content"
        ),
        "on_incomplete": Param(
            DEFAULT_ON_INCOMPLETE, type="string", enum=list(ON_INCOMPLETE), title="When still incomplete"
        ),
    },
    doc_md=__doc__,
):

    @task(retries=0)
    def resolve(params: dict | None = None) -> dict:
        """Map the chosen schema to its DAG and pass the options on (refusing anything unknown)."""
        from migration_audit_provider.exceptions import AuditInputError

        params = params or {}
        settings = SETTINGS.get(params.get("schema"))
        if settings is None:
            raise AuditInputError(f"unknown schema {params.get('schema')!r}; known: {sorted(SETTINGS)}")
        conf = {name: params[name] for name in BOOLEAN_PARAMS}
        return {
            "dag_id": settings.dag_id,
            "conf": {
                "schema": settings.schema,
                **conf,
                "fingerprint": params["fingerprint"],
                "on_incomplete": params["on_incomplete"],
            },
        }

    # Native rendering hands the conf over as a dict, so booleans stay booleans for the Params form.
    resolve() >> TriggerDagRunOperator(
        task_id="trigger_schema_audit",
        trigger_dag_id="{{ ti.xcom_pull(task_ids='resolve')['dag_id'] }}",
        conf="{{ ti.xcom_pull(task_ids='resolve')['conf'] }}",
        wait_for_completion=False,
    )
