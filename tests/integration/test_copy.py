"""DataRunOperator, RejectRerunOperator and the per-table copy against real PostgreSQL and SQLite.

Every test runs for three pairs - PostgreSQL -> PostgreSQL (the streamed COPY fast path), SQLite ->
SQLite and SQLite -> PostgreSQL (the batched path, with each target's own writer) - and compares
table contents value by value, not just counts.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from conftest import _make_cluster, audit_rows, quote

from migration_audit_provider.dialects import postgres as pg_transfer
from migration_audit_provider.exceptions import AuditInputError, CopyFailedError
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.operators.audit import (
    GetRejectsOperator,
    InitAuditOperator,
    RefreshAuditOperator,
)
from migration_audit_provider.operators.copy import DataRunOperator, RejectRerunOperator
from migration_audit_provider.transfers import strategy_for, table_copy

PAIRS = {
    "pg-pg": ("postgres", "postgres", "pg_copy_stream"),
    "sqlite-sqlite": ("sqlite", "sqlite", "sqlite_attach"),
    "sqlite-pg": ("sqlite", "postgres", "batched_pg_copy"),
    "vertica-vertica": ("vertica", "vertica", "copy_from_vertica"),
    "pg-vertica": ("postgres", "vertica", "batched_vertica_copy"),
}


@pytest.fixture(params=list(PAIRS))
def pair(request, monkeypatch, tmp_path):
    """(source, target, expected copy method) for each pair of databases under test."""
    source_kind, target_kind, method = PAIRS[request.param]
    source = _make_cluster(source_kind, "source", monkeypatch, tmp_path, request)
    target = _make_cluster(target_kind, "target", monkeypatch, tmp_path, request)
    return source, target, method


# -- arranging data --------------------------------------------------------------------------------
COLUMNS = ["id", "name", "amount", "created", "note"]
TEXTS = [
    "plain",
    'it\'s a "quoted" value',
    "two\nlines\r\nand\ttab",
    "back\\slash | pipe , comma",
    "ünïcødé ✓ 🚀 中文",
    "\\N looks like a null marker",
]


def ddl(kind: str, names: list[str] = COLUMNS, extra: str = "") -> str:
    types = {
        "postgres": ["INTEGER", "TEXT", "NUMERIC(14,2)", "TIMESTAMP", "TEXT"],
        "sqlite": ["INTEGER", "TEXT", "NUMERIC", "TIMESTAMP", "TEXT"],
        "vertica": ["INTEGER", "VARCHAR(200)", "NUMERIC(14,2)", "TIMESTAMP", "VARCHAR(200)"],
    }[kind]
    cols = [f"{quote(n)} {t}" for n, t in zip(names, types, strict=True)]
    return ", ".join(cols) + (f", {extra}" if extra else "")


def make_rows(n: int, seed: int = 0) -> list[tuple]:
    rows = []
    for i in range(n):
        k = i + seed
        amount = None if k % 7 == 3 else Decimal(k) * Decimal("1.25") + Decimal("1000000.01")
        note = None if k % 3 == 1 else ("" if k % 5 == 0 else TEXTS[k % len(TEXTS)])
        created = datetime(2024, 1, 1) + timedelta(minutes=k, seconds=k % 60)
        rows.append((k, f"{TEXTS[k % len(TEXTS)]} #{k}", amount, created, note))
    return rows


def load(cluster, schema: str, table: str, rows: list[tuple], names: list[str] = COLUMNS) -> None:
    ph = cluster.ph
    if cluster.kind == "sqlite":  # SQLite stores what it is given: numbers and ISO text
        rows = [
            (r[0], r[1], None if r[2] is None else float(r[2]), r[3].isoformat(sep=" "), r[4]) for r in rows
        ]
    conn = cluster.raw([schema])
    if cluster.kind == "vertica":
        # Arranging only: rows go straight into the PostgreSQL database behind the emulated cluster
        # (its names folded to lower case, as the emulator keeps them), not one INSERT at a time.
        conn.close()
        conn = cluster.info["emulator"].pg_connect(cluster.info["cluster"], autocommit=False)
        schema, table, names = schema.lower(), table.lower(), [n.lower() for n in names]
    sql = (
        f"INSERT INTO {quote(schema)}.{quote(table)} ({', '.join(map(quote, names))}) "
        f"VALUES ({', '.join([ph] * len(names))})"
    )
    try:
        conn.cursor().executemany(sql, rows)
        conn.commit()
    finally:
        conn.close()


def make_table(cluster, schema, table, rows=(), names=COLUMNS, extra=""):
    cluster.execute(
        f"CREATE TABLE {quote(schema)}.{quote(table)} ({ddl(cluster.kind, names, extra)})", schemas=[schema]
    )
    if rows:
        load(cluster, schema, table, list(rows), names)


def norm(value):
    """One comparable form for both databases' values (SQLite hands back floats and ISO text)."""
    if isinstance(value, float):
        return Decimal(repr(value)).normalize()
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def content(cluster, schema, table, names=COLUMNS) -> list[tuple]:
    rows = cluster.execute(
        f"SELECT {', '.join(map(quote, names))} FROM {quote(schema)}.{quote(table)}", schemas=[schema]
    )
    return sorted((tuple(norm(v) for v in row) for row in rows), key=repr)


