"""Content fingerprints on real databases: equal content, equal fingerprint; one changed value found."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import sqlglot
from conftest import _make_cluster
from sqlglot.errors import ErrorLevel

from migration_audit_provider.fingerprint import TableShape, compare_table, fingerprint, row_expression
from migration_audit_provider.hooks.audit import MigrationAuditHook

COLUMNS = "id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(12,2), created TIMESTAMP, day DATE, flag BOOLEAN"
ROWS = [
    (1, "plain", "1.50", "2026-01-01 10:00:00", "2026-01-01", True),
    (2, "", "2.00", "2026-01-02 00:00:00.250000", "2026-01-02", False),
    (3, None, None, None, None, None),
    (4, "tab\there 'q' \"dq\" ünï 🚀", "-0.10", "1999-12-31 23:59:59", "1999-12-31", True),
]


@pytest.fixture
def pair(request, monkeypatch, tmp_path):
    """(source, target) clusters of the kinds named by the test's ``kinds`` parameter."""
    src_kind, tgt_kind = request.param
    return (
        _make_cluster(src_kind, "source", monkeypatch, tmp_path, request),
        _make_cluster(tgt_kind, "target", monkeypatch, tmp_path, request),
    )


def load(cluster, table: str, rows, schema: str = "fp"):
    if not _schema_ready(cluster, schema):
        cluster.create_schema(schema)
    cluster.execute(f'CREATE TABLE "{schema}"."{table}" ({COLUMNS})', schemas=[schema])
    ph = ", ".join([cluster.ph] * 6)
    conn = cluster.raw([schema])
    conn.cursor().executemany(f'INSERT INTO "{schema}"."{table}" VALUES ({ph})', rows)
    conn.commit()
    conn.close()


def _schema_ready(cluster, schema):
    if cluster.kind == "postgres":
        return bool(
            cluster.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,))
        )
    return (cluster.info["folder"] / f"{schema}.db").exists()


def compare(source, target, table, schema="fp", **kw):
    with ExitStack() as stack:
        src = stack.enter_context(MigrationAuditHook(source.conn_id).session([schema]))
        tgt = stack.enter_context(MigrationAuditHook(target.conn_id).session([schema]))
        return compare_table(src, tgt, schema, table, **kw)


BOTH_WAYS = [("sqlite", "postgres"), ("postgres", "sqlite"), ("sqlite", "sqlite"), ("postgres", "postgres")]


@pytest.mark.parametrize("pair", BOTH_WAYS, indirect=True)
def test_same_content_same_fingerprint_across_databases(pair):
    source, target = pair
    load(source, "t", ROWS)
    load(target, "t", list(reversed(ROWS)))  # insert order does not matter
    result = compare(source, target, "t")
    assert result.equal, (result.source, result.target)
    assert result.source.removeprefix("native:").startswith("4:")


@pytest.mark.parametrize("pair", BOTH_WAYS, indirect=True)
def test_null_and_empty_string_differ(pair):
    source, target = pair
    load(source, "t", ROWS)
    changed = [list(r) for r in ROWS]
    changed[1][1] = None  # '' -> NULL
    load(target, "t", [tuple(r) for r in changed])
    result = compare(source, target, "t")
    assert not result.equal
    assert result.differing_keys == [(2,)]


@pytest.mark.parametrize("pair", [("postgres", "postgres"), ("sqlite", "postgres")], indirect=True)
def test_numeric_by_value_not_by_scale(pair):
    source, target = pair
    load(source, "t", ROWS)  # NUMERIC(12,2): 1.50, 2.00, -0.10
    target.create_schema("fp")
    target.execute('CREATE TABLE "fp"."t" (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(20,6), '
                   'created TIMESTAMP, day DATE, flag BOOLEAN)')  # fmt: skip
    conn = target.raw(["fp"])
    conn.cursor().executemany('INSERT INTO "fp"."t" VALUES (%s, %s, %s, %s, %s, %s)', ROWS)
    conn.commit()
    conn.close()
    assert target.execute('SELECT CAST(amount AS TEXT) FROM "fp"."t" WHERE id = 1')[0][0] == "1.500000"
    assert compare(source, target, "t").equal


