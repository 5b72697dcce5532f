"""A worker killed mid-copy, and a refresh while a rerun writes: the target is old or new, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import audit_rows, history_rows

from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator
from migration_audit_provider.operators.copy import RejectRerunOperator

ROWS = 300_000
OLD_ROWS = 1_000

KILLED_WORKER = """
from migration_audit_provider.operators.copy import RejectRerunOperator
RejectRerunOperator(task_id="rerun_rejects", schema="s", tables=["big"], batch_size=5000).execute(
    {"run_id": "killed"}
)
print("finished")
"""


def seed_big(source, target):
    source.create_schema("s")
    target.create_schema("s")
    source.create_table("s", "big", 0)
    target.create_table("s", "big", 0)
    if source.kind == "postgres":
        source.execute(
            "INSERT INTO s.big SELECT g, 'row ' || g FROM generate_series(0, %s) g",
            (ROWS - 1,),
            schemas=["s"],
        )
    else:
        source.insert_rows("s", "big", ROWS)
    target.insert_rows("s", "big", OLD_ROWS, start=10_000_000)  # an older load, to be replaced


def copy_in_progress(target) -> bool:
    if target.kind == "postgres":
        rows = target.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'COPY%%FROM STDIN%%'",
            (target.info["dbname"],),
        )
        return bool(rows)
    if target.kind == "vertica":  # the emulated cluster's server runs the COPY into its PostgreSQL
        emulator, cluster = target.info["emulator"], target.info["cluster"]
        with emulator.pg_connect(cluster) as conn:
            rows = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'COPY%%FROM STDIN%%'",
                (emulator.clusters[cluster.lower()].dbname,),
            ).fetchall()
        return bool(rows)
    # SQLite writes through a rollback journal while the replace is open
    return (target.info["folder"] / "s.db-journal").exists()


def test_worker_killed_mid_copy_leaves_old_or_new_never_a_mix(source, target, context):
    seed_big(source, target)
    InitAuditOperator(task_id="init_audit", schema="s").execute(context)

    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER], env=dict(os.environ), start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not copy_in_progress(target):
        assert worker.poll() is None, "the copy finished before it could be killed: make the table bigger"
        assert time.monotonic() < deadline, "the copy never started"
        time.sleep(0.005)
    time.sleep(0.05)  # let some rows through
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    if target.kind == "postgres":  # the server notices the dead client and rolls back
        deadline = time.monotonic() + 30
        while copy_in_progress(target) and time.monotonic() < deadline:
            time.sleep(0.05)
    ids = target.execute('SELECT MIN(id), MAX(id), COUNT(*) FROM "s"."big"', schemas=["s"])[0]
    old, new = (10_000_000, 10_000_000 + OLD_ROWS - 1, OLD_ROWS), (0, ROWS - 1, ROWS)
    # Old rows if the kill came before the commit, all new ones if after (SQLite's ATTACH copy of these
    # rows is one statement that can finish within the moment before the kill); never a mix.
    assert ids in (old, new), f"a mix was left behind: {ids}"

    # The Airflow retry finishes the job.
    RejectRerunOperator(task_id="rerun_rejects", schema="s", tables=["big"]).execute({"run_id": "retry"})
    assert target.execute('SELECT MIN(id), MAX(id), COUNT(*) FROM "s"."big"', schemas=["s"])[0] == (
        0,
        ROWS - 1,
        ROWS,
    )


def test_refresh_while_a_rerun_writes(source, target, context):
    seed_big(source, target)
    InitAuditOperator(task_id="init_audit", schema="s").execute(context)
    RefreshAuditOperator(task_id="refresh_audit", schema="s").execute(context)
    assert audit_rows(target, "s")["big"][0] == "partial"

    errors: list[BaseException] = []
    seen: list[int] = []

    def rerun():
        try:
            RejectRerunOperator(task_id="rerun_rejects", schema="s", tables=["big"]).execute(
                {"run_id": "rerun"}
            )
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=rerun)
    thread.start()
    while True:  # at least one refresh, each noting whether the rerun was still running when it began
        during = thread.is_alive()
        RefreshAuditOperator(task_id="refresh_audit", schema="s").execute({"run_id": "during"})
        seen.append((during, audit_rows(target, "s")["big"][2]))
        if not during:
            break
    thread.join()
    assert errors == []
    assert any(during for during, _ in seen), "no refresh ran while the rerun wrote: make the table bigger"
    counts = {n for _, n in seen}
    assert counts <= {OLD_ROWS, ROWS}, f"a refresh saw a half-written table: {counts}"

    RefreshAuditOperator(task_id="refresh_audit", schema="s").execute({"run_id": "after"})
    assert audit_rows(target, "s")["big"][:3] == ("complete", ROWS, ROWS)
    transitions = [(h[2], h[3]) for h in history_rows(target, "s") if h[1] == "refresh"]
    assert transitions == [("pending", "partial"), ("partial", "complete")]


test_refresh_while_a_rerun_writes = pytest.mark.timeout(300)(test_refresh_while_a_rerun_writes)
