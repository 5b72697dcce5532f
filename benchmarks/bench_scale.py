"""Scale benchmark (issue #16): auditing 100,000 tables on two PostgreSQL servers, next to the count floor.

Run::

    .venv/bin/python benchmarks/bench_scale.py --label before          # 100 x 1,000 and 10 x 10,000
    .venv/bin/python benchmarks/bench_scale.py --tiny --results /tmp/scale.md   # the smoke test's size

Two throwaway PostgreSQL 15 servers (``servers.start_server``: the tests' ``PgServer`` with the
benchmark settings) play the two clusters: the source and the target (which holds the audit store),
reached through ``AIRFLOW_CONN_MIGRATION_SOURCE`` / ``AIRFLOW_CONN_MIGRATION_TARGET`` as in a
deployment. Each layout (``--layouts``: schemas x tables per schema) gets its own database on each
server: small tables (0-20 rows of ``id integer, name text``); the target as a data run left it
(95% equal, 2% partial, 1% overload, 1% empty, 1% absent). Never analysed, as small tables in
production rarely are.

Per layout, operators run directly (``Operator(task_id=..., ...).execute(context)``, public
arguments only, one schema after another, ``fingerprint="off"``: counts and the status pass):

* ``init`` of every schema, the ``first refresh``, the ``unchanged refresh`` (median of
  ``--repeat``), a ``refresh after 1% changed`` (a row added to 1% of the target tables, a fresh
  sample each time; median of ``--repeat``);
* the **exact-count floor** of the same run, measured between the refreshes: one psycopg connection
  per database, ``SET max_parallel_workers_per_gather = 0``, one ``pg_class`` query for the table
  list, then ``UNION ALL`` batches of 200 ``COUNT(*)``, autocommit (every table of both databases,
  the store excluded); ``one after the other`` (source, then target) and ``both at once`` (two
  threads, one per server); and, as a reference for what schema-drift detection adds, both at once
  ``with every column read`` (one more statement per database: every column's name, type and
  NOT NULL, raw, from ``pg_attribute``);
* **connections** opened per schema refresh: the delta of ``pg_stat_database.sessions`` (every
  session started on that database, counted by the server) over the step, per schema;
* **peak memory**: ``RefreshAuditOperator(schema=None)`` (every schema in one task, nothing changed)
  in a child process; its ``VmHWM``, and its own high-water mark after imports;
* **the chain** through ``dag.test()`` (the DAG file ``dags/migration_audit.py``, one schema,
  ``data_run`` on, ``on_incomplete: warn``) for layouts of at most ``--chain-max-tables`` tables per
  schema: a first full chain, then one after a migration batch that added rows to 1% of that
  schema's source tables (10 of 1,000); the tables it copied are the ``copy`` events of that run in
  ``audit_history``.

Results are kept per ``--label`` in a JSON file beside ``--results`` and the Markdown file is
written again from all labels, so "before" and "after" runs sit side by side (everything from its
``## Notes`` heading on is kept as written by hand). The load average is recorded: the machine is
shared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import measure
import scale_results
import servers
from bootstrap import REPO
from measure import median, stopwatch
from seeding import quote

LAYOUTS = {"tiny": (3, 40), "10x1000": (10, 1000), "100x1000": (100, 1000), "10x10000": (10, 10000)}
"""``10x1000`` is a quick look while developing (about 2 minutes); the issue measures the other two."""
BATCH = 200
SEED_CHUNK = 500
STORE_SCHEMA = "migration"
REFRESH_ARGS = {"fingerprint": "off"}
CONTEXT = {"run_id": "bench_scale", "task_instance": None}
CHAIN_CONFIG = (
    "defaults: {schedule: null, retries: 0, data_run: true, on_incomplete: warn}\nschemas:\n  %s: {}\n"
)


# -- data ----------------------------------------------------------------------------------------------
def schema_name(i: int) -> str:
    return f"s_{i:03d}"


def table_name(i: int) -> str:
    return f"t_{i:05d}"


def source_rows(s: int, t: int) -> int:
    return (s * 31 + t * 7) % 21


def target_rows(s: int, t: int, rnd: random.Random) -> int | None:
    """What the data run left on the target: 95% equal, 2% partial, 1% overload, 1% empty, 1% absent."""
    n = source_rows(s, t)
    x = rnd.random()
    if x < 0.95 or n == 0:
        return n
    if x < 0.97:
        return n // 2
    if x < 0.98:
        return n + 3
    return 0 if x < 0.99 else None


def create_statements(schema: str, tables: Sequence[tuple[str, int | None]]) -> str:
    parts = []
    for table, rows in tables:
        if rows is None:
            continue
        q = f"{quote(schema)}.{quote(table)}"
        parts.append(f"CREATE TABLE {q} (id integer, name text);")
        if rows:
            parts.append(f"INSERT INTO {q} SELECT g, 'row ' || g FROM generate_series(1, {rows}) AS g;")
    return "\n".join(parts)


def seed(server: Any, dbname: str, schemas: int, tables: int, rows: Callable[[int, int], int | None]) -> None:
    server.create_database(dbname)
    with server.connect(dbname) as conn:
        for s in range(schemas):
            conn.execute(f"CREATE SCHEMA {quote(schema_name(s))}")
            for start in range(0, tables, SEED_CHUNK):
                chunk = [(table_name(t), rows(s, t)) for t in range(start, min(tables, start + SEED_CHUNK))]
                sql = create_statements(schema_name(s), chunk)
                if sql:
                    conn.execute(sql)
        conn.execute("CHECKPOINT")


def seed_both(src: Any, tgt: Any, dbname: str, schemas: int, tables: int) -> float:
    rnd = random.Random(16)
    layout = {(s, t): target_rows(s, t, rnd) for s in range(schemas) for t in range(tables)}
    with stopwatch() as elapsed, ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(seed, src, dbname, schemas, tables, source_rows),
            pool.submit(seed, tgt, dbname, schemas, tables, lambda s, t: layout[(s, t)]),
        ]
        for job in jobs:
            job.result()
    return elapsed()


def add_rows(server: Any, dbname: str, tables: Sequence[tuple[str, str]]) -> None:
    """A migration batch: one more row in each of ``tables`` (``(schema, table)``)."""
    with server.connect(dbname) as conn:
        sql = "\n".join(f"INSERT INTO {quote(s)}.{quote(t)} VALUES (-1, 'late row');" for s, t in tables)
        if sql:
            conn.execute(sql)


def existing_tables(server: Any, dbname: str) -> list[tuple[str, str]]:
    with server.connect(dbname) as conn:
        return conn.execute(CATALOG, (STORE_SCHEMA,)).fetchall()


# -- the floor -----------------------------------------------------------------------------------------
USER_TABLES = (
    "c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', %s) "
    "AND n.nspname NOT LIKE 'pg_toast%%'"
)
"""Every table of the database but the store's (``%s``: the store schema): what both floors read."""
CATALOG = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE {USER_TABLES} ORDER BY 1, 2"
)
COLUMNS = (
    "SELECT c.relname, a.attname, a.atttypid, a.atttypmod, a.attnotnull "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    f"WHERE {USER_TABLES}"
)
"""The least a schema-drift check must read: every column of every table, raw (name, type oid, typmod,
NOT NULL), in one statement; the ``with columns`` floor adds it to the count floor."""


