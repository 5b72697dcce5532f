"""End-to-end demo on SQLite: seed a source and a faulty target, run the audit DAGs with dag.test().

Two schemas, two ways of working:

* ``sales`` — the full chain: the DAG's data run copies every table (a 200,000-row table, an empty
  one, odd names), then audits it.
* ``legacy`` — audit-only (``data_run: false``): an outside migration batch already ran and went
  wrong (a table never arrived, one half-copied, one copied twice, one value changed). The DAG finds
  the rejects, partials, overloads and the mismatch, re-runs them, and audits again.

It says what it does as it goes (each task as it finishes, with seconds) and prints, per schema,
what the first refresh saw, the status that gave, what was done about it and the final status, read
from the audit history (``migration.audit_history``) by column name.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

SCHEMAS = {
    "sales": {
        "orders": 200_000,
        "customers": 5_000,
        "Order Lines": 50_000,
        "returns": 0,
        'audit "log"': 120,
    },
    "legacy": {
        "invoices": 3_000,  # the batch never delivered it: reject
        "payments": 8_000,  # half arrived: partial
        "ledger": 2_000,  # copied twice: overload
        "accounts": 1_500,  # fine: complete
        "archive_2019": 0,  # empty on both sides: complete, not a reject
        "prices": 2_500,  # every row arrived, one with a wrong value: same count, a mismatch
    },
}
ABOUT = {
    "sales": "the full chain: the data run copies every table, then the audit",
    "legacy": "audit only: an outside migration batch already ran and went wrong",
}
COLUMNS = "id INTEGER PRIMARY KEY, customer TEXT, amount NUMERIC(12,2), created_at TIMESTAMP, note TEXT"
MISMATCHED_ID = 1234
COPY_VERBS = {"data_run": "migrated", "rerun_rejects": "repaired"}

Say = Callable[[str], None]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rows(n: int, start: int = 0):
    base = datetime(2026, 1, 1)
    for i in range(start, start + n):
        note = None if i % 7 == 0 else f'row {i}: it\'s "quoted", ünïcödé'
        created = (base + timedelta(minutes=i)).isoformat(" ")
        yield (i, f"customer {i % 997}", round(i * 1.25, 2), created, note)


# -- seeding ---------------------------------------------------------------------------------------
def seed(work: Path) -> int:
    """Source and target files for both schemas, the target of ``legacy`` as a faulty batch left it."""
    for side in ("source", "target"):
        (work / side).mkdir(parents=True)
        sqlite3.connect(work / side / "main.db").close()
    for schema, tables in SCHEMAS.items():
        src = sqlite3.connect(work / "source" / f"{schema}.db")
        tgt = sqlite3.connect(work / "target" / f"{schema}.db")
        for table, n in tables.items():
            for db in (src, tgt):  # DDL is migrated before the data
                db.execute(f"CREATE TABLE {q(table)} ({COLUMNS})")
            src.executemany(f"INSERT INTO {q(table)} VALUES (?, ?, ?, ?, ?)", rows(n))
        if schema == "legacy":  # what a faulty outside migration batch left behind
            tgt.executemany('INSERT INTO "payments" VALUES (?, ?, ?, ?, ?)', rows(4_000))
            tgt.executemany('INSERT INTO "ledger" VALUES (?, ?, ?, ?, ?)', rows(2_000))
            tgt.executemany('INSERT INTO "ledger" VALUES (?, ?, ?, ?, ?)', rows(2_000, start=10_000))
            tgt.executemany('INSERT INTO "accounts" VALUES (?, ?, ?, ?, ?)', rows(1_500))
            tgt.executemany('INSERT INTO "prices" VALUES (?, ?, ?, ?, ?)', rows(2_500))
            tgt.execute('UPDATE "prices" SET amount = amount + 0.01 WHERE id = ?', (MISMATCHED_ID,))
        for db in (src, tgt):
            db.commit()
            db.close()
    (work / "migration_audit.yaml").write_text(
        "defaults:\n"
        "  schedule: null\n"
        "  start_date: '2026-11-01'\n"
        "  retries: 0\n"
        "schemas:\n"
        "  sales: {}\n"
        "  legacy: {data_run: false, rerun_partials: true, rerun_overloads: true}\n"
    )
    return sum(sum(tables.values()) for tables in SCHEMAS.values())


def configure(work: Path) -> None:
    """Airflow reads its configuration at import: set everything before importing it."""
    os.environ["AIRFLOW_HOME"] = str(work / "airflow")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ["MIGRATION_AUDIT_CONFIG"] = str(work / "migration_audit.yaml")
    for role in ("source", "target"):
        conn = {"conn_type": "sqlite", "host": str(work / role / "main.db")}
        os.environ[f"AIRFLOW_CONN_MIGRATION_{role.upper()}"] = json.dumps(conn)


# -- what is not news ------------------------------------------------------------------------------
class TransientNoTasks(logging.Filter):
    """Holds back dag.test()'s ``No tasks to run. unrunnable tasks: ...`` warning.

    dag.test() schedules in passes. When ``get_rejects`` finds nothing, the mapped ``rerun_rejects``
    expands to zero task instances and is marked skipped *during* a pass; ``refresh_again`` and
    ``audit_result`` were looked at earlier in that pass, so it schedules nothing, logs that warning,
    sleeps a second — and the next pass runs them. For a run that then succeeds the warning is
    wrong; for one that does not, :func:`run_schema` prints what never ran (kept here as ``held``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.held: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("No tasks to run. unrunnable tasks"):
            self.held.append(record.getMessage())
            return False
        return True


def quiet_tool_noise() -> TransientNoTasks:
    # Airflow's in-process task runner imports starlette's test client, which warns about httpx.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
    held = TransientNoTasks()
    logging.getLogger("airflow.sdk.definitions.dag").addFilter(held)
    return held


# -- progress: an in-process listener ---------------------------------------------------------------
class TaskProgress:
    """Airflow listener (registered in-process): one line per task instance as it finishes."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.started: dict[tuple[str, int], float] = {}
        self.reported: set[str] = set()

    @staticmethod
    def _key(ti: Any) -> tuple[str, int]:
        return ti.task_id, getattr(ti, "map_index", -1)

    def _done(self, ti: Any, outcome: str) -> None:
        started = self.started.pop(self._key(ti), None)
        seconds = f"{time.monotonic() - started:6.2f} s" if started is not None else "      -  "
        index = getattr(ti, "map_index", -1)
        name = ti.task_id + (f"[{index}]" if index is not None and index >= 0 else "")
        self.reported.add(ti.task_id)
        self.say(f"    {name:<20} {outcome:<8} {seconds}")

    def hooks(self) -> Any:
        from airflow.listeners import hookimpl

        progress = self

        class Listener:
            @hookimpl
            def on_task_instance_running(self, previous_state, task_instance):
                progress.started[progress._key(task_instance)] = time.monotonic()

            @hookimpl
            def on_task_instance_success(self, previous_state, task_instance):
                progress._done(task_instance, "ok")

            @hookimpl
            def on_task_instance_skipped(self, previous_state, task_instance):
                progress._done(task_instance, "skipped")

            @hookimpl
            def on_task_instance_failed(self, previous_state, task_instance, error):
                progress._done(task_instance, "FAILED")
                if error is not None:
                    progress.say(f"      {type(error).__name__}: {error}")

        return Listener()


# -- the report ------------------------------------------------------------------------------------
@dataclass
class TableReport:
    """One table's story in one run, from the audit history."""

    table: str
    first_src: int | None = None
    first_tgt: int | None = None
    first_status: str = "-"
    actions: list[str] = field(default_factory=list)
    final_src: int | None = None
    final_tgt: int | None = None
    final_status: str = "-"
    differing_keys: list[Any] = field(default_factory=list)
    key: str | None = None


def read_report(store: Path, schema: str, run_id: str) -> list[TableReport]:
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    try:
        final = db.execute(
            "SELECT table_name, src_row_count, tgt_row_count, export_status FROM audit "
            "WHERE table_schema = ? ORDER BY table_name",
            (schema,),
        ).fetchall()
        events = db.execute(
            "SELECT * FROM audit_history WHERE table_schema = ? AND run_id = ? ORDER BY event_id",
            (schema, run_id),
        ).fetchall()
    finally:
        db.close()
    tables = {
        r["table_name"]: TableReport(
            r["table_name"],
            final_src=r["src_row_count"],
            final_tgt=r["tgt_row_count"],
            final_status=r["export_status"],
        )
        for r in final
    }
    for e in events:
        t = tables.get(e["table_name"])
        if t is None:
            continue
        if e["event_type"] == "refresh" and e["task_id"] == "refresh_audit" and t.first_status == "-":
            t.first_src, t.first_tgt, t.first_status = e["src_row_count"], e["tgt_row_count"], e["new_status"]
        elif e["event_type"] == "copy":
            t.actions.append(describe_copy(e))
        elif e["event_type"] == "mismatch" and e["detail"]:
            detail = json.loads(e["detail"])
            t.key, t.differing_keys = detail.get("key"), detail.get("differing_keys") or []
    return list(tables.values())


def describe_copy(event: sqlite3.Row) -> str:
    verb = COPY_VERBS.get(event["task_id"], "copied")
    if event["error"]:
        return f"{verb}: FAILED ({event['error'][:60]})"
    return f"{verb} {count(event['rows_written'])} rows, {event['seconds']:.2f} s"


def count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


HEADER = ("table", "source", "target", "status", "what was done", "status", "")
GROUPS = ((1, 3, "first refresh saw"), (5, 5, "after the rerun"))
"""Labels over header columns ``first..last``."""


def render(schema: str, tables: list[TableReport]) -> list[str]:
    """The schema's table: what the first refresh saw, what was done, the final status, a note."""
    body = [
        (
            t.table,
            count(t.first_src),
            count(t.first_tgt),
            t.first_status,
            "; ".join(t.actions) or "nothing to do",
            t.final_status + final_counts(t),
            differing(t),
        )
        for t in tables
    ]
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
    for first, last, label in GROUPS:  # a group label wider than its columns widens the last one
        span = sum(widths[first : last + 1]) + 2 * (last - first)
        widths[last] += max(0, len(label) - span)

    def line(r: tuple[str, ...]) -> str:
        cells = [r[i].rjust(w) if i in (1, 2) else r[i].ljust(w) for i, w in enumerate(widths)]
        return ("  " + "  ".join(cells)).rstrip()

    top = [" " * w for w in widths]
    for first, last, label in GROUPS:
        top[first] = label.ljust(sum(widths[first : last + 1]) + 2 * (last - first))
        for i in range(first + 1, last + 1):
            top[i] = None  # type: ignore[call-overload]
    return [
        f"schema {schema!r}: {ABOUT.get(schema, '')}",
        ("  " + "  ".join(c for c in top if c is not None)).rstrip(),
        line(HEADER),
        "  " + "  ".join("-" * w for w in widths[:-1]),
        *(line(r) for r in body),
    ]


def final_counts(t: TableReport) -> str:
    """The final counts, when the rerun changed them."""
    if (t.final_src, t.final_tgt) == (t.first_src, t.first_tgt):
        return ""
    return f" ({count(t.final_src)} / {count(t.final_tgt)})"


def differing(t: TableReport) -> str:
    if not t.differing_keys:
        return ""
    keys = ", ".join(_key_text(k) for k in t.differing_keys[:5])
    more = f" (+{len(t.differing_keys) - 5} more)" if len(t.differing_keys) > 5 else ""
    return f"differing key: {_key_text(t.key)} = {keys}{more}" if t.key else f"differing keys: {keys}{more}"


def _key_text(key: Any) -> str:
    """A key (the history's list of key columns or of values, one per column) as ``a`` or ``(a, b)``."""
    if isinstance(key, list):
        return str(key[0]) if len(key) == 1 else "(" + ", ".join(str(v) for v in key) + ")"
    return str(key)


def legend(statuses: set[str]) -> str:
    from migration_audit_provider.constants import STATUS_INFO

    parts = [f"{s.name} = {s.meaning}" for s in STATUS_INFO if s.name in statuses]
    return (
        "Legend: "
        + "; ".join(parts)
        + "; migrated = copied by the data run, repaired = copied again by the rerun (rows, seconds)."
    )


# -- running ---------------------------------------------------------------------------------------
class Clock:
    def __init__(self, say: Say) -> None:
        self.t0 = time.monotonic()
        self.say = say

    def step(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.t0:5.1f} s] {text}")


