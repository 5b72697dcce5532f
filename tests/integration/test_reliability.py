"""Faults, concurrency, odd input and history replay for the audit core, on PostgreSQL and SQLite."""

from __future__ import annotations

import threading

import pytest
from conftest import audit_rows, history_rows, store_exists

from migration_audit_provider.dialects.session import Session
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator


def init(schema, **kw):
    return InitAuditOperator(task_id="init_audit", schema=schema, **kw)


def refresh(schema, **kw):
    return RefreshAuditOperator(task_id="refresh_audit", schema=schema, **kw)


def seed(source, target, schema="s", tables=6):
    source.create_schema(schema)
    target.create_schema(schema)
    for i in range(tables):
        source.create_table(schema, f"t{i}", 3)
        target.create_table(schema, f"t{i}", 3 if i % 2 else 0)


def drop_connection_at(mp, target, needle: str):
    """Kill the session's own database connection just before the statement containing ``needle``.

    PostgreSQL: the server terminates the backend (``pg_terminate_backend``), as a network drop or a
    DBA would; SQLite: the connection is closed under the open transaction.
    """
    original = Session.execute
    fired = []

    def execute(self, sql, params=None):
        if needle in sql and not fired:
            fired.append(sql)
            if target.kind == "postgres":
                pid = self.conn.info.backend_pid
                target.execute("SELECT pg_terminate_backend(%s)", (pid,))
            else:
                self.cursor.close()
                self.conn.close()
        return original(self, sql, params)

    mp.setattr(Session, "execute", execute)
    return fired


@pytest.mark.parametrize("needle", ["migration_audit_stage", "audit_history", 'UPDATE "migration"."audit"'])
def test_connection_dropped_mid_refresh_changes_nothing_and_the_retry_finishes(
    source, target, context, needle
):
    seed(source, target)
    init("s").execute(context)
    before_rows, before_history = audit_rows(target, "s"), history_rows(target, "s")

    with pytest.MonkeyPatch.context() as mp, pytest.raises(Exception) as err:
        fired = drop_connection_at(mp, target, needle)
        refresh("s").execute(context)
    assert fired, f"no statement contained {needle!r}"
    message = f"{type(err.value).__name__}: {err.value}".lower()
    assert any(word in message for word in ("terminat", "closed", "connection")), message
    assert audit_rows(target, "s") == before_rows
    assert history_rows(target, "s") == before_history

    refresh("s").execute({**context, "run_id": "retry"})
    status = {t: r[0] for t, r in audit_rows(target, "s").items()}
    assert status == {f"t{i}": "complete" if i % 2 else "reject" for i in range(6)}
    assert len([h for h in history_rows(target, "s") if h[6] == "retry"]) == 6


def test_connection_dropped_mid_init_writes_nothing(source, target, context):
    seed(source, target)
    with pytest.MonkeyPatch.context() as mp, pytest.raises(Exception):  # noqa: B017 - driver's own type
        drop_connection_at(mp, target, 'INSERT INTO "migration"."audit"')
        init("s").execute(context)
    # The store was created in the same transaction: it is rolled back with the rows.
    assert not store_exists(target) or audit_rows(target, "s") == {}
    init("s").execute(context)
    assert len(audit_rows(target, "s")) == 6


def test_concurrent_refreshes_equal_a_serial_one(source, target, context):
    seed(source, target, tables=20)
    init("s").execute(context)
    errors = []

    def run(i):
        try:
            refresh("s").execute({**context, "run_id": f"concurrent_{i}"})
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    status = {t: r[0] for t, r in audit_rows(target, "s").items()}
    assert status == {f"t{i}": "complete" if i % 2 else "reject" for i in range(20)}
    refresh_events = [h for h in history_rows(target, "s") if h[1] == "refresh"]
    assert len(refresh_events) == 20  # one transition per table, not one per concurrent refresh
    assert len({h[0] for h in refresh_events}) == 20


def test_audits_of_different_schemas_at_once(source, target, context):
    for schema in ("a", "b", "c"):
        seed(source, target, schema=schema, tables=5)
    errors = []

    def run(schema):
        try:
            init(schema).execute(context)
            refresh(schema).execute(context)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(s,)) for s in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for schema in ("a", "b", "c"):
        assert len(audit_rows(target, schema)) == 5
        assert len(history_rows(target, schema)) == 10  # init + refresh per table


