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

from migration_audit_provider.constants import DEFAULT_FINGERPRINT_MODE

REPO = Path(__file__).resolve().parents[2]
SALES = "migration_audit__sales"
HR = "migration_audit__hr"
LEDGER = "migration_audit__ledger"
DISPATCHER = "migration_audit_trigger"
SCHEMAS = {
    "sales": {"orders": 250, "Order Lines": 600, "customers": 40, "returns": 0},
    "hr": {"employees": 75, "departments": 6},
    # the overlap test's schema: one big table keeps its first run's copy and refresh busy a while
    "ledger": {"entries": 600_000, "accounts": 30, "journal": 0},
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
# The overlap test backfills one slot (from = to = the slot, both ends inclusive).
OVERLAP_SLOT = f"{(TODAY - timedelta(days=5)).isoformat()}T03:00:00Z"
# The DAGs' take_lease asks every DEFAULT_LEASE_POKE_SECONDS (60 s); the stack's cluster policy makes
# it every 8 s, so a run waiting for the lease goes on soon after it is released (the test stays short).
# Airflow 3.3 can fail a reschedule-mode sensor between two pokes: when the executor's event for one
# poke reaches the scheduler after the next poke was queued, the scheduler takes it for a task killed
# externally ("finished with state success, but the task instance's state attribute is queued",
# apache/airflow#71172; seen here with 2 s and 5 s pokes on a loaded 2-core machine). Like the DAGs'
# default retries (2), the policy lets take_lease retry then, up to 4 times (taking the lease again is
# harmless: the run is the holder or waits), with a short delay instead of 30 s.
LEASE_POKE_SECONDS = 8
LOCAL_SETTINGS = f"""\
from datetime import timedelta


def task_policy(task):
    if task.task_id == "take_lease":
        task.poke_interval = {float(LEASE_POKE_SECONDS)!r}
        task.retries = 4
        task.retry_delay = timedelta(seconds=2)
"""
# What holds the schema's lease between take_lease and release_lease: the tasks that renew it.
LEASED_TASKS = (
    "init_audit",
    "data_run",
    "refresh_audit",
    "get_rejects",
    "rerun_rejects",
    "refresh_again",
    "audit_result",
)


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
                        ((i, f'{table} row {i}: it\'s "quoted"', i * 1.25) for i in range(rows)),
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
        "  ledger: {}\n"
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

    def lease(self, schema: str) -> tuple | None:
        """``(holder, acquired_at, expires_at)`` of the schema's lease, or ``None`` while nobody holds it."""
        try:
            rows = self.store(
                "SELECT holder, acquired_at, expires_at FROM audit_leases WHERE table_schema = ?", (schema,)
            )
        except sqlite3.OperationalError:  # no lease table yet: no run has taken a lease
            return None
        return rows[0] if rows else None

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
        local_settings=LOCAL_SETTINGS,
    )
    started = time.monotonic()
    try:
        stack.start(timeout=120)
        stack.wait_for_dags({SALES, HR, LEDGER}, files={"migration_audit.py"}, timeout=120)
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


def at(value: str) -> datetime:
    """A time from the API or a log event (ISO, ``Z``), or from the store (naive UTC), as aware UTC."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def lease_log(live: Live, dag_id: str, run_id: str, schema: str) -> tuple[datetime, datetime, list[str]]:
    """When the run took and released the schema's lease (its own log lines, written right after the
    statement), and what each poke that found the lease taken logged."""
    holder = f"{dag_id}/{run_id}"
    take = live.stack.task_log_events(dag_id, run_id, "take_lease")
    release = live.stack.task_log_events(dag_id, run_id, "release_lease")
    taken = [e for e in take if str(e.get("event")).startswith(f"Lease of {schema} taken by {holder} ")]
    released = [e for e in release if e.get("event") == f"Lease of {schema} released by {holder}"]
    assert len(taken) == 1 and len(released) == 1, live.stack.describe_run(dag_id, run_id)
    waits = [str(e["event"]) for e in take if f"Schema {schema} is leased by " in str(e.get("event"))]
    return at(taken[0]["timestamp"]), at(released[0]["timestamp"]), waits


def leased_work(live: Live, run_id: str) -> tuple[datetime, datetime]:
    """When the run's leased tasks (between take_lease and release_lease) started and ended, all told."""
    tis = [t for t in live.stack.task_instances(LEDGER, run_id) if t["task_id"] in LEASED_TASKS]
    ran = [t for t in tis if t["state"] == "success"]
    assert {t["task_id"] for t in ran} >= set(LEASED_TASKS) - {"rerun_rejects"}, tis
    return min(at(t["start_date"]) for t in ran), max(at(t["end_date"]) for t in ran)


