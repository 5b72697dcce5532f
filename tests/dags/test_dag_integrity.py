"""Every file in dags/ imports cleanly, without touching a database or a connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"


@pytest.fixture
def no_database(monkeypatch):
    """Any connection attempt during parsing fails loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("a database or connection was touched at DAG-parse time")

    import psycopg
    import vertica_python
    from airflow.sdk import BaseHook

    monkeypatch.setattr(sqlite3, "connect", refuse)
    monkeypatch.setattr(psycopg, "connect", refuse)
    monkeypatch.setattr(vertica_python, "connect", refuse)
    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse))


def load_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dags_import_without_errors_or_database(no_database):
    bag = load_bag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "migration_audit__sales",
        "migration_audit__hr",
        "migration_audit__finance",
        "migration_audit_trigger",
    }
    from airflow.serialization.serialized_objects import DagSerialization

    for dag in bag.dags.values():  # what the DAG processor stores and the scheduler runs
        DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    # How long parsing takes is measured in benchmarks/bench_dag_parse.py, not asserted here.


def test_the_chain_per_schema():
    dag = load_bag().dags["migration_audit__sales"]
    order = [
        "validate_params",
        "take_lease",
        "init_audit",
        "data_run",
        "refresh_audit",
        "get_rejects",
        "rerun_rejects",
    ]
    order += ["refresh_again", "audit_result"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert dag.max_active_runs == 1
    assert dag.get_task("refresh_again").trigger_rule == "none_failed"
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert isinstance(dag.get_task("rerun_rejects"), MappedOperator)


def test_schedule_is_asset_or_time_and_params_restrict_the_schema():
    from airflow.sdk import AssetOrTimeSchedule

    dag = load_bag().dags["migration_audit__finance"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert dag.params.get_param("schema").schema["enum"] == ["Finance Dept"]
    assert dag.params["rerun_partials"] is True  # per-schema override from migration_audit.yaml
    trigger = load_bag().dags["migration_audit_trigger"]
    assert trigger.params.get_param("schema").schema["enum"] == ["sales", "hr", "Finance Dept"]


def test_audit_only_schema_has_no_data_run(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text("schemas:\n  sales: {data_run: false}\n")
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(config))
    dag = load_bag().dags["migration_audit__sales"]
    assert "data_run" not in dag.task_ids
    assert "refresh_audit" in dag.get_task("init_audit").downstream_task_ids


def test_bad_config_is_an_import_error(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text("schemas:\n  sales: {max_workers: -1}\n")
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(config))
    errors = load_bag().import_errors
    assert errors and all("max_workers must be a positive integer" in e for e in errors.values())


@pytest.mark.parametrize(
    "expression, reason",
    [
        ("id", "not a boolean expression"),
        ("id < 10; DROP TABLE orders", ";"),
        ("id IN (SELECT id FROM other)", "subquer"),
        ("created_at < now()", "function"),
    ],
)
def test_a_row_filter_that_is_not_one_boolean_expression_is_an_import_error(
    tmp_path, monkeypatch, expression, reason
):
    config = tmp_path / "c.yaml"
    config.write_text(f'schemas:\n  sales:\n    filters: {{orders: "{expression}"}}\n')
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(config))
    errors = load_bag().import_errors
    assert errors, "the DAG file imported with a bad filter"
    for error in errors.values():
        assert "orders" in error and reason.lower() in error.lower(), error


def test_the_fingerprint_bound_is_a_checked_param(tmp_path, monkeypatch):
    from airflow.sdk.definitions.param import ParamValidationError

    from migration_audit_provider.factory import validate_run_params

    config = tmp_path / "c.yaml"
    config.write_text("schemas:\n  sales: {fingerprint_all_below_rows: 5000}\n")
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(config))
    dag = load_bag().dags["migration_audit__sales"]
    assert dag.params["fingerprint"] == "small_and_new"
    assert dag.params["fingerprint_all_below_rows"] == 5000  # the schema's setting is the form's default
    assert "small_and_new" in dag.params.get_param("fingerprint").schema["enum"]
    bound = dag.params.get_param("fingerprint_all_below_rows")
    for bad in (-1, "many", 2.5):
        with pytest.raises(ParamValidationError):
            bound.resolve(bad)
    assert bound.resolve(0) == 0
    assert (
        dag.get_task("refresh_audit").fingerprint_all_below_rows == "{{ params.fingerprint_all_below_rows }}"
    )
    # refresh_again hashes the small complete tables only once per DAG run: refresh_audit just did
    import jinja2

    again = jinja2.Template(dag.get_task("refresh_again").fingerprint)
    modes = ("small_and_new", "new_complete", "all", "off")
    rendered = [again.render(params={"fingerprint": m}) for m in modes]
    assert rendered == ["new_complete", "new_complete", "all", "off"]

    from migration_audit_provider.exceptions import AuditInputError

    good = {"schema": "sales", "count_source": True, "full_reload": False, "rerun_partials": False}
    good.update(rerun_overloads=False, on_incomplete="fail")
    ok = validate_run_params(
        {**good, "fingerprint": "small_and_new", "fingerprint_all_below_rows": 10}, "sales"
    )
    assert ok["fingerprint_all_below_rows"] == 10
    for bad in (-1, "10", True, None):
        with pytest.raises(
            AuditInputError, match="param fingerprint_all_below_rows must be a non-negative integer"
        ):
            validate_run_params(
                {**good, "fingerprint": "small_and_new", "fingerprint_all_below_rows": bad}, "sales"
            )
    with pytest.raises(AuditInputError, match="param fingerprint must be one of"):
        validate_run_params({**good, "fingerprint": "most", "fingerprint_all_below_rows": 10}, "sales")
