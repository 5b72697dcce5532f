"""The dashboard's schema -> DAG mapping, without a browser or an api-server.

The DAG of a schema is the one the DAGs' own settings file names (``plugins/dag_map.py``); the access
check asks the auth manager about that DAG, or about all DAGs for a schema no configured DAG audits.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from migration_audit_provider.plugins import pages
from migration_audit_provider.plugins.auth import NotAuthorized, can_read_dag, require_schema
from migration_audit_provider.plugins.dag_map import DagMap, config_path, load_dag_map
from migration_audit_provider.plugins.queries import SchemaSummary

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "dags" / "migration_audit.yaml"
TWO_SLUG_TWINS = """
schemas:
  Finance Dept: {dag_id: fin_a}
  finance-dept: {dag_id: fin_b}
"""


def test_the_shipped_settings_map_each_schema_to_its_own_dag():
    dags = load_dag_map(SHIPPED)
    assert dict(dags.by_schema) == {
        "sales": "migration_audit__sales",
        "hr": "migration_audit__hr",
        "Finance Dept": "migration_audit__finance",
    }
    assert dags.dag_id("Finance Dept") == "migration_audit__finance"
    # never an id derived from the name: neither the slug's id nor a look-alike schema
    for schema in ("finance_dept", "Finance dept", "finance", "Sales", "payroll"):
        assert dags.dag_id(schema) is None, schema
    assert dags.source == str(SHIPPED)


def test_the_mapping_equals_the_dags_the_dag_file_builds(monkeypatch):
    """Import dags/migration_audit.py itself: every DAG it builds audits the schema the map gives it."""
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(SHIPPED))
    spec = importlib.util.spec_from_file_location(
        "migration_audit_dags_under_test", REPO / "dags" / "migration_audit.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    built = {obj.dag_id: obj.params["schema"] for obj in vars(module).values() if isinstance(obj, DAG)}
    assert {schema: dag_id for dag_id, schema in built.items()} == dict(load_dag_map(SHIPPED).by_schema)


def test_schemas_whose_names_give_the_same_slug_get_separate_dags(tmp_path):
    path = tmp_path / "migration_audit.yaml"
    path.write_text(TWO_SLUG_TWINS)
    dags = load_dag_map(path)
    assert (dags.dag_id("Finance Dept"), dags.dag_id("finance-dept")) == ("fin_a", "fin_b")


def test_the_file_is_found_where_the_dag_file_finds_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MIGRATION_AUDIT_CONFIG", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(tmp_path / "dags"))
    assert config_path() == tmp_path / "dags" / "migration_audit.yaml"
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(tmp_path / "elsewhere.yaml"))
    assert config_path() == tmp_path / "elsewhere.yaml"


def test_a_changed_file_is_read_again(monkeypatch, tmp_path):
    path = tmp_path / "migration_audit.yaml"
    monkeypatch.setenv("MIGRATION_AUDIT_CONFIG", str(path))
    path.write_text("schemas:\n  sales: {}\n")
    assert dict(load_dag_map().by_schema) == {"sales": "migration_audit__sales"}
    path.write_text("schemas:\n  sales: {dag_id: audit_sales_v2}\n")
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))  # a new mtime even on a coarse clock
    assert dict(load_dag_map().by_schema) == {"sales": "audit_sales_v2"}


@pytest.mark.parametrize(
    "text",
    [
        None,  # no file
        "schemas: [sales]\n",  # not a mapping of schemas
        "schemas:\n  a: {dag_id: same}\n  b: {dag_id: same}\n",  # two schemas, one DAG id
        "schemas: {sales: {dag_id: 'not a dag id!'}}\n",
        "schemas: {sales: {}\n",  # not YAML
    ],
)
def test_no_usable_file_maps_no_schema(tmp_path, text):
    path = tmp_path / "migration_audit.yaml"
    if text is not None:
        path.write_text(text)
    dags = load_dag_map(path)
    assert dict(dags.by_schema) == {} and dags.dag_id("sales") is None
    assert dags.source.startswith(str(path)) and dags.source != str(path)  # says why


class Rules:
    """An auth manager with per-user DAG rules; ``None`` in a user's list means "all DAGs"."""

    def __init__(self, allowed: dict[str, set[str | None]]) -> None:
        self.allowed = allowed

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
        assert method == "GET" and access_entity is not None and access_entity.value == "RUN"
        wanted = None if details is None else details.id
        return wanted in self.allowed.get(user.username, set())


