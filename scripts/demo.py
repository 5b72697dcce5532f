"""End-to-end demo on SQLite: seed a source and a faulty target, run the audit DAGs with dag.test().

Two schemas, two ways of working:

* ``sales`` — the full chain: the DAG's data run copies every table (a 200,000-row table, an empty
  one, odd names), then audits it.
* ``legacy`` — audit-only (``data_run: false``): an outside migration batch already ran and went
  wrong (a table never arrived, one half-copied, one copied twice). The DAG finds the rejects,
  partials and overloads, re-runs them, and audits again.

It prints the audit table after the first refresh and after the rerun, then the final result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

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
COLUMNS = "id INTEGER PRIMARY KEY, customer TEXT, amount NUMERIC(12,2), created_at TIMESTAMP, note TEXT"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rows(n: int, start: int = 0):
    base = datetime(2026, 1, 1)
    for i in range(start, start + n):
        note = None if i % 7 == 0 else f'row {i}: it\'s "quoted", ünïcödé'
        created = (base + timedelta(minutes=i)).isoformat(" ")
        yield (i, f"customer {i % 997}", round(i * 1.25, 2), created, note)


def seed(work: Path) -> None:
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
            tgt.execute('UPDATE "prices" SET amount = amount + 0.01 WHERE id = 1234')
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


def audit_table(work: Path, schema: str) -> list[tuple]:
    db = sqlite3.connect(work / "target" / "migration.db")
    try:
        current = db.execute(
            "SELECT table_name, src_row_count, tgt_row_count, export_status FROM audit "
            "WHERE table_schema = ? ORDER BY table_name",
            (schema,),
        ).fetchall()
        after_refresh = dict(
            db.execute(
                "SELECT table_name, new_status FROM audit_history WHERE table_schema = ? "
                "AND task_id = 'refresh_audit' AND event_type = 'refresh' ORDER BY event_id",
                (schema,),
            ).fetchall()
        )
        copies = dict(
            db.execute(
                "SELECT table_name, COUNT(*) FROM audit_history "
                "WHERE table_schema = ? AND event_type = 'copy' GROUP BY table_name",
                (schema,),
            ).fetchall()
        )
    finally:
        db.close()
    return [(t, s, g, after_refresh.get(t, "-"), status, copies.get(t, 0)) for t, s, g, status in current]


def show(schema: str, table: list[tuple]) -> None:
    print(f"\nschema {schema!r}")
    header = ("table", "src rows", "tgt rows", "after refresh", "after rerun", "copies")
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print("  " + line.format(*header))
    print("  " + line.format(*("-" * w for w in widths)))
    for r in table:
        print("  " + line.format(*(str(v) for v in r)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "demo-output")
    args = parser.parse_args()
    work = args.workdir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    seed(work)
    configure(work)

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import initdb

    initdb()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 1
    ok = True
    for schema in SCHEMAS:
        dag = bag.get_dag(f"migration_audit__{schema}")
        started = time.monotonic()
        run = dag.test()
        state = str(getattr(run.state, "value", run.state))
        ok &= state == "success"
        show(schema, audit_table(work, schema))
        print(f"  DAG run {dag.dag_id}: {state} in {time.monotonic() - started:.1f} s")
    print(f"\nAudit store: {work / 'target' / 'migration.db'} (tables audit, audit_history, audit_runs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
