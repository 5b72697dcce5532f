"""bench_scale.py runs end to end on its tiny size (3 schemas x 40 tables) and writes its results.

Its numbers are not checked (no timing here): the script must exit 0, end with its ``SUMMARY`` line
and write a results file holding every step, the goals table and the run's label.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_scale_tiny_runs_and_writes_results(tmp_path):
    results = tmp_path / "RESULTS-scale.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_scale.py"), "--tiny", "--label", "smoke",
         "--results", str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
    )  # fmt: skip
    assert proc.returncode == 0, f"bench_scale.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("SUMMARY scale: [smoke @ "), proc.stdout[-2000:]
    assert "tiny 120 tables: init " in lines[-1] and "chain after 1 changed copied" in lines[-1]

    text = results.read_text()
    for row in (
        "| init (source counts)",
        "| unchanged refresh ",
        "| floor: both servers at once",
        "| floor with every column read, both at once",
        "| (reference) unchanged refresh x the floor that also reads every column",
        "| peak RSS of that refresh, MB",
        "| chain after a batch that changed k tables",
        "## Goals",
    ):
        assert row in text, f"{row!r} missing from the results"
    record = json.loads(results.with_suffix(".json").read_text())["smoke"]
    steps = record["layouts"]["tiny"]["steps"]
    assert set(steps) == {"init", "first", "unchanged", "changed_1pct"}
    assert all(step["seconds"] > 0 for step in steps.values())
    assert steps["first"]["changed"] > 0 and steps["unchanged"]["changed"] == 0
    floors = record["layouts"]["tiny"]["floor"]
    assert floors["par_cols"] > 0 and floors["par"] > 0
    assert record["layouts"]["tiny"]["chain"]["first"]["state"] == "success"