def test_backfill_overlapping_a_triggered_run_waits_for_the_lease_and_copies_once(live):
    """A backfill run started while a triggered run of the same schema holds the lease.

    Airflow 3.3 starts the backfill run at once (backfill runs do not count against the DAG's
    ``max_active_runs=1``); only the lease keeps the two apart. The backfill's ``take_lease`` waits
    while the triggered run holds it, takes it after the release, and its data run then finds every
    table complete: each table is copied once in all, by the triggered run. Without the lease the
    backfill's chain would run beside the triggered run's (no wait logged, overlapping intervals) and
    copy the tables again (they are still ``pending`` until the first refresh).
    """
    live.unpause(LEDGER)
    started = time.monotonic()
    response = live.stack.api.post(
        f"/dags/{LEDGER}/dagRuns", json={"logical_date": None, "conf": {"schema": "ledger"}}
    )
    assert response.status_code == 200, response.text
    first = response.json()["dag_run_id"]

    # as soon as the triggered run holds the lease (its copy still to come), backfill one slot
    def leased_by_first() -> tuple | None:
        lease = live.lease("ledger")
        return lease if lease and lease[0] == f"{LEDGER}/{first}" else None

    live.stack.wait_for(
        "the triggered run to take the lease", leased_by_first, timeout=RUN_TIMEOUT, interval=0.2
    )
    window = {"dag_id": LEDGER, "from_date": OVERLAP_SLOT, "to_date": OVERLAP_SLOT, "max_active_runs": 1}
    created = live.stack.api.post("/backfills", json=window)
    assert created.status_code == 200, created.text
    backfill_runs = live.runs(LEDGER, run_type="backfill")
    assert [r["logical_date"] for r in backfill_runs] == [OVERLAP_SLOT], backfill_runs
    second = backfill_runs[0]["dag_run_id"]

    def both_finished() -> dict[str, dict] | None:
        runs = {r["dag_run_id"]: r for r in live.runs(LEDGER)}
        finished = all(runs[r]["state"] in ("success", "failed") for r in (first, second))
        return runs if finished else None

    runs = live.stack.wait_for("both runs of ledger", both_finished, timeout=2 * RUN_TIMEOUT, interval=1)
    for run_id in (first, second):
        assert runs[run_id]["state"] == "success", live.stack.describe_run(LEDGER, run_id)
    assert sorted(runs) == sorted((first, second)), runs
    assert (runs[first]["run_type"], runs[second]["run_type"]) == ("manual", "backfill")

    # Airflow ran the two at once (the backfill run started before the triggered one ended) ...
    assert at(runs[second]["start_date"]) < at(runs[first]["end_date"]), runs
    # ... but their copy/refresh work did not overlap: every leased task of the backfill started
    # after every leased task of the triggered run had ended
    work = {run_id: leased_work(live, run_id) for run_id in (first, second)}
    timeline = "\n".join(
        f"  {ti['start_date']} - {ti['end_date']}  {run_id}  {ti['task_id']}"
        for run_id in (first, second)
        for ti in sorted(live.stack.task_instances(LEDGER, run_id), key=lambda t: t["start_date"] or "")
    )
    assert work[first][1] < work[second][0], f"the runs' leased tasks overlap:\n{timeline}"

    # the backfill ran while the triggered run held the lease: its take_lease found it taken, waited
    first_taken, first_released, first_waits = lease_log(live, LEDGER, first, "ledger")
    second_taken, second_released, second_waits = lease_log(live, LEDGER, second, "ledger")
    assert first_waits == [], first_waits
    assert second_waits, f"the backfill never found the lease taken:\n{timeline}"
    assert all(f"is leased by {LEDGER}/{first} " in w for w in second_waits), second_waits
    # the lease was held by one run at a time, and each run's leased tasks ran inside its lease
    assert first_taken < first_released <= second_taken < second_released, timeline
    for run_id, taken, released in (
        (first, first_taken, first_released),
        (second, second_taken, second_released),
    ):
        assert taken < work[run_id][0] <= work[run_id][1] < released, (run_id, timeline)
    # the store's own run log agrees: every audit step of the backfill after every step of the first
    steps = live.store(
        "SELECT run_id, step, started_at, finished_at FROM audit_runs WHERE table_schema = 'ledger'"
    )
    assert {s[0] for s in steps} == {first, second}, steps
    first_end = max(at(s[3]) for s in steps if s[0] == first)
    assert all(first_end <= at(s[2]) for s in steps if s[0] == second), steps

    # the work was done once: one copy per table, all by the triggered run's data run
    copies = live.store(
        "SELECT run_id, task_id, table_name, rows_written, error FROM audit_history "
        "WHERE table_schema = 'ledger' AND event_type = 'copy' ORDER BY table_name"
    )
    assert copies == [(first, "data_run", t, n, None) for t, n in sorted(SCHEMAS["ledger"].items())], copies
    xcom = live.stack.api.get(
        f"/dags/{LEDGER}/dagRuns/{second}/taskInstances/data_run/xcomEntries/return_value"
    )
    assert xcom.status_code == 200, xcom.text
    summary = xcom.json()["value"]
    assert (summary.get("copied"), summary.get("failed"), summary.get("unchanged")) == (
        0,
        [],
        len(SCHEMAS["ledger"]),
    ), summary
    live.assert_audit_complete("ledger")
    assert live.lease("ledger") is None
    tries = [
        t["try_number"] for t in live.stack.task_instances(LEDGER, second) if t["task_id"] == "take_lease"
    ]
    print(
        f"\nledger: triggered run held the lease {first_taken:%H:%M:%S.%f}-{first_released:%H:%M:%S.%f}, "
        f"backfill waited {len(second_waits)} poke(s) (take_lease tries {tries}), held it "
        f"{second_taken:%H:%M:%S.%f}-{second_released:%H:%M:%S.%f}; "
        f"both done in {time.monotonic() - started:.1f} s"
    )


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
        "fingerprint": DEFAULT_FINGERPRINT_MODE,
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
    assert dags == {SALES, HR, LEDGER, DISPATCHER}
