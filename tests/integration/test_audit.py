"""InitAudit, RefreshAudit and GetRejects against real PostgreSQL and SQLite databases."""

from __future__ import annotations

import pytest
from conftest import audit_rows, history_rows, store_exists

from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.operators.audit import (
    GetRejectsOperator,
    InitAuditOperator,
    RefreshAuditOperator,
)


def init(schema, **kw):
    return InitAuditOperator(task_id="init_audit", schema=schema, **kw)


def refresh(schema, **kw):
    return RefreshAuditOperator(task_id="refresh_audit", schema=schema, **kw)


def seed_statuses(source, target, schema="sales"):
    """One table per status: source counts vs what the target received."""
    source.create_schema(schema)
    target.create_schema(schema)
    layout = {
        # table: (source rows, target rows or None for "no table on the target")
        "complete_t": (5, 5),
        "partial_t": (5, 3),
        "overload_t": (5, 8),
        "reject_t": (5, 0),
        "missing_t": (5, None),
        "empty_t": (0, 0),
    }
    for table, (src_rows, tgt_rows) in layout.items():
        source.create_table(schema, table, src_rows)
        if tgt_rows is not None:
            target.create_table(schema, table, tgt_rows)
    return layout


def test_init_registers_pending_tables(source, target, context):
    seed_statuses(source, target)
    summary = init("sales").execute(context)

    rows = audit_rows(target, "sales")
    assert {t: r[0] for t, r in rows.items()} == dict.fromkeys(
        ["complete_t", "partial_t", "overload_t", "reject_t", "missing_t", "empty_t"], "pending"
    )
    assert rows["partial_t"][1] == 5 and rows["empty_t"][1] == 0
    assert summary["by_status"] == {"pending": 6}
    assert summary["added"] == 6
    events = history_rows(target, "sales")
    assert len(events) == 6 and {e[1] for e in events} == {"init"}
    assert all(e[2] is None and e[3] == "pending" and e[6] == "manual__test" for e in events)


def test_refresh_sets_each_status(source, target, context):
    seed_statuses(source, target)
    init("sales").execute(context)
    summary = refresh("sales").execute(context)

    status = {t: r[0] for t, r in audit_rows(target, "sales").items()}
    assert status == {
        "complete_t": "complete",
        "partial_t": "partial",
        "overload_t": "overload",
        "reject_t": "reject",
        "missing_t": "missing",
        "empty_t": "complete",  # empty on both sides is not a reject (the seed got this wrong)
    }
    rows = audit_rows(target, "sales")
    assert rows["complete_t"][3] is True and rows["empty_t"][3] is True
    assert rows["partial_t"][3] is False and rows["reject_t"][3] is False
    assert rows["overload_t"][1:3] == (5, 8)
    assert rows["missing_t"][2] is None
    assert summary["by_status"] == {"complete": 2, "partial": 1, "overload": 1, "reject": 1, "missing": 1}
    assert summary["schemas"]["sales"]["changed"] == 6


def test_second_refresh_touches_nothing(source, target, context):
    seed_statuses(source, target)
    init("sales").execute(context)
    refresh("sales").execute(context)
    before_rows, before_history = audit_rows(target, "sales"), history_rows(target, "sales")

    summary = refresh("sales").execute({**context, "run_id": "second"})

    assert summary["changed"] == 0
    assert audit_rows(target, "sales") == before_rows  # update_ts included
    assert history_rows(target, "sales") == before_history
    init("sales").execute({**context, "run_id": "third"})
    assert audit_rows(target, "sales") == before_rows