def expected(rows) -> list[tuple]:
    return sorted((tuple(norm(v) for v in row) for row in rows), key=repr)


def copy_events(target, schema) -> list[tuple]:
    ph = target.ph
    return target.execute(
        "SELECT table_name, copy_method, rows_read, rows_written, error, run_id FROM migration.audit_history "
        f"WHERE table_schema = {ph} AND event_type = 'copy' ORDER BY event_id",
        (schema,),
        schemas=["migration"],
    )


def data_run(schema, **kw):
    return DataRunOperator(task_id="data_run", schema=schema, **kw)


def seed_sales(source, target, schema="sales"):
    """Three tables: typed rows, an empty one, and one whose target holds stale rows."""
    source.create_schema(schema)
    target.create_schema(schema)
    data = {"orders": make_rows(240), "empty_t": [], "customers": make_rows(30, seed=1000)}
    for table, rows in data.items():
        make_table(source, schema, table, rows)
    # The target orders its columns differently: the copy matches them by name.
    target.execute(
        f'CREATE TABLE {quote(schema)}."orders" ("note" TEXT, "created" TIMESTAMP, "id" INTEGER, '
        f'"amount" NUMERIC(14,2), "name" TEXT)',
        schemas=[schema],
    )
    make_table(target, schema, "empty_t")
    make_table(target, schema, "customers", make_rows(5, seed=50_000))  # stale rows to be replaced
    return data


# -- the tests -------------------------------------------------------------------------------------
def test_data_run_copies_a_schema_and_the_audit_turns_complete(pair, context):
    source, target, method = pair
    data = seed_sales(source, target)
    InitAuditOperator(task_id="init", schema="sales").execute(context)

    summary = data_run("sales").execute(context)

    for table, rows in data.items():
        assert content(target, "sales", table) == expected(rows), table
    assert summary["copied"] == 3 and summary["failed"] == [] and summary["missing"] == []
    assert summary["rows_written"] == 270
    assert summary["methods"] == {method: 3}
    RefreshAuditOperator(task_id="refresh", schema="sales").execute(context)
    assert {t: r[0] for t, r in audit_rows(target, "sales").items()} == dict.fromkeys(data, "complete")
    events = {e[0]: e for e in copy_events(target, "sales")}
    assert len(copy_events(target, "sales")) == 3
    assert events["orders"][1:5] == (method, 240, 240, None)
    assert events["customers"][1:4] == (method, 30, 30)
    assert events["empty_t"][1:4] == (method, 0, 0)


def test_a_second_run_gives_the_same_rows(pair, context):
    source, target, _ = pair
    data = seed_sales(source, target)
    data_run("sales").execute(context)
    first = {t: content(target, "sales", t) for t in data}

    summary = data_run("sales").execute({**context, "run_id": "second"})

    assert {t: content(target, "sales", t) for t in data} == first
    assert target.count("sales", "orders") == 240  # not doubled
    assert summary["rows_written"] == 270
    runs = [e[5] for e in copy_events(target, "sales")]
    assert runs.count("manual__test") == 3 and runs.count("second") == 3


def test_a_column_mismatch_fails_that_table_only(pair, context):
    source, target, _ = pair
    data = seed_sales(source, target)
    make_table(source, "sales", "wide", make_rows(4), extra='"extra" TEXT')
    make_table(target, "sales", "wide", make_rows(2, seed=90))
    make_table(source, "sales", "narrow", make_rows(3))
    make_table(target, "sales", "narrow", extra='"only_on_target" INTEGER')

    with pytest.raises(CopyFailedError) as err:
        data_run("sales", max_workers=2).execute(context)

    message = str(err.value)
    assert "2 of 5 table(s) of sales failed" in message
    assert (
        "wide: AuditInputError: columns of sales.wide differ: source columns missing on the target: 'extra'"
        in message
    )
    assert "narrow" in message and "'only_on_target'" in message
    assert "orders" not in message and "customers" not in message
    for table, rows in data.items():  # the others were copied
        assert content(target, "sales", table) == expected(rows)
    assert content(target, "sales", "wide") == expected(make_rows(2, seed=90))  # untouched
    errors = {e[0]: e[4] for e in copy_events(target, "sales")}
    assert "'extra'" in errors["wide"] and "'only_on_target'" in errors["narrow"]
    assert errors["orders"] is None
    # fail_on_error=False (the DAGs leave the verdict to the audit): the same, without raising
    summary = data_run("sales", fail_on_error=False).execute({**context, "run_id": "lenient"})
    assert summary["failed"] == ["narrow", "wide"] and summary["copied"] == 3


