"""Fingerprint benchmark: a table's content fingerprint against ``COUNT(*)``, and bisection to differing keys.

Run::

    .venv/bin/python benchmarks/bench_fingerprint.py --rows 1000000 --sqlite-rows 200000

PostgreSQL (one throwaway server, ``servers.start_server``): a ``--rows`` table with a realistic
~150-byte row (the one ``bench_copy.py`` copies: ``bigint`` key, ``integer``, ``numeric(12,2)``,
``timestamp``, three ``text``), vacuumed and analysed, in database ``fp_src``; ``fp_tgt`` is an exact
copy (``CREATE DATABASE ... TEMPLATE``) and ``fp_tgt_<k>`` are copies with ``k`` rows changed (one
``text`` value each, spread evenly over the key range). Measured, warm cache, median of ``--repeat``:

* ``COUNT(*)`` as the provider counts (``AuditDialect.count_rows``) and its plan;
* a breakdown of what a fingerprint costs: a single-process sequential ``COUNT(*)``, building every
  row's canonical text, plus its ``MD5``, and ``MD5`` of PostgreSQL's own row text (no canonical
  form) for comparison;
* ``fingerprint`` of one side (the provider's): the **same-engine** native form (PostgreSQL ->
  PostgreSQL: per-column 64-bit hashes XOR-combined per row, summed) and the **cross-engine**
  canonical MD5 form (what a PostgreSQL -> Vertica or SQLite pair runs on the PostgreSQL side), each
  as a ratio to ``COUNT(*)``;
  ``compare_table`` of two equal tables (both sides, hashed at the same time);
* ``compare_table(..., max_keys=100)`` against the copies with 1 and 100 changed rows: seconds, keys
  found (checked against the keys changed), statements sent, and where the time went.

SQLite (``--sqlite-rows``, a "cluster" folder; the fingerprint's MD5 and canonical forms are Python
functions registered on the connection): ``COUNT(*)``, ``fingerprint`` (native and canonical) and
bisection to 1 key.

Per-row cost (``--sweep``, table sizes): the same table at each size, PostgreSQL and SQLite, native
and canonical, one side, plus ``compare_table`` of two equal tables (both sides, with its catalog
reads); a least-squares line gives the fixed cost per table and the cost per row.

Refresh cost by mode (``--refresh``, e.g. ``300x1000,3x1000000``: 300 tables of 1,000 rows and 3 of
1,000,000): ``RefreshAuditOperator.execute`` of an unchanged schema (source and target equal, every
table complete) under each ``fingerprint`` mode, PostgreSQL -> PostgreSQL and SQLite -> SQLite
(``--sqlite-refresh``), median of ``--repeat``; ``small_and_new`` at its default bound.

``--write`` puts the report into ``benchmarks/RESULTS-fingerprint.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import measure
import report
import seeding
from internals import NoHook, Session, begin
from measure import median
from report import fmt_seconds, print_table
from seeding import SCHEMA, qualified, quote

from migration_audit_provider.dialects.postgres import PostgresAuditDialect
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.fingerprint import compare_table, fingerprint, row_expression, table_shape

TABLE = "t"
GOAL = 5.0
"""Goal (issue 14): a same-engine PostgreSQL fingerprint within 5x ``COUNT(*)`` on the same table."""
RESULTS = Path(__file__).with_name("RESULTS-fingerprint.md")


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall seconds of ``repeat`` runs after one untimed warm-up, and the last result."""
    result = action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return median(times), result


