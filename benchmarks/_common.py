"""Helpers shared by the benchmark scripts: Airflow set-up, timing, the machine, tables of results.

Importing this module first gives the script a throwaway ``AIRFLOW_HOME`` (Airflow reads its
configuration when first imported, and the provider's exceptions import Airflow), unless the caller
set one.
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "src", REPO / "benchmarks"):
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


def parse_sizes(text: str) -> list[int]:
    """``"10000,100_000,1e6"`` -> ``[10000, 100000, 1000000]``."""
    return [int(float(part.replace("_", ""))) for part in text.split(",") if part.strip()]


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...``; ``elapsed()`` is the wall time in seconds (frozen on exit)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def memory_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def machine(pg_version: str | None = None) -> str:
    """One line describing where the numbers were taken."""
    import sqlite3

    parts = [
        f"nproc={os.cpu_count()}",
        f"RAM={memory_gb():.1f} GB",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg_version:
        parts.append(f"PostgreSQL {pg_version}")
    try:
        import psycopg

        parts.append(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__})")
    except ImportError:
        pass
    cpu = _cpu_model()
    if cpu:
        parts.append(cpu)
    return ", ".join(parts)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def fmt_seconds(value: float) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def fmt_int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def fmt_mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}"


def fmt_ratio(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.1f}x"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> None:
    """A GitHub-flavoured Markdown table (so the output can be pasted into BENCHMARKS.md as is)."""
    widths = [
        max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(cells: Sequence[str]) -> str:
        out = []
        for cell, width, a in zip(cells, widths, align, strict=True):
            out.append(str(cell).ljust(width) if a == "l" else str(cell).rjust(width))
        return "| " + " | ".join(out) + " |"

    print(line(headers))
    print(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
            for w, a in zip(widths, align, strict=True)
        )
        + "|"
    )
    for row in rows:
        print(line(row))
    sys.stdout.flush()