@pytest.mark.parametrize("how", ["raise", "close"])
def test_a_copy_killed_halfway_leaves_the_target_as_it_was(pair, context, monkeypatch, how):
    source, target, _ = pair
    source.create_schema("s")
    target.create_schema("s")
    rows = make_rows(1200)
    make_table(source, "s", "big", rows)
    old = make_rows(7, seed=70_000)
    make_table(target, "s", "big", old)
    monkeypatch.setattr(pg_transfer, "BLOCK_BYTES", 4096)  # several blocks on the streamed path
    strategy_class = type(
        strategy_for(MigrationAuditHook(source.conn_id), MigrationAuditHook(target.conn_id))
    )
    delivered = []
    if hasattr(strategy_class, "read_chunks"):  # rows pass through the worker: die mid-stream
        point, original = "read_chunks", strategy_class.read_chunks

        def dies(self, job, *args):
            chunks = original(self, job, *args)
            delivered.append(next(chunks))
            yield delivered[0]  # the target has taken the first chunk when the source dies
            if how == "raise":
                raise ConnectionResetError("source went away mid-copy")
            job.source.conn.close()
            yield from chunks

    else:  # a copy the target runs itself (Vertica from Vertica, SQLite from an attached file):
        # die after the DELETE, before the rows are loaded
        point, original = "source_rows", strategy_class.source_rows

        def dies(job, *args):
            delivered.append(job.table)  # the target's rows are deleted in the open transaction
            if how == "raise":
                raise ConnectionResetError("source went away mid-copy")
            job.target.conn.close()  # the worker's connection to the target is gone
            return original(job, *args)

        dies = staticmethod(dies)

    monkeypatch.setattr(strategy_class, point, dies)
    with pytest.raises(CopyFailedError, match="big"):
        data_run("s", batch_size=100).execute(context)

    assert delivered, "the copy never started streaming"
    assert content(target, "s", "big") == expected(old)  # not empty, not half, not doubled
    (event,) = copy_events(target, "s")
    cause = "source went away mid-copy" if how == "raise" else "closed"
    assert cause in event[4] and event[3] is None

    monkeypatch.setattr(strategy_class, point, original if point == "read_chunks" else staticmethod(original))
    data_run("s", batch_size=100).execute({**context, "run_id": "retry"})
    assert content(target, "s", "big") == expected(rows)


def test_reject_rerun_over_each_batch_makes_rejects_complete(pair, context):
    source, target, _ = pair
    source.create_schema("r")
    target.create_schema("r")
    sizes = {"a": 10, "b": 25, "c": 3, "d": 40, "ok": 5}
    for table, n in sizes.items():
        make_table(source, "r", table, make_rows(n, seed=n))
        make_table(
            target, "r", table, make_rows(n, seed=n) if table == "ok" else make_rows(2 if table == "d" else 0)
        )
    InitAuditOperator(task_id="init", schema="r").execute(context)
    RefreshAuditOperator(task_id="refresh", schema="r").execute(context)
    status = {t: r[0] for t, r in audit_rows(target, "r").items()}
    assert status == {"a": "reject", "b": "reject", "c": "reject", "d": "partial", "ok": "complete"}

    batches = GetRejectsOperator(
        task_id="get_rejects", schema="r", include_partial=True, batch_size=3
    ).execute(context)
    assert batches == [["a", "b", "c"], ["d"]]
    summaries = [
        RejectRerunOperator(task_id="rerun_rejects", schema="r", tables=batch).execute(context)
        for batch in batches
    ]
    RefreshAuditOperator(task_id="refresh", schema="r").execute(context)

    assert {t: r[0] for t, r in audit_rows(target, "r").items()} == dict.fromkeys(sizes, "complete")
    assert [s["copied"] for s in summaries] == [3, 1]
    for table, n in sizes.items():
        assert content(target, "r", table) == expected(make_rows(n, seed=n))
    assert sorted(e[0] for e in copy_events(target, "r")) == ["a", "b", "c", "d"]  # "ok" was left alone


