"""Copy benchmark: the provider's data-run copy against common-sql's GenericTransfer and a psql COPY pipe.

Run::

    .venv/bin/python benchmarks/bench_copy.py --rows 1000000 --flat-rows 250000

One throwaway PostgreSQL 15 server (``servers.start_server``) holds two databases, ``bench_src`` and
``bench_tgt``, reached through ``AIRFLOW_CONN_*`` connections as in a deployment; a SQLite "cluster"
(a folder with ``main.db`` and ``bench.db``) is a second source. Each table has a realistic ~150-byte
row (``bigint`` primary key, ``integer``, ``numeric(12,2)``, ``timestamp``, three ``text``, one
``note`` in ten NULL) and the same primary key on the target. Methods, each copying one table into
an emptied target table:

* ``provider PG->PG`` - ``copy_table`` with the PostgreSQL->PostgreSQL strategy (the source's
  ``COPY TO STDOUT`` streamed into the target's ``COPY FROM STDIN``, one target transaction);
* ``psql pipe`` - ``psql -c "COPY (SELECT ...) TO STDOUT" | psql -c "COPY ... FROM STDIN"``, the
  floor: no Python at all;
* ``GenericTransfer (defaults)`` - common-sql's operator with its defaults: ``get_records`` of the
  whole table, then ``insert_rows`` (psycopg 3 ``executemany``, ``commit_every=1000``);
* ``GenericTransfer (page_size=N)`` - the same with ``page_size`` (``LIMIT/OFFSET`` pages of an
  ``ORDER BY id`` query, which paging needs to be correct); ``--gt-page-size 0`` leaves it out;
* ``provider SQLite->PG`` - ``copy_table`` on the generic path (batched reads, ``COPY FROM STDIN``
  fed row by row with ``write_row``), for reference.

Every method runs in a process of its own, so peak memory is that process's alone: ``VmHWM`` (both
psql processes for the pipe). The Python workers also report their high-water mark after imports and
just before copying ("before copy"); the growth over it is what the copy itself holds. Seconds are the
copy alone for the Python workers (imports and interpreter start-up excluded; connecting and the
catalog checks included), the wall time of the whole pipe for psql. The target table is truncated and
the server checkpointed before each run (untimed), and the rows that arrived are counted afterwards.
Rows/s and memory are the medians of ``--repeat`` runs (``--slow-repeat`` for GenericTransfer).

The server's settings shape the fast paths (the server's ``COPY`` sets their pace) but hardly
GenericTransfer (Python sets its pace): ``--pg-settings bench`` (default) restarts it like the other
benchmarks (``full_page_writes`` on, 1 GB shared buffers), ``--pg-settings tests`` keeps the tests'
settings (``full_page_writes`` off, 128 MB); ``fsync`` and ``synchronous_commit`` are off in both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import measure
import report
import seeding
from measure import median
from report import fmt_seconds, print_table
from seeding import COLUMNS, SCHEMA, qualified

SOURCE, TARGET, SQLITE = "bench_source", "bench_target", "bench_sqlite"
PROVIDER, PIPE, GT, GT_PAGED, GENERIC = (
    "provider PG->PG",
    "psql pipe",
    "GenericTransfer (defaults)",
    "GenericTransfer (page_size={})",
    "provider SQLite->PG (generic)",
)
FLAT_TOLERANCE_MB = 16.0
"""Peak RSS may grow at most this much from the smallest to the largest table to count as flat."""


def table_name(rows: int) -> str:
    return f"t_{rows}"


# -- the worker: one method, one table, in its own process ---------------------------------------------
def worker(method: str, rows: int, page_size: int) -> int:
    import logging

    logging.disable(logging.INFO)
    table = table_name(rows)
    if method in ("provider", "generic"):
        from migration_audit_provider.hooks.audit import MigrationAuditHook
        from migration_audit_provider.transfers import copy_table

        source = MigrationAuditHook(SQLITE if method == "generic" else SOURCE)
        target = MigrationAuditHook(TARGET)

        def run() -> tuple[int | None, str]:
            result = copy_table(source, target, SCHEMA, table)
            if result.status != "copied":
                raise RuntimeError(f"copy_table: {result.status}: {result.error}")
            return result.rows_written, result.method

    elif method in ("gt", "gt_paged"):
        from airflow.providers.common.sql.operators.generic_transfer import GenericTransfer

        columns = ", ".join(COLUMNS)
        sql = f"SELECT {columns} FROM {qualified(table)}"
        generic_transfer = GenericTransfer(
            task_id="generic_transfer",
            sql=sql + (" ORDER BY id" if method == "gt_paged" else ""),
            destination_table=f"{SCHEMA}.{table}",
            source_conn_id=SOURCE,
            destination_conn_id=TARGET,
            page_size=page_size if method == "gt_paged" else None,
        )

        def run() -> tuple[int | None, str]:
            generic_transfer.execute(context={})
            return None, "generic_transfer"

    else:
        raise SystemExit(f"unknown worker method {method!r}")
    before = measure.proc_status_kb("VmHWM")
    cpu0 = time.process_time()
    started = time.perf_counter()
    written, how = run()
    seconds = time.perf_counter() - started
    report = {
        "seconds": seconds,
        "cpu": time.process_time() - cpu0,
        "rows_written": written,
        "method": how,
        "hwm_before_kb": before,
        "hwm_kb": measure.proc_status_kb("VmHWM"),
    }
    print(json.dumps(report))
    return 0


# -- the parent ------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, server, folder: Path, page_size: int) -> None:
        self.server = server
        self.folder = folder
        self.page_size = page_size
        self.env = dict(os.environ)
        self.env.update(
            {
                f"AIRFLOW_CONN_{SOURCE.upper()}": server.conn_json("bench_src"),
                f"AIRFLOW_CONN_{TARGET.upper()}": server.conn_json("bench_tgt"),
                f"AIRFLOW_CONN_{SQLITE.upper()}": json.dumps(
                    {"conn_type": "sqlite", "host": str(folder / "main.db")}
                ),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                "PGPASSWORD": _pg_password(),
            }
        )

    def prepare(self, sizes: Sequence[int], sqlite_sizes: Sequence[int]) -> dict[int, tuple[int, float]]:
        for db in ("bench_src", "bench_tgt"):
            self.server.create_database(db)
        shapes = {}
        with self.server.connect("bench_src") as src, self.server.connect("bench_tgt") as tgt:
            for n in sizes:
                seeding.pg_create_table(src, table_name(n), n)
                seeding.pg_create_table(tgt, table_name(n), 0, fill=False)
                shapes[n] = seeding.pg_table_size(src, table_name(n))
        seeding.sqlite_cluster(self.folder)
        for n in sqlite_sizes:
            seeding.sqlite_create_table(self.folder, table_name(n), n)
        return shapes

    def reset_target(self, rows: int) -> None:
        with self.server.connect("bench_tgt") as conn:
            conn.execute(f"TRUNCATE {qualified(table_name(rows))}")
            conn.execute("CHECKPOINT")

    def target_rows(self, rows: int) -> int:
        with self.server.connect("bench_tgt") as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {qualified(table_name(rows))}").fetchone()[0]

    def run(self, label: str, rows: int) -> dict:
        self.reset_target(rows)
        if label == PIPE:
            seconds, procs = measure.run_measured(self.psql_pipe(rows), env=self.env, pipe=True)
            cpu = sum(p.cpu_seconds for p in procs)
            rss = [p.max_rss_mb for p in procs]
            before = None
        else:
            method = {PROVIDER: "provider", GT: "gt", GENERIC: "generic"}.get(label, "gt_paged")
            argv = [sys.executable, __file__, "--worker", method, "--rows", str(rows)]
            argv += ["--gt-page-size", str(self.page_size)]
            _wall, procs = measure.run_measured([argv], env=self.env)
            report = procs[0].report
            if procs[0].returncode != 0 or not report:
                raise RuntimeError(f"{label} failed:\n{procs[0].stdout[-2000:]}\n{procs[0].stderr[-4000:]}")
            seconds, cpu = report["seconds"], report["cpu"]
            rss = [max(procs[0].max_rss_kb, report["hwm_kb"]) / 1024]
            before = report["hwm_before_kb"] / 1024
        for p in procs:
            if p.returncode != 0:
                raise RuntimeError(f"{label}: {p.argv[0]} exited {p.returncode}: {p.stderr[-2000:]}")
        arrived = self.target_rows(rows)
        if arrived != rows:
            raise AssertionError(f"{label}: {arrived} rows arrived, expected {rows}")
        return {"seconds": seconds, "cpu": cpu, "rss": rss, "before": before}

    def psql_pipe(self, rows: int) -> list[list[str]]:
        columns = ", ".join(COLUMNS)
        table = qualified(table_name(rows))
        base = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.server.port),
                "-U", _pg_user()]  # fmt: skip
        return [
            [*base, "-d", "bench_src", "-c", f"COPY (SELECT {columns} FROM {table}) TO STDOUT"],
            [*base, "-d", "bench_tgt", "-c", f"COPY {table} ({columns}) FROM STDIN"],
        ]


def _pg_user() -> str:
    from pg_server import PG_USER

    return PG_USER


def _pg_password() -> str:
    from pg_server import PG_PASSWORD

    return PG_PASSWORD


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the main table (ratios)")
    parser.add_argument(
        "--flat-rows", default="250000", help="other table sizes, to show memory flat in size ('' = none)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast method; the median is shown")
    parser.add_argument("--slow-repeat", type=int, default=1, help="runs of each GenericTransfer method")
    parser.add_argument(
        "--gt-page-size", type=int, default=100_000, help="page_size of the paged GenericTransfer (0 = skip)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite->PostgreSQL reference")
    parser.add_argument(
        "--pg-settings",
        choices=("bench", "tests"),
        default="bench",
        help="bench: servers.start_server (full_page_writes on, 1 GB shared_buffers, as in BENCHMARKS.md); "
        "tests: the tests' PgServer (full_page_writes off, 128 MB shared_buffers)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.rows, args.gt_page_size)

    import servers

    sizes = sorted({args.rows, *report.parse_sizes(args.flat_rows)})
    labels = [PROVIDER, PIPE, GT] + ([GT_PAGED.format(f"{args.gt_page_size:,}")] if args.gt_page_size else [])
    if not args.no_sqlite:
        labels.append(GENERIC)
    tmp = Path(tempfile.mkdtemp(prefix="bench-copy-"))
    server = servers.start_server() if args.pg_settings == "bench" else servers.PgServer.start()
    try:
        with server.connect() as conn:
            pg_version = servers.server_version(conn)
            settings = conn.execute(
                "SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ' ORDER BY name) "
                "FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
                "'shared_buffers', 'max_wal_size', 'wal_level')"
            ).fetchone()[0]
        print(f"# machine: {measure.machine(pg_version)}", flush=True)
        print(f"# server ({args.pg_settings}): {settings}", flush=True)
        print(f"# load average at start: {measure.load_average()}", flush=True)
        bench = Bench(server, tmp / "sqlite", args.gt_page_size)
        shapes = bench.prepare(sizes, [] if args.no_sqlite else sizes)
        for n, (heap, text) in shapes.items():
            print(f"# table {table_name(n)}: {n:,} rows, heap {heap / 1e6:,.1f} MB, "
                  f"{text:.0f} bytes per row as COPY text", flush=True)  # fmt: skip
        runs: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for round_no in range(max(args.repeat, args.slow_repeat)):
            for n in sizes:
                for label in labels:
                    slow = label.startswith("GenericTransfer")
                    if round_no >= (args.slow_repeat if slow else args.repeat):
                        continue
                    result = bench.run(label, n)
                    runs[(label, n)].append(result)
                    print(f"# round {round_no + 1}: {label} {n:,} rows: {result['seconds']:.3f} s, "
                          f"peak {'/'.join(f'{r:.0f}' for r in result['rss'])} MB", flush=True)  # fmt: skip
        print(f"# load average at end: {measure.load_average()}", flush=True)
        stats = {key: _stats(values) for key, values in runs.items()}
        print()
        print_table(
            ["method", "rows", "seconds (median)", "min-max", "rows/s", "CPU s (client)", "peak RSS MB",
             "before copy MB", "copy's own MB", "time / provider's"],
            _rows(stats, labels, sizes, args.rows),
            align="lrrrrrrrrr",
        )  # fmt: skip
        print()
        print("SUMMARY " + _summary(stats, runs, sizes, args.rows))
        return 0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _stats(values: list[dict]) -> dict:
    return {
        "seconds": median([v["seconds"] for v in values]),
        "range": (min(v["seconds"] for v in values), max(v["seconds"] for v in values)),
        "cpu": median([v["cpu"] for v in values]),
        "rss": [median([v["rss"][i] for v in values]) for i in range(len(values[0]["rss"]))],
        "before": None if values[0]["before"] is None else median([v["before"] for v in values]),
        "runs": len(values),
    }


def _rows(stats: dict, labels: list[str], sizes: list[int], main_rows: int) -> list[list[str]]:
    out = []
    for n in sizes:
        provider = stats[(PROVIDER, n)]["seconds"]
        for label in labels:
            s = stats.get((label, n))
            if s is None:
                continue
            rss = " / ".join(f"{r:,.1f}" for r in s["rss"]) + (" (src / tgt psql)" if label == PIPE else "")
            before = "-" if s["before"] is None else f"{s['before']:,.1f}"
            own = "-" if s["before"] is None else f"{s['rss'][0] - s['before']:,.1f}"
            relative = f"{s['seconds'] / provider:,.2f}x"
            seconds = f"{fmt_seconds(s['seconds'])} (n={s['runs']})"
            low, high = s["range"]
            spread = f"{fmt_seconds(low)}-{fmt_seconds(high)}"
            rate = f"{n / s['seconds']:,.0f}"
            cpu = f"{s['cpu']:.2f}"
            out.append([label, f"{n:,}", seconds, spread, rate, cpu, rss, before, own, relative])
    return out


def _summary(stats: dict, runs: dict, sizes: list[int], n: int) -> str:
    provider = n / stats[(PROVIDER, n)]["seconds"]
    pipe = n / stats[(PIPE, n)]["seconds"]
    gt = n / stats[(GT, n)]["seconds"]
    vs_pipe, vs_gt = provider / pipe, provider / gt
    # Each round ran the methods back to back: the ratio within a round cancels slow drifts in load.
    paired = median(
        [p["seconds"] / v["seconds"] for p, v in zip(runs[(PIPE, n)], runs[(PROVIDER, n)], strict=False)]
    )
    peaks = [stats[(PROVIDER, m)]["rss"][0] for m in sizes]
    flat = peaks[-1] - peaks[0] <= FLAT_TOLERANCE_MB
    parts = [
        f"copy {n:,} rows: provider {provider:,.0f} rows/s = {vs_pipe:.2f}x psql pipe "
        f"(goal >= 0.7x: {'met' if vs_pipe >= 0.7 else 'MISSED'}; same-round ratios' median {paired:.2f}x)",
        f"{vs_gt:.1f}x GenericTransfer defaults (goal >= 10x: {'met' if vs_gt >= 10 else 'MISSED'})",
        "provider peak RSS "
        + "/".join(f"{p:.0f}" for p in peaks)
        + f" MB at {'/'.join(f'{m:,}' for m in sizes)} rows (flat: {'yes' if flat else 'NO'})",
        f"GenericTransfer peak {stats[(GT, n)]['rss'][0]:,.0f} MB",
    ]
    if (GENERIC, n) in stats:
        parts.append(f"SQLite->PG generic {n / stats[(GENERIC, n)]['seconds']:,.0f} rows/s")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
