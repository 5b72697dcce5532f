"""The audit dashboard (an Airflow plugin): its queries on PostgreSQL and SQLite, then the real thing.

1. In-process, on both databases: an audit store filled by the provider's own operators (two audit
   runs, two copies, odd names, a ``mismatch``) is read by the dashboard's queries; what they return
   must equal the audit table, each schema gets the DAG its settings name (the shipped
   ``dags/migration_audit.yaml``), and the pages escape every name.
2. A real ``airflow api-server`` (subprocess, PostgreSQL metadata DB, simple auth manager with known
   users) with the provider installed as a package — the plugin comes from the ``airflow.plugins``
   entry point — and the audit store in PostgreSQL (``AIRFLOW_CONN_MIGRATION_TARGET``):

   * nothing from the store reaches a request without a valid token (no token, garbage, a token
     signed with another key), and a user whom the auth manager does not let read a schema's DAG
     does not see that schema: the DAG is the one the settings file names ("Finance Dept" ->
     ``migration_audit__finance``), a schema no configured DAG audits needs all-DAG access, and a
     user allowed no audit DAG gets nothing at all;
   * headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright; no browser download)
     logs in through Airflow's login page, checks that the numbers shown equal the audit table,
     clicks into a schema and into a table, opens the dashboard inside the Airflow UI, and saves
     screenshots under ``tests/artifacts/`` (``MIGRATION_AUDIT_UPDATE_DOCS=1`` also copies one to
     ``docs/dashboard.png``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, unquote

import httpx
import pytest
from conftest import Cluster
from conftest import quote as q
from pg_server import PG_PASSWORD, PG_USER, free_port

from migration_audit_provider.constants import STATUS_COLORS, STATUS_INFO, STATUSES
from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator
from migration_audit_provider.plugins import pages
from migration_audit_provider.plugins.dag_map import load_dag_map
from migration_audit_provider.plugins.dashboard import DashboardSettings, store_reader
from migration_audit_provider.plugins.queries import legend_statuses, ordered_statuses, status_color
from migration_audit_provider.sql import load_statement

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO / "dags" / "migration_audit.yaml"
BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
"""A ``:name`` bind parameter of the statement files (replaced by a literal to parse them)."""
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SALES = "sales"
FIN = 'Finance & "Ops" <EU>'  # in no settings file: no DAG audits it
FIN_DEPT = "Finance Dept"  # dags/migration_audit.yaml: dag_id migration_audit__finance
DAG_IDS = {SALES: "migration_audit__sales", FIN_DEPT: "migration_audit__finance", FIN: None}
ODD = 'it\'s <b>&"odd"</b>'
RUN_1 = "scheduled__2026-11-01T03:00:00+00:00"
RUN_2 = "manual__2026-11-02T10:30:00+00:00"
RUN_3 = "manual__2026-11-03T08:00:00+00:00"
COPY_ERROR = 'duplicate key value violates unique constraint "order_lines_pkey" <id>=(7) & more'
# A table whose columns drifted; the column names come from the catalogs, so they are odd on purpose.
DRIFTED = "invoices"
SCRIPT_COL = '<script>alert("drift")</script>'
QUOTED_COL = 'it\'s "quoted" & <b>'
DRIFT_COLUMNS = (  # (source columns, target columns) of DRIFTED; run 2 adds "note" on the target
    f"id INTEGER NOT NULL, name TEXT, amount NUMERIC(10,2), note TEXT, {q(SCRIPT_COL)} TEXT",
    f"id INTEGER, name TEXT NOT NULL, amount NUMERIC(8,2), {q(SCRIPT_COL)} INTEGER, {q(QUOTED_COL)} TEXT",
)
# table: (source rows, target rows, or None for "no table on the target") before the second run
LAYOUT = {
    SALES: {
        "orders": (120, 120),
        "Order Lines": (300, 150),
        "customers": (40, 0),
        ODD: (7, 9),
        "returns": (0, 0),
        "legacy": (5, None),
        "archive_2019": (3, None),
        DRIFTED: (6, 6),
    },
    FIN: {"employees": (30, 30), "departments": (5, None)},
    FIN_DEPT: {"ledger": (10, 10), "budgets": (4, 2)},
}
AFTER_RUN_1 = {
    SALES: {"complete": 2, "partial": 1, "reject": 1, "overload": 1, "missing": 2, "drift": 1},
    FIN: {"complete": 1, "missing": 1},
    FIN_DEPT: {"complete": 1, "partial": 1},
}
DAILY = [  # all schemas at the end of each day: after run 1, after run 2, after run 3 (today)
    {"complete": 4, "partial": 2, "reject": 1, "overload": 1, "missing": 3, "drift": 1},
    {"complete": 5, "partial": 2, "overload": 1, "missing": 2, "dropped": 1, "drift": 1},
    {"complete": 5, "partial": 2, "overload": 1, "missing": 1, "dropped": 1, "mismatch": 1, "drift": 1},
]
EXPECTED = {  # (status, source rows, target rows) at the end
    SALES: {
        "orders": ("complete", 120, 120),
        "Order Lines": ("partial", 300, 150),
        "customers": ("complete", 40, 40),
        ODD: ("overload", 7, 9),
        "returns": ("complete", 0, 0),
        "legacy": ("dropped", None, None),
        "archive_2019": ("missing", 3, None),
        DRIFTED: ("drift", 6, 6),
    },
    FIN: {"employees": ("complete", 30, 30), "departments": ("mismatch", 5, None)},
    FIN_DEPT: {"ledger": ("complete", 10, 10), "budgets": ("partial", 4, 2)},
}


# -- the audit store, filled by the provider's own operators ---------------------------------------
def seed(source: Cluster, target: Cluster) -> None:
    """Two audit runs' worth of changes, two copies, a content mismatch and a schema drift."""
    for schema, tables in LAYOUT.items():
        source.create_schema(schema)
        target.create_schema(schema)
        for table, (src_rows, tgt_rows) in tables.items():
            src_cols, tgt_cols = DRIFT_COLUMNS if table == DRIFTED else ("id INTEGER, name TEXT",) * 2
            source.create_table(schema, table, src_rows, columns=src_cols)
            if tgt_rows is not None:
                target.create_table(schema, table, tgt_rows, columns=tgt_cols)
    for schema in LAYOUT:
        InitAuditOperator(task_id="init_audit", schema=schema).execute(context(RUN_1, "init_audit"))
        RefreshAuditOperator(task_id="refresh_audit", schema=schema).execute(context(RUN_1, "refresh_audit"))

    # Run 2 copies customers (and fails on Order Lines); legacy is dropped from the source; the
    # missing column of the drifted table is added on the target (it still drifts, differently).
    # The copy events are the rows include/sql/record_copy.sql writes.
    target.insert_rows(SALES, "customers", 40)
    target.execute(f"ALTER TABLE {q(SALES)}.{q(DRIFTED)} ADD COLUMN note TEXT", schemas=[SALES])
    source.execute(f"DROP TABLE {q(SALES)}.{q('legacy')}", schemas=[SALES])
    ph = target.ph
    for table, method, rows_read, rows_written, seconds, error in (
        ("customers", "postgres_copy", 40, 40, 0.25, None),
        ("Order Lines", "insert_rows", 300, 0, 1.5, COPY_ERROR),
    ):
        target.execute(
            "INSERT INTO migration.audit_history (event_ts, event_type, run_id, task_id, table_schema, "
            "table_name, copy_method, rows_read, rows_written, seconds, error) "
            f"VALUES ({ph}, 'copy', {ph}, 'data_run', {ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph})",
            (utc_now(), RUN_2, SALES, table, method, rows_read, rows_written, seconds, error),
            schemas=["migration"],
        )
    RefreshAuditOperator(task_id="refresh_audit", schema=SALES).execute(context(RUN_2, "refresh_audit"))

    # Run 3: the fingerprints of departments differ (written here as the fingerprint step would).
    now = utc_now()
    target.execute(
        f"UPDATE migration.audit SET export_status = 'mismatch', update_ts = {ph}, last_run_id = {ph} "
        f"WHERE table_schema = {ph} AND table_name = 'departments'",
        (now, RUN_3, FIN),
        schemas=["migration"],
    )
    target.execute(
        "INSERT INTO migration.audit_history (event_ts, event_type, run_id, task_id, table_schema, "
        f"table_name, old_status, new_status, src_row_count) VALUES ({ph}, 'refresh', {ph}, "
        f"'refresh_audit', {ph}, 'departments', 'missing', 'mismatch', 5)",
        (now, RUN_3, FIN),
        schemas=["migration"],
    )

    # The runs happened on three days: run 1 two days ago, run 2 yesterday, run 3 today.
    for run_id, days in ((RUN_1, 2), (RUN_2, 1)):
        earlier = (
            f"event_ts - INTERVAL '{days} days'"
            if target.kind in ("postgres", "vertica")
            else f"datetime(event_ts, '-{days} days')"
        )
        target.execute(
            f"UPDATE migration.audit_history SET event_ts = {earlier} WHERE run_id = {ph}",
            (run_id,),
            schemas=["migration"],
        )