def test_transitions_follow_the_data(source, target, context):
    seed_statuses(source, target)
    init("sales").execute(context)
    refresh("sales").execute(context)

    target.insert_rows("sales", "reject_t", 5)  # the rerun delivered
    target.insert_rows("sales", "partial_t", 2, start=3)  # the missing rows 3 and 4 arrive
    source.insert_rows("sales", "complete_t", 1, start=100)  # the source moved on: partial now
    target.create_table("sales", "missing_t", 5)
    refresh("sales").execute({**context, "run_id": "after_rerun"})

    status = {t: r[0] for t, r in audit_rows(target, "sales").items()}
    assert status["reject_t"] == "complete"
    assert status["partial_t"] == "complete"
    assert status["missing_t"] == "complete"
    assert status["complete_t"] == "partial"
    changes = [(e[0], e[2], e[3]) for e in history_rows(target, "sales") if e[6] == "after_rerun"]
    assert sorted(changes) == [
        ("complete_t", "complete", "partial"),
        ("missing_t", "missing", "complete"),
        ("partial_t", "partial", "complete"),
        ("reject_t", "reject", "complete"),
    ]


def test_precedence(source, target, context):
    """dropped beats missing; missing beats an empty source; 0 = 0 is complete."""
    source.create_schema("p")
    target.create_schema("p")
    source.create_table("p", "gone", 3)  # will be dropped from the source, never created on target
    source.create_table("p", "empty_missing", 0)  # empty in the source, absent on the target
    source.create_table("p", "empty_both", 0)
    target.create_table("p", "empty_both", 0)
    init("p").execute(context)
    source.execute('DROP TABLE "p"."gone"', schemas=["p"])
    refresh("p").execute(context)

    rows = audit_rows(target, "p")
    assert rows["gone"][0] == "dropped"
    assert rows["empty_missing"][0] == "missing"
    assert rows["empty_both"][0] == "complete"
    assert [e[3] for e in history_rows(target, "p") if e[0] == "gone"] == ["pending", "dropped"]


def test_dropped_then_recreated_and_new_tables(source, target, context):
    source.create_schema("s")
    target.create_schema("s")
    source.create_table("s", "a", 2)
    target.create_table("s", "a", 2)
    init("s").execute(context)
    source.execute('DROP TABLE "s"."a"', schemas=["s"])
    init("s").execute(context)
    assert audit_rows(target, "s")["a"][0] == "dropped"

    source.create_table("s", "a", 2)
    source.create_table("s", "b", 1)  # created after init: refresh picks it up
    refresh("s").execute(context)
    rows = audit_rows(target, "s")
    assert rows["a"][0] == "complete"
    assert rows["b"][0] == "missing"


ODD = ["Mixed Case", 'with "quotes"', "semi;colon", "ünï cödé"]


def test_odd_identifiers(source, target, context):
    schema = 'Sales "EU" 2024'
    source.create_schema(schema)
    target.create_schema(schema)
    for i, table in enumerate(ODD):
        source.create_table(schema, table, i + 1)
        target.create_table(schema, table, i + 1 if i % 2 == 0 else 0)
    init(schema).execute(context)
    refresh(schema).execute(context)

    status = {t: r[0] for t, r in audit_rows(target, schema).items()}
    assert status == {ODD[0]: "complete", ODD[1]: "reject", ODD[2]: "complete", ODD[3]: "reject"}
    batches = GetRejectsOperator(task_id="get_rejects", schema=schema).execute(context)
    assert batches == [sorted([ODD[1], ODD[3]])]


@pytest.mark.parametrize("bad", ["nope", "sales; drop table migration.audit", "x\x00y", "", None, "a" * 300])
def test_bad_schema_refused_nothing_written(source, target, context, bad):
    source.create_schema("sales")
    with pytest.raises(AuditInputError) as err:
        init(bad).execute(context)
    assert "schema" in str(err.value)
    if bad is not None:  # refresh(schema=None) means "every audited schema"
        with pytest.raises(AuditInputError):
            refresh(bad).execute(context)
    assert not store_exists(target)


def test_allowed_schemas_checked_before_sql(source, target, context):
    source.create_schema("sales")
    with pytest.raises(AuditInputError, match="not one of the configured schemas"):
        init("hr", allowed_schemas=["sales"]).execute(context)
    assert not store_exists(target)


