"""SQLite's fast paths on real SQLite files: one-call-per-row fingerprints and the ATTACH copy.

The fingerprints must be *exactly* those of the per-value functions they replace. That reference is
frozen here (:class:`Reference`: the functions and canonical SQL of commit 77981cb, when SQLite's
fingerprint was ``fingerprint.register_sqlite_functions`` + ``include/sql/sqlite/fingerprint/*.sql``)
so the comparison does not move while the code it replaces is being rewritten. One rule changed since
(issue 14): floating-point values are compared to 15 significant digits (``Reference.canon_float``).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import string
from contextlib import ExitStack
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from conftest import _make_cluster, quote
from sqlglot.errors import ErrorLevel

from migration_audit_provider.dialects import sqlite_functions
from migration_audit_provider.dialects.sqlite import SqliteAttachCopyStrategy
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.sql import load_statement
from migration_audit_provider.transfers.table_copy import COPIED, FAILED, copy_table


# -- the reference: SQLite fingerprints as computed at 77981cb ------------------------------------------
class Reference:
    """The per-value functions and SQL that :mod:`sqlite_functions` replaces, frozen."""

    CANON = {
        "int": "CAST({col} AS VARCHAR(40))",
        "bool": "CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN 'true' ELSE 'false' END",
        "binary": "LOWER(HEX({col}))",
        "text": "CAST({col} AS TEXT)",
        "numeric": "ref_canon_number({col})",
        "float": "ref_canon_float({col})",
        "timestamp": "ref_canon_timestamp({col})",
        "timestamptz": "ref_canon_timestamptz({col})",
        "date": "ref_canon_date({col})",
    }
    TABLE = "SELECT COALESCE(ref_fingerprint({row}), '0:0:0:0:0') FROM {table} WHERE {where}"
    SEGMENTS = (
        "SELECT {segment} AS seg, COALESCE(ref_fingerprint({row}), '0:0:0:0:0') FROM {table} "
        "WHERE {where} GROUP BY seg"
    )
    ROW_HASHES = "SELECT {key}, ref_md5({row}) FROM {table} WHERE {where}"

    class Fingerprint:
        def __init__(self) -> None:
            self.count = 0
            self.sums = [0, 0, 0, 0]

        def step(self, row: str | None) -> None:
            digest = hashlib.md5((row or "").encode("utf-8")).hexdigest()  # noqa: S324
            self.count += 1
            for i in range(4):
                self.sums[i] += int(digest[8 * i : 8 * i + 8], 16)

        def finalize(self) -> str:
            return ":".join(str(v) for v in (self.count, *self.sums))

    @staticmethod
    def md5(text: str | None) -> str | None:
        return None if text is None else hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324

    @staticmethod
    def canon_number(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, int):
            return str(value)
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation:
            return str(value)
        text = format(number, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    @classmethod
    def canon_float(cls, value: Any) -> str | None:
        """Issue 14: to 15 significant digits (what PostgreSQL's double -> numeric cast keeps); -0 is 0."""
        if isinstance(value, float) and value == 0:
            return "0"
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            return cls.canon_number(Decimal(format(value, ".15g")))
        return cls.canon_number(value)

    @staticmethod
    def parse_datetime(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

    @classmethod
    def canon_timestamp(cls, value: Any) -> str | None:
        moment = cls.parse_datetime(value)
        return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    @classmethod
    def canon_timestamptz(cls, value: Any) -> str | None:
        moment = cls.parse_datetime(value)
        if moment is None:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    @staticmethod
    def canon_date(value: Any) -> str | None:
        if value is None:
            return None
        return date.fromisoformat(str(value)[:10]).isoformat()

    @classmethod
    def register(cls, conn: Any) -> None:
        conn.create_aggregate("ref_fingerprint", 1, cls.Fingerprint)
        for name, func in (
            ("ref_md5", cls.md5),
            ("ref_canon_number", cls.canon_number),
            ("ref_canon_float", cls.canon_float),
            ("ref_canon_timestamp", cls.canon_timestamp),
            ("ref_canon_timestamptz", cls.canon_timestamptz),
            ("ref_canon_date", cls.canon_date),
        ):
            conn.create_function(name, 1, func, deterministic=True)

    @classmethod
    def row_expression(cls, shape: Any) -> str:
        parts = []
        for column in shape.columns:
            value = cls.CANON[shape.classes[column]].format(col=quote(column))
            parts.append(f"COALESCE(CAST(LENGTH({value}) AS VARCHAR(20)) || ':' || {value}, 'N')")
        return " || '|' || ".join(parts) if parts else "''"


# -- a table with every column class -----------------------------------------------------------------------
SCHEMA = "fp"
CLASSES = {
    "id": "int",
    "amount": "numeric",
    "ratio": "float",
    "flag": "bool",
    "created": "timestamp",
    "created_tz": "timestamptz",
    "day": "date",
    "payload": "binary",
    "name": "text",
}
DECLARED = {
    "id": "INTEGER PRIMARY KEY",
    "amount": "NUMERIC(12,2)",
    "ratio": "DOUBLE PRECISION",
    "flag": "BOOLEAN",
    "created": "TIMESTAMP",
    "created_tz": "TIMESTAMPTZ",
    "day": "DATE",
    "payload": "BLOB",
    "name": "TEXT",
}
SHAPE = SimpleNamespace(columns=sorted(CLASSES), classes=CLASSES)
EDGE_ROWS = [
    (
        1,
        "1.50",
        0.1,
        True,
        "2026-01-01 10:00:00",
        "2026-01-01 10:00:00+02:00",
        "2026-01-01",
        b"\x00\xff",
        "plain",
    ),
    (2, "2.00", -0.0, False, "2026-01-02 00:00:00.250000", "2026-01-02T00:00:00Z", "2026-01-02", b"", ""),
    (3, None, None, None, None, None, None, None, None),
    (
        4,
        "-0.10",
        1e16,
        1,
        "0999-12-31 23:59:59",
        "1999-12-31 23:59:59",
        "1999-12-31",
        b"abc",
        "tab\t 'q' ünï 🚀",
    ),
    (5, 12, 3, 0, 1767225600, 1767225600.5, "2026-03-04 05:06:07", b"x", "nul\x00inside"),
    (
        6,
        "not a number",
        float("inf"),
        2,
        "2026-06-30T12:00:00.123456",
        "2026-06-30 12:00:00",
        "2026-06-30",
        None,
        "N",
    ),
    (7, 1e-07, 123456789.125, 0.5, "2026-01-01", "2026-01-01 00:00:00-05:30", "2026-12-31", b"\x01", "0:"),
    (8, "100000000000000000000", -2.5e-300, None, "2026-01-01 00:00:00.000001", None, None, b"|", "a|b"),
]


def random_rows(n: int, start: int) -> list[tuple]:
    rnd = random.Random(17)
    rows = []
    for i in range(start, start + n):
        text = "".join(rnd.choice(string.printable + "äß€") for _ in range(rnd.randrange(0, 12)))
        rows.append(
            (
                i,
                rnd.choice([round(rnd.uniform(-1e6, 1e6), 2), rnd.randrange(-1000, 1000), None]),
                rnd.choice([rnd.uniform(-1e9, 1e9), rnd.random() * 10 ** rnd.randrange(-20, 20), None]),
                rnd.choice([True, False, None]),
                f"20{rnd.randrange(10, 40)}-0{rnd.randrange(1, 10)}-1{rnd.randrange(0, 10)} "
                f"{rnd.randrange(10, 24)}:{rnd.randrange(10, 60)}:0{rnd.randrange(0, 10)}"
                f".{rnd.randrange(10**6)}",
                rnd.choice([f"2026-05-05 05:05:05+0{rnd.randrange(0, 10)}:00", None]),
                f"2026-0{rnd.randrange(1, 10)}-2{rnd.randrange(0, 9)}",
                rnd.randbytes(rnd.randrange(0, 8)),
                rnd.choice([text, None]),
            )
        )
    return rows


@pytest.fixture
def source(monkeypatch, tmp_path, request):
    return _make_cluster("sqlite", "source", monkeypatch, tmp_path, request)


@pytest.fixture
def target(monkeypatch, tmp_path, request):
    return _make_cluster("sqlite", "target", monkeypatch, tmp_path, request)


def make_table(cluster, table: str, rows, columns: dict[str, str] = DECLARED) -> None:
    if not (cluster.info["folder"] / f"{SCHEMA}.db").exists():
        cluster.create_schema(SCHEMA)
    ddl = ", ".join(f"{quote(c)} {t}" for c, t in columns.items())
    cluster.execute(f"CREATE TABLE {quote(SCHEMA)}.{quote(table)} ({ddl})", schemas=[SCHEMA])
    conn = cluster.raw([SCHEMA])
    marks = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO {quote(SCHEMA)}.{quote(table)} VALUES ({marks})", rows)
    conn.commit()
    conn.close()


def both_ways(session, sql_new: str, sql_ref: str, shape, table: str, **slots):
    """(new, reference) results of the same statement shape on one session."""
    sqlite_functions.register(session.conn)
    Reference.register(session.conn)
    qualified = f"{quote(SCHEMA)}.{quote(table)}"
    new = session.fetchall(
        sql_new.format(row=sqlite_functions.row_arguments(session, shape), table=qualified, **slots)
    )
    ref = session.fetchall(sql_ref.format(row=Reference.row_expression(shape), table=qualified, **slots))
    return new, ref


def fast_sql(name: str) -> str:
    return load_statement(f"fingerprint/{name}", "sqlite")


def test_fingerprint_equals_the_per_value_functions_on_every_column_class(source):
    make_table(source, "every_class", EDGE_ROWS + random_rows(3_000, start=100))
    with MigrationAuditHook(source.conn_id).session([SCHEMA]) as session:
        new, ref = both_ways(session, fast_sql("table"), Reference.TABLE, SHAPE, "every_class", where="1 = 1")
        assert new == ref
        assert new[0][0].startswith(f"{len(EDGE_ROWS) + 3_000}:")

        # each class alone (a wrong rendering of one class cannot hide behind the others)
        for column in SHAPE.columns:
            one = SimpleNamespace(columns=[column], classes=CLASSES)
            new, ref = both_ways(
                session, fast_sql("table"), Reference.TABLE, one, "every_class", where="1 = 1"
            )
            assert new == ref, column

        segment = 'CASE WHEN "id" < 4 THEN 0 WHEN "id" < 500 THEN 1 ELSE 2 END'
        new, ref = both_ways(
            session,
            fast_sql("segments"),
            Reference.SEGMENTS,
            SHAPE,
            "every_class",
            segment=segment,
            where="1 = 1",
        )
        assert sorted(new) == sorted(ref) and len(new) == 3

        new, ref = both_ways(
            session,
            fast_sql("row_hashes"),
            Reference.ROW_HASHES,
            SHAPE,
            "every_class",
            key='"id"',
            where="1 = 1",
        )
        assert dict(new) == dict(ref) and len(new) == len(EDGE_ROWS) + 3_000


def test_no_rows_no_columns_and_a_range(source):
    make_table(source, "every_class", EDGE_ROWS)
    with MigrationAuditHook(source.conn_id).session([SCHEMA]) as session:
        new, ref = both_ways(session, fast_sql("table"), Reference.TABLE, SHAPE, "every_class", where="1 = 0")
        assert new == ref == [(sqlite_functions.EMPTY,)]
        none = SimpleNamespace(columns=[], classes={})
        new, ref = both_ways(session, fast_sql("table"), Reference.TABLE, none, "every_class", where="1 = 1")
        assert new == ref
        new, ref = both_ways(
            session, fast_sql("table"), Reference.TABLE, SHAPE, "every_class", where='"id" >= 4'
        )
        assert new == ref and new[0][0].startswith("5:")


def test_a_table_wider_than_one_function_call(source):
    """More columns than SQLite passes to one call: groups are rendered first, same fingerprint."""
    columns = {f"c{i:03d}": ("NUMERIC" if i % 3 else "TEXT") for i in range(300)}
    rows = [
        tuple((f"{r}.{i}0" if i % 3 else None if (r + i) % 5 == 0 else f"t{r}") for i in range(300))
        for r in range(50)
    ]
    make_table(source, "wide", rows, columns)
    shape = SimpleNamespace(
        columns=sorted(columns),
        classes={c: ("numeric" if t == "NUMERIC" else "text") for c, t in columns.items()},
    )
    with MigrationAuditHook(source.conn_id).session([SCHEMA]) as session:
        assert sqlite_functions.row_arguments(session, shape).count("ma_row_text(") == 3
        new, ref = both_ways(session, fast_sql("table"), Reference.TABLE, shape, "wide", where="1 = 1")
        assert new == ref


def test_one_changed_value_changes_the_fingerprint(source, target):
    """The comparison can fail: a cent more in one row gives another fingerprint and row hash."""
    make_table(source, "t", EDGE_ROWS)
    make_table(target, "t", EDGE_ROWS)
    target.execute(f'UPDATE {quote(SCHEMA)}."t" SET amount = 2.01 WHERE id = 2', schemas=[SCHEMA])
    sql = fast_sql("table").format(row="{row}", table=f'{quote(SCHEMA)}."t"', where="1 = 1")
    hashes = fast_sql("row_hashes").format(
        row="{row}", key='"id"', table=f'{quote(SCHEMA)}."t"', where="1 = 1"
    )
    results = []
    with ExitStack() as stack:
        for cluster in (source, target):
            session = stack.enter_context(MigrationAuditHook(cluster.conn_id).session([SCHEMA]))
            sqlite_functions.register(session.conn)
            row = sqlite_functions.row_arguments(session, SHAPE)
            results.append(
                (session.fetchall(sql.format(row=row)), dict(session.fetchall(hashes.format(row=row))))
            )
    (src_fp, src_rows), (tgt_fp, tgt_rows) = results
    assert src_fp != tgt_fp
    assert [k for k in src_rows if src_rows[k] != tgt_rows[k]] == [2]


def test_canonical_forms_equal_the_reference_on_many_values():
    rnd = random.Random(5)
    floats = [rnd.uniform(-1, 1) * 10 ** rnd.randrange(-30, 30) for _ in range(20_000)]
    floats += [0.0, -0.0, 1e15, 1e16, 123456789012345.6, 5e-5, 1e-4, float("nan"), float("-inf"), 2.5]
    for value in [*floats, 0, -7, 10**30, "1.500", "abc", "1e3", "-0.000", "", "nul\x00"]:
        assert sqlite_functions.canon_number(value) == Reference.canon_number(value), repr(value)
    for value in floats:
        assert sqlite_functions.canon_float(value) == Reference.canon_float(value), repr(value)
    stamps = [
        "2026-01-01 00:00:00",
        "2026-01-01T10:11:12.5+01:00",
        "0001-01-01 00:00:00",
        "0999-01-01 01:01:01Z",
    ]
    stamps += [
        f"{rnd.randrange(1000, 9999)}-0{rnd.randrange(1, 10)}-11 12:13:14.{rnd.randrange(10**6)}"
        for _ in range(500)
    ]
    for value in [*stamps, 0, 1767225600, 1767225600.25, None]:
        assert sqlite_functions.canon_timestamp(value) == Reference.canon_timestamp(value), value
        assert sqlite_functions.canon_timestamptz(value) == Reference.canon_timestamptz(value), value


# -- the ATTACH copy ---------------------------------------------------------------------------------------
def copy(source, target, table: str):
    src, tgt = MigrationAuditHook(source.conn_id), MigrationAuditHook(target.conn_id)
    return copy_table(src, tgt, SCHEMA, table, strategy=SqliteAttachCopyStrategy(src, tgt))


def contents(cluster, table: str) -> list[tuple]:
    cols = ", ".join(f"{quote(c)}, typeof({quote(c)})" for c in DECLARED)
    return cluster.execute(f"SELECT {cols} FROM {quote(SCHEMA)}.{quote(table)} ORDER BY id", schemas=[SCHEMA])


def test_copy_replaces_the_rows_exactly_and_counts_them(source, target):
    rows = EDGE_ROWS + random_rows(5_000, start=100)
    make_table(source, "t", rows)
    make_table(target, "t", random_rows(30, start=10_000))  # stale rows: replaced, not appended to
    result = copy(source, target, "t")
    assert (result.status, result.method, result.error) == (COPIED, "sqlite_attach", None)
    assert result.rows_read == result.rows_written == len(rows)
    assert contents(target, "t") == contents(source, "t")  # values and storage classes
    with sqlite3.connect(target.info["main"]) as conn:  # nothing left attached or locked
        conn.execute(f"ATTACH ? AS {quote(SCHEMA)}", (str(target.info["folder"] / f"{SCHEMA}.db"),))
        conn.execute(f'DELETE FROM {quote(SCHEMA)}."t" WHERE id = 1')


def test_copy_is_atomic_when_the_insert_fails_midway(source, target):
    make_table(source, "t", random_rows(2_000, start=0))
    columns = {**DECLARED, "name": "TEXT CHECK (id < 1500)"}  # the target refuses row 1500 and later
    make_table(target, "t", random_rows(20, start=0), columns)
    before = contents(target, "t")
    result = copy(source, target, "t")
    assert result.status == FAILED and "CHECK constraint failed" in result.error
    assert contents(target, "t") == before  # the DELETE and the first 1500 rows were rolled back


def test_copy_fails_and_rolls_back_when_the_target_takes_fewer_rows(source, target):
    """Rows written are the insert's rowcount: a trigger that drops rows makes the counts differ."""
    make_table(source, "t", random_rows(100, start=0))
    make_table(target, "t", random_rows(5, start=500))
    target.execute(
        f'CREATE TRIGGER {quote(SCHEMA)}."drop_odd" BEFORE INSERT ON "t" WHEN NEW.id % 2 = 1 '
        "BEGIN SELECT RAISE(IGNORE); END",
        schemas=[SCHEMA],
    )
    before = contents(target, "t")
    result = copy(source, target, "t")
    assert result.status == FAILED and "read 100 rows" in result.error and "took 50" in result.error
    assert contents(target, "t") == before


@pytest.mark.parametrize(
    "name, slots",
    [
        ("copy/attach_source", {"alias": '"ma_copy_source"'}),
        ("copy/count_attached", {"source": '"ma_copy_source"."t"'}),
        (
            "copy/copy_attached",
            {"target": '"s"."t"', "columns": '"a", "b"', "source": '"ma_copy_source"."t"'},
        ),
        ("copy/detach_source", {"alias": '"ma_copy_source"'}),
        ("copy/attached_files", {}),
        ("fingerprint/table", {"row": '\'nt\', "a", "b"', "table": '"s"."t"', "where": "1 = 1"}),
        (
            "fingerprint/segments",
            {"segment": "0", "row": "'t', \"a\"", "table": '"s"."t"', "where": "1 = 1"},
        ),
        (
            "fingerprint/row_hashes",
            {"key": '"a"', "row": "'t', \"a\"", "table": '"s"."t"', "where": "1 = 1"},
        ),
    ],
)
def test_new_statements_parse(name, slots):
    text = load_statement(name, "sqlite").format(**slots)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    sqlglot.parse_one(body.replace(":path", "'x'"), read="sqlite", error_level=ErrorLevel.RAISE)