def test_renamed_table_and_null_counts(source, target, context):
    seed(source, target, tables=2)
    init("s").execute(context)
    refresh("s").execute(context)
    source.execute('ALTER TABLE "s"."t0" RENAME TO "t0_renamed"', schemas=["s"])
    # A hand edit left NULL counts behind: the next refresh repairs the row.
    target.execute("UPDATE migration.audit SET src_row_count = NULL, tgt_row_count = NULL "
                   "WHERE table_name = 't1'", schemas=["migration"])  # fmt: skip
    refresh("s").execute({**context, "run_id": "after_rename"})
    rows = audit_rows(target, "s")
    assert rows["t0"][0] == "dropped"
    assert rows["t0_renamed"][0] == "missing"
    assert rows["t1"][:3] == ("complete", 3, 3)


def test_long_and_reserved_names(source, target, context):
    schema = "select"  # a reserved word
    source.create_schema(schema)
    target.create_schema(schema)
    limit = 63 if source.kind == "postgres" else 128
    # The Vertica emulator keeps its catalog in PostgreSQL, whose names end at 63 bytes (docs/vertica.md);
    # the provider's own 128-byte limit for Vertica is what the refusal below checks.
    longest = "x" * (63 if source.kind == "vertica" else limit)
    for table in ("order", "from", longest):
        source.create_table(schema, table, 1)
        target.create_table(schema, table, 1)
    init(schema).execute(context)
    refresh(schema).execute(context)
    assert {t: r[0] for t, r in audit_rows(target, schema).items()} == dict.fromkeys(
        ["order", "from", longest], "complete"
    )
    with pytest.raises(AuditInputError, match="at most"):
        init("y" * (limit + 1)).execute(context)


def test_history_replays_to_the_audit_table(source, target, context):
    seed(source, target)
    init("s").execute(context)
    refresh("s").execute(context)
    target.insert_rows("s", "t0", 3)
    source.execute('DROP TABLE "s"."t5"', schemas=["s"])
    refresh("s").execute({**context, "run_id": "second"})

    replayed: dict[str, tuple] = {}
    for table, event_type, old_status, new_status, src, tgt, _run in history_rows(target, "s"):
        if event_type == "copy":
            continue
        assert old_status == (replayed[table][0] if table in replayed else None)
        replayed[table] = (new_status, src, tgt)
    assert replayed == {t: r[:3] for t, r in audit_rows(target, "s").items()}


# PostgreSQL's lock table and SQLite's catalog are what this exercises; the Vertica emulator would
# spend minutes creating the tables (each DDL parsed as Vertica SQL) and Vertica reads take no locks.
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_tens_of_thousands_of_tables(kind, source, target, context):
    n = 20_000 if kind == "sqlite" else 2_000
    source.create_schema("wide")
    target.create_schema("wide")
    ddl = [f'CREATE TABLE "wide"."t{i:05d}" (id INTEGER)' for i in range(n)]
    if kind == "sqlite":
        import shutil
        import sqlite3

        with sqlite3.connect(source.info["folder"] / "wide.db") as conn:
            conn.executescript("BEGIN;" + ";".join(d.replace('"wide".', "") for d in ddl) + ";COMMIT;")
        shutil.copy(source.info["folder"] / "wide.db", target.info["folder"] / "wide.db")
    else:
        for cluster in (source, target):
            cluster.execute(";".join(ddl))
    summary = init("wide").execute(context)
    assert summary["by_status"] == {"pending": n}
    first = refresh("wide", fingerprint="new_complete").execute(context)  # every table turns complete:
    assert first["by_status"] == {"complete": n}
    assert first["schemas"]["wide"]["fingerprinted"] == n  # every one is hashed (read locks released)
    assert refresh("wide", fingerprint="new_complete").execute(context)["changed"] == 0


def test_a_failed_connection_does_not_leak_the_password(monkeypatch, pg_server, context):
    import json

    from pg_server import PG_PASSWORD

    conn = json.loads(pg_server.conn_json("no_such_database"))
    monkeypatch.setenv("AIRFLOW_CONN_MIGRATION_SOURCE", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_MIGRATION_TARGET", json.dumps(conn))
    with pytest.raises(Exception) as err:  # noqa: B017 - the driver's own connection error
        init("s").execute(context)
    text = f"{err.value!s} {err.value!r} {err.getrepr()}"
    assert "no_such_database" in text  # the error says what is wrong...
    assert PG_PASSWORD not in text  # ...without the secret
