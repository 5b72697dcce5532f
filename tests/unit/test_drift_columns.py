"""drift.columns_by_table: columns defined alike are made once, and are the columns one by one."""

from __future__ import annotations

from migration_audit_provider.dialects.base import AuditDialect
from migration_audit_provider.drift import column, columns_by_table


def _row(table, name, data_type, nullable="YES", char_length=None, num_precision=None, num_scale=None):
    return {
        "table_name": table,
        "column_name": name,
        "data_type": data_type,
        "char_length": char_length,
        "num_precision": num_precision,
        "num_scale": num_scale,
        "nullable": nullable,
    }


def test_alike_columns_are_shared_and_equal_to_each_made_alone():
    widths = AuditDialect.type_widths
    rows = [
        _row("a", "id", "bigint", "NO"),
        _row("a", "name", "character varying", char_length=20),
        _row("b", "id", "bigint", "NO"),
        _row("b", "name", "character varying", char_length=30),  # another size: its own column
        _row("c", "id", "bigint", "YES"),  # nullable: its own column
        _row("c", "amount", "numeric", num_precision=12, num_scale=2),
    ]
    tables = columns_by_table(rows, widths)

    assert {t: [c for c in cols] for t, cols in tables.items()} == {
        "a": [column(rows[0], widths), column(rows[1], widths)],
        "b": [column(rows[2], widths), column(rows[3], widths)],
        "c": [column(rows[4], widths), column(rows[5], widths)],
    }
    assert tables["a"][0] is tables["b"][0]  # made once
    assert tables["a"][1] != tables["b"][1] and tables["b"][1].size == 30
    assert tables["c"][0].nullable and not tables["a"][0].nullable
    assert tables["c"][1].declared == "numeric(12,2)"


def test_alike_tables_compare_empty_and_a_difference_is_still_found():
    from migration_audit_provider.drift import compare

    widths = AuditDialect.type_widths
    src = columns_by_table([_row("a", "id", "bigint", "NO"), _row("a", "n", "text")], widths)["a"]
    tgt = columns_by_table([_row("a", "id", "bigint", "NO"), _row("a", "n", "text")], widths)["a"]
    assert src == tgt and src[0] is not tgt[0]  # equal, made apart
    assert compare(src, tgt, fold_case=False).detail() is None
    narrower = columns_by_table([_row("a", "id", "integer", "NO"), _row("a", "n", "text")], widths)["a"]
    diff = compare(src, narrower, fold_case=False)
    assert diff.drifted and [e["change"] for e in diff.drift] == ["narrower on target"]
    assert compare(src, list(reversed(tgt)), fold_case=False).detail() is None  # by name, not position
