"""The store's versions on real databases: upgrading a 0.1.0 store, adopting the seed's audit table,
two first runs at once, a newer store refused (store_versions.py, issue #15)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from conftest import history_rows

from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.operators.audit import InitAuditOperator
from migration_audit_provider.store import AuditStore
from migration_audit_provider.store_versions import STORE_VERSION

# The 0.1.0 layout (commit a427c4c, include/sql/<database>/create_store.sql): no fingerprint columns
# on the audit and stage tables, no history detail; the per-database types of that commit's files.
V010_TYPES = {
    "postgres": ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "DOUBLE PRECISION"),
    "sqlite": ("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"),
    "vertica": ("IDENTITY(1, 1)", "FLOAT"),
}
V010_DDL = """
CREATE TABLE migration.audit (
    table_schema VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
    src_row_count BIGINT, tgt_row_count BIGINT, export_success BOOLEAN NOT NULL DEFAULT FALSE,
    export_status VARCHAR(16) NOT NULL, update_ts TIMESTAMP NOT NULL, src_present BOOLEAN,
    tgt_present BOOLEAN, src_counted_at TIMESTAMP, tgt_counted_at TIMESTAMP, count_method VARCHAR(32),
    created_ts TIMESTAMP NOT NULL, last_run_id VARCHAR(250), PRIMARY KEY (table_schema, table_name)
);
CREATE TABLE migration.audit_history (
    event_id {event_id}, event_ts TIMESTAMP NOT NULL, event_type VARCHAR(16) NOT NULL,
    run_id VARCHAR(250), task_id VARCHAR(250), table_schema VARCHAR(128) NOT NULL,
    table_name VARCHAR(128) NOT NULL, old_status VARCHAR(16), new_status VARCHAR(16),
    src_row_count BIGINT, tgt_row_count BIGINT, src_present BOOLEAN, tgt_present BOOLEAN,
    copy_method VARCHAR(32), rows_read BIGINT, rows_written BIGINT, seconds {float}, error VARCHAR(4000)
);
CREATE TABLE migration.current_row_counts (
    refresh_id VARCHAR(64) NOT NULL, table_schema VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
    src_row_count BIGINT, tgt_row_count BIGINT, src_present BOOLEAN, tgt_present BOOLEAN,
    src_counted_at TIMESTAMP, tgt_counted_at TIMESTAMP, count_method VARCHAR(32), export_status VARCHAR(16),
    PRIMARY KEY (refresh_id, table_schema, table_name)
);
CREATE TABLE migration.audit_runs (
    run_id VARCHAR(250), task_id VARCHAR(250), step VARCHAR(16) NOT NULL, table_schema VARCHAR(128) NOT NULL,
    started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, count_method VARCHAR(32),
    tables_seen BIGINT, rows_changed BIGINT
)
"""
# The seed's scripts (/work/shared/seed): migration.audit with seven columns, Vertica's plain types,
# and its current_row_counts (table_schema, table_name, row_count).
SEED_DDL = """
CREATE TABLE migration.audit (
    table_schema VARCHAR(256), table_name VARCHAR(256), src_row_count INT, tgt_row_count INT,
    export_success BOOLEAN, export_status VARCHAR(50), update_ts TIMESTAMP
);
CREATE TABLE migration.current_row_counts (table_schema VARCHAR(256), table_name VARCHAR(256), row_count INT)
"""
V010_AUDIT = "table_schema, table_name, src_row_count, tgt_row_count, export_status, update_ts, created_ts"
SEED_AUDIT = (
    "table_schema, table_name, src_row_count, tgt_row_count, export_success, export_status, update_ts"
)
T0 = datetime(2024, 3, 1, 10, 0, 0)
T1 = datetime(2024, 3, 2, 11, 30, 0)


def run_script(target, text: str) -> None:
    if target.kind != "sqlite":
        target.execute("CREATE SCHEMA migration")
    for stmt in [s.strip() for s in text.split(";\n") if s.strip()]:
        target.execute(stmt, schemas=["migration"])


def insert(target, table: str, columns: str, rows: list[tuple]) -> None:
    marks = ", ".join([target.ph] * len(columns.split(",")))
    for row in rows:
        target.execute(
            f"INSERT INTO migration.{table} ({columns}) VALUES ({marks})", row, schemas=["migration"]
        )


def select(target, table: str, columns: str, order: str = "table_schema, table_name") -> list[tuple]:
    return target.execute(f"SELECT {columns} FROM migration.{table} ORDER BY {order}", schemas=["migration"])


def ensure(target) -> AuditStore:
    store = AuditStore(MigrationAuditHook(target.conn_id))
    with store.session(write=True) as session:
        store.ensure(session)
    return store


def versions(target) -> list[tuple]:
    return select(target, "audit_store_version", "version, description", order="version")


def columns(target, table: str) -> set[str]:
    store = AuditStore(MigrationAuditHook(target.conn_id))
    with store.session() as session:
        return {c.lower() for c in store.dialect.list_columns(session, "migration", table)}


def normal(rows: list[tuple]) -> list[tuple]:
    """Values as comparable text (SQLite hands back timestamps as text, the others as datetimes)."""
    return [tuple(None if v is None else str(v) for v in row) for row in rows]


def test_a_0_1_0_store_is_upgraded_keeping_every_row_and_its_history(target):
    run_script(
        target, V010_DDL.format(**dict(zip(("event_id", "float"), V010_TYPES[target.kind], strict=True)))
    )
    insert(
        target,
        "audit",
        V010_AUDIT,
        [("sales", "a", 5, 5, "complete", T1, T0), ("sales", "b", 5, 0, "reject", T1, T0)],
    )
    history_cols = "event_ts, event_type, run_id, table_schema, table_name, old_status, new_status"
    insert(
        target,
        "audit_history",
        history_cols,
        [
            (T0, "init", "r1", "sales", "a", None, "pending"),
            (T1, "refresh", "r2", "sales", "a", "pending", "complete"),
        ],
    )
    audit_before = normal(select(target, "audit", V010_AUDIT))
    history_before = normal(select(target, "audit_history", history_cols, order="event_ts"))

    ensure(target)

    assert normal(select(target, "audit", V010_AUDIT)) == audit_before
    assert normal(select(target, "audit_history", history_cols, order="event_ts")) == history_before
    assert {"src_fingerprint", "tgt_fingerprint", "fingerprinted_at"} <= columns(target, "audit")
    assert "detail" in columns(target, "audit_history")
    assert "src_fingerprint" not in columns(target, "current_row_counts")  # left as it was: not written
    assert [v for v, _ in versions(target)] == [1, 2, 3, 4, 5] and STORE_VERSION == 5
    snapshot = (versions(target), normal(select(target, "audit", "*")), history_before)

    ensure(target)  # again: nothing changes
    again = (versions(target), normal(select(target, "audit", "*")))
    assert again == snapshot[:2]
    assert normal(select(target, "audit_history", history_cols, order="event_ts")) == history_before


def test_the_upgraded_store_takes_a_run(source, target, context):
    run_script(
        target, V010_DDL.format(**dict(zip(("event_id", "float"), V010_TYPES[target.kind], strict=True)))
    )
    insert(target, "audit", V010_AUDIT, [("sales", "a", 5, 5, "complete", T1, T0)])
    source.create_schema("sales")
    source.create_table("sales", "a", 5)
    source.create_table("sales", "c", 2)
    summary = InitAuditOperator(task_id="init_audit", schema="sales").execute(context)
    assert summary["tables"] == 2 and summary["added"] == 1
    created = dict(normal(select(target, "audit", "table_name, created_ts")))
    assert created["a"] == str(T0) and created["c"] is not None


def test_a_seed_table_is_adopted_and_unconfigured_schemas_are_left_alone(source, target, context):
    run_script(target, SEED_DDL)
    insert(
        target,
        "audit",
        SEED_AUDIT,
        [
            ("sales", "orders", 10, 10, True, None, T0),  # the seed left 'complete' tables without a status
            ("sales", "items", 10, 4, False, "partial", T1),
            ("hr", "people", 3, 0, False, "reject", T1),
        ],
    )
    insert(target, "current_row_counts", "table_schema, table_name, row_count", [("sales", "orders", 10)])
    hr_before = normal(
        target.execute(
            f"SELECT {SEED_AUDIT} FROM migration.audit WHERE table_schema = 'hr'", schemas=["migration"]
        )
    )
    source.create_schema("sales")
    source.create_table("sales", "orders", 10)
    source.create_table("sales", "items", 12)

    InitAuditOperator(task_id="init_audit", schema="sales").execute(context)

    rows = {r[1]: r for r in select(target, "audit", f"{SEED_AUDIT}, created_ts")}
    assert set(rows) == {"orders", "items", "people"}
    # sales: adopted (created_ts from update_ts), then counted by init (items' source grew to 12)
    assert str(rows["orders"][7]) == str(T0) and str(rows["items"][7]) == str(T1)
    assert rows["items"][2] == 12 and rows["orders"][2] == 10
    adopt = [e for e in history_rows(target, "sales") if e[1] == "adopt"]
    assert sorted((e[0], e[2], e[3]) for e in adopt) == [
        ("items", "partial", "partial"),
        ("orders", None, "pending"),
    ]
    # hr: no DAG configures it: every value as it was, no history
    hr_after = normal(
        target.execute(
            f"SELECT {SEED_AUDIT} FROM migration.audit WHERE table_schema = 'hr'", schemas=["migration"]
        )
    )
    assert hr_after == hr_before and rows["people"][7] is None
    assert history_rows(target, "hr") == []
    assert select(target, "current_row_counts", "table_name, row_count", order="table_name") == [
        ("orders", 10)
    ]
    assert [v for v, _ in versions(target)] == [0, 1, 2, 3, 4, 5]

    InitAuditOperator(task_id="init_audit", schema="sales").execute(context)  # adopted once only
    assert len([e for e in history_rows(target, "sales") if e[1] == "adopt"]) == 2


def test_two_first_runs_at_once_make_one_store(target):
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def first_run():
        try:
            start.wait()
            ensure(target)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=first_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v for v, _ in versions(target)] == [2, 3, 4, 5]
    assert {"audit", "audit_history", "audit_leases"} <= tables(target)


def tables(target) -> set[str]:
    store = AuditStore(MigrationAuditHook(target.conn_id))
    with store.session() as session:
        return set(store.dialect.list_tables(session, "migration"))


def test_a_newer_store_is_refused_and_nothing_is_written(source, target, context):
    run_script(
        target,
        "CREATE TABLE migration.audit_store_version (version INTEGER, applied_at TIMESTAMP, "
        "provider_version VARCHAR(32), description VARCHAR(200))",
    )
    insert(
        target, "audit_store_version", "version, applied_at, description", [(STORE_VERSION + 1, T0, "future")]
    )
    source.create_schema("sales")
    source.create_table("sales", "a", 1)

    with pytest.raises(AuditInputError, match=rf"version {STORE_VERSION + 1}, newer than this provider"):
        InitAuditOperator(task_id="init_audit", schema="sales").execute(context)
    assert tables(target) == {"audit_store_version"}
    assert versions(target) == [(STORE_VERSION + 1, "future")]


def test_a_current_store_is_only_read_by_the_next_tasks(target, monkeypatch):
    """Once the store is at this provider's version, a task's ``ensure`` reads the version and runs no
    DDL (no ``CREATE … IF NOT EXISTS`` per task; on Vertica each would commit); a seed store so reached
    still has its rows adopted."""
    from migration_audit_provider.dialects.session import Session

    ensure(target)  # the first task makes the store
    sent: list[str] = []
    for method in ("execute", "script"):
        original = getattr(Session, method)

        def spy(self, sql, *args, _original=original, **kwargs):
            sent.append(sql)
            return _original(self, sql, *args, **kwargs)

        monkeypatch.setattr(Session, method, spy)
    store = AuditStore(MigrationAuditHook(target.conn_id))
    with store.session(write=True) as session:
        store.ensure(session)
    ddl = [s for s in sent if any(word in s.upper() for word in ("CREATE ", "ALTER ", "INSERT "))]
    assert ddl == [] and sent, sent
    assert store.adopted is False
    assert [v for v, _ in versions(target)] == [2, 3, 4, 5]