def utc_now() -> str:
    """Now, as the store's naive-UTC ``TIMESTAMP`` columns hold it."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def context(run_id: str, task_id: str) -> dict:
    """What the operators and the store read from a task's context."""
    return {"run_id": run_id, "task_instance": SimpleNamespace(task_id=task_id)}


def audit_table(target: Cluster) -> dict[str, dict[str, tuple]]:
    """``{schema: {table: (status, src, tgt)}}`` straight from the audit table."""
    out: dict[str, dict[str, tuple]] = {}
    rows = target.execute(
        "SELECT table_schema, table_name, export_status, src_row_count, tgt_row_count FROM migration.audit",
        schemas=["migration"],
    )
    for schema, table, status, src, tgt in rows:
        out.setdefault(schema, {})[table] = (status, src, tgt)
    return out


def per_status(tables: dict[str, tuple]) -> dict[str, int]:
    return dict(Counter(status for status, _src, _tgt in tables.values()))


def rows_expected_migrated(tables: dict[str, tuple]) -> tuple[int, int]:
    expected = sum(src or 0 for _s, src, _t in tables.values())
    migrated = sum(min(src, tgt) for _s, src, tgt in tables.values() if src is not None and tgt is not None)
    return expected, migrated


# The drifted table as each database's catalog spells its types; SQLite keeps no sizes, so its
# narrower NUMERIC is not compared there.
TEXT_TYPE = {"sqlite": "text", "postgres": "text", "vertica": "long varchar(1048576)"}
INT_TYPE = {"sqlite": "integer", "postgres": "integer", "vertica": "int"}


def drift_columns(kind: str, *, run: int = 2) -> list[tuple]:
    """``(column, source, target, kind, verdict)`` of each difference of DRIFTED after ``run``: the
    drift ones first (source column order, then the target's own), then the allowed widenings."""
    text, integer = TEXT_TYPE[kind], INT_TYPE[kind]
    rows = [("name", text, f"{text} NOT NULL", "nullability", "drift")]
    if kind != "sqlite":
        rows.append(("amount", "numeric(10,2)", "numeric(8,2)", "size", "drift"))
    if run == 1:
        rows.append(("note", text, None, "missing on target", "drift"))
    rows += [
        (SCRIPT_COL, text, integer, "type", "drift"),
        (QUOTED_COL, None, text, "missing on source", "drift"),
        ("id", f"{integer} NOT NULL", integer, "nullability", "allowed"),
    ]
    return rows


def drift_summary(kind: str) -> str:
    """The one line the table list shows for DRIFTED at the end (at most three differences named)."""
    drifted = [r for r in drift_columns(kind) if r[4] == "drift"]
    named = [
        f"{c} {k}" if k.startswith("missing") else f"{c} {src} \u2192 {tgt}" for c, src, tgt, k, _v in drifted
    ]
    more = f"; {len(drifted) - 3} more" if len(drifted) > 3 else ""
    return f"{len(drifted)} columns differ: {'; '.join(named[:3])}{more} \u00b7 1 widening allowed"


