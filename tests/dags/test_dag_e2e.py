"""The whole per-schema chain with dag.test(), on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import audit_rows, history_rows, store_exists
from pg_server import PG_PASSWORD
from vertica_emulator.server import PASSWORD as VERTICA_PASSWORD

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


def run_dag(tmp_path, monkeypatch, config: str, dag_id: str, run_conf=None):
    path = tmp_path / "migration_audit.yaml"
    path.write_text(config)
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(path))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags[dag_id].test(run_conf=run_conf)


def task_states(run) -> dict[str, list[str]]:
    from airflow.utils.session import create_session

    states: dict[str, list[str]] = {}
    with create_session() as session:
        for ti in run.get_task_instances(session=session):
            states.setdefault(ti.task_id, []).append(str(getattr(ti.state, "value", ti.state)))
    return states


def state(run) -> str:
    return str(getattr(run.state, "value", run.state))


CONFIG = "defaults: {schedule: null, retries: 0}\nschemas:\n  %s\n"


def test_full_chain_copies_and_audits(airflow_db, source, target, tmp_path, monkeypatch):
    source.create_schema("sales")
    target.create_schema("sales")
    for table, rows in {"orders": 500, "empty": 0, "Mixed Case": 7, 'quo"ted': 3}.items():
        source.create_table("sales", table, rows)
        target.create_table("sales", table, 0)

    run = run_dag(tmp_path, monkeypatch, CONFIG % "sales: {}", "migration_audit__sales")

    assert state(run) == "success"
    rows = audit_rows(target, "sales")
    assert {t: r[:3] for t, r in rows.items()} == {
        "orders": ("complete", 500, 500),
        "empty": ("complete", 0, 0),
        "Mixed Case": ("complete", 7, 7),
        'quo"ted': ("complete", 3, 3),
    }
    states = task_states(run)
    assert states["data_run"] == ["success"] and states["audit_result"] == ["success"]
    assert set(states["rerun_rejects"]) <= {"skipped"}  # nothing to rerun: skipped, not failed
    assert len([h for h in history_rows(target, "sales") if h[1] == "copy"]) == 4


def test_audit_only_chain_reruns_rejects_partials_and_overloads(
    airflow_db, source, target, tmp_path, monkeypatch
):
    source.create_schema("legacy")
    target.create_schema("legacy")
    layout = {"rejected": (20, 0), "partial": (20, 10), "overload": (20, 40), "fine": (5, 5)}
    for table, (src_rows, tgt_rows) in layout.items():
        source.create_table("legacy", table, src_rows)
        target.create_table("legacy", table, tgt_rows)
    # Same count, other content: only the fingerprint sees it.
    layout["shifted"] = (6, 6)
    source.create_table("legacy", "shifted", 6)
    target.create_table("legacy", "shifted", 6)
    target.execute('UPDATE "legacy"."shifted" SET name = \'stale\' WHERE id = 4', schemas=["legacy"])
    config = CONFIG % "legacy: {data_run: false, rerun_partials: true, rerun_overloads: true}"

    run = run_dag(tmp_path, monkeypatch, config, "migration_audit__legacy")

    assert state(run) == "success"
    assert {t: r[0] for t, r in audit_rows(target, "legacy").items()} == dict.fromkeys(layout, "complete")
    assert all(target.count("legacy", t) == layout[t][0] for t in layout)
    transitions = {(h[0], h[2], h[3]) for h in history_rows(target, "legacy") if h[1] == "refresh"}
    assert {("rejected", "reject", "complete"), ("partial", "partial", "complete")} <= transitions
    assert ("overload", "overload", "complete") in transitions
    assert ("shifted", "mismatch", "complete") in transitions
    assert target.execute('SELECT name FROM "legacy"."shifted" WHERE id = 4', schemas=["legacy"]) == [
        ("row 4",)
    ]
    assert "data_run" not in task_states(run)


def test_a_table_that_cannot_be_copied_fails_the_run_naming_it(
    airflow_db, source, target, tmp_path, monkeypatch, capsys
):
    source.create_schema("sales")
    target.create_schema("sales")
    source.create_table("sales", "good", 4)
    target.create_table("sales", "good", 0)
    source.create_table("sales", "broken", 4, columns="id INTEGER, name TEXT, extra TEXT")
    target.create_table("sales", "broken", 0)  # the target lacks column "extra"

    run = run_dag(tmp_path, monkeypatch, CONFIG % "sales: {}", "migration_audit__sales")

    assert state(run) == "failed"
    states = task_states(run)
    assert states["audit_result"] == ["failed"]
    assert states["data_run"] == ["success"]  # fail_on_error=False: the audit gives the verdict
    assert {t: r[0] for t, r in audit_rows(target, "sales").items()} == {
        "good": "complete",
        "broken": "drift",  # the columns differ: a DDL fix, which no copy can make
    }
    out = capsys.readouterr().out
    assert "table(s) of 'sales' are not complete: 'broken'" in out
    assert "drift" in out and "extra" in out  # the check names the column that differs
    copy_errors = [h for h in history_rows(target, "sales") if h[1] == "copy" and h[0] == "broken"]
    assert len(copy_errors) == 1  # the data run tried and recorded it; the rerun does not copy drift


@pytest.mark.parametrize("bad", ["sales; drop table migration.audit", "hr"])
def test_bad_schema_param_is_refused_before_any_sql(airflow_db, source, target, tmp_path, monkeypatch, bad):
    source.create_schema("sales")
    source.create_table("sales", "t", 1)
    try:
        run = run_dag(
            tmp_path, monkeypatch, CONFIG % "sales: {}", "migration_audit__sales", run_conf={"schema": bad}
        )
    except Exception as err:  # Airflow's own Params validation refused the run
        assert "schema" in str(err) or "enum" in str(err) or "is not one of" in str(err)
    else:
        assert state(run) == "failed"
        states = task_states(run)
        assert states["validate_params"] == ["failed"]
        assert states["init_audit"] == ["upstream_failed"]
    assert not store_exists(target)


# Only the password-protected servers have a secret to leak: PostgreSQL, and Vertica (the emulator),
# whose Vertica -> Vertica copy also sends the source password in CONNECT TO VERTICA.
@pytest.mark.parametrize("kind", ["postgres", "vertica"])
def test_no_secret_reaches_logs_xcom_or_the_audit_store(
    airflow_db, kind, source, target, tmp_path, monkeypatch, capsys, caplog
):
    source.create_schema("sales")
    target.create_schema("sales")
    source.create_table("sales", "t", 3)
    target.create_table("sales", "t", 0)
    run = run_dag(tmp_path, monkeypatch, CONFIG % "sales: {}", "migration_audit__sales")
    assert state(run) == "success"

    import os

    from airflow.utils.session import create_session
    from sqlalchemy import text

    produced = [capsys.readouterr().out, caplog.text]
    home = Path(os.environ["AIRFLOW_HOME"])
    produced += [p.read_text(errors="replace") for p in home.rglob("*.log")]
    with create_session() as session:
        for table in ("xcom", "rendered_task_instance_fields", "task_instance", "dag_run", "log"):
            produced += [repr(row) for row in session.execute(text(f"SELECT * FROM {table}"))]  # noqa: S608
    for table in ("audit", "audit_history", "audit_runs"):
        produced += [repr(row) for row in target.execute(f"SELECT * FROM migration.{table}")]
    blob = "\n".join(produced)
    assert "sales" in blob and "migration_audit__sales" in blob  # we did search real output
    assert PG_PASSWORD not in blob
    assert VERTICA_PASSWORD not in blob
