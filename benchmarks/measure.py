"""Measuring: wall time, processes and their peak memory, the machine and its load.

* :func:`stopwatch`, :func:`median`;
* :func:`run_measured`: run processes (alone or piped) and read each one's peak resident memory
  (``VmHWM``), so every method is measured the same way, psql too; :func:`proc_status_kb` for this
  process;
* :func:`machine`, :func:`load_average`: where and under what load the numbers were taken.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

POLL_SECONDS = 0.005


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


@dataclass
class Measured:
    """One process run by :func:`run_measured`."""

    argv: list[str]
    returncode: int = 0
    max_rss_kb: int = 0
    cpu_seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def max_rss_mb(self) -> float:
        return self.max_rss_kb / 1024


def run_measured(
    commands: Sequence[Sequence[str]],
    *,
    env: Mapping[str, str] | None = None,
    pipe: bool = False,
    timeout: float = 3600,
) -> tuple[float, list[Measured]]:
    """Run ``commands`` (one, or several joined by pipes if ``pipe``); wall seconds and each one's peak RSS.

    Peak RSS is the child's ``VmHWM`` (``/proc/<pid>/status``), read every :data:`POLL_SECONDS` until
    it exits: the high-water mark is monotonic, so only growth in the last few milliseconds could be
    missed (a Python worker also reports its own final ``VmHWM``, exact). Not ``ru_maxrss`` from
    ``wait4`` / ``getrusage(RUSAGE_CHILDREN)``: on Linux a child's ``ru_maxrss`` starts at the
    *parent's* resident set at fork/exec (measured: ``wc`` spawned by a 205 MB Python process
    reported 205 MB), so a small process like psql would be reported as big as this script.
    A child may print one JSON object as its last stdout line; it lands in :attr:`Measured.report`.
    """
    procs: list[subprocess.Popen] = []
    readers: list[threading.Thread] = []
    captured: dict[tuple[int, str], bytes] = {}

    def drain(i: int, name: str, stream: Any) -> None:
        captured[(i, name)] = stream.read()
        stream.close()

    started = time.perf_counter()
    for i, argv in enumerate(commands):
        last = i == len(commands) - 1
        proc = subprocess.Popen(
            list(argv),
            stdin=procs[-1].stdout if (pipe and procs) else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
        )
        if pipe and procs:
            procs[-1].stdout.close()  # the next process owns the read end now
        procs.append(proc)
        streams = [("stderr", proc.stderr)] + ([("stdout", proc.stdout)] if (last or not pipe) else [])
        for name, stream in streams:
            thread = threading.Thread(target=drain, args=(i, name, stream), daemon=True)
            thread.start()
            readers.append(thread)
    deadline = time.monotonic() + timeout
    hwm = [0] * len(procs)
    cpu = [0.0] * len(procs)
    codes: list[int | None] = [None] * len(procs)
    while any(code is None for code in codes):
        for i, proc in enumerate(procs):
            if codes[i] is not None:
                continue
            hwm[i] = max(hwm[i], _status_kb(proc.pid, "VmHWM"))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = codes[i] = os.waitstatus_to_exitcode(status)  # Popen must not wait again
                cpu[i] = usage.ru_utime + usage.ru_stime
        if all(code is not None for code in codes):
            break
        if time.monotonic() > deadline:
            for proc in procs:
                proc.kill()
            raise TimeoutError(f"{commands} still running after {timeout} s")
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    for thread in readers:
        thread.join()
    results: list[Measured] = []
    for i in range(len(procs)):
        m = Measured(
            list(commands[i]),
            codes[i] or 0,
            hwm[i],
            cpu[i],
            captured.get((i, "stdout"), b"").decode(errors="replace"),
            captured.get((i, "stderr"), b"").decode(errors="replace"),
        )
        lines = m.stdout.strip().splitlines()
        if lines and lines[-1].startswith("{"):
            try:
                m.report = json.loads(lines[-1])
            except ValueError:
                pass
        results.append(m)
    return seconds, results


def proc_status_kb(key: str) -> int:
    """A ``VmRSS`` / ``VmHWM`` line of this process's ``/proc/self/status``, in kB (0 if unknown)."""
    return _status_kb("self", key)


def _status_kb(pid: int | str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews the timings."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "-"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
