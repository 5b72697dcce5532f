"""Schema drift on real databases: a column added on the source only, a retyped column, a column
dropped from the source, and a widened VARCHAR; the status, the history detail, the check and reruns."""

from __future__ import annotations

import json

import pytest
from conftest import audit_rows

from migration_audit_provider.exceptions import AuditIncompleteError
from migration_audit_provider.operators.audit import (
    CheckAuditOperator,
    GetRejectsOperator,
    InitAuditOperator,
    RefreshAuditOperator,
)

LAYOUT = {
    # table: (source columns, target columns, target rows)
    "added_t": ("id INTEGER, name VARCHAR(40), extra INTEGER", "id INTEGER, name VARCHAR(40)", 5),
    "retyped_t": ("id INTEGER, name VARCHAR(40)", "id INTEGER, name DATE", 0),
    "dropped_t": ("id INTEGER, name VARCHAR(40)", "id INTEGER, name VARCHAR(40), old_col INTEGER", 5),
    "widened_t": ("id INTEGER, name VARCHAR(50)", "id INTEGER, name VARCHAR(100)", 5),
    "narrowed_t": ("id INTEGER, name VARCHAR(50)", "id INTEGER, name VARCHAR(20)", 5),
    "same_t": ("id INTEGER, name VARCHAR(40)", "id INTEGER, name VARCHAR(40)", 5),
}


def seed(source, target, schema="sales"):
    source.create_schema(schema)
    target.create_schema(schema)
    for table, (src_cols, tgt_cols, tgt_rows) in LAYOUT.items():
        source.create_table(schema, table, 5, columns=src_cols)
        target.create_table(schema, table, tgt_rows, columns=tgt_cols)


def details(target, schema, table):
    ph = target.ph
    rows = target.execute(
        "SELECT detail FROM migration.audit_history "
        f"WHERE table_schema = {ph} AND table_name = {ph} AND event_type = 'refresh' AND detail IS NOT NULL",
        (schema, table),
        schemas=["migration"],
    )
    return [json.loads(r[0]) for r in rows]


def refreshed(source, target, context):
    seed(source, target)
    InitAuditOperator(task_id="init", schema="sales").execute(context)
    return RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint="off").execute(context)


# SQLite keeps no declared size (VARCHAR(20) stores any length): sizes are compared only where both
# databases enforce them, so a narrower VARCHAR is drift on PostgreSQL and Vertica only.
def sizes_enforced(kind: str) -> bool:
    return kind != "sqlite"


def test_each_kind_of_drift_has_its_status_and_history_detail(kind, source, target, context):
    summary = refreshed(source, target, context)
    status = {t: r[0] for t, r in audit_rows(target, "sales").items()}
    assert status == {
        "added_t": "drift",
        "retyped_t": "drift",  # also 0 rows on the target: drift comes before reject
        "dropped_t": "drift",
        "widened_t": "complete",  # a wider VARCHAR on the target is allowed
        "narrowed_t": "drift" if sizes_enforced(kind) else "complete",
        "same_t": "complete",
    }
    drifted = 4 if sizes_enforced(kind) else 3
    assert summary["by_status"] == {"complete": 6 - drifted, "drift": drifted}

    [added] = details(target, "sales", "added_t")
    assert [(e["column"], e["change"], e["target"]) for e in added["drift"]] == [
        ("extra", "missing on target", None)
    ]
    assert added["drift"][0]["source"].startswith("int")
    [retyped] = details(target, "sales", "retyped_t")
    assert [(e["column"], e["change"]) for e in retyped["drift"]] == [("name", "type")]
    assert retyped["drift"][0]["target"] == "date"
    [dropped] = details(target, "sales", "dropped_t")
    assert [(e["column"], e["change"], e["source"]) for e in dropped["drift"]] == [
        ("old_col", "only on target", None)
    ]
    assert details(target, "sales", "same_t") == []
    if not sizes_enforced(kind):
        assert details(target, "sales", "widened_t") == details(target, "sales", "narrowed_t") == []
        return
    [widened] = details(target, "sales", "widened_t")
    assert widened["drift"] == []
    assert [(e["column"], e["change"]) for e in widened["widened"]] == [("name", "wider on target")]
    assert "50" in widened["widened"][0]["source"] and "100" in widened["widened"][0]["target"]
    [narrowed] = details(target, "sales", "narrowed_t")
    assert [(e["column"], e["change"]) for e in narrowed["drift"]] == [("name", "narrower on target")]


def test_a_second_refresh_writes_nothing_and_a_ddl_fix_clears_drift(source, target, context):
    refreshed(source, target, context)
    before = audit_rows(target, "sales")
    again = RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint="off").execute(context)
    assert again["changed"] == 0 and audit_rows(target, "sales") == before

    target.execute('ALTER TABLE "sales"."added_t" ADD COLUMN extra INTEGER', schemas=["sales"])
    RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint="off").execute(context)
    assert audit_rows(target, "sales")["added_t"][0] == "complete"


def test_drifted_tables_are_not_rerun_and_the_check_names_them(kind, source, target, context):
    refreshed(source, target, context)
    batches = GetRejectsOperator(
        task_id="get_rejects",
        schema="sales",
        statuses=("reject", "mismatch", "drift"),
        include_partial=True,
        include_overload=True,
    ).execute(context)
    assert [t for batch in batches for t in batch] == []  # retyped_t has 0 rows: drift, not reject

    with pytest.raises(AuditIncompleteError) as err:
        CheckAuditOperator(task_id="check", schema="sales").execute(context)
    message = str(err.value)
    assert "drift" in message and "DDL fix" in message
    drifted = ["added_t", "dropped_t", "retyped_t"] + (["narrowed_t"] if sizes_enforced(kind) else [])
    for table in drifted:
        assert repr(table) in message
    assert "'widened_t'" not in message
    assert "extra missing on target" in message

    summary = CheckAuditOperator(task_id="check", schema="sales", on_incomplete="warn").execute(context)
    assert sorted(summary["drift"]) == sorted(drifted)