def test_get_rejects_batches_and_flags(source, target, context):
    source.create_schema("big")
    target.create_schema("big")
    for i in range(7):
        source.create_table("big", f"t{i}", 2)
        target.create_table("big", f"t{i}", 0 if i < 5 else 1)
    init("big").execute(context)
    refresh("big").execute(context)

    get = GetRejectsOperator(task_id="get_rejects", schema="big", batch_size=2)
    assert get.execute(context) == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    with_partials = GetRejectsOperator(task_id="g", schema="big", batch_size=10, include_partial="True")
    assert with_partials.execute(context) == [[f"t{i}" for i in range(7)]]


def test_refresh_all_schemas(source, target, context):
    for schema in ("a", "b"):
        source.create_schema(schema)
        target.create_schema(schema)
        source.create_table(schema, "t", 1)
        init(schema).execute(context)
    target.create_table("a", "t", 1)
    summary = refresh(None).execute(context)
    assert summary["by_status"] == {"complete": 1, "missing": 1}
    assert set(summary["schemas"]) == {"a", "b"}


def test_same_count_other_content_is_a_mismatch_and_the_keys_are_recorded(source, target, context):
    source.create_schema("m")
    target.create_schema("m")
    keyed = "id INTEGER PRIMARY KEY, name TEXT"
    source.create_table("m", "keyed", 50, columns=keyed)
    target.create_table("m", "keyed", 50, columns=keyed)
    source.create_table("m", "nokey", 5)
    target.create_table("m", "nokey", 5)
    target.execute('UPDATE "m"."keyed" SET name = \'changed\' WHERE id IN (7, 31)', schemas=["m"])
    target.execute('UPDATE "m"."nokey" SET name = NULL WHERE id = 2', schemas=["m"])
    init("m").execute(context)

    off = refresh("m", fingerprint="off").execute({**context, "run_id": "counts_only"})
    assert off["by_status"] == {"complete": 2}  # what the seed's audit would have said
    # new_complete: these tables did not just turn complete, so they are not hashed: no news
    assert refresh("m", fingerprint="new_complete").execute(context)["by_status"] == {"complete": 2}
    summary = refresh("m", fingerprint="all").execute({**context, "run_id": "content"})

    assert summary["by_status"] == {"mismatch": 2}
    rows = audit_rows(target, "m")
    assert rows["keyed"][:4] == ("mismatch", 50, 50, False)
    ph = target.ph
    details = target.execute(
        "SELECT table_name, detail FROM migration.audit_history "
        f"WHERE event_type = 'mismatch' AND run_id = {ph}",
        ("content",),
        schemas=["migration"],
    )
    import json

    found = {table: json.loads(detail) for table, detail in details}
    assert found["keyed"]["key"] == ["id"] and found["keyed"]["differing_keys"] == [["31"], ["7"]]
    assert found["nokey"]["key"] is None and found["nokey"]["differing_keys"] == []
    assert found["nokey"]["note"] == "no key: keys not listed"
    batches = GetRejectsOperator(task_id="get_rejects", schema="m").execute(context)
    assert batches == [["keyed", "nokey"]]


def test_a_fixed_mismatch_turns_complete(source, target, context):
    source.create_schema("m")
    target.create_schema("m")
    source.create_table("m", "t", 3)
    target.create_table("m", "t", 3)
    target.execute('UPDATE "m"."t" SET name = \'x\' WHERE id = 1', schemas=["m"])
    init("m").execute(context)
    refresh("m").execute(context)  # pending -> counts agree -> fingerprinted: mismatch
    assert audit_rows(target, "m")["t"][0] == "mismatch"
    target.execute('UPDATE "m"."t" SET name = \'row 1\' WHERE id = 1', schemas=["m"])
    refresh("m").execute({**context, "run_id": "fixed"})  # a mismatch is re-checked every refresh
    assert audit_rows(target, "m")["t"][0] == "complete"
    transitions = [(h[2], h[3]) for h in history_rows(target, "m") if h[1] == "refresh"]
    assert transitions == [("pending", "mismatch"), ("mismatch", "complete")]