@pytest.mark.parametrize(
    "tables, message",
    [
        (["a", "not_audited"], "not in the audit store"),
        ("a", "must be a list"),
        ([1], "non-empty strings"),
        ([""], "non-empty strings"),
        (["a\x00b"], "control characters"),
    ],
)
def test_rerun_refuses_bad_tables_before_any_copy(pair, context, tables, message):
    source, target, _ = pair
    source.create_schema("r")
    target.create_schema("r")
    make_table(source, "r", "a", make_rows(3))
    make_table(target, "r", "a")
    InitAuditOperator(task_id="init", schema="r").execute(context)

    with pytest.raises(AuditInputError, match=message):
        RejectRerunOperator(task_id="rerun", schema="r", tables=tables).execute(context)

    assert target.count("r", "a") == 0
    assert copy_events(target, "r") == []


ODD_SCHEMA = 'Sales "EU" 2024'
ODD_TABLES = ["Mixed Case", 'with "quotes"', "semi;colon", "ünï cödé"]
ODD_COLUMNS = ["Order ID", 'say "hi"', "MixedCase", "semi;colon", "ünï"]


def test_odd_identifiers(pair, context):
    source, target, method = pair
    source.create_schema(ODD_SCHEMA)
    target.create_schema(ODD_SCHEMA)
    for i, table in enumerate(ODD_TABLES):
        make_table(source, ODD_SCHEMA, table, make_rows(i + 3, seed=i), names=ODD_COLUMNS)
        make_table(target, ODD_SCHEMA, table, names=ODD_COLUMNS)

    summary = data_run(ODD_SCHEMA).execute(context)

    assert summary["copied"] == 4 and summary["methods"] == {method: 4}
    for i, table in enumerate(ODD_TABLES):
        assert content(target, ODD_SCHEMA, table, ODD_COLUMNS) == expected(make_rows(i + 3, seed=i))
    assert sorted(e[0] for e in copy_events(target, ODD_SCHEMA)) == sorted(ODD_TABLES)


def test_a_missing_target_table_is_reported_not_failed(pair, context):
    source, target, _ = pair
    source.create_schema("m")
    target.create_schema("m")
    make_table(source, "m", "present", make_rows(4))
    make_table(target, "m", "present")
    make_table(source, "m", "absent", make_rows(4))

    summary = data_run("m").execute(context)

    assert summary["missing"] == ["absent"] and summary["copied"] == 1 and summary["failed"] == []
    events = {e[0]: e for e in copy_events(target, "m")}
    assert events["absent"][4].startswith("missing: target table m.absent does not exist")
    assert events["present"][4] is None and events["present"][3] == 4


def test_a_missing_target_schema_reports_every_table_missing(pair, context):
    source, target, _ = pair
    source.create_schema("gone")
    make_table(source, "gone", "t1", make_rows(2))
    make_table(source, "gone", "t2", make_rows(2))

    summary = data_run("gone").execute(context)

    assert summary["missing"] == ["t1", "t2"] and summary["copied"] == 0
    if target.kind == "sqlite":
        assert not (target.info["folder"] / "gone.db").exists()  # nothing created on the target


def test_tables_are_copied_a_bounded_few_at_a_time(pair, context, monkeypatch):
    source, target, _ = pair
    source.create_schema("c")
    target.create_schema("c")
    for i in range(6):
        make_table(source, "c", f"t{i}", make_rows(3, seed=i))
        make_table(target, "c", f"t{i}")
    original = table_copy.copy_table
    lock, active, peak, threads = threading.Lock(), [0], [0], set()

    def slow_copy_table(*args, **kwargs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            threads.add(threading.get_ident())
        try:
            time.sleep(0.15)  # outside any transaction: only the runner's bound limits overlap
            return original(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(table_copy, "copy_table", slow_copy_table)
    summary = data_run("c", max_workers=3).execute(context)

    assert summary["copied"] == 6
    # SQLite takes one writer at a time; PostgreSQL gets max_workers copies at once, never more.
    assert peak[0] == len(threads) == (1 if target.kind == "sqlite" else 3)


def test_operators_do_no_io_before_execute(monkeypatch):
    from airflow.sdk import DAG, BaseHook

    def refuse(*args, **kwargs):
        raise AssertionError("connection looked up in __init__")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse))
    with DAG("no_io", schedule=None):
        op = RejectRerunOperator(task_id="r", schema="s", tables=["a"], max_workers=2)
        DataRunOperator(task_id="d", schema="s")
        mapped = RejectRerunOperator.partial(task_id="m", schema="s").expand(tables=[["a"], ["b"]])
    assert "tables" in op.template_fields and op.tables == ["a"]
    assert mapped.partial_kwargs["schema"] == "s"


