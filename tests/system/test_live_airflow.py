"""The DAGs in a real, locally started Airflow: api-server + scheduler + dag-processor, LocalExecutor.

What ``dag.test()`` cannot show: every task runs in its own process started by the scheduler's
executor, re-parses ``dags/`` there, and shares nothing with the other tasks but XCom (through the
api-server's execution API) and the databases. The test drives the stack only through the public
REST API the UI uses (its trigger form posts ``{"logical_date": null, "conf": {...}}`` to
``/api/v2/dags/<dag_id>/dagRuns``) and through the ``airflow`` CLI, as an operator would.

Metadata DB: a fresh database on the session PostgreSQL server (``tests/pg_server.py``). Source and
target "clusters": SQLite folders (``main.db`` plus one ``<schema>.db`` per schema); the audit store
is ``<target>/migration.db``. One stack serves the three checks (module-scoped fixture).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from airflow_stack import AirflowStack
from pg_server import PG_PASSWORD, PG_USER

REPO = Path(__file__).resolve().parents[2]
SALES = "migration_audit__sales"
HR = "migration_audit__hr"
DISPATCHER = "migration_audit_trigger"
SCHEMAS = {
    "sales": {"orders": 250, "Order Lines": 600, "customers": 40, "returns": 0},
    "hr": {"employees": 75, "departments": 6},
}
TASKS_THAT_MUST_SUCCEED = (
    "validate_params",
    "take_lease",
    "init_audit",
    "data_run",
    "refresh_audit",
    "get_rejects",
    "refresh_again",
    "audit_result",
    "release_lease",
)
COLUMNS = "id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(12,2)"
RUN_TIMEOUT = 240
TODAY = datetime.now(timezone.utc).date()
# Backfill window: two daily 03:00 slots in the past. ``--to-date`` is inclusive, but a bare date
# means midnight, so [D-4, D-2] holds the slots D-4 03:00 and D-3 03:00.
BACKFILL_FROM = TODAY - timedelta(days=4)
BACKFILL_TO = TODAY - timedelta(days=2)
BACKFILL_SLOTS = [f"{d.isoformat()}T03:00:00Z" for d in (BACKFILL_FROM, BACKFILL_FROM + timedelta(days=1))]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def seed(work: Path) -> dict[str, Path]:
    """Source with rows, target with the same empty tables (DDL is migrated before the data)."""
    folders = {role: work / role for role in ("source", "target")}
    for folder in folders.values():
        folder.mkdir()
        sqlite3.connect(folder / "main.db").close()
    for schema, tables in SCHEMAS.items():
        for role, folder in folders.items():
            db = sqlite3.connect(folder / f"{schema}.db")
            for table, rows in tables.items():
                db.execute(f"CREATE TABLE {q(table)} ({COLUMNS})")
                if role == "source" and rows:
                    db.executemany(
                        f"INSERT INTO {q(table)} VALUES (?, ?, ?)",
                        [(i, f'{table} row {i}: it\'s "quoted"', i * 1.25) for i in range(rows)],
                    )
            db.commit()
            db.close()
    start = TODAY - timedelta(days=6)
    (work / "migration_audit.yaml").write_text(
        "defaults:\n"
        '  schedule: "0 3 * * *"\n'
        f"  start_date: '{start.isoformat()}'\n"
        "  retries: 0\n"
        "  max_workers: 2\n"
        "schemas:\n"
        "  sales: {}\n"
        "  hr: {}\n"
    )
    return folders


@dataclass
class Live:
    stack: AirflowStack
    source: Path
    target: Path

    def store(self, sql: str, params: tuple = ()) -> list[tuple]:
        path = self.target / "migration.db"
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def audit(self, schema: str) -> dict[str, tuple]:
        rows = self.store(
            "SELECT table_name, export_status, src_row_count, tgt_row_count FROM audit "
            "WHERE table_schema = ?",
            (schema,),
        )
        return {r[0]: r[1:] for r in rows}

    def store_snapshot(self) -> tuple:
        return (
            self.store("SELECT * FROM audit ORDER BY table_schema, table_name"),
            self.store("SELECT * FROM audit_history ORDER BY event_id"),
            self.store("SELECT * FROM audit_runs ORDER BY started_at"),
        )

    def target_count(self, schema: str, table: str) -> int:
        db = sqlite3.connect(self.target / f"{schema}.db")
        try:
            return db.execute(f"SELECT COUNT(*) FROM {q(table)}").fetchone()[0]
        finally:
            db.close()

    def runs(self, dag_id: str, **params) -> list[dict]:
        response = self.stack.api.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100, **params})
        response.raise_for_status()
        return response.json()["dag_runs"]

    def all_run_ids(self) -> list[tuple[str, str]]:
        """Every DAG run of every DAG (``~`` is the API's "all DAGs")."""
        return sorted((r["dag_id"], r["dag_run_id"]) for r in self.runs("~"))

    def dispatcher_problem(self) -> str | None:
        """Wait until the DAG processor has handled the dispatcher's file; describe what went wrong."""

        def handled() -> str | bool:
            error = self.stack.import_errors().get("migration_audit_trigger.py")
            if error:
                return f"migration_audit_trigger.py was refused by the DAG processor:\n{error}"
            return self.stack.api.get(f"/dags/{DISPATCHER}").status_code == 200

        outcome = self.stack.wait_for("the dispatcher DAG file to be processed", handled, timeout=90)
        return outcome if isinstance(outcome, str) else None

    def unpause(self, dag_id: str) -> None:
        response = self.stack.api.patch(f"/dags/{dag_id}", json={"is_paused": False})
        assert response.status_code == 200, response.text
        assert response.json()["is_paused"] is False

    def assert_audit_complete(self, schema: str) -> None:
        expected = {t: ("complete", n, n) for t, n in SCHEMAS[schema].items()}
        assert self.audit(schema) == expected
        for table, rows in SCHEMAS[schema].items():
            assert self.target_count(schema, table) == rows, table


@pytest.fixture(scope="module")
def live(pg_server, tmp_path_factory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("live-airflow")
    folders = seed(work)
    dbname = f"airflow_live_{os.getpid()}_{time.monotonic_ns()}"
    pg_server.create_database(dbname)
    connections = {
        f"AIRFLOW_CONN_MIGRATION_{role.upper()}": json.dumps(
            {"conn_type": "sqlite", "host": str(path / "main.db")}
        )
        for role, path in folders.items()
    }
    stack = AirflowStack.create(
        work / "airflow",
        sql_alchemy_conn=f"postgresql+psycopg://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{pg_server.port}/{dbname}",
        dags_folder=REPO / "dags",
        extra_env={"MIGRATION_AUDIT_CONFIG": str(work / "migration_audit.yaml"), **connections},
    )
    started = time.monotonic()
    try:
        stack.start(timeout=120)
        stack.wait_for_dags({SALES, HR}, files={"migration_audit.py"}, timeout=120)
        print(f"\nAirflow stack up and DAGs parsed in {time.monotonic() - started:.1f} s ({stack.home})")
        yield Live(stack, folders["source"], folders["target"])
    finally:
        killed = stack.stop()
        print(f"Airflow stack stopped{'; SIGKILL needed for ' + ', '.join(killed) if killed else ''}")


def test_login_is_required(live):
    """The API is not open: no token, or a wrong password, gets nothing."""
    import httpx

    assert httpx.get(f"{live.stack.base_url}/api/v2/dags", timeout=30).status_code == 401
    assert live.stack.token(password="not-the-password").status_code == 401
    assert live.stack.token().status_code == 201


def test_trigger_form_run_goes_through_the_scheduler_to_success(live):
    live.unpause(SALES)
    response = live.stack.api.post(
        f"/dags/{SALES}/dagRuns", json={"logical_date": None, "conf": {"schema": "sales"}}
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["run_type"] == "manual"
    assert created["state"] == "queued"
    run_id = created["dag_run_id"]

    run = live.stack.wait_for_run(SALES, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", live.stack.describe_run(SALES, run_id)

    tis = live.stack.task_instances(SALES, run_id)
    states = {t["task_id"]: t["state"] for t in tis if t["task_id"] != "rerun_rejects"}
    assert states == dict.fromkeys(TASKS_THAT_MUST_SUCCEED, "success")
    reruns = [t["state"] for t in tis if t["task_id"] == "rerun_rejects"]
    assert reruns and set(reruns) <= {"skipped", "success"}, reruns
    # every task ran in a process of its own, none of them the test's or a component's
    ran = [t for t in tis if t["state"] == "success"]
    pids = [t["pid"] for t in ran]
    assert all(pids) and len(set(pids)) == len(pids), pids
    assert not set(pids) & {os.getpid(), *(p.pid for p in live.stack.procs.values())}

    # what crossed process boundaries: the data run's summary went through XCom
    xcom = live.stack.api.get(
        f"/dags/{SALES}/dagRuns/{run_id}/taskInstances/data_run/xcomEntries/return_value"
    )
    assert xcom.status_code == 200, xcom.text
    summary = xcom.json()["value"]
    assert isinstance(summary, dict), summary
    assert (summary.get("schema"), summary.get("copied"), summary.get("failed")) == (
        "sales",
        len(SCHEMAS["sales"]),
        [],
    ), summary
    assert summary.get("rows_written") == sum(SCHEMAS["sales"].values()), summary

    live.assert_audit_complete("sales")
    steps = {r[0] for r in live.store("SELECT run_id FROM audit_runs WHERE table_schema = 'sales'")}
    assert steps == {run_id}


@pytest.mark.parametrize(
    ("dag_id", "conf"),
    [
        (SALES, {"schema": "sales; drop table migration.audit"}),
        (SALES, {"schema": "hr"}),  # a configured schema, but not this DAG's
        (SALES, {"schema": "sales", "rerun_partials": "yes"}),
        (SALES, {"schema": "sales", "on_incomplete": "ignore"}),
        (DISPATCHER, {"schema": "sales; drop table migration.audit"}),
    ],
    ids=["injection", "other-schema", "not-a-boolean", "bad-enum", "dispatcher-injection"],
)
def test_invalid_trigger_is_refused_and_nothing_runs(live, dag_id, conf):
    problem = live.dispatcher_problem() if dag_id == DISPATCHER else None
    before_runs = live.all_run_ids()
    before_store = live.store_snapshot()

    response = live.stack.api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})

    assert response.status_code == 400, problem or response.text
    assert "Invalid input for param" in response.json()["detail"]
    time.sleep(2)  # a scheduler loop or two: nothing may start
    assert live.all_run_ids() == before_runs
    assert live.store_snapshot() == before_store


def test_backfill_of_one_schema_runs_to_success(live):
    window = {"dag_id": HR, "from_date": BACKFILL_FROM.isoformat(), "to_date": BACKFILL_TO.isoformat()}
    # the REST equivalent (dry run): the same two slots; a conf that breaks the Params is refused
    dry = live.stack.api.post("/backfills/dry_run", json=window)
    assert dry.status_code == 200, dry.text
    assert [b["logical_date"] for b in dry.json()["backfills"]] == BACKFILL_SLOTS
    bad = live.stack.api.post("/backfills/dry_run", json={**window, "dag_run_conf": {"schema": "sales"}})
    assert bad.status_code == 422, bad.text
    assert "Invalid input for param schema" in bad.text

    # the CLI checks --dag-run-conf against the Params too, before it creates anything
    refused = live.stack.airflow(
        "backfill", "create", "--dag-id", HR,
        "--from-date", BACKFILL_FROM.isoformat(), "--to-date", BACKFILL_TO.isoformat(),
        "--dag-run-conf", json.dumps({"schema": "sales"}), check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "Invalid input for param schema" in refused.stdout + refused.stderr
    assert live.stack.api.get("/backfills", params={"dag_id": HR}).json()["total_entries"] == 0

    result = live.stack.airflow(
        "backfill", "create", "--dag-id", HR,
        "--from-date", BACKFILL_FROM.isoformat(), "--to-date", BACKFILL_TO.isoformat(),
        "--max-active-runs", "1", "--dag-run-conf", json.dumps({"rerun_partials": True}),
    )  # fmt: skip
    assert "Created backfill Dag run" in result.stdout + result.stderr

    backfills = live.stack.api.get("/backfills", params={"dag_id": HR}).json()["backfills"]
    assert len(backfills) == 1
    assert backfills[0]["max_active_runs"] == 1
    assert backfills[0]["dag_run_conf"] == {"rerun_partials": True}
    # backfill runs are created queued; the scheduler starts them only once the DAG is unpaused
    live.unpause(HR)

    def finished() -> list[dict] | None:
        runs = live.runs(HR, run_type="backfill")
        return runs if len(runs) == 2 and all(r["state"] in ("success", "failed") for r in runs) else None

    runs = live.stack.wait_for(f"the backfill of {HR}", finished, timeout=2 * RUN_TIMEOUT, interval=2)
    for run in runs:
        assert run["state"] == "success", live.stack.describe_run(HR, run["dag_run_id"])
    runs.sort(key=lambda r: r["logical_date"])
    assert [r["logical_date"] for r in runs] == BACKFILL_SLOTS
    assert all(r["conf"] == {"rerun_partials": True} for r in runs)
    # --max-active-runs 1: the second run started after the first had ended
    assert runs[1]["start_date"] >= runs[0]["end_date"], runs
    for run in runs:
        states = {t["task_id"]: t["state"] for t in live.stack.task_instances(HR, run["dag_run_id"])}
        assert all(states[t] == "success" for t in TASKS_THAT_MUST_SUCCEED), states

    live.assert_audit_complete("hr")
    steps = {r[0] for r in live.store("SELECT run_id FROM audit_runs WHERE table_schema = 'hr'")}
    assert steps == {r["dag_run_id"] for r in runs}
    assert not live.runs(HR, run_type="manual") and not live.runs(HR, run_type="scheduled")


def test_dispatcher_starts_the_chosen_schema_audit(live):
    """The UI's schema picker: its run triggers the schema's DAG with the options as real booleans."""
    assert live.dispatcher_problem() is None
    live.unpause(SALES)
    live.unpause(DISPATCHER)
    before = {r["dag_run_id"] for r in live.runs(SALES)}
    response = live.stack.api.post(
        f"/dags/{DISPATCHER}/dagRuns",
        json={"logical_date": None, "conf": {"schema": "sales", "rerun_partials": True}},
    )
    assert response.status_code == 200, response.text
    dispatched = live.stack.wait_for_run(DISPATCHER, response.json()["dag_run_id"], timeout=RUN_TIMEOUT)
    assert dispatched["state"] == "success", live.stack.describe_run(DISPATCHER, dispatched["dag_run_id"])

    new = [r for r in live.runs(SALES) if r["dag_run_id"] not in before]
    assert len(new) == 1, new
    assert new[0]["conf"] == {
        "schema": "sales",
        "count_source": True,
        "rerun_partials": True,
        "rerun_overloads": False,
        "full_reload": False,
        "fingerprint": "new_complete",
        "on_incomplete": "fail",
    }
    run = live.stack.wait_for_run(SALES, new[0]["dag_run_id"], timeout=RUN_TIMEOUT)
    assert run["state"] == "success", live.stack.describe_run(SALES, run["dag_run_id"])
    live.assert_audit_complete("sales")


def test_every_dag_file_is_accepted_by_the_dag_processor(live):
    """The DAG processor serializes every DAG (``dag.test()`` and a plain DagBag do not)."""
    assert live.dispatcher_problem() is None
    assert live.stack.import_errors() == {}
    dags = {d["dag_id"] for d in live.stack.api.get("/dags", params={"limit": 100}).json()["dags"]}
    assert dags == {SALES, HR, DISPATCHER}
