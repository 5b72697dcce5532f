"""Row filters from the settings file: counts and fingerprints on the filtered rows only, both sides."""

from __future__ import annotations

from conftest import audit_rows, quote

from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator

FILTERS = {"orders": "id < 50"}


def refresh(**kw):
    return RefreshAuditOperator(task_id="refresh_audit", schema="s", fingerprint="all", **kw)


def test_a_table_still_being_loaded_is_audited_on_its_filtered_slice(source, target, context):
    for cluster in (source, target):
        cluster.create_schema("s")
    source.create_table("s", "orders", 100)  # ids 0..99; the migration has loaded ids below 50 so far
    target.create_table("s", "orders", 50)
    source.create_table("s", "other", 5)
    target.create_table("s", "other", 5)
    InitAuditOperator(task_id="init_audit", schema="s").execute(context)

    unfiltered = refresh().execute(context)
    assert audit_rows(target, "s")["orders"][:3] == ("partial", 100, 50)

    filtered = refresh(row_filters=FILTERS).execute({**context, "run_id": "filtered"})
    rows = audit_rows(target, "s")
    assert rows["orders"][:3] == ("complete", 50, 50)  # counted and fingerprinted on ids < 50 only
    assert rows["other"][:3] == ("complete", 5, 5)  # no filter of its own, no "*": all rows
    assert filtered["schemas"]["s"]["fingerprinted"] >= 2 and unfiltered["by_status"]["partial"] == 1
    method = target.execute(
        f"SELECT count_method FROM migration.audit WHERE table_name = {target.ph}", ("orders",), ["migration"]
    )
    assert method == [("count(*) where",)]
    logged = target.execute(
        f"SELECT run_id, row_filters FROM migration.audit_runs WHERE step = {target.ph} ORDER BY started_at",
        ("refresh",),
        ["migration"],
    )
    assert logged == [("manual__test", None), ("filtered", '{"orders": "id < 50"}')]  # the filter as written

    # A changed value inside the slice is a mismatch; the rows outside it are not looked at.
    target.execute(f"UPDATE {quote('s')}.{quote('orders')} SET name = 'changed' WHERE id = 7", schemas=["s"])
    refresh(row_filters=FILTERS).execute({**context, "run_id": "changed"})
    assert audit_rows(target, "s")["orders"][0] == "mismatch"