def _state(obj: Any) -> str:
    return str(getattr(obj.state, "value", obj.state))


def run_schema(dag: Any, progress: TaskProgress, held: TransientNoTasks) -> tuple[str, str, float]:
    """Run one DAG with dag.test(); say what Airflow skipped or never ran; (state, run_id, seconds)."""
    started = time.monotonic()
    held.held.clear()
    progress.reported.clear()
    run = dag.test()
    seconds = time.monotonic() - started
    from airflow.utils.session import create_session

    with create_session() as session:
        states = {ti.task_id: _state(ti) for ti in run.get_task_instances(session=session)}
    for task_id, state in states.items():
        if state == "skipped" and task_id not in progress.reported:
            progress.say(f"    {task_id:<20} skipped  (get_rejects found nothing to rerun)")
    if _state(run) != "success":
        unfinished = [t for t, s in states.items() if s not in ("success", "skipped", "failed")]
        if unfinished:
            progress.say(f"    never ran: {', '.join(sorted(unfinished))}")
        for message in held.held[-1:]:
            progress.say(f"    Airflow said: {message}")
    return _state(run), run.run_id, seconds


def main(argv: list[str] | None = None, say: Say = print) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "demo-output")
    args = parser.parse_args(argv)
    work = args.workdir.resolve()
    clock = Clock(say)

    clock.step(f"Seeding SQLite source and target in {work} ...")
    shutil.rmtree(work, ignore_errors=True)
    total = seed(work)
    clock.step(f"Seeded {total:,} source rows in schemas {', '.join(map(repr, SCHEMAS))}")
    configure(work)
    held = quiet_tool_noise()

    clock.step("Starting Airflow in-process (metadata database, DAGs) ...")
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.listener import get_listener_manager
    from airflow.utils.db import initdb

    initdb()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        say(f"DAG import errors: {bag.import_errors}")
        return 1
    progress = TaskProgress(say)
    get_listener_manager().add_listener(progress.hooks())

    store = work / "target" / "migration.db"
    ok, reports, runs = True, {}, []
    for schema in SCHEMAS:
        dag_id = f"migration_audit__{schema}"
        clock.step(f"DAG {dag_id}: {ABOUT[schema]}")
        state, run_id, seconds = run_schema(bag.get_dag(dag_id), progress, held)
        ok &= state == "success"
        runs.append(seconds)
        clock.step(f"DAG {dag_id}: {state} in {seconds:.1f} s")
        try:
            reports[schema] = read_report(store, schema, run_id)
        except sqlite3.OperationalError as exc:  # the run failed before the store was made
            say(f"    no audit report for {schema!r}: {exc}")

    for schema, tables in reports.items():
        say("")
        for text in render(schema, tables):
            say(text)
    say("")
    shown = {s for tables in reports.values() for t in tables for s in (t.first_status, t.final_status)}
    say(legend(shown))
    say("")
    say(f"Two DAG runs: {sum(runs):.1f} s. Audit store: {store} (tables audit, audit_history, audit_runs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