@pytest.mark.parametrize("pair", [("postgres", "postgres")], indirect=True)
def test_one_changed_value_in_a_million_rows_is_found(pair):
    source, target = pair
    for cluster in (source, target):
        cluster.create_schema("fp")
        cluster.execute(
            'CREATE TABLE "fp"."big" '
            "(id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12,2), created TIMESTAMP);"
            'INSERT INTO "fp"."big" SELECT g, \'name \' || g, g / 100.0, '
            "TIMESTAMP '2026-01-01' + g * INTERVAL '1 second' FROM generate_series(1, 1000000) g"
        )
    assert compare(source, target, "big").equal
    target.execute('UPDATE "fp"."big" SET amount = amount + 0.01 WHERE id = 654321')
    result = compare(source, target, "big")
    assert not result.equal
    assert result.differing_keys == [(654321,)]


@pytest.mark.parametrize("pair", [("sqlite", "sqlite"), ("postgres", "postgres")], indirect=True)
def test_many_differences_are_bounded(pair):
    source, target = pair
    rows = [(i, f"n{i}", "1.00", "2026-01-01 00:00:00", "2026-01-01", True) for i in range(5000)]
    load(source, "t", rows)
    load(target, "t", [(i, f"x{i}" if i % 10 == 0 else n, a, c, d, f) for i, n, a, c, d, f in rows])
    result = compare(source, target, "t", max_keys=20)
    assert len(result.differing_keys) == 20 and result.keys_truncated
    assert all(k % 10 == 0 for (k,) in result.differing_keys)


@pytest.mark.parametrize("pair", [("sqlite", "sqlite")], indirect=True)
def test_without_a_key_the_mismatch_is_reported_only(pair):
    source, target = pair
    for cluster, value in ((source, "a"), (target, "b")):
        cluster.create_schema("fp")
        cluster.execute('CREATE TABLE "fp"."nokey" (v TEXT)', schemas=["fp"])
        cluster.execute('INSERT INTO "fp"."nokey" VALUES (?)', (value,), schemas=["fp"])
    result = compare(source, target, "nokey")
    assert not result.equal and result.key is None and result.differing_keys == []
    assert result.detail == "no key: keys not listed"


def test_vertica_fingerprint_sql_parses():
    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.dialects.vertica import VerticaAuditDialect

    dialect = VerticaAuditDialect.__new__(VerticaAuditDialect)
    session = Session.__new__(Session)
    session.dialect = dialect
    shape = TableShape(
        ["amount", "created", "day", "flag", "id", "name", "raw", "ts"],
        {"amount": "numeric", "created": "timestamp", "day": "date", "flag": "bool", "id": "int",
         "name": "text", "raw": "binary", "ts": "timestamptz"},
        key="id",
    )  # fmt: skip
    row = row_expression(session, shape)
    for name, slots in (
        ("fingerprint/table", {"row": row, "table": '"fp"."t"', "where": '"id" >= 1 AND "id" < 9'}),
        ("fingerprint/row_hashes", {"key": '"id"', "row": row, "table": '"fp"."t"', "where": "1 = 1"}),
        ("fingerprint/split_points", {"keys": '"id"', "table": '"fp"."t"', "where": "1 = 1"}),
        (
            "fingerprint/segments",
            {
                "segment": 'CASE WHEN "id" < 5 THEN 0 ELSE 1 END',
                "row": row,
                "table": '"fp"."t"',
                "where": "1 = 1",
            },
        ),
        ("fingerprint/column_types", {}),
        ("fingerprint/primary_key", {}),
    ):
        sql = session.statement(name).format(**slots).replace(":parts", "16")
        sqlglot.parse_one(sql.replace(":schema", "'fp'").replace(":table", "'t'"), read="vertica",
                          error_level=ErrorLevel.RAISE)  # fmt: skip


def test_fingerprint_of_an_empty_range_is_stable(tmp_path, monkeypatch, request):
    cluster = _make_cluster("sqlite", "source", monkeypatch, tmp_path, request)
    load(cluster, "t", [])
    with MigrationAuditHook(cluster.conn_id).session(["fp"]) as session:
        shape = TableShape(["id", "name"], {"id": "int", "name": "text"}, "id")
        assert fingerprint(session, "fp", "t", shape) == "0:0:0:0:0"
