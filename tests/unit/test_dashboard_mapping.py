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