class DiffTables(HTMLParser):
    """The rows of the pages' column-difference tables (``table.schema-diff``), as a browser reads
    them: ``{table id or data-event: [(column, source, target, kind, verdict), ...]}`` (``(none)`` is
    ``None``)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[tuple]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table" and "schema-diff" in (a.get("class") or "").split():
            self._table = a.get("id") or f"event {a.get('data-event')}"
            self.tables[self._table] = []
        elif self._table and tag == "tr" and "data-column" in a:
            self._row = []
        elif self._row is not None and tag == "td":
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            value = "".join(self._cell)
            self._row.append(None if value == "(none)" else value)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            column, source, target, kind, _change, verdict = self._row
            self.tables[self._table].append((column, source, target, kind, verdict))
            self._row = None
        elif tag == "table":
            self._table = None


# -- 1. the queries and pages, in-process, on PostgreSQL and SQLite ------------------------------------
def test_dashboard_reads_equal_the_audit_table(source, target):
    seed(source, target)
    truth = audit_table(target)
    assert truth == EXPECTED

    dags = load_dag_map(SHIPPED_CONFIG)
    with store_reader(DashboardSettings(target.conn_id, "migration", dags)) as reader:
        assert reader is not None
        summaries = {s.schema: s for s in reader.schemas()}
        assert set(summaries) == {SALES, FIN, FIN_DEPT}
        assert {schema: s.dag_id for schema, s in summaries.items()} == DAG_IDS
        assert reader.schema(FIN_DEPT).dag_id == "migration_audit__finance"
        assert reader.table(FIN_DEPT, "ledger").dag_id == "migration_audit__finance"
        assert reader.table(FIN, "employees").dag_id is None
        for schema, tables in truth.items():
            summary = summaries[schema]
            assert summary.by_status == per_status(tables)
            assert (summary.rows_expected, summary.rows_migrated) == rows_expected_migrated(tables)
            assert summary.rows_on_target == sum(tgt or 0 for _s, _src, tgt in tables.values())
            assert reader.schema(schema).by_status == summary.by_status
        assert list(summaries[FIN].ordered()) == ["complete", "mismatch"]
        assert reader.schema("no such schema") is None

        listed = {t.table: t for t in reader.tables(SALES)}
        assert {t: (r.status, r.src_rows, r.tgt_rows) for t, r in listed.items()} == truth[SALES]
        customers = listed["customers"]
        assert (customers.changed_from, customers.changed_to, customers.changed_run_id) == (
            "reject",
            "complete",
            RUN_2,
        )
        assert customers.last_copy.method == "postgres_copy"
        assert customers.last_copy.rows_per_second == pytest.approx(160.0)
        assert listed["Order Lines"].last_copy.error == COPY_ERROR
        assert listed["orders"].last_copy is None
        assert listed["orders"].changed_to == "complete" and listed["orders"].changed_run_id == RUN_1
        # the drifted table: its column differences, as recorded in the audit row (schema_diff)
        drifted = listed[DRIFTED].schema_diff
        assert drifted.summary() == drift_summary(target.kind)
        assert [
            (c.column, c.source, c.target, c.kind, "allowed" if c.allowed else "drift")
            for c in drifted.columns
        ] == drift_columns(target.kind)
        assert all(listed[t].schema_diff is None for t in listed if t != DRIFTED)
        # one status only, and pages
        assert [t.table for t in reader.tables(SALES, status="complete")] == sorted(
            t for t, v in truth[SALES].items() if v[0] == "complete"
        )
        names = sorted(truth[SALES])
        assert [t.table for t in reader.tables(SALES, limit=3, offset=3)] == names[3:6]

        detail = reader.table(SALES, "customers")
        assert (detail.status, detail.src_rows, detail.tgt_rows) == ("complete", 40, 40)
        assert detail.last_copy.copy_method == "postgres_copy" and detail.last_copy.run_id == RUN_2
        assert (detail.last_change.old_status, detail.last_change.new_status) == ("reject", "complete")
        assert [e.event_type for e in detail.history] == ["refresh", "copy", "refresh", "init"]
        assert reader.table(SALES, ODD).tgt_rows == 9
        assert reader.table(SALES, "nope") is None
        # ... and in the history: run 1 found it drifted (note missing), run 2 saw it change
        drift_detail = reader.table(SALES, DRIFTED)
        assert drift_detail.schema_diff == drifted
        events = drift_detail.drift_events
        assert [(e.run_id, e.old_status, e.new_status) for e in events] == [
            (RUN_2, "drift", "drift"),
            (RUN_1, "pending", "drift"),
        ]
        assert events[0].schema_diff == drifted
        run_1 = [
            (c.column, c.source, c.target, c.kind, "allowed" if c.allowed else "drift")
            for c in events[1].schema_diff.columns
        ]
        assert run_1 == drift_columns(target.kind, run=1)
        assert detail.drift_events == [] and detail.schema_diff is None
        drift_json = json.loads(json.dumps(drift_detail.to_json()))
        assert drift_json["schema_diff"]["summary"] == drift_summary(target.kind)
        assert drift_json["drift_events"] == [e.event_id for e in events]

        # status over time: one point per run, walked back from the current counts
        sales_line = reader.schema_timeline(summaries[SALES])
        assert [p.run_id for p in sales_line] == [RUN_1, RUN_2]
        assert [p.counts for p in sales_line] == [AFTER_RUN_1[SALES], per_status(truth[SALES])]
        fin_line = reader.schema_timeline(summaries[FIN])
        assert [p.counts for p in fin_line] == [AFTER_RUN_1[FIN], per_status(truth[FIN])]
        days = reader.daily_timeline(summaries.values())
        assert days[-1].counts == dict(sum((Counter(per_status(t)) for t in truth.values()), Counter()))
        assert [p.counts for p in days] == DAILY
        json.dumps([s.to_json() for s in summaries.values()] + [p.to_json() for p in days])

    links = pages.Links(base="/migration-audit")
    overview = pages.overview_page(links, list(summaries.values()), days, "test", dags.source)
    sales_page = pages.schema_page(
        links, summaries[SALES], list(listed.values()), sales_line, status="", page_no=1, page_size=200
    )
    html = overview + sales_page
    html += pages.table_page(links, SALES, detail)
    drift_page = pages.table_page(links, SALES, drift_detail)
    html += drift_page
    for raw in (FIN, ODD, COPY_ERROR, SCRIPT_COL, QUOTED_COL):
        assert raw not in html  # never unescaped
    for name in (FIN, ODD, SCRIPT_COL, QUOTED_COL, drift_summary(target.kind)):
        assert pages.escape(name) in html
    # the drifted table's row shows the summary; its page every column, now and in the history
    row = re.search(f'<tr data-table="{DRIFTED}">.*?</tr>', sales_page).group(0)
    assert f'data-field="drift">{pages.escape(drift_summary(target.kind))}</div>' in row
    assert sales_page.count('data-field="drift"') == 1  # only the drifted table has a note
    diff_tables = DiffTables(drift_page).tables
    assert diff_tables == {
        "schema-diff": drift_columns(target.kind),
        f"event {events[0].event_id}": drift_columns(target.kind),
        f"event {events[1].event_id}": drift_columns(target.kind, run=1),
    }
    assert DiffTables(pages.table_page(links, SALES, detail)).tables == {}
    assert f'href="/dags/migration_audit__sales/runs/{quote(RUN_2, safe="")}"' in html
    assert f'href="/migration-audit/schemas/{quote(SALES)}/tables/{quote(ODD, safe="")}"' in html
    # the DAG links are the configured DAGs; a schema no DAG audits links to none
    assert 'href="/dags/migration_audit__finance"' in overview
    assert "migration_audit__finance_dept" not in overview and "migration_audit__finance_ops" not in overview
    fin_page = pages.schema_page(
        links, summaries[FIN], reader_tables(target, FIN, dags), [], status="", page_no=1, page_size=200
    )
    assert 'href="/dags/' not in fin_page and RUN_1 in fin_page  # the run id, not a link to a guessed DAG
    # every status the store can hold is in the legend, with its colour and meaning
    for info in STATUS_INFO:
        assert f'<dt data-status="{info.name}"><span class="sw" style="background:{info.color}">' in overview
        assert pages.escape(info.meaning) in overview


def reader_tables(target: Cluster, schema: str, dags) -> list:
    with store_reader(DashboardSettings(target.conn_id, "migration", dags)) as reader:
        return reader.tables(schema)


def test_no_audit_store_yet_is_an_empty_dashboard_and_creates_nothing(target):
    from migration_audit_provider.plugins.dashboard import read_overview

    settings = DashboardSettings(conn_id=target.conn_id, store_schema="migration")
    with store_reader(settings) as reader:
        assert reader is None
    with allow_everything():
        assert read_overview(None, settings) == {"schemas": [], "timeline": []}
    html = pages.overview_page(pages.Links(base="/migration-audit"), [], [], settings.describe())
    assert 'id="empty"' in html and "No audit runs in the history yet" in html
    if target.kind == "sqlite":
        assert not (target.info["folder"] / "migration.db").exists()
    else:
        assert not target.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'migration'")


class allow_everything:
    """The in-process auth manager: every user may read every DAG (the live tests check real rules)."""

    def __enter__(self) -> None:
        import airflow.api_fastapi.app as app

        self._mp = pytest.MonkeyPatch()
        self._mp.setattr(app, "get_auth_manager", lambda: SimpleNamespace(is_authorized_dag=lambda **_: True))

    def __exit__(self, *exc: object) -> None:
        self._mp.undo()


def test_the_store_is_configurable_like_any_airflow_option(monkeypatch):
    monkeypatch.delenv("MIGRATION_AUDIT_CONFIG", raising=False)
    shipped = load_dag_map(SHIPPED_CONFIG)  # tests/conftest.py sets [core] dags_folder to dags/
    assert DashboardSettings.from_airflow() == DashboardSettings("migration_target", "migration", shipped)
    monkeypatch.setenv("AIRFLOW__MIGRATION_AUDIT__CONN_ID", "audit_store")
    monkeypatch.setenv("AIRFLOW__MIGRATION_AUDIT__STORE_SCHEMA", "audit")
    assert DashboardSettings.from_airflow() == DashboardSettings("audit_store", "audit", shipped)


def test_dashboard_statements_are_portable_bounded_and_read_only():
    """One text for every database (no dialect variant), a LIMIT or an aggregate each, no writes; each
    parses as Vertica, PostgreSQL and SQLite (binds as the Vertica driver sends them: literals)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    names = sorted(f"dashboard/{f.stem}" for f in (REPO / "include" / "sql" / "dashboard").glob("*.sql"))
    assert {"schemas", "schema_summary", "tables", "table", "table_history", "status_changes"} <= {
        n.removeprefix("dashboard/") for n in names
    }
    identifiers = {"audit": '"migration"."audit"', "history": '"migration"."audit_history"'}
    for name in names:
        text = load_statement(name, "vertica").format(**identifiers)
        assert text == load_statement(name, "postgres").format(**identifiers)
        assert text == load_statement(name, "sqlite").format(**identifiers)
        assert "LIMIT :" in text or "GROUP BY" in text or "AND table_name = :table" in text, name
        assert not any(w in text.upper() for w in ("INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ")), name
        for dialect in ("vertica", "postgres", "sqlite"):
            sqlglot.parse_one(BIND.sub("1", text), read=dialect, error_level=ErrorLevel.RAISE)


