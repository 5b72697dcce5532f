"""Issue 14 on real databases: composite keys, same-engine native fingerprints, cross-engine tolerances.

Each test runs on SQLite files, a PostgreSQL server and the Vertica emulator (through vertica-python), as
``kind`` or as a (source, target) pair of kinds.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from conftest import _make_cluster, quote

from migration_audit_provider import fingerprint as fp
from migration_audit_provider.fingerprint import NO_KEY, Normalisation, compare_table
from migration_audit_provider.hooks.audit import MigrationAuditHook

SCHEMA = "fk"
REGIONS = ("eu", "us", "ap")


@pytest.fixture
def pair(request, monkeypatch, tmp_path):
    """(source, target) clusters of the kinds named by the test's parameter."""
    src_kind, tgt_kind = request.param
    return (
        _make_cluster(src_kind, "source", monkeypatch, tmp_path, request),
        _make_cluster(tgt_kind, "target", monkeypatch, tmp_path, request),
    )


def make(cluster, table: str, columns: str, rows: list[tuple]) -> None:
    """Create ``SCHEMA.table`` and insert ``rows`` (no NULLs, no ``|``) with the cluster's own driver."""
    if not getattr(cluster, "_schema_made", False):
        cluster.create_schema(SCHEMA)
        cluster._schema_made = True
    qualified = f"{quote(SCHEMA)}.{quote(table)}"
    cluster.execute(f"CREATE TABLE {qualified} ({columns})", schemas=[SCHEMA])
    if not rows:
        return
    conn = cluster.raw([SCHEMA])
    try:
        if cluster.kind == "vertica":  # the driver's executemany parses only plain names: load with COPY
            data = "".join("|".join(str(v) for v in row) + "\n" for row in rows)
            conn.cursor().copy(f"COPY {qualified} FROM STDIN DELIMITER '|'", data)
        else:
            marks = ", ".join([cluster.ph] * len(rows[0]))
            conn.cursor().executemany(f"INSERT INTO {qualified} VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()


def compare(source, target, table: str, **kw):
    with ExitStack() as stack:
        src = stack.enter_context(MigrationAuditHook(source.conn_id).session([SCHEMA]))
        tgt = stack.enter_context(MigrationAuditHook(target.conn_id).session([SCHEMA]))
        return compare_table(src, tgt, SCHEMA, table, **kw)


def keyed_rows(changed: tuple[str, int] | None = None) -> list[tuple]:
    rows = [(region, i, f"{i}.25") for region in REGIONS for i in range(200)]
    return [(r, i, "999.99" if (r, i) == changed else a) for r, i, a in rows]


# -- composite keys ---------------------------------------------------------------------------------------
PAIRS = [
    ("sqlite", "sqlite"),
    ("postgres", "postgres"),
    ("vertica", "vertica"),
    ("sqlite", "postgres"),
    ("postgres", "vertica"),
]


@pytest.mark.parametrize("pair", PAIRS, indirect=True, ids="->".join)
@pytest.mark.parametrize("key", [("region", "id"), ("id", "region")], ids=",".join)
def test_changed_value_in_a_composite_key_table_is_found_with_its_key_tuple(pair, key, monkeypatch):
    monkeypatch.setattr(fp, "LEAF_ROWS", 40)  # 600 rows: two levels of bisection before the leaves
    source, target = pair
    columns = f"region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY ({', '.join(key)})"
    make(source, "sales", columns, keyed_rows())
    make(target, "sales", columns, list(reversed(keyed_rows(changed=("us", 57)))))
    result = compare(source, target, "sales")
    assert not result.equal
    assert result.key == list(key)
    expected = ("us", 57) if key == ("region", "id") else (57, "us")
    assert result.differing_keys == [expected]
    assert not result.keys_truncated and result.detail is None


@pytest.mark.parametrize(
    "pair", [("postgres", "postgres"), ("sqlite", "postgres")], indirect=True, ids="->".join
)
def test_composite_key_differences_are_bounded_and_cover_missing_rows(pair, monkeypatch):
    monkeypatch.setattr(fp, "LEAF_ROWS", 40)
    source, target = pair
    columns = "region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY (region, id)"
    make(source, "sales", columns, keyed_rows())
    target_rows = [(r, i, "0.5" if i % 20 == 0 else a) for r, i, a in keyed_rows() if (r, i) != ("ap", 3)]
    make(target, "sales", columns, target_rows)
    everything = compare(source, target, "sales")
    assert set(everything.differing_keys) == {(r, i) for r in REGIONS for i in range(0, 200, 20)} | {
        ("ap", 3)
    }
    bounded = compare(source, target, "sales", max_keys=5)
    assert len(bounded.differing_keys) == 5 and bounded.keys_truncated


def test_key_predicates_expand_row_value_comparisons(kind, monkeypatch, tmp_path, request):
    """``(a, b) >= (x, y)`` and ``< (u, v)`` as OR/AND terms give exactly the rows between the tuples."""
    cluster = _make_cluster(kind, "source", monkeypatch, tmp_path, request)
    rows = [(r, i, "1.00") for r in ("a", "b", "c") for i in range(5)]
    make(cluster, "k", "region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY (region, id)", rows)
    with MigrationAuditHook(cluster.conn_id).session([SCHEMA]) as session:
        where, params = fp.KeyRange(("a", 3), ("c", 1)).where(session, ["region", "id"])
        sql = f"SELECT region, id FROM {quote(SCHEMA)}.{quote('k')} WHERE {where}"  # noqa: S608 - test SQL
        found = sorted(tuple(r) for r in session.fetchall(sql, params))
    assert found == [("a", 3), ("a", 4), *[("b", i) for i in range(5)], ("c", 0)]


@pytest.mark.parametrize("pair", [("sqlite", "sqlite"), ("postgres", "postgres"), ("vertica", "vertica"),
                                  ("sqlite", "postgres")], indirect=True, ids="->".join)  # fmt: skip
def test_a_table_without_a_key_is_fingerprinted_and_says_why_no_keys(pair):
    source, target = pair
    make(source, "nokey", "v VARCHAR(10), n INTEGER", [("a", 1), ("b", 2)])
    make(target, "nokey", "v VARCHAR(10), n INTEGER", [("a", 1), ("b", 3)])
    result = compare(source, target, "nokey")
    assert not result.equal
    assert (
        result.key is None
        and result.differing_keys == []
        and result.detail == NO_KEY == ("no key: keys not listed")
    )


# -- same-engine native fingerprints -----------------------------------------------------------------------
@pytest.mark.parametrize("pair", [("sqlite", "sqlite"), ("postgres", "postgres"), ("vertica", "vertica")],
                         indirect=True, ids="->".join)  # fmt: skip
def test_same_engine_native_fingerprints_equal_for_equal_content_and_differ_for_one_value(pair):
    source, target = pair
    columns = "region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY (region, id)"
    make(source, "sales", columns, keyed_rows())
    make(target, "sales", columns, list(reversed(keyed_rows())))
    make(source, "changed", columns, keyed_rows())
    make(target, "changed", columns, keyed_rows(changed=("eu", 199)))
    equal = compare(source, target, "sales")
    assert equal.source.startswith("native:600:") and equal.equal, (equal.source, equal.target)
    different = compare(source, target, "changed", locate=False)
    assert different.source == equal.source  # the same source table content
    assert different.target.startswith("native:600:") and not different.equal


@pytest.mark.parametrize(
    "pair", [("sqlite", "postgres"), ("postgres", "vertica")], indirect=True, ids="->".join
)
def test_cross_engine_pairs_use_the_canonical_form(pair):
    source, target = pair
    columns = "region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY (region, id)"
    make(source, "sales", columns, keyed_rows())
    make(target, "sales", columns, keyed_rows())
    result = compare(source, target, "sales")
    assert result.equal and result.source.startswith("600:") and len(result.source.split(":")) == 5


def test_native_row_hash_is_stable_across_processes():
    """SQLite's native hash is a BLAKE2b of the values' repr: no per-process salt (unlike ``hash()``)."""
    import subprocess
    import sys

    code = (
        "from migration_audit_provider.dialects.sqlite_functions import native_hash;"
        "print(native_hash('eu', 57, 1.25, None, b'x'))"
    )
    runs = set()
    for _ in range(3):  # the last word: Airflow may log to stdout before it
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.add(done.stdout.split()[-1])
    assert len(runs) == 1 and runs.pop().strip().isdigit()


# -- tolerances of the canonical (cross-engine) form -----------------------------------------------------
CROSS = [("sqlite", "postgres"), ("postgres", "vertica")]


@pytest.mark.parametrize("pair", CROSS, indirect=True, ids="->".join)
def test_floats_compared_to_n_significant_digits(pair):
    source, target = pair
    columns = "id INTEGER PRIMARY KEY, x FLOAT"
    make(source, "f", columns, [(1, 1.23456789), (2, 0.1 + 0.2), (3, -2.5e-7), (4, 123456789.125), (5, 0.0)])
    make(target, "f", columns, [(1, 1.23456788), (2, 0.3), (3, -2.5e-7), (4, 123456789.125), (5, 0.0)])
    default = compare(source, target, "f")
    assert not default.equal and default.differing_keys == [(1,)]  # 15 digits: 0.1 + 0.2 == 0.3, not 1
    assert compare(source, target, "f", normalisation=Normalisation(float_digits=8)).equal


@pytest.mark.parametrize("pair", CROSS, indirect=True, ids="->".join)
def test_timestamps_compared_to_a_precision_and_in_utc(pair):
    source, target = pair
    make(source, "ts", "id INTEGER PRIMARY KEY, at TIMESTAMP",
         [(1, "2026-01-01 10:00:00.123456"), (2, "2026-06-30 23:59:59.999001")])  # fmt: skip
    make(target, "ts", "id INTEGER PRIMARY KEY, at TIMESTAMP",
         [(1, "2026-01-01 10:00:00.123999"), (2, "2026-06-30 23:59:59.999999")])  # fmt: skip
    default = compare(source, target, "ts")
    assert not default.equal and default.differing_keys == [(1,), (2,)]
    assert compare(source, target, "ts", normalisation=Normalisation(timestamp_digits=3)).equal
    assert not compare(source, target, "ts", normalisation=Normalisation(timestamp_digits=6)).equal


@pytest.mark.parametrize(
    "pair", [("postgres", "sqlite"), ("postgres", "vertica")], indirect=True, ids="->".join
)
def test_timestamps_with_time_zone_compared_in_utc(pair):
    source, target = pair
    if source.kind == "postgres":
        source.execute("SET TIME ZONE 'Europe/Paris'")  # the session's zone must not matter
    make(
        source,
        "tz",
        "id INTEGER PRIMARY KEY, at TIMESTAMPTZ",
        [(1, "2026-01-01 11:00:00+01"), (2, "2026-07-01 02:30:00+02")],
    )
    make(
        target,
        "tz",
        "id INTEGER PRIMARY KEY, at TIMESTAMPTZ",
        [(1, "2026-01-01 10:00:00+00:00"), (2, "2026-07-01 00:30:00+00:00")],
    )
    assert compare(source, target, "tz").equal


@pytest.mark.parametrize(
    ("pair", "target_type"),
    [(("sqlite", "postgres"), "CHAR(5)"), (("postgres", "vertica"), "VARCHAR(5)")],
    indirect=["pair"],
    ids=["sqlite->postgres", "postgres->vertica"],
)
def test_trailing_spaces_of_char_columns_ignored_by_default(pair, target_type):
    source, target = pair
    make(
        source,
        "c",
        "id INTEGER PRIMARY KEY, code CHAR(5), note VARCHAR(10)",
        [(1, "ab   ", "x"), (2, "cd", "y ")],
    )
    make(
        target,
        "c",
        f"id INTEGER PRIMARY KEY, code {target_type}, note VARCHAR(10)",
        [(1, "ab", "x"), (2, "cd  ", "y ")],
    )
    assert compare(source, target, "c").equal
    kept = compare(source, target, "c", normalisation=Normalisation(char_padding="keep"))
    assert not kept.equal and kept.differing_keys  # the pad is compared as text now


@pytest.mark.parametrize("pair", [("sqlite", "postgres")], indirect=True, ids="->".join)
def test_trailing_spaces_of_varchar_are_kept(pair):
    source, target = pair
    make(source, "v", "id INTEGER PRIMARY KEY, note VARCHAR(10)", [(1, "x ")])
    make(target, "v", "id INTEGER PRIMARY KEY, note VARCHAR(10)", [(1, "x")])
    assert compare(source, target, "v").differing_keys == [(1,)]


def test_normalisation_settings_are_validated():
    from migration_audit_provider.exceptions import AuditInputError

    for bad in ({"float_digits": 0}, {"float_digits": 16}, {"timestamp_digits": 7}, {"char_padding": "trim"},
                {"float_digits": True}):  # fmt: skip
        with pytest.raises(AuditInputError):
            Normalisation(**bad)


def test_tolerance_settings_are_validated_in_the_settings_file_and_reach_the_operator():
    from migration_audit_provider.config import parse_settings
    from migration_audit_provider.exceptions import AuditInputError
    from migration_audit_provider.operators.audit import RefreshAuditOperator

    (settings,) = parse_settings({"schemas": {"sales": {"float_digits": 9, "timestamp_digits": 3}}})
    assert (settings.float_digits, settings.timestamp_digits, settings.char_padding) == (9, 3, "ignore")
    for bad in ({"float_digits": 16}, {"timestamp_digits": -1}, {"char_padding": "strip"}):
        with pytest.raises(AuditInputError, match="schema 'sales'"):
            parse_settings({"schemas": {"sales": bad}})
    op = RefreshAuditOperator(task_id="r", schema="sales", float_digits="9", timestamp_digits="{{ x }}")
    assert {"float_digits", "timestamp_digits", "char_padding"} <= set(op.template_fields)
    op.timestamp_digits = "3"  # as rendered from a template
    assert op.checked_normalisation() == Normalisation(float_digits=9, timestamp_digits=3)
    op.float_digits = "nine"
    with pytest.raises(AuditInputError, match="float_digits"):
        op.checked_normalisation()


@pytest.mark.parametrize("digits", [15, 8, 1])
def test_sqlite_float_rounding_gives_postgresql_text_on_many_values(digits, monkeypatch, tmp_path, request):
    """``sqlite_functions.canon_float`` gives the text ``fingerprint/canon_float.sql`` gives on PostgreSQL."""
    import random

    from migration_audit_provider.dialects.sqlite_functions import canon_float

    cluster = _make_cluster("postgres", "source", monkeypatch, tmp_path, request)
    rnd = random.Random(digits)
    values = [rnd.uniform(-1, 1) * 10 ** rnd.randrange(-12, 20) for _ in range(3_000)]
    values += [0.1 + 0.2, 2.5, -2.5, 0.5, 1e15, 123456789012345.6, 9.999999999999999e22, 5e-5, -0.0, 1.0]
    make(cluster, "floats", "id INTEGER PRIMARY KEY, x FLOAT", list(enumerate(values)))
    with MigrationAuditHook(cluster.conn_id).session([SCHEMA]) as session:
        canon = session.statement("fingerprint/canon_float").strip().format(col=quote("x"))
        sql = f"SELECT id, {canon} FROM {quote(SCHEMA)}.{quote('floats')} ORDER BY id"  # noqa: S608
        rendered = session.fetchall(sql, {"fp_float_digits": digits})
    mismatches = [(values[i], text, canon_float(values[i], digits)) for i, text in rendered
                  if text != canon_float(values[i], digits)]  # fmt: skip
    assert not mismatches, mismatches[:5]


def test_refresh_records_composite_key_tuples_in_the_history(source, target, context, monkeypatch):
    """End to end (same engine, on each kind): the operator's refresh finds the key tuple and records it."""
    import json

    from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator

    monkeypatch.setattr(fp, "LEAF_ROWS", 40)
    columns = "region VARCHAR(10), id INTEGER, amount NUMERIC(12,2), PRIMARY KEY (region, id)"
    make(source, "sales", columns, keyed_rows())
    make(target, "sales", columns, keyed_rows(changed=("ap", 123)))
    make(source, "loose", "v VARCHAR(10)", [("a",)])
    make(target, "loose", "v VARCHAR(10)", [("b",)])
    InitAuditOperator(task_id="init_audit", schema=SCHEMA).execute(context)
    refresh = RefreshAuditOperator(
        task_id="refresh_audit", schema=SCHEMA, fingerprint="all", float_digits="12", timestamp_digits="3"
    )
    assert refresh.execute({**context, "run_id": "content"})["by_status"] == {"mismatch": 2}
    details = target.execute(
        "SELECT table_name, detail FROM migration.audit_history "
        f"WHERE event_type = 'mismatch' AND run_id = {target.ph}",
        ("content",),
        schemas=["migration"],
    )
    found = {table: json.loads(detail) for table, detail in details}
    assert found["sales"]["key"] == ["region", "id"]
    assert found["sales"]["differing_keys"] == [["ap", "123"]] and not found["sales"]["keys_truncated"]
    assert found["loose"]["key"] is None and found["loose"]["note"] == NO_KEY
