"""Demo benchmark (issue #17): SQLite fingerprints and SQLite -> SQLite copies, old vs new, demo data.

One command::

    .venv/bin/python benchmarks/bench_demo.py            # writes benchmarks/RESULTS-demo.md

Seeds the demo's files (``scripts/demo.py``: schema ``sales``, 255,000 rows in 5 tables), then

* **fingerprint**: every ``sales`` table on both sides, the per-value functions as they were
  (frozen in ``tests/integration/test_sqlite_fast_paths.py``) vs ``dialects/sqlite_functions.py``;
  the fingerprints must be equal;
* **copy**: every ``sales`` table source -> target with ``copy_table``, the row-by-row path
  (``GenericCopyStrategy``) vs ``dialects/sqlite.py``'s ATTACH copy (the default since 762d4de);
* **demo**: ``scripts/demo.py`` as shipped (its "Two DAG runs" line and per-task seconds), and the
  same in a process where the two new modules are wired in by monkeypatching (``--wired``), until the
  provider wires them itself.

Each measurement is the median of ``--repeat`` runs (the demo: one run each). The machine is shared:
the load average is recorded next to the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "RESULTS-demo.md"


def load_demo():
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_script", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_script"] = module
    spec.loader.exec_module(module)
    return module


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- fingerprints ----------------------------------------------------------------------------------
def fingerprints(work: Path, tables: list[str], repeat: int) -> dict[str, float | bool]:
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]
    from test_sqlite_fast_paths import Reference

    from migration_audit_provider.dialects import sqlite_functions
    from migration_audit_provider.sql import load_statement

    session = SimpleNamespace(
        dialect=SimpleNamespace(quote=q), statement=lambda name: load_statement(name, "sqlite")
    )
    classes = {
        "id": "int",
        "customer": "text",
        "amount": "numeric",
        "created_at": "timestamp",
        "note": "text",
    }
    shape = SimpleNamespace(columns=sorted(classes), classes=classes)
    new_sql = load_statement("fingerprint/table", "sqlite")
    old, new, equal = [], [], True
    for _ in range(repeat):
        t_old = t_new = 0.0
        for side in ("source", "target"):
            conn = sqlite3.connect(work / side / "main.db")
            conn.execute("ATTACH ? AS sales", (str(work / side / "sales.db"),))
            Reference.register(conn)
            sqlite_functions.register(conn)
            for table in tables:
                qualified = f"sales.{q(table)}"
                started = time.perf_counter()
                a = conn.execute(
                    Reference.TABLE.format(
                        row=Reference.row_expression(shape), table=qualified, where="1 = 1"
                    )
                ).fetchone()
                t_old += time.perf_counter() - started
                started = time.perf_counter()
                row = sqlite_functions.row_arguments(session, shape)
                b = conn.execute(new_sql.format(row=row, table=qualified, where="1 = 1")).fetchone()
                t_new += time.perf_counter() - started
                equal &= a == b
            conn.close()
        old.append(t_old)
        new.append(t_new)
    return {"old": statistics.median(old), "new": statistics.median(new), "equal": equal}


# -- copies ----------------------------------------------------------------------------------------
def copies(work: Path, tables: list[str], repeat: int) -> dict[str, float | int]:
    import json

    for role in ("source", "target"):
        conn = {"conn_type": "sqlite", "host": str(work / role / "main.db")}
        os.environ[f"AIRFLOW_CONN_MIGRATION_{role.upper()}"] = json.dumps(conn)
    from migration_audit_provider.dialects.sqlite import SqliteAttachCopyStrategy
    from migration_audit_provider.hooks.audit import MigrationAuditHook
    from migration_audit_provider.transfers.generic import GenericCopyStrategy
    from migration_audit_provider.transfers.table_copy import COPIED, copy_table

    src, tgt = MigrationAuditHook("migration_source"), MigrationAuditHook("migration_target")
    out: dict[str, float | int] = {}
    for name, strategy in (
        ("old", GenericCopyStrategy(src, tgt)),
        ("new", SqliteAttachCopyStrategy(src, tgt)),
    ):
        runs, rows = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            results = [copy_table(src, tgt, "sales", t, strategy=strategy) for t in tables]
            runs.append(time.perf_counter() - started)
            bad = [r for r in results if r.status != COPIED]
            if bad:
                raise SystemExit(f"copy failed: {bad}")
            rows = sum(r.rows_written or 0 for r in results)
        out[name], out[f"{name}_rows"], out[f"{name}_method"] = (
            statistics.median(runs),
            rows,
            results[0].method,
        )
    return out


# -- the demo itself ---------------------------------------------------------------------------------
WIRED = """
import importlib
import importlib.util
import os
import sys
from pathlib import Path
sys.path.insert(0, {scripts!r})
spec = importlib.util.spec_from_file_location("demo_script", {demo!r})
demo = importlib.util.module_from_spec(spec); sys.modules["demo_script"] = demo; spec.loader.exec_module(demo)
work = Path({work!r})
demo.configure(work)  # Airflow's settings before anything imports it ...
home = work.parent / (work.name + "-airflow")  # ... with a home that main()'s fresh start keeps
os.environ["AIRFLOW_HOME"] = str(home)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "sqlite:///" + str(home / "airflow.db")

