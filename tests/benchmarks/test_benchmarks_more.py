"""bench_copy.py, bench_airflow.py and bench_fingerprint.py run end to end on a tiny size.

Their numbers are not checked (no timing here): each must exit 0 and end with its ``SUMMARY`` line.
The three run at the same time, each in its own subprocess (two start a throwaway PostgreSQL server
of their own, one runs the audit DAG with ``dag.test()`` on SQLite), so the module takes about as
long as the slowest of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

RUNS = {
    "bench_copy.py": (
        ["--rows", "2000", "--flat-rows", "", "--repeat", "1", "--gt-page-size", "700"],
        ["SUMMARY copy 2,000 rows: provider ", "x psql pipe", "GenericTransfer", "SQLite->PG generic"],
    ),
    "bench_airflow.py": (
        ["--tables", "12,24", "--rejects", "3"],
        ["SUMMARY airflow: 12 tables: ", " task instances", "independent of table count: yes"],
    ),
    "bench_fingerprint.py": (
        ["--rows", "5000", "--sqlite-rows", "2000", "--keys", "1,3", "--repeat", "1"],
        ["fingerprint 5,000 rows PostgreSQL: ", "bisection 1 key(s)", "SQLite 2,000 rows"],
    ),
}


@pytest.fixture(scope="module")
def started():
    """All three scripts, started at once."""
    procs = {
        script: subprocess.Popen(
            [sys.executable, str(REPO / "benchmarks" / script), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script, (args, _expected) in RUNS.items()
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("script", sorted(RUNS))
def test_script_runs_and_prints_its_summary(started, script):
    try:
        stdout, stderr = started[script].communicate(timeout=120)
    except subprocess.TimeoutExpired:
        started[script].kill()
        raise
    assert started[script].returncode == 0, f"{script} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    lines = stdout.strip().splitlines()
    assert lines and lines[-1].startswith("SUMMARY "), stdout[-2000:]
    for text in RUNS[script][1]:
        assert text in lines[-1], f"{text!r} not in {lines[-1]!r}"
    assert "|---" in stdout or "|:---" in stdout  # a results table was printed
