"""Counting benchmark: exact row counts of a schema of many small tables, and the end-to-end refresh.

Run::

    .venv/bin/python benchmarks/bench_counting.py --tables 2000 --e2e-sizes 2000,20000

Part 1 counts every table of one schema (``--tables``, small tables of 0-50 rows) with each method,
on PostgreSQL and SQLite, and reports tables per second (median of ``--repeat`` runs; each run opens
its own connection(s), which is included):

* ``one query per table`` — ``SELECT COUNT(*)`` per table, one round trip each;
* ``UNION ALL x200`` — the provider (its dialect's ``count_rows``, batches of 200; on PostgreSQL each
  batch's table locks are released with a savepoint), and other batch sizes, to show the curve; and
  on PostgreSQL the same batches with every lock kept to the end of the transaction;
* ``pipeline`` (PostgreSQL) — one query per table, all sent before any result is read (psycopg 3
  pipeline mode): one network round trip in all;
* ``server-side loop`` (PostgreSQL) — one query that counts every table on the server through
  ``query_to_xml`` (dynamic SQL, one result row per table);
* ``N connections`` — the provider's batches spread over N connections in threads (the machine has
  ``nproc`` cores; the server's work is what runs in parallel).

Catalog estimates (``pg_class.reltuples``, ``n_live_tup``, Vertica's ``PROJECTION_STORAGE``) are not
measured: they are not exact, and the audit needs exact counts.

Part 2 runs ``RefreshAuditOperator.execute`` (PostgreSQL source and target through
``AIRFLOW_CONN_*`` connections, as in a deployment; ``fingerprint="off"``: counts and the status pass
only) on a schema of ``--e2e-sizes`` tables, after an init: first refresh, a refresh with nothing
changed, and one after 10% of the target tables changed. It reports the wall time and how much of it
was counting (both sides).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import measure
import report
from internals import NoHook, Session, begin
from measure import median, stopwatch
from report import fmt_seconds, print_table

from migration_audit_provider.dialects.base import AuditDialect
from migration_audit_provider.dialects.postgres import PostgresAuditDialect
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect

SCHEMA = "sales"
REFRESH_ARGS = {"fingerprint": "off"}
"""Counts and the status pass only: content fingerprints are measured by bench_fingerprint.py."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(n: int) -> list[str]:
    return [f"t{i:05d}" for i in range(n)]


# -- the databases ----------------------------------------------------------------------------------
class PgSide:
    """One PostgreSQL database holding schema ``sales`` with ``n`` small tables."""

    kind = "postgres"

    def __init__(self, server: Any, dbname: str) -> None:
        self.server = server
        self.dbname = dbname
        self.dialect = PostgresAuditDialect(NoHook())

    def create(self, n: int, seed: int) -> list[int]:
        self.server.create_database(self.dbname)
        rnd = random.Random(seed)
        rows = [rnd.randint(0, 50) for _ in range(n)]
        with self.server.connect(self.dbname) as conn:
            conn.execute(f"CREATE SCHEMA {quote(SCHEMA)}")
            names = table_names(n)
            for start in range(0, n, 500):
                script = []
                for name, k in zip(names[start : start + 500], rows[start : start + 500], strict=True):
                    q = f"{quote(SCHEMA)}.{quote(name)}"
                    script.append(f"CREATE TABLE {q} (id INTEGER, name TEXT)")
                    if k:
                        script.append(f"INSERT INTO {q} SELECT g, 'row ' || g FROM generate_series(1, {k}) g")
                conn.execute(";".join(script))
            conn.execute("ANALYZE")
        return rows

    def connect(self):
        conn = self.server.connect(self.dbname, autocommit=False)
        return conn

    def session(self, conn) -> Session:
        return Session(self.dialect, conn)