def test_bad_fingerprint_mode_is_refused(source, target, context):
    source.create_schema("m")
    with pytest.raises(AuditInputError, match="fingerprint must be one of"):
        refresh("m", fingerprint="sometimes").execute(context)


def _summary_from_audit(target, schema):
    rows = audit_rows(target, schema).values()
    by_status: dict[str, int] = {}
    for status, *_ in rows:
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "tables": len(rows),
        "by_status": by_status,
        "src_rows": sum(r[1] or 0 for r in rows),
        "tgt_rows": sum(r[2] or 0 for r in rows),
    }


def test_each_steps_summary_is_what_the_audit_table_holds_after_it(source, target, context):
    """The summary is worked out from the rows read under the lock and the staged rows as decided,
    not read again: after every kind of change it equals the audit table's own counts."""
    seed_statuses(source, target)
    steps = [
        lambda: init("sales").execute(context),
        lambda: refresh("sales").execute(context)["schemas"]["sales"],
        lambda: refresh("sales").execute(context)["schemas"]["sales"],  # nothing changed: nothing staged
    ]

    def fix_and_grow():
        target.insert_rows("sales", "partial_t", 2, start=3)  # partial -> complete
        source.create_table("sales", "new_t", 4)  # new in the source: added by init, pending
        source.execute("DROP TABLE sales.empty_t", schemas=["sales"])  # gone from the source: dropped
        return init("sales").execute(context)

    steps += [
        fix_and_grow,
        lambda: refresh("sales").execute(context)["schemas"]["sales"],
        lambda: refresh("sales", force=True).execute(context)["schemas"]["sales"],  # restaged, pruned
    ]
    seen = []
    for step in steps:
        summary = step()
        expected = _summary_from_audit(target, "sales")
        assert {k: summary[k] for k in expected} == expected
        seen.append(summary["by_status"])
    assert seen[1] == {"complete": 2, "missing": 1, "reject": 1, "partial": 1, "overload": 1}
    assert seen[4] == {"complete": 2, "missing": 2, "reject": 1, "overload": 1, "dropped": 1}


def test_refresh_of_every_schema_in_one_task_commits_each_schema_alone(source, target, context):
    """``schema=None`` refreshes every audited schema, each in its own transaction: a schema that fails
    (gone from the source) fails the task, and the schemas refreshed before it keep what they wrote."""
    seed_statuses(source, target, "a_sales")
    seed_statuses(source, target, "b_hr")
    seed_statuses(source, target, "c_gone")
    for schema in ("a_sales", "b_hr", "c_gone"):
        init(schema).execute(context)
    target.insert_rows("a_sales", "partial_t", 1, start=99)
    target.insert_rows("b_hr", "reject_t", 1, start=99)

    every = refresh(None, fingerprint="off").execute(context)
    assert list(every["schemas"]) == ["a_sales", "b_hr", "c_gone"]
    alone = {s: refresh(s, fingerprint="off").execute(context) for s in ("a_sales", "b_hr", "c_gone")}
    assert {s: every["schemas"][s]["by_status"] for s in alone} == {s: alone[s]["by_status"] for s in alone}
    assert every["schemas"]["b_hr"]["by_status"]["partial"] == 2  # b_hr's reject_t now has 1 of 5 rows
    assert every["tables"] == 18

    if source.kind == "sqlite":
        (source.info["folder"] / "c_gone.db").unlink()
    else:
        source.execute('DROP SCHEMA "c_gone" CASCADE')
    target.insert_rows("a_sales", "partial_t", 1, start=98)
    target.insert_rows("b_hr", "reject_t", 1, start=98)
    with pytest.raises(AuditInputError, match="c_gone"):
        refresh(None, fingerprint="off").execute(context)
    assert audit_rows(target, "a_sales")["partial_t"][2] == 5  # committed before c_gone failed
    assert audit_rows(target, "b_hr")["reject_t"][2] == 2
    assert audit_rows(target, "c_gone")["complete_t"][0] == "complete"  # untouched, not lost
