"""Helpers for bench_copy.py, bench_airflow.py and bench_fingerprint.py.

Import ``_common`` before this module (it gives the script a throwaway ``AIRFLOW_HOME``). Here:

* the benchmark table: a realistic ~150-byte row (``bigint`` key, ``integer``, two short and one long
  ``text``, ``numeric(12,2)``, ``timestamp``; one ``note`` in ten is NULL), generated inside
  PostgreSQL (``generate_series``) or SQLite (a recursive CTE), so no row passes through Python;
* :func:`run_measured`: run processes (alone or piped) and read each one's peak resident memory
  (``VmHWM``), so every method is measured the same way, psql too;
* :func:`last_line`: the ``SUMMARY`` line of a script's output (used by the tests).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.005
SCHEMA = "bench"
COLUMNS = ["id", "customer_id", "customer", "amount", "created_at", "status", "note"]
PG_DDL = (
    "id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL, customer TEXT NOT NULL, amount NUMERIC(12,2), "
    "created_at TIMESTAMP, status TEXT, note TEXT"
)
SQLITE_DDL = (
    "id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, customer TEXT NOT NULL, amount NUMERIC(12,2), "
    "created_at TIMESTAMP, status TEXT, note TEXT"
)
_PG_FILL = """
INSERT INTO {table}
SELECT g,
       g % 99991,
       'customer ' || (g % 99991),
       round(((g * 7919) % 10000000) / 100.0, 2),
       TIMESTAMP '2026-01-01' + g * INTERVAL '1 second' + (g % 1000) * INTERVAL '1 microsecond',
       (ARRAY['new', 'paid', 'shipped', 'returned'])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || md5(g::text) || md5((g + 1)::text) END
FROM generate_series(CAST({start} AS BIGINT), CAST({stop} AS BIGINT)) AS g
"""
_SQLITE_FILL = """
WITH RECURSIVE g(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM g WHERE i < {stop})
INSERT INTO {table}
SELECT i,
       i % 99991,
       'customer ' || (i % 99991),
       round(((i * 7919) % 10000000) / 100.0, 2),
       strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'),
       CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' ELSE 'returned' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || lower(hex(randomblob(32))) END
FROM g
"""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema: str = SCHEMA) -> str:
    return f"{quote(schema)}.{quote(table)}"


# -- the benchmark table ------------------------------------------------------------------------------
def pg_create_table(conn: Any, table: str, rows: int, *, schema: str = SCHEMA, fill: bool = True) -> None:
    """Create ``schema.table`` on an autocommit psycopg connection and fill it with ``rows`` rows."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    conn.execute(f"CREATE TABLE {qualified(table, schema)} ({PG_DDL})")
    if fill and rows:
        step = 1_000_000
        for start in range(1, rows + 1, step):
            stop = min(rows, start + step - 1)
            conn.execute(_PG_FILL.format(table=qualified(table, schema), start=start, stop=stop))
        # Hint bits and the visibility map set now, not during the first timed read.
        conn.execute(f"VACUUM (ANALYZE) {qualified(table, schema)}")


def sqlite_cluster(folder: Path, schemas: Sequence[str] = (SCHEMA,)) -> Path:
    """A SQLite "cluster": ``folder/main.db`` plus one ``<schema>.db`` per schema; returns main.db."""
    folder.mkdir(parents=True, exist_ok=True)
    main = folder / "main.db"
    sqlite3.connect(main).close()
    for schema in schemas:
        sqlite3.connect(folder / f"{schema}.db").close()
    return main


def sqlite_create_table(folder: Path, table: str, rows: int, *, schema: str = SCHEMA) -> None:
    with sqlite3.connect(folder / f"{schema}.db") as conn:
        conn.execute(f"CREATE TABLE {quote(table)} ({SQLITE_DDL})")
        if rows:
            conn.execute(_SQLITE_FILL.format(table=quote(table), start=1, stop=rows))
    sqlite3.connect(folder / f"{schema}.db").close()


def pg_table_size(conn: Any, table: str, schema: str = SCHEMA) -> tuple[int, float]:
    """(heap bytes, mean bytes of a row in COPY text form) of a PostgreSQL table."""
    q = qualified(table, schema)
    heap = conn.execute("SELECT pg_relation_size(%s::regclass)", (q,)).fetchone()[0]
    text = conn.execute(f"SELECT avg(octet_length(t::text)) FROM {q} AS t").fetchone()[0]
    return int(heap), float(text or 0)


# -- processes and their memory ----------------------------------------------------------------------
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


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"