class SqliteSide:
    """A SQLite "cluster" folder whose schema ``sales`` (``sales.db``) holds ``n`` small tables."""

    kind = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.main = folder / "main.db"
        self.dialect = SqliteAuditDialect(NoHook())

    def create(self, n: int, seed: int) -> list[int]:
        self.folder.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(self.main).close()
        rnd = random.Random(seed)
        rows = [rnd.randint(0, 50) for _ in range(n)]
        with sqlite3.connect(self.folder / f"{SCHEMA}.db") as conn:
            for name, k in zip(table_names(n), rows, strict=True):
                conn.execute(f"CREATE TABLE {quote(name)} (id INTEGER, name TEXT)")
                conn.executemany(
                    f"INSERT INTO {quote(name)} VALUES (?, ?)", [(i, f"row {i}") for i in range(k)]
                )
        return rows

    def connect(self):
        conn = sqlite3.connect(self.main, check_same_thread=False)
        begin(self.dialect, conn, [SCHEMA], write=False)
        return conn

    def session(self, conn) -> Session:
        return Session(self.dialect, conn)


# -- the methods ----------------------------------------------------------------------------------------
def by_batches(batch: int) -> Callable[[Any, list[str]], dict[str, int]]:
    """The provider's ``count_rows`` with a given batch size (1 = one query per table)."""

    def run(side, tables):
        conn = side.connect()
        try:
            return side.dialect.count_rows(side.session(conn), SCHEMA, tables, batch_size=batch)
        finally:
            conn.close()

    return run


def one_per_table(side, tables):
    """A plain loop: ``SELECT COUNT(*)`` per table, one round trip each, one transaction."""
    conn = side.connect()
    try:
        cur = conn.cursor()
        out = {}
        for t in tables:
            cur.execute(f"SELECT COUNT(*) FROM {quote(SCHEMA)}.{quote(t)}")
            out[t] = int(cur.fetchone()[0])
        return out
    finally:
        conn.close()


def locks_kept(side, tables):
    """The provider's batches of 200 without releasing each batch's locks (``AuditDialect.count_rows``,
    as before PostgreSQL's override): what the savepoints cost."""
    conn = side.connect()
    try:
        return AuditDialect.count_rows(side.dialect, side.session(conn), SCHEMA, tables, batch_size=200)
    finally:
        conn.close()


def in_parallel(workers: int, batch: int = 200) -> Callable[[Any, list[str]], dict[str, int]]:
    """The provider's batches spread over ``workers`` connections, one thread each."""

    def run(side, tables):
        shares = [tables[i::workers] for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda share: by_batches(batch)(side, share), shares))
        out: dict[str, int] = {}
        for part in parts:
            out.update(part)
        return out

    return run


def pipelined(side, tables):
    """PostgreSQL pipeline mode: every ``COUNT(*)`` sent before the first result is read."""
    conn = side.connect()
    try:
        with conn.pipeline():
            cursors = [conn.execute(f"SELECT COUNT(*) FROM {quote(SCHEMA)}.{quote(t)}") for t in tables]
        return {t: int(c.fetchone()[0]) for t, c in zip(tables, cursors, strict=True)}
    finally:
        conn.close()


def server_loop(side, tables):
    """PostgreSQL: one statement; the server counts each table with dynamic SQL (``query_to_xml``)."""
    conn = side.connect()
    try:
        rows = conn.execute(
            """
            SELECT t.name,
                   (xpath('/row/n/text()',
                          query_to_xml(format('SELECT COUNT(*) AS n FROM %%I.%%I', %s::text, t.name),
                                       false, true, '')))[1]::text::bigint
            FROM unnest(%s::text[]) AS t(name)
            """,
            (SCHEMA, tables),
        ).fetchall()
        return {name: int(n) for name, n in rows}
    finally:
        conn.close()


