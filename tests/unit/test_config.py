from __future__ import annotations

import pytest

from migration_audit_provider.config import load_settings, parse_settings, slug
from migration_audit_provider.exceptions import AuditInputError


def test_defaults_and_overrides():
    settings = parse_settings(
        {
            "defaults": {"max_workers": 2, "schedule": None},
            "schemas": {"sales": {}, "Finance Dept": {"rerun_partials": True, "dag_id": "fin"}},
        }
    )
    sales, finance = settings
    assert (sales.dag_id, sales.max_workers, sales.schedule, sales.rerun_partials) == (
        "migration_audit__sales",
        2,
        None,
        False,
    )
    assert (finance.schema, finance.dag_id, finance.rerun_partials) == ("Finance Dept", "fin", True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "non-empty 'schemas'"),
        ({"schemas": {"s": {"max_wrokers": 2}}}, "unknown setting"),
        ({"schemas": {"s": {"max_workers": 0}}}, "positive integer"),
        ({"schemas": {"s": {"data_run": "yes"}}}, "true or false"),
        ({"schemas": {"s": {"schedule": "every day"}}}, "not a valid cron"),
        ({"schemas": {"s": {"on_incomplete": "ignore"}}}, "on_incomplete"),
        ({"schemas": {"s": {"start_date": "yesterday"}}}, "YYYY-MM-DD"),
        ({"schemas": {"s": {"dag_id": "bad id;"}}}, "dag_id"),
        ({"schemas": {"a b": {}, "a-b": {}}}, "same DAG id"),
        ({"schemas": {"{{ 7*7 }}": {}}}, "Jinja"),
    ],
)
def test_bad_config_is_refused_clearly(raw, message):
    with pytest.raises(AuditInputError, match=message):
        parse_settings(raw)


def test_unreadable_file(tmp_path):
    with pytest.raises(AuditInputError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schemas: [unclosed")
    with pytest.raises(AuditInputError, match="cannot read"):
        load_settings(bad)


def test_slug():
    assert slug("Finance Dept") == "finance_dept"
    assert slug('we"ird;') == "we_ird"
    assert slug("ïï") == "schema"


def test_fingerprint_default_is_small_and_new_with_its_bound():
    (default,) = parse_settings({"schemas": {"s": {}}})
    assert (default.fingerprint, default.fingerprint_all_below_rows) == ("small_and_new", 100_000)
    (tuned,) = parse_settings(
        {"schemas": {"s": {"fingerprint": "new_complete", "fingerprint_all_below_rows": 0}}}
    )
    assert (tuned.fingerprint, tuned.fingerprint_all_below_rows) == ("new_complete", 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"fingerprint_all_below_rows": -1}, "fingerprint_all_below_rows must be a non-negative integer"),
        (
            {"fingerprint_all_below_rows": "100000"},
            "fingerprint_all_below_rows must be a non-negative integer",
        ),
        ({"fingerprint_all_below_rows": True}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": 1.5}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": None}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint": "small"}, "fingerprint must be one of"),
        ({"fingerprint_all_below_row": 10}, "unknown setting"),
    ],
)
def test_bad_fingerprint_settings_are_refused_clearly(value, message):
    with pytest.raises(AuditInputError, match=f"schema 's': .*{message}|{message}"):
        parse_settings({"schemas": {"s": value}})