def test_statuses_are_the_shared_ones_and_unknown_ones_come_last():
    assert ordered_statuses({"mismatch", "complete", "archived", "reject"}) == [
        "complete",
        "reject",
        "mismatch",
        "archived",
    ]
    assert ordered_statuses(reversed(STATUSES)) == list(STATUSES)
    assert legend_statuses() == list(STATUSES)
    assert {s: status_color(s) for s in STATUSES} == STATUS_COLORS
    assert status_color("archived") not in STATUS_COLORS.values()
    assert status_color("archived") == status_color("archived")


# -- 2. a real api-server with the plugin, and a real browser ---------------------------------------
USERS = {
    "admin": "admin",
    "sales_only": "viewer",
    "finance_only": "viewer",
    "slug_guess": "viewer",
    "nobody": "viewer",
}
ALLOWED_DAGS = {  # the users the per-DAG rule limits, and the only DAGs each may read (admin: all)
    "sales_only": ["migration_audit__sales"],
    "finance_only": ["migration_audit__finance"],
    "slug_guess": ["migration_audit__finance_dept"],  # what the schema name alone would give: no DAG
    "nobody": [],
}
AUTH_MANAGER_MODULE = textwrap.dedent(
    '''
    """The simple auth manager with per-DAG rules, as FAB or Keycloak policies would give."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    ALLOWED_DAGS = %r


    class PerDagSimpleAuthManager(SimpleAuthManager):
        def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
            allowed = ALLOWED_DAGS.get(user.username)
            if allowed is not None and (details is None or details.id not in allowed):
                return False  # details=None asks for all DAGs
            return super().is_authorized_dag(
                method=method, user=user, access_entity=access_entity, details=details
            )
    '''
) % (ALLOWED_DAGS,)