def methods_for(kind: str, n: int) -> list[tuple[str, Callable]]:
    out = [
        ("one query per table", one_per_table),
        ("UNION ALL x50", by_batches(50)),
        ("UNION ALL x200 (provider)", by_batches(200)),
    ]
    if kind == "postgres":
        out.append(("UNION ALL x200, locks kept to the end", locks_kept))
        out.append((f"UNION ALL x{n} (one query)", by_batches(n)))
        out.append(("pipeline, one query per table", pipelined))
        out.append(("server-side loop (query_to_xml)", server_loop))
    else:
        out.append(("UNION ALL x500 (SQLite's limit)", by_batches(500)))
    out.append(("2 connections x UNION ALL x200", in_parallel(2)))
    out.append(("4 connections x UNION ALL x200", in_parallel(4)))
    return out


def bench_methods(side, n: int, expected: list[int], repeat: int) -> list[tuple[str, int, str, float]]:
    """``(db, tables, method, median seconds)`` per method; every count is checked against the truth."""
    tables = table_names(n)
    truth = dict(zip(tables, expected, strict=True))
    out = []
    for label, method in methods_for(side.kind, n):
        method(side, tables)  # warm-up (catalog caches, file cache)
        times = []
        for _ in range(repeat):
            with stopwatch() as elapsed:
                counts = method(side, tables)
            times.append(elapsed())
            if counts != truth:
                raise AssertionError(f"{label} counted wrong on {side.kind}")
        out.append((side.kind, n, label, median(times)))
    return out


def method_table(results: list[tuple[str, int, str, float]]) -> list[list[str]]:
    rows = []
    for kind, n, label, seconds in results:
        base = next(s for k, _n, lab, s in results if k == kind and "provider" in lab)
        rows.append(
            [kind, f"{n:,}", label, fmt_seconds(seconds), f"{n / seconds:,.0f}", f"{base / seconds:.2f}x"]
        )
    return rows