def test_bad_settings_are_refused_before_sql(pair, context):
    source, target, _ = pair
    with pytest.raises(AuditInputError, match="max_workers"):
        data_run("nope", max_workers=0).execute(context)
    with pytest.raises(AuditInputError, match="schema 'nope' does not exist"):
        data_run("nope").execute(context)


def test_postgres_to_sqlite_goes_through_the_generic_path(monkeypatch, tmp_path, request, context):
    """Not one of the three pairs above: PostgreSQL's server-side cursor and values SQLite must be
    handed as text (decimals, timestamps) on the row-by-row path."""
    source = _make_cluster("postgres", "source", monkeypatch, tmp_path, request)
    target = _make_cluster("sqlite", "target", monkeypatch, tmp_path, request)
    source.create_schema("x")
    target.create_schema("x")
    rows = make_rows(257)
    make_table(source, "x", "t", rows)
    make_table(target, "x", "t", make_rows(3, seed=9000))

    summary = data_run("x", batch_size=50).execute(context)

    assert summary["methods"] == {"batched_insert": 1} and summary["rows_written"] == 257
    assert content(target, "x", "t") == expected(rows)


def test_the_data_run_copies_only_what_changed_since_the_last_audit(kind, source, target, context):
    for cluster in (source, target):
        cluster.create_schema("inc")
    for i in range(6):
        source.create_table("inc", f"t{i}", 5)
        target.create_table("inc", f"t{i}", 0)
    InitAuditOperator(task_id="init", schema="inc").execute(context)
    first = data_run("inc").execute(context)
    assert first["copied"] == 6 and first["unchanged"] == 0
    RefreshAuditOperator(task_id="refresh", schema="inc").execute(context)

    # A migration batch: two tables grew in the source, one is new; the other three did not change.
    source.insert_rows("inc", "t1", 2, start=100)
    source.insert_rows("inc", "t4", 3, start=100)
    source.create_table("inc", "t6", 4)
    target.create_table("inc", "t6", 0)
    InitAuditOperator(task_id="init", schema="inc").execute({**context, "run_id": "batch2"})
    second = data_run("inc").execute({**context, "run_id": "batch2"})

    copied = [r[0] for r in copy_events(target, "inc") if r[5] == "batch2"]
    assert sorted(copied) == ["t1", "t4", "t6"]
    assert second["copied"] == 3 and second["unchanged"] == 4
    assert target.count("inc", "t1") == 7 and target.count("inc", "t6") == 4

    full = data_run("inc", full_reload=True).execute({**context, "run_id": "full"})
    assert full["copied"] == 7 and full["unchanged"] == 0


def test_the_data_run_leaves_missing_and_drifted_tables_for_a_ddl_fix(kind, source, target, context):
    """A table with no target table, or whose columns differ, is not copied (even on a full reload):
    the summary names it; once the DDL is fixed, the refresh finds it and the rerun copies it."""
    for cluster in (source, target):
        cluster.create_schema("ddl")
    source.create_table("ddl", "ok", 3)
    target.create_table("ddl", "ok", 0)
    source.create_table("ddl", "absent", 4)  # no target table
    source.create_table("ddl", "wide", 2, columns="id INTEGER, name TEXT, note TEXT")
    target.create_table("ddl", "wide", 0)  # no "note" column: drift
    InitAuditOperator(task_id="init", schema="ddl").execute(context)
    RefreshAuditOperator(task_id="refresh", schema="ddl", fingerprint="off").execute(context)
    statuses = {t: r[0] for t, r in audit_rows(target, "ddl").items()}
    assert statuses == {"ok": "reject", "absent": "missing", "wide": "drift"}

    for full in (False, True):
        summary = data_run("ddl", full_reload=full).execute({**context, "run_id": f"run_{full}"})
        assert summary["copied"] == 1 and summary["needs_ddl"] == ["absent", "wide"], summary
        assert summary["missing"] == [] and summary["unchanged"] == 0
    copied = {r[0] for r in copy_events(target, "ddl")}
    assert copied == {"ok"}  # no copy was even attempted for the other two

    target.create_table("ddl", "absent", 0)  # the DDL fix
    RefreshAuditOperator(task_id="refresh", schema="ddl", fingerprint="off").execute(context)
    assert audit_rows(target, "ddl")["absent"][0] == "reject"
    RejectRerunOperator(task_id="rerun", schema="ddl", tables=["absent"]).execute(context)
    assert target.count("ddl", "absent") == 4
