"""How long Airflow takes to parse ``dags/`` (the per-schema DAGs and the trigger DAG), warm and cold.

A measurement, not a test (the test only checks that parsing touches no database):

    .venv/bin/python benchmarks/bench_dag_parse.py [--repeat 10]

Prints the median and the spread of ``DagBag(dag_folder="dags")`` after one warm-up parse (imports
cached), and the first parse in a new process (imports included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"


def _environment() -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="ma-bench-parse-")
    return {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


CHILD = """
import statistics, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
first = time.perf_counter() - t0
assert not bag.import_errors, bag.import_errors
warm = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    DagBag(dag_folder=sys.argv[1])
    warm.append(time.perf_counter() - t)
print(f"{first:.3f} {statistics.median(warm):.3f} {min(warm):.3f} {max(warm):.3f} {len(bag.dag_ids)}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(DAGS), str(args.repeat)],
        env=_environment(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    first, median, low, high, dags = out[-5:]
    print(f"dags/ ({dags} DAGs): first parse in a new process {first} s (imports included)")
    print(f"warm parse: median {median} s (min {low}, max {high}) over {args.repeat}")


if __name__ == "__main__":
    main()