def count_floor(server: Any, dbname: str, *, columns: bool = False) -> tuple[float, int]:
    """Exact counts of every table of ``dbname``: connect, one catalog query, ``UNION ALL`` batches.

    :param columns: also read every column of every table (``COLUMNS``), as a drift check must.
    """
    with stopwatch() as elapsed:
        with server.connect(dbname) as conn:
            conn.execute("SET max_parallel_workers_per_gather = 0")
            tables = conn.execute(CATALOG, (STORE_SCHEMA,)).fetchall()
            if columns:
                conn.execute(COLUMNS, (STORE_SCHEMA,)).fetchall()
            counted = 0
            for start in range(0, len(tables), BATCH):
                batch = tables[start : start + BATCH]
                sql = " UNION ALL ".join(
                    f"SELECT {i}, COUNT(*) FROM {quote(s)}.{quote(t)}" for i, (s, t) in enumerate(batch)
                )
                counted += len(conn.execute(sql).fetchall())
    return elapsed(), counted


def floor_sequential(src: Any, tgt: Any, dbname: str) -> dict[str, float]:
    s_seconds, _ = count_floor(src, dbname)
    t_seconds, _ = count_floor(tgt, dbname)
    return {"seq": s_seconds + t_seconds, "src": s_seconds, "tgt": t_seconds}