# -- end to end -------------------------------------------------------------------------------------------
def bench_end_to_end(server: Any, n: int, repeat: int) -> tuple[list[list[str]], dict[str, float]]:
    """``RefreshAuditOperator.execute`` with PostgreSQL source and target connections."""
    src_db, tgt_db = f"e2e_src_{n}", f"e2e_tgt_{n}"
    source = PgSide(server, src_db)
    source.create(n, seed=n)
    with server.connect() as conn:  # the target starts as an exact copy of the source...
        conn.execute(f"CREATE DATABASE {quote(tgt_db)} TEMPLATE {quote(src_db)}")
    rnd = random.Random(7)
    names = table_names(n)
    with server.connect(tgt_db) as conn:  # ...then the data run left a few % partial, rejected or extra
        for i in rnd.sample(range(n), n // 20):
            q = f"{quote(SCHEMA)}.{quote(names[i])}"
            conn.execute(f"DELETE FROM {q} WHERE id % 2 = 0" if rnd.random() < 0.6 else f"TRUNCATE {q}")
    os.environ["AIRFLOW_CONN_MIGRATION_SOURCE"] = server.conn_json(src_db)
    os.environ["AIRFLOW_CONN_MIGRATION_TARGET"] = server.conn_json(tgt_db)

    from migration_audit_provider.hooks.audit import MigrationAuditHook
    from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator

    logging.getLogger("airflow.task").setLevel(logging.WARNING)

    counting = threading.local()
    original = MigrationAuditHook.count_tables

    def timed_count(self, *args, **kwargs):
        with stopwatch() as elapsed:
            result = original(self, *args, **kwargs)
        counting.seconds = getattr(counting, "seconds", 0.0) + elapsed()
        return result

    MigrationAuditHook.count_tables = timed_count
    context = {"run_id": "bench_counting", "task_instance": None}
    out = []
    try:
        InitAuditOperator(task_id="init_audit", schema=SCHEMA).execute(context)

        def run(label: str) -> None:
            counting.seconds = 0.0
            with stopwatch() as elapsed:
                summary = RefreshAuditOperator(
                    task_id="refresh_audit", schema=SCHEMA, **REFRESH_ARGS
                ).execute(context)
            total, counts = elapsed(), counting.seconds
            out.append([f"{n:,}", label, fmt_seconds(total), fmt_seconds(counts), fmt_seconds(total - counts),
                        f"{summary['changed']:,}", f"{2 * n / counts:,.0f}"])  # fmt: skip

        run("first refresh (all target counts new)")
        for _ in range(repeat):
            run("refresh, nothing changed")
        with server.connect(tgt_db) as conn:
            for i in rnd.sample(range(n), n // 10):
                conn.execute(f"INSERT INTO {quote(SCHEMA)}.{quote(names[i])} VALUES (-1, 'late row')")
        run("refresh, 10% of target tables changed")
    finally:
        MigrationAuditHook.count_tables = original
    by_label: dict[str, list[list[str]]] = {}
    for row in out:
        by_label.setdefault(row[1], []).append(row)
    rows_out = []
    for _label, group in by_label.items():
        rows_out.append(sorted(group, key=lambda r: float(r[2]))[len(group) // 2])
    return rows_out, {r[1]: float(r[2]) for r in rows_out}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tables", type=int, default=2000, help="tables in the schema counted by each method"
    )
    parser.add_argument(
        "--e2e-sizes", default="2000,20000", help="tables for the end-to-end refresh ('' skips)"
    )
    parser.add_argument("--backends", default="postgres,sqlite", help="postgres and/or sqlite (part 1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per method; the median is shown")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    e2e_sizes = report.parse_sizes(args.e2e_sizes)

    server = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-counting-"))
    try:
        pg_version = None
        if "postgres" in backends or e2e_sizes:
            import servers

            # PostgreSQL's default connection limit, hence its default lock table (64 x 100 locks):
            # the end-to-end run of 20,000 tables checks that counting fits in it.
            server = servers.start_server(max_connections=100)
            with server.connect() as conn:
                pg_version = servers.server_version(conn)
        print(f"# machine: {measure.machine(pg_version)}")
        method_rows: list[tuple[str, int, str, float]] = []
        for kind in backends:
            side = PgSide(server, "counting") if kind == "postgres" else SqliteSide(tmp / "sqlite")
            expected = side.create(args.tables, seed=1)
            method_rows += bench_methods(side, args.tables, expected, args.repeat)
            print(f"# counted {args.tables:,} tables on {kind}", flush=True)
        print()
        print_table(
            ["db", "tables", "method", "seconds", "tables/s", "vs provider"],
            method_table(method_rows),
            align="lrlrrr",
        )
        e2e_rows: list[list[str]] = []
        e2e_summary = []
        for n in e2e_sizes:
            rows, times = bench_end_to_end(server, n, max(1, args.repeat // 2))
            e2e_rows += rows
            e2e_summary.append(f"{n:,} tables " + "/".join(fmt_seconds(s) for s in times.values()) + " s")
            print(f"# end-to-end refresh of {n:,} tables done", flush=True)
        if e2e_rows:
            print()
            print_table(
                ["tables", "RefreshAuditOperator.execute (PostgreSQL to PostgreSQL)", "seconds",
                 "of which counting", "rest (status pass, sessions)", "rows changed", "tables counted/s"],
                e2e_rows,
                align="rlrrrrr",
            )  # fmt: skip
        print()
        print("SUMMARY counting: " + _summary(method_rows) + "; end-to-end refresh (first/unchanged/10%): "
              + ("; ".join(e2e_summary) or "skipped"))  # fmt: skip
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _summary(results: list[tuple[str, int, str, float]]) -> str:
    parts = []
    for kind in dict.fromkeys(r[0] for r in results):
        mine = [r for r in results if r[0] == kind]
        n = mine[0][1]
        provider = next(r[3] for r in mine if "provider" in r[2])
        per_table = next(r[3] for r in mine if r[2] == "one query per table")
        best = min(mine, key=lambda r: r[3])
        parts.append(
            f"{kind} {n:,} tables: provider {n / provider:,.0f} tables/s "
            f"({per_table / provider:.1f}x one query per table), "
            f"best {best[2]!r} {n / best[3]:,.0f} tables/s ({provider / best[3]:.1f}x the provider)"
        )
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
