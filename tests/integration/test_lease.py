"""The per-schema lease on real databases (lease.py, operators/lease.py, issue #15 part 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest

from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.lease import Leases
from migration_audit_provider.operators.lease import LeaseRenewal, ReleaseLeaseOperator, TakeLeaseSensor
from migration_audit_provider.store import AuditStore

HOUR = timedelta(hours=1)


def store_of(target) -> AuditStore:
    store = AuditStore(MigrationAuditHook(target.conn_id))
    with store.session(write=True) as session:
        store.ensure(session)
    return store


def take(store, schema, holder, ttl=HOUR):
    with store.session(write=True) as session:
        return Leases(store).take(session, schema, holder, ttl)


def expire(target, schema):
    """What a SIGKILLed worker leaves: its lease, past its expiry."""
    target.execute(
        f"UPDATE migration.audit_leases SET expires_at = {target.ph} WHERE table_schema = {target.ph}",
        ("2000-01-01 00:00:00", schema),
        schemas=["migration"],
    )


def run_context(run_id, dag_id="migration_audit__sales"):
    return {"run_id": run_id, "ti": SimpleNamespace(dag_id=dag_id, task_id="t")}


def test_taken_renewed_released(target):
    store = store_of(target)
    first = take(store, "sales", "dag/run1")
    assert first.holder == "dag/run1"
    again = take(store, "sales", "dag/run1")  # the holder taking it again keeps it (a retry)
    assert again.holder == "dag/run1" and again.acquired_at == first.acquired_at
    with store.session(write=True) as session:
        leases = Leases(store)
        assert leases.renew(session, "sales", "dag/run1", 2 * HOUR)
        assert not leases.renew(session, "sales", "dag/run2", HOUR)
        assert not leases.release(session, "sales", "dag/run2")  # not its lease: left alone
        assert leases.read(session, "sales").holder == "dag/run1"
        assert leases.release(session, "sales", "dag/run1")
        assert leases.read(session, "sales") is None
    assert take(store, "sales", "dag/run2").holder == "dag/run2"


def test_a_second_run_waits_naming_the_holder_and_different_schemas_do_not(target, capsys):
    store_of(target)
    sensor = TakeLeaseSensor(task_id="take_lease", schema="sales")
    assert sensor.mode == "reschedule"  # no worker slot held while waiting
    assert sensor.poke(run_context("scheduled__1")) is True
    capsys.readouterr()
    assert sensor.poke(run_context("backfill__1")) is False
    assert "leased by migration_audit__sales/scheduled__1" in capsys.readouterr().out
    other = TakeLeaseSensor(task_id="take_lease", schema="hr")
    assert other.poke(run_context("backfill__1", dag_id="migration_audit__hr")) is True
    # the waiting run must not work on either: its tasks' renewal fails, naming the holder
    with pytest.raises(Exception, match="holds it until") as err:
        LeaseRenewal("sales")(run_context("backfill__1"))
    assert "migration_audit__sales/scheduled__1" in str(err.value)
    LeaseRenewal("sales")(run_context("scheduled__1"))  # the holder's tasks go on
    result = ReleaseLeaseOperator(task_id="release_lease", schema="sales").execute(
        run_context("scheduled__1")
    )
    assert result["released"] is True
    assert sensor.poke(run_context("backfill__1")) is True


def test_an_expired_lease_is_taken_over_and_its_old_holder_stops(target):
    store = store_of(target)
    assert take(store, "sales", "dag/killed").holder == "dag/killed"
    assert take(store, "sales", "dag/next").holder == "dag/killed"
    expire(target, "sales")
    taken = take(store, "sales", "dag/next")
    assert taken.holder == "dag/next" and taken.expires_at > taken.acquired_at
    with store.session(write=True) as session:
        assert not Leases(store).renew(session, "sales", "dag/killed", HOUR)
        assert not Leases(store).release(session, "sales", "dag/killed")


def test_concurrent_takers_get_one_holder(target):
    store_of(target)
    results: list[str] = []
    start = threading.Barrier(4)

    def taker(n):
        start.wait()
        results.append(take(AuditStore(MigrationAuditHook(target.conn_id)), "sales", f"dag/run{n}").holder)

    threads = [threading.Thread(target=taker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    rows = target.execute("SELECT holder FROM migration.audit_leases", schemas=["migration"])
    assert rows == [(results[0],)]


def test_a_lease_of_a_sigkilled_worker_expires_and_is_taken_over(target):
    store_of(target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = textwrap.dedent(
        f"""
        import sys, time
        from datetime import timedelta
        from migration_audit_provider.hooks.audit import MigrationAuditHook
        from migration_audit_provider.lease import Leases
        from migration_audit_provider.store import AuditStore
        store = AuditStore(MigrationAuditHook({target.conn_id!r}))
        with store.session(write=True) as session:
            Leases(store).take(session, "sales", "dag/worker", timedelta(hours=1))
        print("taken", flush=True)
        time.sleep(600)
        """
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "taken" in iter(lambda: worker.stdout.readline().strip(), "")  # after its log lines
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    store = AuditStore(MigrationAuditHook(target.conn_id))
    assert take(store, "sales", "dag/next").holder == "dag/worker"  # the kill left it held
    expire(target, "sales")  # ... until its expiry (set in the past instead of waiting an hour)
    assert take(store, "sales", "dag/next").holder == "dag/next"