from migration_audit_provider import fingerprint, sql
from migration_audit_provider.dialects import sqlite_functions
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.transfers import table_copy
from migration_audit_provider.dialects.sqlite import SqliteAttachCopyStrategy

FAST = {{"fingerprint/table", "fingerprint/segments", "fingerprint/row_hashes"}}
def load_statement(name, dialect):
    return sql.load_statement(name, dialect)  # the fast SQLite statements are the shipped ones now
for module_name in ("migration_audit_provider.dialects.session", "migration_audit_provider.dialects.base"):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        continue
    if hasattr(module, "load_statement"):  # wherever Session.statement looks statements up
        module.load_statement = load_statement
portable_row = fingerprint.row_expression
def row_expression(session, shape):
    if session.dialect.name == "sqlite":
        return sqlite_functions.row_arguments(session, shape)
    return portable_row(session, shape)
fingerprint.row_expression = row_expression
if hasattr(SqliteAuditDialect, "prepare_fingerprint"):
    SqliteAuditDialect.prepare_fingerprint = lambda self, session: sqlite_functions.register(session.conn)
if hasattr(fingerprint, "register_sqlite_functions"):
    fingerprint.register_sqlite_functions = sqlite_functions.register
if hasattr(SqliteAuditDialect, "server_copy"):
    def server_copy(self, source, target):
        return SqliteAttachCopyStrategy(source, target) if source.dialect.name == "sqlite" else None
    SqliteAuditDialect.server_copy = server_copy
else:
    table_copy.STRATEGIES[("sqlite", "sqlite")] = SqliteAttachCopyStrategy
