"""docker-compose's Vertica statements are the ones the tests run.

``docker/vertica/seed_source.sql`` and ``seed_target.sql`` (what the ``vertica-seed`` service runs with
vsql) are run here through vertica-python against the tests' Vertica-protocol server, one statement
at a time as vsql does, twice (the service runs on every ``docker compose up``); then the provider's
real chain - init, the data run (Vertica → Vertica ``COPY … FROM VERTICA``), refresh - audits them.
``seed.sh``'s network-interface statements (``CREATE NETWORK INTERFACE``, ``ALTER NODE … EXPORT ON``)
need a real cluster and are not run here (docs/vertica.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _make_cluster

from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator
from migration_audit_provider.operators.copy import DataRunOperator
from migration_audit_provider.sql import split_statements

SEED = Path(__file__).resolve().parents[2] / "docker" / "vertica"
SCHEMAS = ("sales", "hr", "Finance Dept")


def run_file(cluster, name: str) -> None:
    conn = cluster.raw()
    try:
        cursor = conn.cursor()
        for statement in split_statements((SEED / name).read_text(encoding="utf-8")):
            cursor.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def seeded(monkeypatch, tmp_path, request):
    source = _make_cluster("vertica", "source", monkeypatch, tmp_path, request)
    target = _make_cluster("vertica", "target", monkeypatch, tmp_path, request)
    for _ in range(2):  # the seed is safe to repeat: no duplicate rows the second time
        run_file(source, "seed_source.sql")
        run_file(target, "seed_target.sql")
    return source, target


def test_the_compose_seed_runs_on_vertica_and_the_chain_audits_it(seeded, context):
    source, target = seeded
    assert source.count("sales", "orders") == 6 and target.count("sales", "orders") == 0
    for schema in SCHEMAS:
        InitAuditOperator(task_id="init_audit", schema=schema).execute(context)
        copied = DataRunOperator(task_id="data_run", schema=schema).execute(context)
        assert copied["failed"] == [] and copied["methods"] == {"copy_from_vertica": copied["copied"]}
        summary = RefreshAuditOperator(task_id="refresh_audit", schema=schema, fingerprint="all").execute(
            context
        )
        assert set(summary["by_status"]) == {"complete"}, (schema, summary)
    assert target.count("Finance Dept", "Ledger Entries") == source.count("Finance Dept", "Ledger Entries")