@pytest.fixture
def auth(monkeypatch):
    import airflow.api_fastapi.app as app

    rules = Rules(
        {
            "finance_only": {"migration_audit__finance"},
            "slug_guess": {"migration_audit__finance_dept"},
            "admin": {None, "migration_audit__finance", "migration_audit__sales"},
        }
    )
    monkeypatch.setattr(app, "get_auth_manager", lambda: rules)
    return rules


def user(name: str) -> SimpleNamespace:
    return SimpleNamespace(username=name)


def test_the_access_check_asks_about_the_configured_dag(auth):
    dags = load_dag_map(SHIPPED)
    require_schema(user("finance_only"), "Finance Dept", dags)
    for name, schema in (
        ("slug_guess", "Finance Dept"),
        ("finance_only", "sales"),
        ("nobody", "Finance Dept"),
    ):
        with pytest.raises(NotAuthorized):
            require_schema(user(name), schema, dags)


def test_a_schema_no_dag_audits_needs_access_to_all_dags(auth):
    dags = load_dag_map(SHIPPED)
    assert dags.dag_id("finance_dept") is None
    assert can_read_dag(user("admin"), None)
    require_schema(user("admin"), "finance_dept", dags)
    for name in ("finance_only", "slug_guess"):
        assert not can_read_dag(user(name), None)
        with pytest.raises(NotAuthorized):
            require_schema(user(name), "finance_dept", dags)


def test_links_go_to_the_configured_dag_or_nowhere():
    links = pages.Links(base="/migration-audit")
    configured = SchemaSummary("Finance Dept", "migration_audit__finance", {"complete": 1})
    html = pages.overview_page(
        links, [configured, SchemaSummary("finance_dept", None, {"mismatch": 1})], [], "t"
    )
    assert 'href="/dags/migration_audit__finance"' in html
    assert html.count('href="/dags/') == 1  # nothing for the schema no DAG audits
    assert pages.run_link(links, None, "manual__1") == (
        '<span class="run" title="No configured DAG audits this schema">manual__1</span>'
    )
    assert 'href="/dags/migration_audit__finance/runs/manual__1"' in pages.run_link(
        links, "migration_audit__finance", "manual__1"
    )


def test_a_dag_map_cannot_be_changed_after_it_is_made():
    dags = DagMap({"sales": "migration_audit__sales"})
    with pytest.raises(TypeError):
        dags.by_schema["hr"] = "x"  # type: ignore[index]


# -- schema drift as the dashboard reads and shows it -------------------------------------------------
def drift_column(name: str, declared: str, nullable: bool = True):
    from migration_audit_provider import drift

    family, size, scale = drift.family_of(declared, {"integer": 4, "bigint": 8})
    return drift.Column(name, declared, family, size, scale, nullable)


def test_every_change_drift_records_has_a_kind():
    """drift.compare's own output, for each kind of difference, read back by the dashboard."""
    from migration_audit_provider import drift
    from migration_audit_provider.plugins.drift_detail import KINDS, parse

    c = drift_column
    source = [
        c("id", "integer", nullable=False),
        c("name", "varchar(40)"),
        c("amount", "numeric(10,2)"),
        c("code", "varchar(10)"),
        c("body", "text"),
        c("qty", "integer"),
        c("note", "text"),
        c("at", "date"),
    ]
    target = [
        c("id", "integer"),
        c("name", "varchar(40)", nullable=False),
        c("amount", "numeric(8,2)"),
        c("code", "varchar(20)"),
        c("body", "varchar(100)"),
        c("qty", "bigint"),
        c("at", "timestamp"),
        c("extra", "integer"),
    ]
    detail = drift.compare(source, target, fold_case=False).detail()
    diff = parse(detail)
    got = {(d.column, d.kind, d.allowed) for d in diff.columns}
    assert got == {
        ("id", "nullability", True),
        ("name", "nullability", False),
        ("amount", "size", False),
        ("code", "size", True),
        ("body", "size", True),
        ("qty", "size", True),
        ("note", "missing on target", False),
        ("at", "type", False),
        ("extra", "missing on source", False),
    }
    assert {d.change for d in diff.columns} == set(KINDS)  # every change drift.py words is known here
    assert diff.to_json()["drift"][0] == {
        "column": "name",
        "change": "NOT NULL on target only",
        "kind": "nullability",
        "source": "varchar(40)",
        "target": "varchar(40) NOT NULL",
        "allowed": False,
    }


