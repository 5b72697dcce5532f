"""The demo, run as a newcomer runs it (``scripts/demo.py`` in its own process, ~20-40 s here): every
table's row shows the counts that caused its status, what was done about it, and the final status."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_demo():
    spec = importlib.util.spec_from_file_location("demo_script", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_script"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


DEMO = load_demo()
LEGACY = DEMO.SCHEMAS["legacy"]
# (first-refresh source, target, status, what was done, final status) of the seeded faults
EXPECTED = {
    "legacy": {
        "invoices": (LEGACY["invoices"], 0, "reject", "repaired", "complete"),
        "payments": (LEGACY["payments"], 4_000, "partial", "repaired", "complete"),
        "ledger": (LEGACY["ledger"], 4_000, "overload", "repaired", "complete"),
        "prices": (LEGACY["prices"], LEGACY["prices"], "mismatch", "repaired", "complete"),
        "accounts": (LEGACY["accounts"], LEGACY["accounts"], "complete", "nothing to do", "complete"),
        "archive_2019": (0, 0, "complete", "nothing to do", "complete"),
    },
    "sales": {t: (n, n, "complete", "migrated", "complete") for t, n in DEMO.SCHEMAS["sales"].items()},
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--workdir", str(work)],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
    )
    return proc


def section(output: str, schema: str) -> dict[str, list[str]]:
    """The rows of one schema's table, by table name: cells split on runs of two or more spaces."""
    lines = output.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"schema {schema!r}")))
    rows = {}
    for line in lines[start + 4 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def test_demo_succeeds_and_shows_nothing_misleading(demo_run):
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
    everything = demo_run.stdout + demo_run.stderr
    assert "No tasks to run" not in everything
    assert "warning" not in everything.lower()
    assert "DAG migration_audit__sales: success" in demo_run.stdout
    assert "DAG migration_audit__legacy: success" in demo_run.stdout
    for task in (
        "validate_params",
        "init_audit",
        "data_run",
        "refresh_audit",
        "rerun_rejects[0]",
        "audit_result",
    ):
        assert re.search(rf"^\s+{re.escape(task)}\s+ok\s+\d+\.\d\d s$", demo_run.stdout, re.M), task
    assert re.search(r"rerun_rejects\s+skipped", demo_run.stdout)  # sales had nothing to rerun


@pytest.mark.parametrize("schema", ["legacy", "sales"])
def test_each_row_shows_the_counts_that_caused_its_status(demo_run, schema):
    rows = section(demo_run.stdout, schema)
    assert set(rows) == set(EXPECTED[schema])
    for table, (src, tgt, status, action, final) in EXPECTED[schema].items():
        cells = rows[table]
        assert cells[1:4] == [f"{src:,}", f"{tgt:,}", status], (table, cells)
        assert cells[4].startswith(action), (table, cells)
        if action in ("repaired", "migrated"):
            assert re.fullmatch(rf"{action} {src:,} rows, \d+\.\d\d s", cells[4]), (table, cells)
        assert cells[5].split(" ")[0] == final, (table, cells)


def test_the_mismatch_names_its_differing_key_and_the_legend_explains(demo_run):
    prices = section(demo_run.stdout, "legacy")["prices"]
    assert prices[-1] == f"differing key: id = {DEMO.MISMATCHED_ID}"
    invoices = section(demo_run.stdout, "legacy")["invoices"]
    assert invoices[5] == f"complete ({LEGACY['invoices']:,} / {LEGACY['invoices']:,})"
    legend = next(line for line in demo_run.stdout.splitlines() if line.startswith("Legend: "))
    for word in ("complete =", "reject =", "partial =", "overload =", "mismatch =", "repaired ="):
        assert word in legend
