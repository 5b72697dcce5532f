"""Vertica → Vertica server-side copies, run through vertica-python against the Vertica-protocol server.

``CONNECT TO VERTICA`` carries the source password in clear text: these tests look for it in every
log line, in what was printed, in the copy's error and in the audit history, on success and on the
two ways the copy can fail (the connect refused, the COPY itself failing after the DELETE).
"""

from __future__ import annotations

import json
import logging

import pytest
from conftest import _make_cluster, quote
from vertica_emulator.server import PASSWORD

from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.operators.copy import DataRunOperator
from migration_audit_provider.transfers.table_copy import COPIED, FAILED, copy_table

SCHEMA = "Sales EU"


@pytest.fixture
def clusters(monkeypatch, tmp_path, request):
    source = _make_cluster("vertica", "source", monkeypatch, tmp_path, request)
    target = _make_cluster("vertica", "target", monkeypatch, tmp_path, request)
    for cluster in (source, target):
        cluster.create_schema(SCHEMA)
    source.create_table(SCHEMA, "Orders", 250, columns="id INTEGER, name VARCHAR(40)")
    target.create_table(SCHEMA, "Orders", 3, columns="id INTEGER, name VARCHAR(40)")
    return source, target


def assert_no_password(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in (text or "")


def names(target) -> list[str]:
    return sorted(r[0] for r in target.execute(f"SELECT name FROM {quote(SCHEMA)}.{quote('Orders')}"))


def test_the_target_pulls_the_rows_in_one_transaction_and_never_shows_the_password(clusters, caplog, capsys):
    source, target = clusters
    caplog.set_level(logging.DEBUG)
    src, tgt = MigrationAuditHook(source.conn_id), MigrationAuditHook(target.conn_id)
    assert type(src.sql_hook.get_conn()).__module__ == "vertica_python.vertica.connection"

    result = copy_table(src, tgt, SCHEMA, "Orders")

    assert (result.status, result.method) == (COPIED, "copy_from_vertica"), result.error
    assert (result.rows_read, result.rows_written) == (250, 250)
    assert target.count(SCHEMA, "Orders") == 250
    assert names(target) == sorted(f"row {i}" for i in range(250))
    out, err = capsys.readouterr()
    assert "DELETE FROM" in caplog.text or "Copying" in caplog.text
    assert_no_password(caplog.text, out, err)
    # A second copy in a new session connects again: the first one disconnected and committed.
    assert copy_table(src, tgt, SCHEMA, "Orders").status == COPIED
    assert target.count(SCHEMA, "Orders") == 250


def test_a_refused_connect_keeps_the_old_rows_and_the_password_out_of_every_record(
    clusters, context, monkeypatch, caplog, capsys
):
    source, target = clusters
    caplog.set_level(logging.DEBUG)
    conn = json.loads(source.info["emulator"].conn_json(source.info["cluster"]))
    conn["extra"] = {"cross_cluster_port": 1}  # the address the target cluster dials: nothing there
    monkeypatch.setenv("AIRFLOW_CONN_MIGRATION_SOURCE", json.dumps(conn))

    summary = DataRunOperator(task_id="data_run", schema=SCHEMA, fail_on_error=False).execute(context)

    assert summary["failed"] == ["Orders"] and summary["copied"] == 0
    assert names(target) == ["row 0", "row 1", "row 2"]  # the old rows: the replace never began
    (error,) = [r[0] for r in target.execute("SELECT error FROM migration.audit_history")]
    assert "VerticaCopyError" in error and "CONNECT" in error.upper()
    out, err = capsys.readouterr()
    assert_no_password(error, caplog.text, out, err, json.dumps(summary))


def test_a_copy_failing_after_the_delete_rolls_back_and_a_retry_finishes(clusters, context, caplog):
    source, target = clusters
    caplog.set_level(logging.DEBUG)
    # A name longer than the target's column: the COPY fails after the DELETE, in the same transaction.
    source.execute(f"INSERT INTO {quote(SCHEMA)}.{quote('Orders')} VALUES (999, '{'x' * 40}')")
    target.execute(
        f"ALTER TABLE {quote(SCHEMA)}.{quote('Orders')} ALTER COLUMN name SET DATA TYPE VARCHAR(20)"
    )
    src, tgt = MigrationAuditHook(source.conn_id), MigrationAuditHook(target.conn_id)

    failed = copy_table(src, tgt, SCHEMA, "Orders")

    assert failed.status == FAILED and failed.error.startswith("VerticaCopyError")
    assert names(target) == ["row 0", "row 1", "row 2"]  # DELETE rolled back with the failed COPY
    assert_no_password(failed.error, caplog.text)

    source.execute(f"DELETE FROM {quote(SCHEMA)}.{quote('Orders')} WHERE id = 999")
    retried = copy_table(src, tgt, SCHEMA, "Orders")
    assert retried.status == COPIED and target.count(SCHEMA, "Orders") == 250
