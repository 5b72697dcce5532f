"""Import this first in every benchmark script: paths and a throwaway Airflow home.

It puts ``src/``, ``benchmarks/`` and ``tests/`` (for ``pg_server``) on ``sys.path`` and gives the
script a throwaway ``AIRFLOW_HOME`` (Airflow reads its configuration when first imported, and the
provider imports Airflow), unless the caller set one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "tests", REPO / "benchmarks", REPO / "src"):  # src ends up first
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

if "AIRFLOW_HOME" not in os.environ:
    _HOME = tempfile.mkdtemp(prefix="bench-airflow-")
    atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = _HOME
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME}/airflow.db")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
