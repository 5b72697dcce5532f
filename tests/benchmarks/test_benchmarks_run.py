"""The benchmark scripts run, end to end, on a tiny size (their numbers are not checked: no timing here).

Each script starts its own throwaway PostgreSQL server (``benchmarks/servers.py``) and uses SQLite files
in a temporary folder, like the full runs recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

RUNS = {
    "bench_refresh.py": ["--sizes", "300", "--repeat", "1", "--tables-per-schema", "200", "--profile"],
    "bench_counting.py": ["--tables", "40", "--e2e-sizes", "40", "--repeat", "1"],
    "bench_status_compare.py": ["--tables", "3000", "--per-schema", "1000", "--changed", "0.05"],
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_script_runs_and_prints_its_summary(script):
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *RUNS[script]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("SUMMARY "), proc.stdout[-2000:]
    assert "| seed " in proc.stdout or "| postgres |" in proc.stdout  # the results table was printed
