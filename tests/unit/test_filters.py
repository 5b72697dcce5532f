"""Row filters: what the settings file may hold, refused with a clear message at DAG parse."""

from __future__ import annotations

import pytest

from migration_audit_provider.config import parse_settings
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.filters import filter_for, parse_filter, parse_filters


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("id", "not a boolean expression"),
        ("1 + 1", "not a boolean expression"),
        ("id < 5; DROP TABLE t", "';' is not allowed"),
        ("id IN (SELECT id FROM other)", "subqueries are not allowed"),
        ("pg_sleep(10) IS NULL", "function"),
        ("now() > created_at", "function"),
        ("o.id < 3", "own column names only"),
        ("id = :x", "bind parameters"),
        ("id < 5 OR", "does not parse"),
    ],
)
def test_refused(text, reason):
    with pytest.raises(AuditInputError, match=reason):
        parse_filter(text)


def test_accepted_and_rendered_per_database():
    f = parse_filter("created_at < DATE '2026-11-01' AND id < 1000000")
    assert f.columns == {"created_at", "id"}
    assert f.sql("postgres") == "(created_at < CAST('2026-11-01' AS DATE) AND id < 1000000)"
    assert "DATE('2026-11-01')" in f.sql("sqlite")


def test_table_filter_replaces_the_schema_wide_one():
    filters = parse_filters({"*": "created_at < '2026-11-01'", "orders": "id < 10"})
    assert filter_for(filters, "orders", ["id"]).text == "id < 10"
    assert filter_for(filters, "lines", ["id", "created_at"]).text == "created_at < '2026-11-01'"
    assert filter_for(filters, "codes", ["id"]) is None  # lacks created_at: counted whole
    with pytest.raises(AuditInputError, match="lacks"):
        filter_for(parse_filters({"orders": "missing_col < 3"}), "orders", ["id"])


def test_settings_refuse_a_bad_filter_naming_schema_and_table():
    with pytest.raises(AuditInputError, match=r"schema 'sales': filters\['orders'\].*not a boolean"):
        parse_settings({"schemas": {"sales": {"filters": {"orders": "id"}}}})
    [ok] = parse_settings({"schemas": {"sales": {"filters": {"*": "id < 3"}}}})
    assert ok.filters == {"*": "id < 3"}