sys.exit(demo.main(["--workdir", str(work)]))
"""


def demo_run(work: Path, wired: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    if wired:
        code = WIRED.format(
            scripts=str(REPO / "scripts"), demo=str(REPO / "scripts" / "demo.py"), work=str(work)
        )
        cmd = [sys.executable, "-c", code]
    else:
        cmd = [sys.executable, str(REPO / "scripts" / "demo.py"), "--workdir", str(work)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    total = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"demo failed ({'wired' if wired else 'as shipped'}):\n{proc.stdout}\n{proc.stderr}")
    runs = float(re.search(r"Two DAG runs: ([\d.]+) s", proc.stdout).group(1))
    tasks, schema = {}, "?"
    for line in proc.stdout.splitlines():
        started_dag = re.search(r"DAG migration_audit__(\w+): ", line)
        if started_dag:
            schema = started_dag.group(1)
        task = re.match(r"^\s{4}(\w+(?:\[\d+\])?)\s+ok\s+([\d.]+) s$", line)
        if task:
            tasks[f"{schema}.{task.group(1)}"] = float(task.group(2))
    return {"runs": runs, "total": total, "tasks": tasks, "stdout": proc.stdout}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-demo", action="store_true", help="skip the two whole-demo runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    demo = load_demo()
    tables = list(demo.SCHEMAS["sales"])
    rows = sum(demo.SCHEMAS["sales"].values())
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        work = Path(tmp) / "data"
        demo.seed(work)
        # the target as after a data run, so both sides fingerprint the same rows
        for table in tables:
            conn = sqlite3.connect(work / "target" / "sales.db")
            conn.execute("ATTACH ? AS src", (str(work / "source" / "sales.db"),))
            conn.execute(f"INSERT INTO {q(table)} SELECT * FROM src.{q(table)}")
            conn.commit()
            conn.close()
        print(f"fingerprinting {rows:,} rows x 2 sides, {args.repeat} times ...", flush=True)
        fp = fingerprints(work, tables, args.repeat)
        print(fp, flush=True)
        print(f"copying {rows:,} rows, {args.repeat} times each way ...", flush=True)
        cp = copies(work, tables, args.repeat)
        print(cp, flush=True)
        shipped = wired = None
        if not args.no_demo:
            print("the demo as shipped ...", flush=True)
            shipped = demo_run(Path(tmp) / "demo-shipped", wired=False)
            print(f"  two DAG runs {shipped['runs']} s", flush=True)
            print("the demo with the new modules wired in ...", flush=True)
            wired = demo_run(Path(tmp) / "demo-wired", wired=True)
            print(f"  two DAG runs {wired['runs']} s", flush=True)
    args.output.write_text(report(rows, fp, cp, shipped, wired, args.repeat))
    print(f"wrote {args.output}")
    return 0 if fp["equal"] else 1


def report(rows, fp, cp, shipped, wired, repeat) -> str:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# demo",
        "",
        f"`.venv/bin/python benchmarks/bench_demo.py` on {os.cpu_count()} cores, load average {load} "
        f"(1/5/15 min) at the end; medians of {repeat} runs; {time.strftime('%Y-%m-%d')}.",
        f"Data: the demo's schema `sales`, {rows:,} rows in 5 tables (5 columns: int, text, numeric, "
        "timestamp, text).",
        "",
        "| what | old | new | speed-up |",
        "|---|---|---|---|",
        f"| SQLite fingerprint, {rows:,} rows x 2 sides (per-value functions -> one call per row) | "
        f"{fp['old']:.2f} s | {fp['new']:.2f} s | {fp['old'] / fp['new']:.1f}x |",
        f"| SQLite -> SQLite copy, {rows:,} rows ({cp['old_method']} -> {cp['new_method']}) | "
        f"{cp['old']:.2f} s | {cp['new']:.2f} s | {cp['old'] / cp['new']:.1f}x |",
    ]
    if shipped and wired:
        lines.append(
            f"| the demo's two DAG runs (as shipped -> new modules wired in) | {shipped['runs']:.1f} s | "
            f"{wired['runs']:.1f} s | {shipped['runs'] / wired['runs']:.1f}x |"
        )
        lines.append(
            f"| the whole `scripts/demo.py` after the install (seeding, Airflow start-up) | "
            f"{shipped['total']:.1f} s | {wired['total']:.1f} s | |"
        )
    lines += [
        "",
        f"Fingerprints equal old vs new: **{fp['equal']}**; "
        f"rows copied: {cp['old_rows']:,} / {cp['new_rows']:,}.",
    ]
    if shipped and wired:
        lines += [
            "",
            "Per task (seconds, as the demo prints them):",
            "",
            "| task | as shipped | wired in |",
            "|---|---|---|",
        ]
        for name in shipped["tasks"]:
            lines.append(
                f"| {name} | {shipped['tasks'][name]:.2f} | {wired['tasks'].get(name, float('nan')):.2f} |"
            )
        lines += [
            "",
            '"Wired in" is a monkeypatch in the benchmark\'s own process (`WIRED` in the script): the',
            "SQLite dialect's `prepare_fingerprint` calls `sqlite_functions.register`,",
            "`fingerprint.row_expression` returns `sqlite_functions.row_arguments`, the SQLite",
            "`fingerprint/{table,segments,row_hashes}` statements resolve to their `_fast` files, and",
            "`server_copy` returns `SqliteAttachCopyStrategy`.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