def floor_parallel(src: Any, tgt: Any, dbname: str, *, columns: bool = False) -> float:
    with stopwatch() as elapsed, ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(count_floor, server, dbname, columns=columns) for server in (src, tgt)]
        for job in jobs:
            job.result()
    return elapsed()


# -- connections ---------------------------------------------------------------------------------------
def sessions(server: Any, dbname: str) -> int:
    """Sessions ever started on ``dbname`` (``pg_stat_database.sessions``, PostgreSQL 14+)."""
    time.sleep(0.2)  # a backend that just closed publishes its counters as it exits
    with server.connect() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (dbname,)).fetchone()
    return int(row[0])


# -- the operators -------------------------------------------------------------------------------------
class Run:
    """One layout of one run: both databases, the step timings and the floors."""

    def __init__(self, src: Any, tgt: Any, layout: str, repeat: int) -> None:
        self.src, self.tgt, self.layout, self.repeat = src, tgt, layout, repeat
        self.schemas, self.tables = LAYOUTS[layout]
        self.dbname = f"scale_{layout}"
        self.result: dict[str, Any] = {"schemas": self.schemas, "tables_per_schema": self.tables}
        self.floors: dict[str, list[float]] = {"seq": [], "par": [], "src": [], "tgt": [], "par_cols": []}
        self.rnd = random.Random(12)

    def prepare(self) -> None:
        self.result["seed_seconds"] = seed_both(self.src, self.tgt, self.dbname, self.schemas, self.tables)
        self.result["total_tables"] = self.schemas * self.tables
        os.environ["AIRFLOW_CONN_MIGRATION_SOURCE"] = self.src.conn_json(self.dbname)
        os.environ["AIRFLOW_CONN_MIGRATION_TARGET"] = self.tgt.conn_json(self.dbname)
        print(f"# {self.layout}: seeded in {self.result['seed_seconds']:.1f} s", flush=True)

    def measure_floor(self) -> None:
        seq = floor_sequential(self.src, self.tgt, self.dbname)
        for key in ("seq", "src", "tgt"):
            self.floors[key].append(seq[key])
        self.floors["par"].append(floor_parallel(self.src, self.tgt, self.dbname))
        self.floors["par_cols"].append(floor_parallel(self.src, self.tgt, self.dbname, columns=True))
        print(f"# {self.layout}: floor source {seq['src']:.2f} s + target {seq['tgt']:.2f} s, "
              f"both at once {self.floors['par'][-1]:.2f} s, "
              f"with every column read {self.floors['par_cols'][-1]:.2f} s", flush=True)  # fmt: skip

    def each_schema(self, step: str, make: Callable[[str], Any]) -> dict[str, Any]:
        """Run one operator per schema, one after another; wall time and sessions opened per schema."""
        before = sessions(self.src, self.dbname), sessions(self.tgt, self.dbname)
        changed = 0
        with stopwatch() as elapsed:
            for s in range(self.schemas):
                summary = make(schema_name(s)).execute(CONTEXT)
                if isinstance(summary, dict):
                    changed += int(summary.get("changed") or 0) + int(summary.get("added") or 0)
        seconds = elapsed()
        after = sessions(self.src, self.dbname), sessions(self.tgt, self.dbname)
        out = {
            "seconds": seconds,
            "conns_src": (after[0] - before[0]) / self.schemas,
            "conns_tgt": (after[1] - before[1]) / self.schemas,
            "changed": changed,
        }
        print(f"# {self.layout}: {step} {seconds:.2f} s, {changed:,} rows changed", flush=True)
        return out

    def steps(self) -> None:
        from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator

        def init(schema: str) -> Any:
            return InitAuditOperator(task_id="init_audit", schema=schema)

        def refresh(schema: str) -> Any:
            return RefreshAuditOperator(task_id="refresh_audit", schema=schema, **REFRESH_ARGS)

        steps: dict[str, Any] = {}
        self.measure_floor()
        steps["init"] = self.each_schema("init", init)
        steps["first"] = self.each_schema("first refresh", refresh)
        unchanged, changed = [], []
        for _ in range(self.repeat):
            unchanged.append(self.each_schema("unchanged refresh", refresh))
            self.measure_floor()
            tables = existing_tables(self.tgt, self.dbname)
            add_rows(self.tgt, self.dbname, self.rnd.sample(tables, max(1, len(tables) // 100)))
            changed.append(self.each_schema("refresh after 1% changed", refresh))
        steps["unchanged"] = _median_step(unchanged)
        steps["changed_1pct"] = _median_step(changed)
        self.result["steps"] = steps
        self.result["floor"] = {k: median(v) for k, v in self.floors.items()}
        self.result["floor_all"] = self.floors

    def memory(self) -> None:
        """The refresh of every schema in one task, in a child process: its peak resident memory."""
        argv = [sys.executable, str(Path(__file__).resolve()), "--child-refresh"]
        seconds, (proc,) = measure.run_measured([argv], env=dict(os.environ))
        if proc.returncode != 0 or not proc.report:
            raise RuntimeError(f"child refresh failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        self.result["memory"] = {
            "hwm_mb": proc.max_rss_kb / 1024,
            "imports_mb": proc.report["imports_kb"] / 1024,
            "seconds": proc.report["seconds"],
            "wall_with_start": seconds,
            "tables": proc.report["tables"],
        }
        print(f"# {self.layout}: memory {self.result['memory']}", flush=True)

    def chain(self) -> None:
        """Two runs of the schema's DAG with ``dag.test()``: the full chain, then after a small batch."""
        schema = schema_name(0)
        first = run_chain(schema)
        batch = [
            (schema, table_name(t)) for t in self.rnd.sample(range(self.tables), max(1, self.tables // 100))
        ]
        add_rows(self.src, self.dbname, batch)
        second = run_chain(schema)
        second["changed_tables"] = len(batch)
        for run in (first, second):
            run["copied"] = copied_tables(self.tgt, self.dbname, run.pop("run_id"))
        self.result["chain"] = {"first": first, "batch": second}
        print(f"# {self.layout}: chain {self.result['chain']}", flush=True)


def _median_step(runs: list[dict[str, Any]]) -> dict[str, Any]:
    mid = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**mid, "all": [r["seconds"] for r in runs]}


def child_refresh() -> int:
    """``--child-refresh``: every schema in one ``RefreshAuditOperator``; JSON on the last line."""
    logging.getLogger("airflow.task").setLevel(logging.WARNING)
    from migration_audit_provider.operators.audit import RefreshAuditOperator

    imports_kb = measure.proc_status_kb("VmHWM")
    with stopwatch() as elapsed:
        summary = RefreshAuditOperator(task_id="refresh_all", schema=None, **REFRESH_ARGS).execute(CONTEXT)
    print(json.dumps({"imports_kb": imports_kb, "seconds": elapsed(), "tables": summary.get("tables")}))
    return 0


# -- the chain -----------------------------------------------------------------------------------------
_AIRFLOW_DB = threading.Event()


def run_chain(schema: str) -> dict[str, Any]:
    if not _AIRFLOW_DB.is_set():
        from airflow.utils.db import initdb

        initdb()
        _AIRFLOW_DB.set()
    config = Path(tempfile.mkdtemp(prefix="bench-scale-")) / "migration_audit.yaml"
    config.write_text(CHAIN_CONFIG % schema)
    os.environ["MIGRATION_AUDIT_CONFIG"] = str(config)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    with stopwatch() as elapsed:
        run = bag.dags[f"migration_audit__{schema}"].test()
    state = str(getattr(run.state, "value", run.state))
    return {"seconds": elapsed(), "state": state, "run_id": run.run_id}


def copied_tables(server: Any, dbname: str, run_id: str) -> dict[str, int]:
    """Tables with a ``copy`` event in ``audit_history`` for ``run_id``: attempted, and without error."""
    with server.connect(dbname) as conn:
        row = conn.execute(
            "SELECT COUNT(DISTINCT table_name), COUNT(DISTINCT table_name) FILTER (WHERE error IS NULL) "
            f"FROM {quote(STORE_SCHEMA)}.audit_history WHERE event_type = 'copy' AND run_id = %s",
            (run_id,),
        ).fetchone()
    return {"attempted": int(row[0]), "ok": int(row[1])}


# -- results -------------------------------------------------------------------------------------------
def code_version(override: str | None) -> str:
    if override:
        return override
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "include", "dags"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git checkout; pass --commit)"
    return head + (f" + uncommitted changes in {len(dirty.splitlines())} file(s)" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layouts", default="100x1000,10x10000", help=f"of {', '.join(LAYOUTS)}")
    parser.add_argument(
        "--tiny", action="store_true", help="the smoke test's size (--layouts tiny --repeat 1)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="unchanged / 1%% refreshes and floors; medians")
    parser.add_argument("--label", default="run", help="the column these results go to (e.g. before, after)")
    parser.add_argument("--commit", help="code version to record (default: git HEAD of this checkout)")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "RESULTS-scale.md"))
    parser.add_argument(
        "--chain-max-tables", type=int, default=1000, help="chain only up to this schema size"
    )
    parser.add_argument("--child-refresh", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_refresh:
        return child_refresh()
    layouts = ["tiny"] if args.tiny else [x.strip() for x in args.layouts.split(",") if x.strip()]
    repeat = 1 if args.tiny else args.repeat
    logging.getLogger("airflow.task").setLevel(logging.WARNING)

    record: dict[str, Any] = {
        "label": args.label,
        "code": code_version(args.commit),
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": measure.load_average(),
        "repeat": repeat,
        "layouts": {},
    }
    path = Path(args.results)
    with ThreadPoolExecutor(2) as pool:
        started = [pool.submit(servers.start_server) for _ in range(2)]
        src, tgt = (job.result() for job in started)
    try:
        with src.connect() as conn:
            record["machine"] = measure.machine(servers.server_version(conn))
        print(
            f"# machine: {record['machine']}; load {record['load_start']}; code {record['code']}", flush=True
        )
        for layout in layouts:
            run = Run(src, tgt, layout, repeat)
            run.prepare()
            run.steps()
            run.memory()
            if run.tables <= args.chain_max_tables:
                run.chain()
            record["layouts"][layout] = run.result
            record["load_end"] = measure.load_average()
            scale_results.write(path, record)  # after each layout: a long run that dies keeps what it had
            print(f"# {layout}: results written to {path}", flush=True)
    finally:
        src.stop()
        tgt.stop()
    print("SUMMARY scale: " + scale_results.summary(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
