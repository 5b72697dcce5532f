"""Airflow overhead benchmark: the whole per-schema DAG with ``dag.test()``, task instances against tables.

Run::

    .venv/bin/python benchmarks/bench_airflow.py --tables 200,1000 --rejects 50

For each ``--tables`` size, one schema of that many small tables (10-39 rows each) on a SQLite source
and target ("clusters": a folder with ``main.db`` and ``<schema>.db``), and one DAG per schema from the
repository's ``dags/migration_audit.py`` with a config (``MIGRATION_AUDIT_CONFIG``) made for the run.

How the ``--rejects`` reach the rerun: the DAGs are **audit-only** (``data_run: false``, the setting for
schemas an outside migration job copies). The target already holds every table's rows except for
``--rejects`` tables spread over the schema, which are empty. So ``refresh_audit`` finds them as
``reject``, ``get_rejects`` returns them in batches of ``rerun_batch_size`` (100), one mapped
``rerun_rejects`` task instance per batch copies them, and ``refresh_again`` finds every table
complete. With the data run on, it would copy all tables first and leave no reject to rerun.

The first ``dag.test()`` in a process pays Airflow's one-time start-up; a small warm-up schema runs
first and is reported on its own line. Reported per run: wall time of ``dag.test()``, task instances
created (all of them, mapped ones counted one by one), the time inside the tasks (sum of the task
instances' durations) and the rest (Airflow: scheduling loop, serialisation, XCom, task start-up).
The audit store is checked afterwards: every table ``complete``, one copy event per reject.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import measure
import report
import seeding
from bootstrap import REPO
from report import fmt_seconds, print_table
from seeding import quote

RERUN_BATCH_SIZE = 100
WARMUP_TABLES, WARMUP_REJECTS = 10, 2


def schema_name(tables: int) -> str:
    return f"s{tables}"


def rejected(tables: int, rejects: int) -> set[int]:
    """Indexes of the tables left empty on the target: spread evenly over the schema."""
    step = tables / rejects
    return {int(i * step) for i in range(rejects)}


def seed(work: Path, sizes: Sequence[tuple[str, int, int]]) -> None:
    for side in ("source", "target"):
        seeding.sqlite_cluster(work / side, [])
    for schema, tables, rejects in sizes:
        empty = rejected(tables, rejects)
        src = sqlite3.connect(work / "source" / f"{schema}.db")
        tgt = sqlite3.connect(work / "target" / f"{schema}.db")
        for i in range(tables):
            name = quote(f"t{i:05d}")
            rows = [(k, f"row {k} of table {i}", k * 1.25) for k in range(10 + i % 30)]
            for db in (src, tgt):  # the DDL is migrated before the data
                db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(12,2))")
            src.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
            if i not in empty:
                tgt.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
        for db in (src, tgt):
            db.commit()
            db.close()
    schemas = "".join(f"  {schema}: {{}}\n" for schema, _t, _r in sizes)
    (work / "migration_audit.yaml").write_text(
        "defaults:\n"
        "  schedule: null\n"
        "  start_date: '2026-11-01'\n"
        "  retries: 0\n"
        "  data_run: false\n"
        f"  rerun_batch_size: {RERUN_BATCH_SIZE}\n"
        f"schemas:\n{schemas}"
    )


def configure(work: Path) -> None:
    """Everything Airflow reads at import, set before importing it."""
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ["MIGRATION_AUDIT_CONFIG"] = str(work / "migration_audit.yaml")
    for role in ("source", "target"):
        os.environ[f"AIRFLOW_CONN_MIGRATION_{role.upper()}"] = (
            f'{{"conn_type": "sqlite", "host": "{work / role / "main.db"}"}}'
        )


def check_store(work: Path, schema: str, tables: int, rejects: int) -> str:
    """'' if the audit store ends as it should, else what is wrong."""
    db = sqlite3.connect(work / "target" / "migration.db")
    try:
        statuses = Counter(
            s for (s,) in db.execute("SELECT export_status FROM audit WHERE table_schema = ?", (schema,))
        )
        copies = db.execute(
            "SELECT COUNT(*) FROM audit_history WHERE table_schema = ? AND event_type = 'copy'", (schema,)
        ).fetchone()[0]
    finally:
        db.close()
    problems = []
    if statuses != Counter({"complete": tables}):
        problems.append(f"statuses {dict(statuses)}")
    if copies != rejects:
        problems.append(f"{copies} copy events, expected {rejects}")
    return "; ".join(problems)


def run_schema(bag, schema: str) -> dict:
    from airflow.utils.session import create_session

    dag = bag.get_dag(f"migration_audit__{schema}")
    started = time.perf_counter()
    run = dag.test()
    wall = time.perf_counter() - started
    with create_session() as session:
        tis = run.get_task_instances(session=session)
        per_task = Counter(ti.task_id for ti in tis)
        states = Counter(str(getattr(ti.state, "value", ti.state)) for ti in tis)
        inside = sum((ti.duration or 0.0) for ti in tis)
        durations: dict[str, float] = {}
        for ti in sorted(tis, key=lambda ti: (ti.start_date is None, ti.start_date)):
            durations[ti.task_id] = durations.get(ti.task_id, 0.0) + (ti.duration or 0.0)
    return {
        "state": str(getattr(run.state, "value", run.state)),
        "wall": wall,
        "tis": sum(per_task.values()),
        "per_task": per_task,
        "states": states,
        "inside": inside,
        "durations": durations,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default="200,1000", help="tables per schema, one DAG run per size")
    parser.add_argument("--rejects", type=int, default=50, help="empty target tables (rejects) per schema")
    args = parser.parse_args(argv)
    sizes = report.parse_sizes(args.tables)
    if not sizes or args.rejects < 1 or args.rejects > min(sizes):
        parser.error("--rejects must be between 1 and the smallest --tables size")

    work = Path(tempfile.mkdtemp(prefix="bench-airflow-"))
    try:
        plan = [("warmup", WARMUP_TABLES, WARMUP_REJECTS)]
        plan += [(schema_name(n), n, args.rejects) for n in sizes]
        started = time.perf_counter()
        seed(work, plan)
        print(f"# machine: {measure.machine()}", flush=True)
        print(f"# load average at start: {measure.load_average()}", flush=True)
        print(f"# seeded {len(plan)} schemas in {time.perf_counter() - started:.1f} s", flush=True)
        configure(work)

        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils.db import initdb

        logging.getLogger("airflow").setLevel(logging.WARNING)
        with measure.stopwatch() as elapsed:
            initdb()
            bag = DagBag(dag_folder=str(REPO / "dags"))
        if bag.import_errors:
            print(bag.import_errors, file=sys.stderr)
            return 1
        print(f"# metadata DB and DagBag ready in {elapsed():.1f} s", flush=True)
        results = []
        for schema, tables, rejects in plan:
            result = run_schema(bag, schema)
            problem = check_store(work, schema, tables, rejects)
            if result["state"] != "success" or problem:
                print(f"{schema}: run {result['state']}; {problem}", file=sys.stderr)
                return 1
            results.append((schema, tables, rejects, result))
            print(f"# {schema}: {tables:,} tables, {rejects} rejects: {result['wall']:.1f} s, "
                  f"{result['tis']} task instances", flush=True)  # fmt: skip
        print(f"# load average at end: {measure.load_average()}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    rows = []
    for schema, tables, rejects, r in results:
        label = "warm-up (one-time start-up)" if schema == "warmup" else schema
        times = [fmt_seconds(r["wall"]), fmt_seconds(r["inside"]), fmt_seconds(r["wall"] - r["inside"])]
        counts = [str(rejects), str(r["tis"]), str(r["per_task"]["rerun_rejects"])]
        rows.append([label, f"{tables:,}", *counts, *times])
    print_table(
        ["schema", "tables", "rejects", "task instances", "of which rerun_rejects", "dag.test() s",
         "inside tasks s", "Airflow s (rest)"],
        rows,
        align="lrrrrrrr",
    )  # fmt: skip
    print()
    task_ids = list(results[-1][3]["durations"])
    print_table(
        ["schema", *task_ids],
        [[s, *(f"{r['durations'].get(t, 0.0):.3f}" for t in task_ids)] for s, _t, _rej, r in results],
        align="l" + "r" * len(task_ids),
    )
    print()
    measured = [(t, r) for s, t, _rej, r in results if s != "warmup"]
    counts = sorted({r["tis"] for _t, r in measured})
    independent = len(counts) == 1
    print(
        "SUMMARY airflow: "
        + "; ".join(
            f"{t:,} tables: {r['tis']} task instances, {fmt_seconds(r['wall'])} s" for t, r in measured
        )
        + f"; {args.rejects} rejects; task instances independent of table count: "
        + ("yes" if independent else f"NO ({counts})")
    )
    return 0 if independent else 1


if __name__ == "__main__":
    sys.exit(main())