def test_the_summary_names_the_first_differences_and_counts_the_rest():
    from migration_audit_provider import drift
    from migration_audit_provider.plugins.drift_detail import parse

    c = drift_column
    two = drift.compare(
        [c("amount", "numeric(10,2)"), c("note", "text")], [c("amount", "numeric(8,2)")], fold_case=False
    )
    assert parse(two.detail()).summary() == (
        "2 columns differ: amount numeric(10,2) \u2192 numeric(8,2); note missing on target"
    )
    one_col_twice = drift.compare(
        [c("v", "varchar(20)")], [c("v", "varchar(10)", nullable=False)], fold_case=False
    )
    assert parse(one_col_twice.detail()).summary() == (
        "1 column differs: v varchar(20) \u2192 varchar(10) NOT NULL"  # two entries, one line
    )
    many = drift.compare([c(f"c{i}", "text") for i in range(5)], [c("c0", "text")], fold_case=False)
    assert parse(many.detail()).summary() == (
        "4 columns differ: c1 missing on target; c2 missing on target; c3 missing on target; 1 more"
    )
    widened = drift.compare([c("v", "varchar(10)")], [c("v", "varchar(20)")], fold_case=False)
    assert parse(widened.detail()).summary() == "1 widening allowed: v varchar(10) \u2192 varchar(20)"
    assert drift.compare([c("v", "text")], [c("v", "text")], fold_case=False).detail() is None


def test_what_is_not_a_readable_difference_is_kept_or_ignored():
    import json

    from migration_audit_provider.plugins.drift_detail import parse

    assert parse(None) is None and parse("") is None
    # an audit row's schema_diff is always a difference: kept as it is when this version cannot read it
    odd = parse("<not json> & more")
    assert odd.unreadable == "<not json> & more" and odd.columns == []
    assert "not readable" in odd.summary()
    # a history event's detail may be something else (a mismatch's keys): not a schema difference
    assert parse(json.dumps({"differing_keys": [[1]]}), strict=False) is None
    assert parse("not json", strict=False) is None
    cut = parse(json.dumps({"drift": [{"column": "a", "change": "type", "source": "x", "target": "y"}],
                            "widened": [], "truncated": True}))  # fmt: skip
    assert cut.truncated and cut.summary().endswith("list truncated")
    newer = parse(
        json.dumps({"drift": [{"column": "a", "change": "collation", "source": "x", "target": "y"}]})
    )
    assert newer.drift[0].kind == "collation"  # a change a newer version records: shown as it is worded


def test_drift_is_rendered_escaped():
    import json

    from migration_audit_provider.plugins.drift_detail import parse
    from migration_audit_provider.plugins.queries import TableRow

    evil = '<script>alert("x")</script>'
    quoted = 'it\'s "q" & co'
    diff = parse(
        json.dumps(
            {
                "drift": [
                    {"column": evil, "change": "type", "source": "text", "target": "<b>int</b>"},
                    {"column": quoted, "change": "only on target", "source": None, "target": "text"},
                ],
                "widened": [],
            }
        )
    )
    html = pages.diff_table(diff, table_id="schema-diff") + pages.drift_note(diff, "drift")
    row = TableRow(evil, "drift", 1, 1, True, True, None, None, schema_diff=diff)
    html += pages.table_row(pages.Links(base="/m"), "s", None, row)
    for raw in (evil, quoted, "<b>int</b>"):
        assert raw not in html
    assert f'data-column="{pages.escape(evil)}"' in html
    assert f"<code>{pages.escape(quoted)}</code>" in html
    assert pages.escape(f"{evil} text \u2192 <b>int</b>") in html
    unreadable = pages.diff_table(parse(evil))
    assert evil not in unreadable and pages.escape(evil) in unreadable
    assert pages.drift_note(None, "drift") and pages.drift_note(None, "complete") == ""