@dataclass
class ApiServer:
    """``airflow api-server`` in its own process group, with a throwaway home and known users."""

    home: Path
    env: dict[str, str]
    port: int
    passwords: dict[str, str]
    proc: subprocess.Popen | None = None

    @classmethod
    def create(cls, home: Path, *, metadata_db: str, extra_env: dict[str, str]) -> ApiServer:
        home.mkdir(parents=True)
        (home / "dags").mkdir()
        (home / "auth").mkdir()
        (home / "auth" / "per_dag_auth_manager.py").write_text(AUTH_MANAGER_MODULE)
        # the DAGs' settings beside the DAGs, where dags/migration_audit.py reads them (no DAG file needed)
        shutil.copy(SHIPPED_CONFIG, home / "dags" / SHIPPED_CONFIG.name)
        passwords = {user: secrets.token_urlsafe(12) for user in USERS}
        (home / "passwords.json").write_text(json.dumps(passwords))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.pop("MIGRATION_AUDIT_CONFIG", None)  # the settings are found beside the DAGs
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                # the auth manager module, then whatever the test process had (e.g. a checkout's src/)
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(home / "auth"), os.environ.get("PYTHONPATH")])
                ),
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
                "AIRFLOW__CORE__AUTH_MANAGER": "per_dag_auth_manager.PerDagSimpleAuthManager",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                **extra_env,
            }
        )
        return cls(home=home, env=env, port=port, passwords=passwords)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "api-server.log"

    def airflow(self, *args: str, timeout: float = 180) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env, cwd=self.home, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"airflow {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )

    def start(self, timeout: float = 90) -> None:
        self.airflow("db", "migrate")
        with open(self.log, "wb") as log:
            command = ["api-server", "--port", str(self.port), "--host", "127.0.0.1"]
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "airflow", *command],
                env=self.env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"api-server exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                health = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
                if health["metadatabase"]["status"] == "healthy":
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"api-server not up after {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)  # the server's own process group (start_new_session)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 80) -> str:
        return (
            "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""
        )

    def token(self, user: str = "admin") -> str:
        response = httpx.post(
            f"{self.url}/auth/token", json={"username": user, "password": self.passwords[user]}, timeout=30
        )
        assert response.status_code == 201, response.text
        return response.json()["access_token"]


@dataclass
class Live:
    server: ApiServer
    target: Cluster

    def truth(self) -> dict[str, dict[str, tuple]]:
        return audit_table(self.target)