def changed_keys(rows: int, k: int) -> list[int]:
    """``k`` keys spread evenly over ``1..rows``."""
    step = rows // k
    return [1 + i * step + step // 2 for i in range(k)]


# -- statements sent during a bisection ------------------------------------------------------------------
class Tally:
    """Statements a session sends, by kind (read from the SQL text), with their time."""

    KINDS = (("NTILE", "split points"), ("GROUP BY seg", "segment fingerprints"),
             ("SUM(h1)", "table fingerprint"), ("ma_fingerprint", "table fingerprint"),
             ("'native:'", "table fingerprint"), ("ma_native_fingerprint", "table fingerprint"),
             ("MD5(", "row hashes"), ("ma_md5(", "row hashes"), ("_extended(", "row hashes"),
             ("ma_native_hash(", "row hashes"), ("COUNT(*)", "range counts"))  # fmt: skip

    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    def kind(self, sql: str) -> str:
        return next((name for marker, name in self.KINDS if marker in sql), "catalog")

    @contextmanager
    def watching(self, *sessions: Session):
        originals = [s.fetchall for s in sessions]

        def wrap(original):
            def fetchall(sql: str, params=None):
                started = time.perf_counter()
                try:
                    return original(sql, params)
                finally:
                    kind = self.kind(sql)
                    self.count[kind] += 1
                    self.seconds[kind] += time.perf_counter() - started

            return fetchall

        for session, original in zip(sessions, originals, strict=True):
            session.fetchall = wrap(original)
        try:
            yield self
        finally:
            for session in sessions:
                del session.fetchall  # back to the class's method

    def describe(self) -> str:
        order = sorted(self.seconds, key=self.seconds.get, reverse=True)
        return ", ".join(f"{k} {self.count[k]}x {self.seconds[k]:.2f} s" for k in order)


# -- PostgreSQL ------------------------------------------------------------------------------------------
def pg_session(server, db: str) -> Session:
    conn = server.connect(db, autocommit=False)
    return Session(PostgresAuditDialect(NoHook()), conn)


def pg_plan(session: Session, sql: str) -> str:
    rows = session.fetchall("EXPLAIN " + sql)
    session.rollback()
    nodes = []
    jit = False
    for (line,) in rows:
        text = line.strip().lstrip("->").strip()
        if text.startswith("JIT:"):
            jit = True  # the lines after it describe the JIT compilation, not plan nodes
            break
        name = text.split("  (")[0]
        if name and not name.startswith(("Workers", "Filter", "Output", "Index Cond")):
            nodes.append(name.split(" on ")[0])
    return " > ".join(nodes) + (" (JIT)" if jit else "")


def pg_breakdown(session: Session, shape, repeat: int) -> list[tuple[str, float, str]]:
    """``(step, seconds, plan)``: what building the fingerprint costs, step by step."""
    table = qualified(TABLE)
    row = literal_tolerances(row_expression(session, shape), shape)
    steps = [
        ("COUNT(*) (provider's count_rows)", f"SELECT {0} AS pos, COUNT(*) AS n FROM {table}", ""),
        ("COUNT(*), sequential scan, 1 process", f"SELECT COUNT(*) FROM {table}",
         "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL enable_indexonlyscan = off; "
         "SET LOCAL enable_bitmapscan = off"),
        ("every row's canonical text", f"SELECT SUM(LENGTH({row})) FROM {table}", ""),
        ("MD5 of every row's canonical text", f"SELECT COUNT(MD5({row})) FROM {table}", ""),
        ("MD5 of PostgreSQL's row text (no canonical form)",
         f"SELECT COUNT(MD5(CAST(r AS TEXT))) FROM {table} AS r", ""),
    ]  # fmt: skip
    out = []
    for label, sql, settings in steps:

        def run(sql: str = sql, settings: str = settings) -> Any:
            if settings:
                for stmt in settings.split(";"):
                    session.execute(stmt)
            value = session.fetchall(sql)
            session.rollback()
            return value

        seconds, _ = timed(run, repeat)
        if settings:
            for stmt in settings.split(";"):
                session.execute(stmt)
        plan = pg_plan(session, sql)
        out.append((label, seconds, plan))
    return out


def bench_postgres(server, rows: int, keys: Sequence[int], repeat: int) -> dict[str, Any]:
    server.create_database("fp_src")
    with server.connect("fp_src") as conn:
        seeding.pg_create_table(conn, TABLE, rows)
    with server.connect() as conn:
        for db in ["fp_tgt", *(f"fp_tgt_{k}" for k in keys)]:
            conn.execute(f"CREATE DATABASE {quote(db)} TEMPLATE fp_src")
    expected = {}
    for k in keys:
        expected[k] = changed_keys(rows, k)
        with server.connect(f"fp_tgt_{k}") as conn:
            conn.execute(
                f"UPDATE {qualified(TABLE)} SET status = status || '!' WHERE id = ANY(%s)", (expected[k],)
            )
            conn.execute(f"VACUUM (ANALYZE) {qualified(TABLE)}")
    print(f"# PostgreSQL: {rows:,}-row table ready, {len(keys)} changed copies", flush=True)

    src, tgt = pg_session(server, "fp_src"), pg_session(server, "fp_tgt")
    try:
        shape = table_shape(src, tgt, SCHEMA, TABLE)
        src.rollback()
        tgt.rollback()

        def count() -> int:
            n = src.dialect.count_rows(src, SCHEMA, [TABLE])[TABLE]
            src.rollback()
            return n

        canonical = dataclasses.replace(shape, native=False)  # what a cross-engine pair runs here

        def one_fingerprint(shape=shape) -> str:
            value = fingerprint(src, SCHEMA, TABLE, shape)
            src.rollback()
            return value

        def compare_equal():
            result = compare_table(src, tgt, SCHEMA, TABLE)
            src.rollback()
            tgt.rollback()
            return result

        def count_both() -> None:
            for s in (src, tgt):
                s.dialect.count_rows(s, SCHEMA, [TABLE])
                s.rollback()

        count_s, n = timed(count, repeat)
        assert n == rows, n
        fp_s, value = timed(one_fingerprint, repeat)
        canon_s, _ = timed(lambda: one_fingerprint(canonical), repeat)
        cmp_s, result = timed(compare_equal, repeat)
        assert result.equal, result
        both_s, _ = timed(count_both, repeat)
        breakdown = pg_breakdown(src, canonical, repeat)
        fp_plan = pg_plan(src, _fingerprint_sql(src, shape))
        canon_plan = pg_plan(src, _fingerprint_sql(src, canonical))
    finally:
        tgt.conn.close()
    print("# PostgreSQL: counts and fingerprints done", flush=True)

    bisections = []
    for k in keys:
        tgt = pg_session(server, f"fp_tgt_{k}")
        try:
            tally = Tally()

            def locate(tgt: Session = tgt) -> Any:
                result = compare_table(src, tgt, SCHEMA, TABLE, max_keys=100)
                src.rollback()
                tgt.rollback()
                return result

            locate()  # warm-up, untimed
            with tally.watching(src, tgt):
                started = time.perf_counter()
                result = locate()
                seconds = time.perf_counter() - started
            found = sorted(key for (key,) in result.differing_keys)
            if found != sorted(expected[k])[:100]:
                raise AssertionError(f"bisection found {found[:10]}..., expected {expected[k][:10]}...")
            bisections.append((k, seconds, len(found), result.keys_truncated, tally))
        finally:
            tgt.conn.close()
        print(f"# PostgreSQL: bisection to {k} key(s) done", flush=True)
    src.conn.close()
    return {
        "rows": rows,
        "count": count_s,
        "fingerprint": fp_s,
        "canonical": canon_s,
        "compare": cmp_s,
        "count_both": both_s,
        "breakdown": breakdown,
        "fingerprint_plan": fp_plan,
        "canonical_plan": canon_plan,
        "bisections": bisections,
        "value": value,
    }


def _fingerprint_sql(session: Session, shape) -> str:
    from migration_audit_provider.fingerprint import KeyRange, render

    where, _params = KeyRange().where(session, shape.key)
    if getattr(shape, "native", False):
        values = session.dialect.native_values(session, shape)
        return render(session, "fingerprint/native_table", values=values, table=qualified(TABLE), where=where)
    sql = render(
        session, "fingerprint/table", row=row_expression(session, shape), table=qualified(TABLE), where=where
    )
    return literal_tolerances(sql, shape)


def literal_tolerances(sql: str, shape) -> str:
    """``sql`` with the canonical form's tolerance parameters as integer literals (for EXPLAIN and the
    breakdown, which run without parameters)."""
    norm = getattr(shape, "normalisation", None)
    for name, value in norm.params().items() if norm is not None else ():
        sql = sql.replace(f":{name}", str(int(value)))
    return sql


# -- SQLite ----------------------------------------------------------------------------------------------
def sqlite_session(folder: Path) -> Session:
    dialect = SqliteAuditDialect(NoHook())
    conn = sqlite3.connect(folder / "main.db")
    begin(dialect, conn, [SCHEMA], write=False)
    return Session(dialect, conn)


def bench_sqlite(tmp: Path, rows: int, repeat: int) -> dict[str, Any]:
    src_dir, eq_dir, diff_dir = tmp / "src", tmp / "tgt", tmp / "tgt_1"
    seeding.sqlite_cluster(src_dir)
    seeding.sqlite_create_table(src_dir, TABLE, rows)
    for folder in (eq_dir, diff_dir):
        seeding.sqlite_cluster(folder)
        shutil.copy(src_dir / f"{SCHEMA}.db", folder / f"{SCHEMA}.db")
    key = changed_keys(rows, 1)[0]
    with sqlite3.connect(diff_dir / f"{SCHEMA}.db") as conn:
        conn.execute(f"UPDATE {quote(TABLE)} SET status = status || '!' WHERE id = ?", (key,))
    conn.close()
    src, tgt, diff = sqlite_session(src_dir), sqlite_session(eq_dir), sqlite_session(diff_dir)
    try:
        shape = table_shape(src, tgt, SCHEMA, TABLE)
        count_s, n = timed(lambda: src.dialect.count_rows(src, SCHEMA, [TABLE])[TABLE], repeat)
        assert n == rows, n
        fp_s, _ = timed(lambda: fingerprint(src, SCHEMA, TABLE, shape), repeat)
        canonical = dataclasses.replace(shape, native=False)
        canon_s, _ = timed(lambda: fingerprint(src, SCHEMA, TABLE, canonical), repeat)
        cmp_s, result = timed(lambda: compare_table(src, tgt, SCHEMA, TABLE), repeat)
        assert result.equal
        tally = Tally()
        with tally.watching(src, diff):
            started = time.perf_counter()
            located = compare_table(src, diff, SCHEMA, TABLE, max_keys=100)
            bisect_s = time.perf_counter() - started
        if located.differing_keys != [(key,)]:
            raise AssertionError(f"SQLite bisection found {located.differing_keys}, expected [{key}]")
    finally:
        for s in (src, tgt, diff):
            s.conn.close()
    print("# SQLite: done", flush=True)
    return {"rows": rows, "count": count_s, "fingerprint": fp_s, "canonical": canon_s, "compare": cmp_s,
            "bisect": (1, bisect_s, 1, False, tally)}  # fmt: skip


# -- per-row cost: a size sweep ---------------------------------------------------------------------------
def fit(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """``(fixed seconds, seconds per row)``: the least-squares line through ``(rows, seconds)``."""
    n = len(points)
    mx = sum(r for r, _ in points) / n
    my = sum(t for _, t in points) / n
    var = sum((r - mx) ** 2 for r, _ in points)
    slope = sum((r - mx) * (t - my) for r, t in points) / var if var else 0.0
    return max(my - slope * mx, 0.0), slope


def sweep_sessions(
    db: str, sizes: Sequence[int], make: Callable[[int], tuple[Session, Session]], repeat: int
):
    """``[(rows, native s, canonical s, compare_table s)]`` for tables ``s<rows>`` on two equal sides."""
    out = []
    for rows in sizes:
        src, tgt = make(rows)
        table = f"s{rows}"
        try:
            shape = table_shape(src, tgt, SCHEMA, table)
            canonical = dataclasses.replace(shape, native=False)

            def one(shape=shape, table=table, src=src) -> str:
                value = fingerprint(src, SCHEMA, table, shape)
                src.rollback()
                return value

            def cmp(table=table, src=src, tgt=tgt) -> Any:
                result = compare_table(src, tgt, SCHEMA, table)
                src.rollback()
                tgt.rollback()
                return result

            native_s, _ = timed(one, repeat)
            canon_s, _ = timed(partial(one, canonical), repeat)
            cmp_s, result = timed(cmp, repeat)
            assert result.equal, (db, rows, result)
            out.append((rows, native_s, canon_s, cmp_s))
        finally:
            src.conn.close()
            tgt.conn.close()
        print(f"# {db} sweep: {rows:,} rows done", flush=True)
    return out


def bench_sweep(server, tmp: Path, pg_sizes: Sequence[int], lite_sizes: Sequence[int], repeat: int):
    results = {}
    if pg_sizes:
        server.create_database("sw_src")
        with server.connect("sw_src") as conn:
            for rows in pg_sizes:
                seeding.pg_create_table(conn, f"s{rows}", rows)
        with server.connect() as conn:
            conn.execute("CREATE DATABASE sw_tgt TEMPLATE sw_src")
        results["postgres"] = sweep_sessions(
            "postgres",
            pg_sizes,
            lambda _r: (pg_session(server, "sw_src"), pg_session(server, "sw_tgt")),
            repeat,
        )
    if lite_sizes:
        src_dir, tgt_dir = tmp / "sw_src", tmp / "sw_tgt"
        seeding.sqlite_cluster(src_dir)
        for rows in lite_sizes:
            seeding.sqlite_create_table(src_dir, f"s{rows}", rows)
        seeding.sqlite_cluster(tgt_dir)
        shutil.copy(src_dir / f"{SCHEMA}.db", tgt_dir / f"{SCHEMA}.db")
        results["sqlite"] = sweep_sessions(
            "sqlite", lite_sizes, lambda _r: (sqlite_session(src_dir), sqlite_session(tgt_dir)), repeat
        )
    return results


# -- a refresh by fingerprint mode ------------------------------------------------------------------------
REFRESH_SCHEMA = "rf"
MODES = ("off", "new_complete", "small_and_new", "all")


def parse_layout(text: str) -> list[tuple[int, int]]:
    """``"300x1000,3x1000000"`` -> ``[(300, 1000), (3, 1000000)]`` (tables x rows)."""
    out = []
    for part in text.split(","):
        if part.strip():
            count, rows = part.lower().split("x")
            out.append((int(count), int(rows.replace("_", ""))))
    return out


def layout_tables(layout: Sequence[tuple[int, int]]) -> list[tuple[str, int]]:
    return [(f"t{rows}_{i:04d}", rows) for count, rows in layout for i in range(count)]


def refresh_by_mode(kind: str, repeat: int) -> dict[str, tuple[float, int]]:
    """``{mode: (median seconds, tables fingerprinted)}`` of unchanged refreshes, after init and a
    first refresh (every table complete)."""
    import logging

    from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator

    logging.getLogger("airflow.task").setLevel(logging.WARNING)
    context = {"run_id": f"bench_fingerprint_{kind}", "task_instance": None}
    InitAuditOperator(task_id="init_audit", schema=REFRESH_SCHEMA).execute(context)
    first = RefreshAuditOperator(task_id="refresh_audit", schema=REFRESH_SCHEMA, fingerprint="all")
    summary = first.execute(context)
    assert set(summary["by_status"]) == {"complete"}, summary["by_status"]
    out = {}
    for mode in MODES:
        op = RefreshAuditOperator(task_id="refresh_audit", schema=REFRESH_SCHEMA, fingerprint=mode)
        times, fingerprinted = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            summary = op.execute(context)
            times.append(time.perf_counter() - started)
            fingerprinted = summary["schemas"][REFRESH_SCHEMA]["fingerprinted"]
            assert summary["changed"] == 0, summary
        out[mode] = (median(times), fingerprinted)
        print(f"# {kind} refresh, fingerprint={mode}: {out[mode][0]:.3f} s, {fingerprinted} fingerprinted",
              flush=True)  # fmt: skip
    return out


def bench_refresh_pg(server, layout: Sequence[tuple[int, int]], repeat: int) -> dict[str, Any]:
    import os

    server.create_database("rf_src")
    with server.connect("rf_src") as conn:
        for table, rows in layout_tables(layout):
            seeding.pg_create_table(conn, table, rows, schema=REFRESH_SCHEMA)
    with server.connect() as conn:
        conn.execute("CREATE DATABASE rf_tgt TEMPLATE rf_src")
    os.environ["AIRFLOW_CONN_MIGRATION_SOURCE"] = server.conn_json("rf_src")
    os.environ["AIRFLOW_CONN_MIGRATION_TARGET"] = server.conn_json("rf_tgt")
    print("# PostgreSQL refresh schema ready", flush=True)
    return {"layout": list(layout), "modes": refresh_by_mode("postgres", repeat)}


def bench_refresh_sqlite(tmp: Path, layout: Sequence[tuple[int, int]], repeat: int) -> dict[str, Any]:
    import os

    src_dir, tgt_dir = tmp / "rf_src", tmp / "rf_tgt"
    seeding.sqlite_cluster(src_dir, [REFRESH_SCHEMA])
    for table, rows in layout_tables(layout):
        seeding.sqlite_create_table(src_dir, table, rows, schema=REFRESH_SCHEMA)
    seeding.sqlite_cluster(tgt_dir, [])
    shutil.copy(src_dir / f"{REFRESH_SCHEMA}.db", tgt_dir / f"{REFRESH_SCHEMA}.db")
    for role, folder in (("SOURCE", src_dir), ("TARGET", tgt_dir)):
        os.environ[f"AIRFLOW_CONN_MIGRATION_{role}"] = (
            f'{{"conn_type": "sqlite", "host": "{folder / "main.db"}"}}'
        )
    print("# SQLite refresh schema ready", flush=True)
    return {"layout": list(layout), "modes": refresh_by_mode("sqlite", repeat)}


# -- report ----------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the PostgreSQL table")
    parser.add_argument("--sqlite-rows", type=int, default=200_000, help="rows of the SQLite table (0: skip)")
    parser.add_argument("--keys", default="1,100", help="changed rows the bisection must find, per run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median shown)")
    parser.add_argument(
        "--sweep", default="", help="PostgreSQL table sizes for the per-row cost (e.g. 1000,100000)"
    )
    parser.add_argument("--sqlite-sweep", default="", help="SQLite table sizes for the per-row cost")
    parser.add_argument(
        "--refresh", default="", help="PostgreSQL refresh schema, tables x rows (e.g. 300x1000,3x1000000)"
    )
    parser.add_argument("--sqlite-refresh", default="", help="SQLite refresh schema, tables x rows")
    parser.add_argument("--write", action="store_true", help=f"write the report into {RESULTS.name}")
    args = parser.parse_args(argv)
    keys = report.parse_sizes(args.keys)
    pg_sweep, lite_sweep = report.parse_sizes(args.sweep), report.parse_sizes(args.sqlite_sweep)
    pg_layout, lite_layout = parse_layout(args.refresh), parse_layout(args.sqlite_refresh)
    extra: dict[str, Any] = {}

    import servers

    tmp = Path(tempfile.mkdtemp(prefix="bench-fingerprint-"))
    server = servers.start_server()
    try:
        with server.connect() as conn:
            pg_version = servers.server_version(conn)
        print(f"# machine: {measure.machine(pg_version)}", flush=True)
        print(f"# load average at start: {measure.load_average()}", flush=True)
        pg = bench_postgres(server, args.rows, keys, args.repeat)
        lite = bench_sqlite(tmp, args.sqlite_rows, args.repeat) if args.sqlite_rows else None
        if pg_sweep or lite_sweep:
            extra["sweep"] = bench_sweep(server, tmp, pg_sweep, lite_sweep, args.repeat)
        if pg_layout:
            extra["refresh_postgres"] = bench_refresh_pg(server, pg_layout, args.repeat)
        if lite_layout:
            extra["refresh_sqlite"] = bench_refresh_sqlite(tmp, lite_layout, args.repeat)
        print(f"# load average at end: {measure.load_average()}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_report(pg, lite, extra)
    text = buffer.getvalue()
    print(text, end="")
    if args.write:
        command = "benchmarks/bench_fingerprint.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_results(text, command.strip(), pg_version)
    return 0


def write_results(text: str, command: str, pg_version: str) -> None:
    RESULTS.write_text(
        "# Fingerprint benchmark results\n\n"
        f"Written by `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).\n"
        f"Machine: {measure.machine(pg_version)}; load average {measure.load_average()}.\n\n"
        "Same engine = both sides the same database: the native per-row hash (PostgreSQL: per-column\n"
        "64-bit hashes XOR-combined per row, summed); cross-engine = the canonical MD5 form that a\n"
        "PostgreSQL -> Vertica/SQLite pair runs on the PostgreSQL side. Ratios are to `COUNT(*)` on the\n"
        "same table, warm cache, median of the runs.\n\n```text\n" + text.strip() + "\n```\n",
        encoding="utf-8",
    )


def print_report(
    pg: dict[str, Any], lite: dict[str, Any] | None, extra: dict[str, Any] | None = None
) -> None:
    extra = extra or {}
    print()
    n = pg["rows"]
    rows = [
        ["postgres", f"{n:,}", "COUNT(*) (provider's count_rows)", fmt_seconds(pg["count"]), "1.0x"],
        ["postgres", f"{n:,}", "fingerprint, one side, same engine (native)", fmt_seconds(pg["fingerprint"]),
         f"{pg['fingerprint'] / pg['count']:,.1f}x"],
        ["postgres", f"{n:,}", "fingerprint, one side, cross-engine (canonical MD5)",
         fmt_seconds(pg["canonical"]), f"{pg['canonical'] / pg['count']:,.1f}x"],
        ["postgres", f"{n:,}", "COUNT(*) of both sides", fmt_seconds(pg["count_both"]),
         f"{pg['count_both'] / pg['count']:,.1f}x"],
        ["postgres", f"{n:,}", "compare_table, equal (both sides, same engine)", fmt_seconds(pg["compare"]),
         f"{pg['compare'] / pg['count']:,.1f}x"],
    ]  # fmt: skip
    if lite:
        m = lite["rows"]
        rows += [
            ["sqlite", f"{m:,}", "COUNT(*) (provider's count_rows)", fmt_seconds(lite["count"]), "1.0x"],
            ["sqlite", f"{m:,}", "fingerprint, one side, same engine (native)",
             fmt_seconds(lite["fingerprint"]), f"{lite['fingerprint'] / lite['count']:,.1f}x"],
            ["sqlite", f"{m:,}", "fingerprint, one side, cross-engine (canonical MD5)",
             fmt_seconds(lite["canonical"]), f"{lite['canonical'] / lite['count']:,.1f}x"],
            ["sqlite", f"{m:,}", "compare_table, equal (both sides, same engine)",
             fmt_seconds(lite["compare"]), f"{lite['compare'] / lite['count']:,.1f}x"],
        ]  # fmt: skip
    print_table(["db", "rows", "measurement", "seconds", "vs COUNT(*)"], rows, align="lrlrr")
    print()
    steps = [
        *pg["breakdown"],
        ("fingerprint, cross-engine (provider's table.sql)", pg["canonical"], pg["canonical_plan"]),
        ("fingerprint, same engine (native_table.sql)", pg["fingerprint"], pg["fingerprint_plan"]),
    ]
    print_table(
        ["PostgreSQL step (one side)", "seconds", "vs COUNT(*)", "plan"],
        [[label, fmt_seconds(s), f"{s / pg['count']:,.1f}x", plan] for label, s, plan in steps],
        align="lrrl",
    )
    print()
    bis = [("postgres", n, *b) for b in pg["bisections"]]
    if lite:
        bis.append(("sqlite", lite["rows"], *lite["bisect"]))
    print_table(
        ["db", "rows", "changed rows", "compare_table(max_keys=100) s", "keys found",
         "statements (both sides)", "where the time went"],
        [[db, f"{rows_:,}", str(k), fmt_seconds(s), f"{found}{' (truncated)' if trunc else ''}",
          str(sum(t.count.values())), t.describe()] for db, rows_, k, s, found, trunc, t in bis],
        align="lrrrrrl",
    )  # fmt: skip
    print()
    if extra.get("sweep"):
        print_sweep(extra["sweep"])
    refreshes = [(db, extra[f"refresh_{db}"]) for db in ("postgres", "sqlite") if extra.get(f"refresh_{db}")]
    if refreshes:
        print_refreshes(refreshes)
    ratio = pg["fingerprint"] / pg["count"]
    verdict = "met" if ratio <= GOAL else "MISSED"
    parts = [
        f"same-engine fingerprint {n:,} rows PostgreSQL: {fmt_seconds(pg['fingerprint'])} s vs COUNT(*) "
        f"{fmt_seconds(pg['count'])} s = {ratio:,.1f}x (goal <= {GOAL:g}x: {verdict})",
        f"cross-engine (canonical) {fmt_seconds(pg['canonical'])} s = {pg['canonical'] / pg['count']:,.1f}x",
        f"compare_table equal {fmt_seconds(pg['compare'])} s",
        "bisection " + ", ".join(f"{k} key(s) {fmt_seconds(s)} s" for k, s, *_ in pg["bisections"]),
    ]  # fmt: skip
    if lite:
        lite_ratio = lite["fingerprint"] / lite["count"]
        parts.append(
            f"SQLite {lite['rows']:,} rows: fingerprint native {lite_ratio:,.1f}x, "
            f"canonical {lite['canonical'] / lite['count']:,.1f}x COUNT(*)"
        )
    for db, points in (extra.get("sweep") or {}).items():
        if len(points) > 1:
            (_, native), (_, canon), (fixed, per_row) = per_row_costs(points)
            parts.append(
                f"per row, one side: {db} native {native * 1e6:.2f} us, canonical {canon * 1e6:.2f} us; "
                f"compare_table {fixed * 1e3:.1f} ms per table + {per_row * 1e6:.2f} us per row"
            )
    for db, r in refreshes:
        modes = r["modes"]
        parts.append(
            f"unchanged {db} refresh ({describe_layout(r['layout'])}): "
            + ", ".join(f"{m} {modes[m][0]:.2f} s ({modes[m][1]} fp)" for m in MODES)
        )
    print("SUMMARY " + "; ".join(parts))


def per_row_costs(points) -> tuple[tuple[float, float], ...]:
    """The fitted ``(fixed, per row)`` of the native, canonical and compare_table columns."""
    return tuple(fit([(p[0], p[i]) for p in points]) for i in (1, 2, 3))


def describe_layout(layout) -> str:
    return " + ".join(f"{count:,} x {rows:,} rows" for count, rows in layout)


def print_sweep(sweep: dict[str, list[tuple[int, float, float, float]]]) -> None:
    rows = []
    for db, points in sweep.items():
        for n, native, canon, cmp in points:
            per = [f"{v / n * 1e6:.2f}" if n else "-" for v in (native, canon)]
            rows.append([db, f"{n:,}", fmt_seconds(native), fmt_seconds(canon), fmt_seconds(cmp), *per])
        if len(points) > 1:
            (nf, nr), (cf, cr), (qf, qr) = per_row_costs(points)
            rows.append([db, "fit: fixed + per row", f"{nf * 1e3:.1f} ms + {nr * 1e6:.2f} us",
                         f"{cf * 1e3:.1f} ms + {cr * 1e6:.2f} us", f"{qf * 1e3:.1f} ms + {qr * 1e6:.2f} us",
                         "", ""])  # fmt: skip
    print_table(
        ["db", "rows", "fingerprint native s (one side)", "canonical s (one side)",
         "compare_table equal s (both sides, same engine)", "native us/row", "canonical us/row"],
        rows, align="lrrrrrr",
    )  # fmt: skip
    print()


def print_refreshes(refreshes) -> None:
    rows = []
    for db, r in refreshes:
        base = r["modes"]["off"][0]
        for mode in MODES:
            seconds, fp = r["modes"][mode]
            rows.append([db, describe_layout(r["layout"]), mode, f"{fp:,}", fmt_seconds(seconds),
                         f"{seconds / base:,.1f}x" if base else "-"])  # fmt: skip
    print_table(
        ["db (same engine)", "schema", "fingerprint", "tables fingerprinted", "unchanged refresh s",
         "vs off"],
        rows, align="llllrr",
    )  # fmt: skip
    print()


if __name__ == "__main__":
    sys.exit(main())
