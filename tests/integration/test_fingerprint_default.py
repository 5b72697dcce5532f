"""The default fingerprint mode, ``small_and_new``, on real databases (SQLite, PostgreSQL, Vertica emulator).

Every complete table of at most ``fingerprint_all_below_rows`` rows is fingerprinted on every refresh,
so a value changed later in a small complete table is found; a larger one is fingerprinted only when
it just turned complete or is a mismatch. ``off``, ``new_complete`` and ``all`` keep their meaning.
"""

from __future__ import annotations

import json

import pytest
from conftest import audit_rows, store_exists

from migration_audit_provider.constants import DEFAULT_FINGERPRINT_ALL_BELOW_ROWS, DEFAULT_FINGERPRINT_MODE
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator
from migration_audit_provider.status import FingerprintRule, fingerprint_candidates, fingerprint_rule

SCHEMA = "d"
KEYED = "id INTEGER PRIMARY KEY, name TEXT"


def refresh(**kw):
    return RefreshAuditOperator(task_id="refresh_audit", schema=SCHEMA, **kw)


def fingerprinted(summary) -> int:
    return summary["schemas"][SCHEMA]["fingerprinted"]


def stored_fingerprints(target) -> dict[str, tuple]:
    rows = target.execute(
        "SELECT table_name, src_fingerprint, tgt_fingerprint FROM migration.audit "
        f"WHERE table_schema = {target.ph}",
        (SCHEMA,),
        schemas=["migration"],
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def mismatch_details(target, run_id: str) -> dict[str, dict]:
    rows = target.execute(
        "SELECT table_name, detail FROM migration.audit_history "
        f"WHERE event_type = 'mismatch' AND run_id = {target.ph}",
        (run_id,),
        schemas=["migration"],
    )
    return {table: json.loads(detail) for table, detail in rows}


@pytest.fixture
def migrated(source, target, context):
    """Schema ``d``: ``small`` (20 rows) and ``big`` (60 rows), copied exactly, audited complete."""
    for cluster in (source, target):
        cluster.create_schema(SCHEMA)
        cluster.create_table(SCHEMA, "small", 20, columns=KEYED)
        cluster.create_table(SCHEMA, "big", 60, columns=KEYED)
    InitAuditOperator(task_id="init_audit", schema=SCHEMA).execute(context)
    first = refresh().execute(context)  # both just turned complete: fingerprinted under every mode
    assert first["by_status"] == {"complete": 2} and fingerprinted(first) == 2
    return source, target


def change_later(target, table: str, key: int) -> None:
    """A value changed on the target after the table was audited complete; counts stay equal."""
    target.execute(
        f'UPDATE "{SCHEMA}"."{table}" SET name = \'changed later\' WHERE id = {key}', schemas=[SCHEMA]
    )


def test_the_default_is_small_and_new():
    assert (DEFAULT_FINGERPRINT_MODE, DEFAULT_FINGERPRINT_ALL_BELOW_ROWS) == ("small_and_new", 100_000)
    op = refresh()
    assert (op.fingerprint, op.fingerprint_all_below_rows) == ("small_and_new", 100_000)


def test_a_value_changed_later_in_a_small_complete_table_is_found_by_default(migrated, context):
    _, target = migrated
    change_later(target, "small", 7)
    unchanged = refresh().execute({**context, "run_id": "nothing_new"})
    assert unchanged["by_status"] == {"complete": 1, "mismatch": 1}
    rows = audit_rows(target, SCHEMA)
    assert rows["small"][:3] == ("mismatch", 20, 20)
    assert rows["big"][:3] == ("complete", 60, 60)
    details = mismatch_details(target, "nothing_new")
    assert details["small"]["key"] == ["id"] and details["small"]["differing_keys"] == [["7"]]
    assert fingerprinted(unchanged) == 2  # both tables are below the default bound of 100,000 rows


def test_a_table_above_the_bound_is_not_rehashed_when_unchanged(migrated, context):
    _, target = migrated
    before = stored_fingerprints(target)
    change_later(target, "small", 3)
    change_later(target, "big", 41)  # not seen: big (60 rows) is above the bound and already complete
    summary = refresh(fingerprint_all_below_rows=40).execute({**context, "run_id": "bounded"})
    assert fingerprinted(summary) == 1  # only small
    rows = audit_rows(target, SCHEMA)
    assert rows["small"][0] == "mismatch" and rows["big"][0] == "complete"
    after = stored_fingerprints(target)
    assert after["big"] == before["big"]  # the stored pair of the big table was kept, not recomputed
    assert set(mismatch_details(target, "bounded")) == {"small"}

    # The bound is inclusive and arrives as text from the DAG's template: "60" takes big in too.
    summary = refresh(fingerprint_all_below_rows="60").execute({**context, "run_id": "inclusive"})
    assert audit_rows(target, SCHEMA)["big"][0] == "mismatch"
    # small is still a mismatch and fingerprinted again until fixed; big is taken at its bound
    assert fingerprinted(summary) == 2


def test_the_other_modes_are_unchanged(migrated, context):
    _, target = migrated
    change_later(target, "small", 5)
    for mode in ("off", "new_complete"):
        summary = refresh(fingerprint=mode).execute({**context, "run_id": mode})
        assert summary["by_status"] == {"complete": 2} and fingerprinted(summary) == 0, mode
    change_later(target, "big", 50)
    summary = refresh(fingerprint="all", fingerprint_all_below_rows=0).execute({**context, "run_id": "all"})
    assert summary["by_status"] == {"mismatch": 2} and fingerprinted(summary) == 2


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"fingerprint_all_below_rows": -1}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": "lots"}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": True}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": 1.5}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint_all_below_rows": "-5"}, "fingerprint_all_below_rows must be a non-negative integer"),
        ({"fingerprint": "small_and_nwe"}, "fingerprint must be one of"),
    ],
)
def test_bad_values_are_refused_before_any_sql(source, target, context, kw, message):
    source.create_schema(SCHEMA)
    target.create_schema(SCHEMA)
    with pytest.raises(AuditInputError, match=message):
        refresh(**kw).execute(context)
    assert not store_exists(target)  # refused before the store was created, i.e. before any SQL


def test_the_rule_without_a_database():
    from migration_audit_provider.records import AuditRow

    def done(n):
        return AuditRow(SCHEMA, "x", src_row_count=n, tgt_row_count=n, export_status="complete")

    stored = {"small": done(10), "big": done(1000), "grew": done(5), "new": None}
    stored = {k: v for k, v in stored.items() if v is not None}
    counts = {"small": 10, "big": 1000, "grew": 2000, "new": 3, "short": 4}
    tgt = {**counts, "short": 2}
    rule = fingerprint_rule("small_and_new", 100)
    assert isinstance(rule, FingerprintRule) and rule == "small_and_new" and rule.all_below_rows == 100
    assert fingerprint_candidates(rule, stored, counts, tgt) == ["grew", "new", "small"]
    assert fingerprint_candidates(fingerprint_rule("small_and_new", 1000), stored, counts, tgt) == [
        "big",
        "grew",
        "new",
        "small",
    ]
    assert fingerprint_candidates("small_and_new", stored, counts, tgt) == ["big", "grew", "new", "small"]
    assert fingerprint_candidates(fingerprint_rule("new_complete", 10**9), stored, counts, tgt) == [
        "grew",
        "new",
    ]
    assert fingerprint_candidates("all", stored, counts, tgt) == ["big", "grew", "new", "small"]
    assert fingerprint_candidates("off", stored, counts, tgt) == []