@pytest.fixture(scope="module")
def live(pg_server, tmp_path_factory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("dashboard")
    suffix = f"{os.getpid()}_{time.monotonic_ns()}"
    clusters = {}
    with pytest.MonkeyPatch.context() as mp:
        for role in ("source", "target"):
            dbname = f"dash_{role}_{suffix}"
            pg_server.create_database(dbname)
            mp.setenv(f"AIRFLOW_CONN_MIGRATION_{role.upper()}", pg_server.conn_json(dbname))
            clusters[role] = Cluster(f"migration_{role}", "postgres", server=pg_server, dbname=dbname)
        seed(clusters["source"], clusters["target"])
    metadata = f"dash_airflow_{suffix}"
    pg_server.create_database(metadata)
    server = ApiServer.create(
        work / "airflow",
        metadata_db=f"postgresql+psycopg://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{pg_server.port}/{metadata}",
        extra_env={"AIRFLOW_CONN_MIGRATION_TARGET": pg_server.conn_json(clusters["target"].info["dbname"])},
    )
    started = time.monotonic()
    try:
        server.start()
        print(f"\napi-server up in {time.monotonic() - started:.1f} s (db migrate included): {server.url}")
        yield Live(server, clusters["target"])
    finally:
        server.stop()


DATA_URLS = [
    "/migration-audit/",
    "/migration-audit/api/schemas",
    "/migration-audit/schemas/sales",
    "/migration-audit/api/schemas/sales",
    "/migration-audit/schemas/sales/tables/customers",
    "/migration-audit/api/schemas/sales/tables/customers",
    f"/migration-audit/api/schemas/{quote(FIN, safe='')}",
]
SECRET_WORDS = ["customers", "Order Lines", "departments", "orders", "Finance", "archive_2019"]
TABLE_NAMES = [
    *("customers", "Order Lines", "departments", "archive_2019", "ledger", "budgets", "employees", DRIFTED),
    *("amount", "numeric(", "widening", pages.escape(SCRIPT_COL), pages.escape(QUOTED_COL), "alert("),
]
"""Names no refusal may show (a 403 names the schema asked for, which the user already knows)."""


def test_the_plugin_comes_from_the_entry_point(live):
    response = httpx.get(
        f"{live.server.url}/api/v2/plugins",
        headers={"Authorization": f"Bearer {live.server.token()}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    plugin = next(p for p in response.json()["plugins"] if p["name"] == "migration_audit")
    assert "migration-audit-provider" in plugin["source"]  # an installed distribution, not a plugins folder
    (fastapi_app,) = plugin["fastapi_apps"]
    assert (fastapi_app["name"], fastapi_app["url_prefix"]) == (
        "Migration audit dashboard",
        "/migration-audit",
    )
    (view,) = plugin["external_views"]
    assert (view["name"], view["href"], view["url_route"]) == (
        "Migration audit",
        "/migration-audit/",
        "migration-audit",
    )


def test_no_data_without_a_valid_token(live):
    """No token, a garbage one, one signed with another key or an expired one: no data at all."""
    import jwt

    real = live.server.token()
    claims = jwt.decode(real, options={"verify_signature": False})
    algorithm = jwt.get_unverified_header(real)["alg"]
    secret = live.server.env["AIRFLOW__API_AUTH__JWT_SECRET"]
    now = int(time.time())

    def signed(key: str, **changes: int) -> str:
        return jwt.encode({**claims, **changes}, key, algorithm=algorithm)

    forged = signed(secrets.token_urlsafe(64))  # the admin's claims, another key
    expired = signed(secret, iat=now - 7200, nbf=now - 7200, exp=now - 3600)  # the right key, expired
    attempts = {
        "no credentials": {},
        "garbage bearer": {"headers": {"Authorization": "Bearer not-a-jwt"}},
        "forged bearer": {"headers": {"Authorization": f"Bearer {forged}"}},
        "forged cookie": {"cookies": {"_token": forged}},
        "expired bearer": {"headers": {"Authorization": f"Bearer {expired}"}},
        "expired cookie": {"cookies": {"_token": expired}},
    }
    with httpx.Client(base_url=live.server.url, timeout=30, follow_redirects=False) as client:
        for label, kwargs in attempts.items():
            for url in DATA_URLS:
                client.cookies.clear()
                response = client.get(url, **kwargs)
                body = response.text
                leaked = [w for w in SECRET_WORDS if w in body]
                assert not leaked, f"{label} {url}: {response.status_code} leaked {leaked}"
                if "/api/" in url:
                    assert response.status_code == 401, (label, url, response.status_code, body)
                    assert response.headers["www-authenticate"] == "Bearer"
                else:
                    assert response.status_code == 302, (label, url, response.status_code, body)
                    location = response.headers["location"]
                    assert location.startswith("/auth/login?next="), location
                    assert quote(f"{live.server.url}{url}", safe="") in location

        # The same requests with a valid token (as issued, or re-signed like the expired one but not
        # expired, as a cookie) do get the data: the checks above can fail.
        resigned = signed(secret, exp=now + 600)
        for i, url in enumerate(DATA_URLS):
            client.cookies.clear()
            kwargs = (
                {"headers": {"Authorization": f"Bearer {real}"}}
                if i % 2
                else {"cookies": {"_token": resigned}}
            )
            response = client.get(url, **kwargs)
            assert response.status_code == 200, (url, response.text)
            assert any(w in response.text for w in SECRET_WORDS), url
            assert response.headers["cache-control"] == "no-store"
            assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def schema_urls(schema: str, table: str) -> list[str]:
    """Every page and JSON endpoint of one schema, and of one of its tables."""
    s, t = quote(schema, safe=""), quote(table, safe="")
    return [
        f"/migration-audit/{api}schemas/{s}{tail}" for api in ("", "api/") for tail in ("", f"/tables/{t}")
    ]


def assert_refused(client: httpx.Client, urls: list[str]) -> None:
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code, response.text)
        leaked = [w for w in TABLE_NAMES if w in response.text]
        assert not leaked, (url, leaked)


def test_a_user_sees_only_the_schemas_their_auth_manager_allows(live):
    headers = {"Authorization": f"Bearer {live.server.token('sales_only')}"}
    with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
        listing = client.get("/migration-audit/api/schemas").json()
        assert [s["schema"] for s in listing["schemas"]] == [SALES]
        page = client.get("/migration-audit/")
        assert page.status_code == 200 and "customers" not in page.text and "Finance" not in page.text
        assert 'data-schema="sales"' in page.text
        assert_refused(client, schema_urls(FIN, "departments") + schema_urls(FIN_DEPT, "ledger"))
        assert client.get("/migration-audit/api/schemas/sales").status_code == 200


def test_the_permission_check_uses_the_dag_the_settings_name(live):
    """ "Finance Dept" is audited by migration_audit__finance (dags/migration_audit.yaml), not by the id
    its name would give (migration_audit__finance_dept): a user allowed only the real DAG sees it, and
    only it; a user allowed only the guessed id sees nothing."""
    headers = {"Authorization": f"Bearer {live.server.token('finance_only')}"}
    with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
        listing = client.get("/migration-audit/api/schemas")
        assert listing.status_code == 200, listing.text
        assert [(s["schema"], s["dag_id"]) for s in listing.json()["schemas"]] == [
            (FIN_DEPT, "migration_audit__finance")
        ]
        page = client.get("/migration-audit/")
        assert page.status_code == 200, page.text
        assert 'data-schema="Finance Dept"' in page.text
        assert 'href="/dags/migration_audit__finance"' in page.text
        assert 'data-schema="sales"' not in page.text and pages.escape(FIN) not in page.text
        for url in schema_urls(FIN_DEPT, "ledger"):
            response = client.get(url)
            assert response.status_code == 200, (url, response.text)
            assert "ledger" in response.text
        table = client.get(f"/migration-audit/api/schemas/{quote(FIN_DEPT)}/tables/budgets").json()
        assert (table["dag_id"], table["status"], table["src_rows"], table["tgt_rows"]) == (
            "migration_audit__finance",
            "partial",
            4,
            2,
        )
        assert_refused(client, schema_urls(SALES, "customers") + schema_urls(FIN, "departments"))

    headers = {"Authorization": f"Bearer {live.server.token('slug_guess')}"}
    with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
        assert_refused(client, ["/migration-audit/", "/migration-audit/api/schemas"])
        assert_refused(client, schema_urls(FIN_DEPT, "ledger"))


def test_a_user_allowed_no_audit_dag_gets_nothing(live):
    headers = {"Authorization": f"Bearer {live.server.token('nobody')}"}
    with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
        assert_refused(client, ["/migration-audit/", "/migration-audit/api/schemas"])
        for schema, tables in EXPECTED.items():
            assert_refused(client, schema_urls(schema, next(iter(tables))))
        page = client.get("/migration-audit/")
        assert "Not allowed" in page.text and 'id="schemas"' not in page.text


def test_drift_detail_is_shown_escaped_and_only_where_the_schema_may_be_read(live):
    """The drifted table's summary in the schema's list and its columns on its page (HTML and JSON),
    with the catalogs' odd column names escaped; refused with the schema to a user not allowed it."""
    summary, columns = drift_summary("postgres"), drift_columns("postgres")
    table_url = f"/migration-audit/schemas/sales/tables/{DRIFTED}"
    for user in ("admin", "sales_only"):
        headers = {"Authorization": f"Bearer {live.server.token(user)}"}
        with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
            listing = client.get("/migration-audit/api/schemas/sales").json()
            (row,) = [t for t in listing["tables"] if t["table"] == DRIFTED]
            assert row["status"] == "drift" and row["schema_diff"]["summary"] == summary, user
            assert [
                (d["column"], d["source"], d["target"], d["kind"], "allowed" if d["allowed"] else "drift")
                for d in row["schema_diff"]["drift"] + row["schema_diff"]["widened"]
            ] == columns
            page = client.get("/migration-audit/schemas/sales")
            assert page.status_code == 200, page.text
            row = re.search(f'<tr data-table="{DRIFTED}">.*?</tr>', page.text).group(0)
            assert f'data-field="drift">{pages.escape(summary)}</div>' in row
            html = client.get(table_url).text
            for raw in (SCRIPT_COL, QUOTED_COL):
                assert raw not in html and pages.escape(raw) in html
            tables = DiffTables(html).tables
            assert tables.pop("schema-diff") == columns
            assert list(tables.values()) == [columns, drift_columns("postgres", run=1)]  # newest first
            data = client.get(f"/migration-audit/api{table_url.removeprefix('/migration-audit')}").json()
            assert data["schema_diff"]["summary"] == summary
            recorded = {e["event_id"]: e for e in data["history"]}
            assert [recorded[i]["run_id"] for i in data["drift_events"]] == [RUN_2, RUN_1]
            assert any(
                d["column"] == "note" and d["kind"] == "missing on target"
                for d in recorded[data["drift_events"][1]]["schema_diff"]["drift"]
            )

    for user in ("finance_only", "nobody"):
        headers = {"Authorization": f"Bearer {live.server.token(user)}"}
        with httpx.Client(base_url=live.server.url, timeout=30, headers=headers) as client:
            assert_refused(client, schema_urls(SALES, DRIFTED))
            for url in ("/migration-audit/", "/migration-audit/api/schemas"):
                body = client.get(url).text
                words = (DRIFTED, pages.escape(summary), "columns differ:", "widening", "alert(", "quoted")
                leaked = [w for w in words if w in body]
                assert not leaked, (user, url, leaked)


def test_json_endpoints_equal_the_audit_table(live):
    truth = live.truth()
    headers = {"Authorization": f"Bearer {live.server.token()}"}
    with httpx.Client(base_url=f"{live.server.url}/migration-audit", timeout=30, headers=headers) as client:
        listing = client.get("/api/schemas").json()
        assert {s["schema"]: s["by_status"] for s in listing["schemas"]} == {
            schema: per_status(tables) for schema, tables in truth.items()
        }
        # the admin may read all DAGs, so also the schema no configured DAG audits (dag_id null)
        assert {s["schema"]: s["dag_id"] for s in listing["schemas"]} == DAG_IDS
        assert listing["dags_config"].endswith("/dags/migration_audit.yaml")
        assert listing["statuses"] == list(STATUSES)  # every status the store can hold, in order
        assert listing["legend"] == [
            {"status": i.name, "meaning": i.meaning, "color": i.color} for i in STATUS_INFO
        ]
        assert list(next(s for s in listing["schemas"] if s["schema"] == FIN)["by_status"]) == [
            "complete",
            "mismatch",
        ]
        for schema, tables in truth.items():
            data = client.get(f"/api/schemas/{quote(schema, safe='')}").json()
            assert {t["table"]: (t["status"], t["src_rows"], t["tgt_rows"]) for t in data["tables"]} == tables
            summary = data["summary"]
            assert summary["by_status"] == per_status(tables)
            assert (summary["rows_expected"], summary["rows_migrated"]) == rows_expected_migrated(tables)
            assert data["page"]["matching_tables"] == len(tables)
            assert data["timeline"][-1]["counts"] == per_status(tables)
        rejects = client.get("/api/schemas/sales", params={"status": "overload"}).json()
        assert [t["table"] for t in rejects["tables"]] == [ODD]
        odd = client.get(f"/api/schemas/sales/tables/{quote(ODD, safe='')}").json()
        assert (odd["table"], odd["status"], odd["src_rows"], odd["tgt_rows"]) == (ODD, "overload", 7, 9)
        assert client.get("/api/schemas/sales/tables/nope").status_code == 404
        assert client.get("/api/schemas/nope").status_code == 404


DIFF_FIELDS = ("column", "source", "target", "kind", "verdict")


def number(text: str) -> int:
    return int(text.strip().replace(",", ""))


def rgb(color: str) -> str:
    """``#rrggbb`` as a browser's computed style gives it."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def sign_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/migration-audit/")
    page.wait_for_url("**/auth/login?next=*")
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/migration-audit/")


def test_the_dashboard_in_a_real_browser(live):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "apt-get install chromium (Debian's package; no browser is downloaded)"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    truth = live.truth()
    base = live.server.url
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()

            # 1. Not signed in: the dashboard sends the browser to Airflow's login page, which sends it back.
            sign_in(page, base, "admin", live.server.passwords["admin"])

            # 2. The overview: each schema's numbers equal the audit table.
            rows = page.locator("#schemas tbody tr")
            shown = {}
            for i in range(rows.count()):
                row = rows.nth(i)
                legend = row.locator(".legend li")
                shown[row.get_attribute("data-schema")] = {
                    "tables": number(row.locator("[data-field=tables]").inner_text()),
                    "by_status": {
                        legend.nth(j).get_attribute("data-status"): number(
                            legend.nth(j).locator("b.n").inner_text()
                        )
                        for j in range(legend.count())
                    },
                    "rows": (
                        number(row.locator(".rows-expected").inner_text()),
                        number(row.locator(".rows-migrated").inner_text()),
                    ),
                }
            assert shown == {
                schema: {
                    "tables": len(tables),
                    "by_status": per_status(tables),
                    "rows": rows_expected_migrated(tables),
                }
                for schema, tables in truth.items()
            }
            legend_order = page.locator("#schemas tr[data-schema='sales'] .legend li")
            assert [
                legend_order.nth(i).get_attribute("data-status") for i in range(legend_order.count())
            ] == [s for s in STATUSES if s in per_status(truth[SALES])]
            # mismatch is drawn in its own colour, in the bar and the legend, with its meaning
            fin_row = page.locator(f"#schemas tr[data-schema='{FIN}']")
            segment = fin_row.locator(".bar a.seg[data-status=mismatch]")
            assert segment.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(
                STATUS_COLORS["mismatch"]
            )
            assert "differs" in (
                fin_row.locator(".legend li[data-status=mismatch]").get_attribute("title") or ""
            )
            legend = page.locator("#status-legend dt")
            assert [legend.nth(i).get_attribute("data-status") for i in range(legend.count())] == list(
                STATUSES
            )
            swatch = page.locator("#status-legend dt[data-status=mismatch] .sw")
            assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(
                STATUS_COLORS["mismatch"]
            )
            meanings = {i.name: i.meaning for i in STATUS_INFO}
            assert (
                page.locator("#status-legend dd[data-status=mismatch]").inner_text() == meanings["mismatch"]
            )
            # each schema links to the DAG its settings name; the unconfigured one to none
            dag_cells = {s: page.locator(f"#schemas tr[data-schema='{s}'] [data-field=dag]") for s in DAG_IDS}
            assert dag_cells[FIN_DEPT].locator("a").get_attribute("href") == "/dags/migration_audit__finance"
            assert dag_cells[FIN].locator("a").count() == 0
            assert number(page.locator("#total-tables").inner_text()) == sum(len(t) for t in truth.values())
            days = page.locator("svg.chart g.bar")
            assert days.count() == len(DAILY)  # run 1, run 2 and run 3 were on three days
            page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

            # 3. Into the schema: every table's status and counts, the last copy, the chart of runs.
            page.locator("a.schema", has_text="sales").click()
            page.wait_for_url(f"{base}/migration-audit/schemas/sales")
            assert page.locator("#schema-name").inner_text() == SALES
            table_rows = page.locator("#tables tbody tr")
            listed = {}
            for i in range(table_rows.count()):
                row = table_rows.nth(i)
                src, tgt = (row.locator(f"[data-field={f}]").inner_text() for f in ("src", "tgt"))
                listed[row.get_attribute("data-table")] = (
                    row.locator(".badge").inner_text(),
                    None if src == pages.DASH else number(src),
                    None if tgt == pages.DASH else number(tgt),
                )
            assert listed == truth[SALES]
            drift_note = page.locator(f"#tables tr[data-table='{DRIFTED}'] [data-field=drift]")
            assert drift_note.inner_text() == drift_summary("postgres")
            assert page.locator("#tables [data-field=drift]").count() == 1  # only the drifted table
            customers = page.locator("#tables tr[data-table='customers']")
            assert customers.locator(".method").inner_text() == "postgres_copy"
            assert customers.locator("[data-field=rate]").inner_text() == "160"
            assert (
                customers.locator("a.run").get_attribute("href")
                == f"/dags/migration_audit__sales/runs/{quote(RUN_2, safe='')}"
            )
            assert (
                "duplicate key value"
                in page.locator("#tables tr[data-table='Order Lines'] .err").inner_text()
            )
            bars = page.locator("svg.chart g.bar")
            assert bars.count() == 2  # runs 1 and 2
            last = bars.nth(1).locator("rect")
            assert {
                last.nth(i).get_attribute("data-status"): int(last.nth(i).get_attribute("data-count"))
                for i in range(last.count())
            } == per_status(truth[SALES])
            page.screenshot(path=str(ARTIFACTS / "dashboard-schema.png"), full_page=True)

            # 4. A status filter, then into the table with the oddest name.
            page.locator(".pills a[data-status=overload]").click()
            page.wait_for_url("**/schemas/sales?status=overload")
            assert [table_rows.nth(i).get_attribute("data-table") for i in range(table_rows.count())] == [ODD]
            page.locator("a.table", has_text="odd").click()
            page.wait_for_url(f"**/tables/{quote(ODD, safe='')}")
            assert page.locator("#table-name").inner_text() == ODD
            assert (page.locator("#src-rows").inner_text(), page.locator("#tgt-rows").inner_text()) == (
                "7",
                "9",
            )
            assert page.locator("#facts .badge").inner_text() == "overload"
            page.screenshot(path=str(ARTIFACTS / "dashboard-table.png"), full_page=True)
            # Opened on its own, a run link goes to that DAG run's page of the Airflow UI.
            page.locator("#facts a.run").first.click()
            page.wait_for_url(lambda url: "/dags/" in url)
            assert unquote(page.url) == f"{base}/dags/migration_audit__sales/runs/{RUN_1}"

            # 4b. The drifted table: every column difference, the catalogs' names shown as text (escaped:
            # no script element, nothing run), and each change the history recorded.
            dialogs = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(f"{base}/migration-audit/schemas/sales")
            page.locator(".pills a[data-status=drift]").click()
            page.wait_for_url("**/schemas/sales?status=drift")
            assert [table_rows.nth(i).get_attribute("data-table") for i in range(table_rows.count())] == [
                DRIFTED
            ]
            page.locator("a.table", has_text=DRIFTED).click()
            page.wait_for_url(f"**/tables/{DRIFTED}")
            assert page.locator("#drift-summary").inner_text() == drift_summary("postgres")

            def shown_columns(table) -> list[tuple]:
                rows = table.locator("tbody tr")
                out = []
                for i in range(rows.count()):
                    cells = [rows.nth(i).locator(f"[data-field={f}]").inner_text() for f in DIFF_FIELDS]
                    out.append(tuple(None if c == "(none)" else c for c in cells))
                return out

            assert shown_columns(page.locator("#schema-diff")) == drift_columns("postgres")
            script_row = page.locator("#schema-diff tbody tr").nth(2)
            assert script_row.get_attribute("data-column") == SCRIPT_COL
            assert page.locator("#schema-diff script, #schema-diff b").count() == 0
            earlier = page.locator("#drift-history table.schema-diff")
            assert earlier.count() == 2
            assert shown_columns(earlier.nth(0)) == drift_columns("postgres")
            assert shown_columns(earlier.nth(1)) == drift_columns("postgres", run=1)
            allowed = page.locator("#schema-diff tr[data-allowed=yes]")
            assert allowed.count() == 1 and allowed.locator("[data-field=verdict]").inner_text() == "allowed"
            page.screenshot(path=str(ARTIFACTS / "dashboard-drift.png"), full_page=True)
            assert dialogs == []

            # 5. Inside the Airflow UI: the navigation entry, and the dashboard in its frame.
            page.goto(f"{base}/plugin/migration-audit")
            frame = page.frame_locator("iframe")
            frame.locator("#schemas").wait_for(timeout=30_000)
            assert number(frame.locator("#total-tables").inner_text()) == sum(len(t) for t in truth.values())
            nav = page.locator("nav a[href*='plugin/migration-audit'], a[href*='plugin/migration-audit']")
            assert nav.count() >= 1
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard-in-airflow.png"))

            # 6. Inside the UI's frame (sandboxed: no top navigation), dashboard links stay in the frame and
            # the UI mirrors the frame's address; a run link makes the UI itself show that DAG run.
            frame.locator("a.schema", has_text="sales").click()
            page.wait_for_url(f"{base}/plugin/migration-audit/migration-audit/schemas/sales")
            frame.locator("#tables tr[data-table='customers'] a.run").click()
            page.wait_for_url(lambda url: "/dags/migration_audit__sales/runs/" in url)
            assert unquote(page.url) == f"{base}/dags/migration_audit__sales/runs/{RUN_2}"
            page.locator("iframe").wait_for(state="detached")  # the UI's own page, not a frame in it
            page.get_by_text(RUN_2).first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "dashboard-run-link-in-airflow.png"))

            # 7. Signed in as a user allowed only migration_audit__finance: only "Finance Dept" is shown.
            finance = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            sign_in(finance, base, "finance_only", live.server.passwords["finance_only"])
            rows = finance.locator("#schemas tbody tr")
            assert [rows.nth(i).get_attribute("data-schema") for i in range(rows.count())] == [FIN_DEPT]
            assert number(finance.locator("#total-tables").inner_text()) == len(truth[FIN_DEPT])
            finance.locator("a.schema", has_text=FIN_DEPT).click()
            finance.wait_for_url(f"**/schemas/{quote(FIN_DEPT, safe='')}")
            run = finance.locator("#tables tr[data-table='ledger'] a.run")
            assert run.get_attribute("href") == f"/dags/migration_audit__finance/runs/{quote(RUN_1, safe='')}"
            finance.screenshot(path=str(ARTIFACTS / "dashboard-finance-only.png"), full_page=True)
        finally:
            browser.close()
    print(f"\nbrowser checks took {time.monotonic() - started:.1f} s; screenshots in {ARTIFACTS}")
    if os.environ.get("MIGRATION_AUDIT_UPDATE_DOCS") == "1":
        shutil.copy(ARTIFACTS / "dashboard-in-airflow.png", REPO / "docs" / "dashboard.png")
