"""Refresh benchmark: the provider's status pass (``AuditStore.sync``) against the seed's four UPDATEs.

Run::

    .venv/bin/python benchmarks/bench_refresh.py --sizes 10000,100000,1000000

Both sides start from the same fresh counts held in Python (what counting returns) and end with the
audit table updated and committed. **Staging the counts is included on both sides**, and also shown
apart:

* seed: empty the seed's ``migration.current_row_counts(table_schema, table_name, row_count)`` and
  load every fresh count into it (PostgreSQL ``COPY``, SQLite ``executemany``: the fastest loader
  each database has), then the four statements, verbatim (``sysdate()`` -> ``LOCALTIMESTAMP`` /
  ``CURRENT_TIMESTAMP``; SQLite also needs ``AS`` in ``UPDATE migration.audit AS a``);
* provider: ``AuditStore.sync`` (``AuditStore.refresh`` since the redesign, which also writes the run
  log and works out the summary; see ``internals.status_pass``) per schema, one transaction per schema
  as ``RefreshAuditOperator`` does: lock, read the schema's stored inputs, diff in Python, stage the
  changed rows (``bulk_insert``: ``COPY`` / ``executemany``), then the statements after it
  (``decide_status.sql`` until it became the expression they embed). Its staging is the
  ``bulk_insert``; the read and the diff are its comparison, as the seed's first statement is the seed's.

Opening the connection is excluded on both sides. The two sides work on identical copies of one
audit table (the provider's ``create_store`` layout; the seed's statements use a subset of its
columns) in two databases of one PostgreSQL server (or two SQLite folders), one after the other,
in alternating order. The seed's init writes ``tgt_row_count = 0`` (its first statement compares
``a.tgt_row_count <> c.row_count``, never true for NULL); the provider's init leaves it NULL.

Scenarios, per round: (a) first refresh after init, every target count new; (b) incremental: the
target counts of 10% of the tables changed (every partial/overload/reject table fixed by a rerun,
plus complete tables that lost rows); (c) nothing changed since (b). The data: 95% complete, 2%
partial, 1% overload, 2% reject, 2% of source tables empty; table names like ``order_lines_0001234``.

Before each scenario both databases are vacuumed, analyzed and checkpointed (untimed), so each
timed step starts from the same clean table and the first write to every page logs a full-page
image, as after any checkpoint. Reported: wall seconds (median of ``--repeat`` rounds) with the
staging part, rows updated in the audit table, rows written to all store tables (inserts + updates
+ deletes), dead tuples and WAL bytes (PostgreSQL only), and the seed/provider time ratio.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import measure
import report
from internals import NoHook, Session, audit_store, begin, status_pass
from measure import median, stopwatch
from report import fmt_int, fmt_mb, fmt_ratio, fmt_seconds, print_table

from migration_audit_provider.dialects.postgres import PostgresAuditDialect
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.store import COUNT_METHOD, AuditStore, Observation

STORE = "migration"
SCENARIOS = {"a": "(a) first refresh", "b": "(b) 10% changed", "c": "(c) nothing changed"}
SEED_STATEMENTS = (
    """update migration.audit {alias}a
set tgt_row_count = c.row_count,
update_ts = {now}
from migration.current_row_counts c
where a.table_schema = c.table_schema and a.table_name = c.table_name and a.tgt_row_count <> c.row_count""",
    """update migration.audit
set update_ts = {now},
export_success = false,
export_status = 'partial'
where src_row_count > tgt_row_count""",
    """update migration.audit
set update_ts = {now},
export_success = false,
export_status = 'overload'
where src_row_count < tgt_row_count""",
    """update migration.audit
set update_ts = {now},
export_success = false,
export_status = 'reject'
where tgt_row_count = 0""",
)
ONE_PASS = """update migration.audit {alias}a
set tgt_row_count = c.row_count,
    export_status = case when c.row_count = a.src_row_count then 'complete'
                         when c.row_count = 0 then 'reject'
                         when a.src_row_count > c.row_count then 'partial'
                         else 'overload' end,
    export_success = (c.row_count = a.src_row_count),
    update_ts = {now}
from migration.current_row_counts c
where a.table_schema = c.table_schema and a.table_name = c.table_name
  and a.tgt_row_count {distinct} c.row_count"""
"""``--one-pass``: the seed's statements folded into one guarded UPDATE (a reference point, not the
provider: no history, no missing/dropped/pending, statuses in the statement)."""
SEED_STAGE = "migration.current_row_counts"
SEED_STAGE_COLUMNS = ("table_schema", "table_name", "row_count")
SEED_STAGE_DDL = (
    f"CREATE TABLE {SEED_STAGE} "
    "(table_schema VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL, row_count BIGINT)"
)
AUDIT_COLUMNS = (
    "table_schema", "table_name", "src_present", "src_row_count", "tgt_present", "tgt_row_count",
    "src_counted_at", "tgt_counted_at", "count_method", "export_status", "export_success",
    "update_ts", "created_ts", "last_run_id",
)  # fmt: skip
STATUS_PASS = (
    "stage_summary", "prune_unchanged", "record_transitions", "apply_status", "insert_new_tables",
    "clear_stage", "decide_status",
)  # fmt: skip
"""The provider's statements after staging (``sync`` runs them in this order), for ``--profile``."""
WORDS = ("orders", "order_lines", "customers", "invoices", "payments", "shipments", "web_events", "stock")
INIT_TIME = datetime(2026, 1, 1, 12, 0, 0)
COUNT_TIME = datetime(2026, 1, 2, 12, 0, 0)


# -- the data -------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    """N tables over some schemas; source counts; target counts after the data run (A) and after (b)."""

    tables: list[tuple[str, str]]  # (schema, table)
    src: list[int]
    tgt_a: list[int]
    tgt_b: list[int]

    @classmethod
    def make(cls, n: int, schemas: int, seed: int) -> Dataset:
        rnd = random.Random(seed)
        per = -(-n // schemas)
        tables = [(f"app_{i // per:03d}", f"{WORDS[i % len(WORDS)]}_{i:07d}") for i in range(n)]
        src = [0 if rnd.random() < 0.02 else int(10 ** rnd.uniform(1, 7)) for _ in range(n)]
        tgt_a = []
        for s in src:
            u = rnd.random()
            if u < 0.95 or s == 0:
                tgt_a.append(s)  # complete
            elif u < 0.97:
                tgt_a.append(rnd.randint(1, s - 1))  # partial
            elif u < 0.98:
                tgt_a.append(s + rnd.randint(1, s))  # overload
            else:
                tgt_a.append(0)  # reject
        tgt_b = list(tgt_a)
        target = max(1, round(0.10 * n))
        broken = [i for i in range(n) if tgt_a[i] != src[i]]
        for i in broken[:target]:
            tgt_b[i] = src[i]  # a rerun fixed it
        fine = [i for i in range(n) if tgt_a[i] == src[i]]
        for i in rnd.sample(fine, min(len(fine), target - min(len(broken), target))):
            tgt_b[i] = rnd.randint(0, src[i] - 1) if src[i] > 0 else rnd.randint(1, 10)  # lost rows
        return cls(tables, src, tgt_a, tgt_b)

    def by_schema(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for i, (schema, _table) in enumerate(self.tables):
            out[schema].append(i)
        return out

    def init_rows(self, *, seed: bool) -> Iterator[tuple]:
        """Audit rows as init leaves them (``AUDIT_COLUMNS`` order)."""
        for (schema, table), s in zip(self.tables, self.src, strict=True):
            yield (
                schema, table, True, s, None, 0 if seed else None,
                INIT_TIME, None, COUNT_METHOD, "pending", False,
                INIT_TIME, INIT_TIME, "init",
            )  # fmt: skip

    def observations(self, tgt: list[int]) -> dict[str, list[Observation]]:
        """What ``RefreshAuditOperator`` hands to ``sync`` for each schema."""
        return {
            schema: [
                Observation(
                    self.tables[i][1],
                    src_present=True,
                    src_row_count=self.src[i],
                    tgt_present=True,
                    tgt_row_count=tgt[i],
                )
                for i in idx
            ]
            for schema, idx in self.by_schema().items()
        }

    def seed_counts(self, tgt: list[int]) -> list[tuple[str, str, int]]:
        return [(schema, table, n) for (schema, table), n in zip(self.tables, tgt, strict=True)]


# -- measurements ---------------------------------------------------------------------------------------
@dataclass
class Measure:
    seconds: float
    staging: float
    audit_updated: int | None = None
    rows_written: int | None = None
    dead_tuples: int | None = None
    wal_bytes: int | None = None
    steps: dict[str, float] = field(default_factory=dict)


class StepTimer:
    """Times each statement the provider's session runs, by statement file name."""

    def __init__(self, store: AuditStore, session: Session) -> None:
        self.steps: dict[str, float] = defaultdict(float)
        self.names: dict[str, str] = {}
        for name in (*STATUS_PASS, "read_inputs", "read_audit", "stage_counts"):
            try:
                self.names[store.sql(session, name)] = name
            except FileNotFoundError:  # measuring an older version of the provider
                pass
            except KeyError:  # decide_status.sql since 398fadd: an expression the others embed
                pass

    @contextmanager
    def attach(self, session: Session) -> Iterator[None]:
        targets = [(session, "execute"), (session, "fetchall")]
        if hasattr(session.dialect, "bulk_insert"):
            targets.append((session.dialect, "bulk_insert"))
        else:  # an older version of the provider staged with executemany
            targets.append((session, "executemany"))
        for obj, method in targets:
            original = getattr(obj, method)

            def timed(*args, _original=original, _method=method, **kwargs):
                sql = args[1] if _method == "bulk_insert" else args[0]
                label = self.names.get(sql, sql.strip().split("\n")[0][:40])
                if _method in ("fetchall", "executemany", "bulk_insert"):
                    label += f" ({_method})"
                with stopwatch() as elapsed:
                    result = _original(*args, **kwargs)
                self.steps[label] += elapsed()
                return result

            setattr(obj, method, timed)
        try:
            yield
        finally:
            for obj, method in targets:
                delattr(obj, method)


def run_provider(store: AuditStore, conn: Any, observations: dict[str, list[Observation]], begin: str | None):
    """``sync`` per schema, committing each (``begin``: the statement that reopens a transaction)."""
    session = Session(store.dialect, conn)
    timer = StepTimer(store, session)
    updated = 0
    with stopwatch() as elapsed, timer.attach(session):
        for schema, obs in observations.items():
            updated += status_pass(
                store, session, schema, obs, context={"run_id": "bench_refresh"}, counted_at=COUNT_TIME
            )
            with stopwatch() as commit:
                conn.commit()
                if begin:
                    conn.execute(begin)
            timer.steps["commit"] += commit()
    staging = sum(v for k, v in timer.steps.items() if k.startswith("stage_counts"))
    return elapsed(), staging, updated, dict(timer.steps)


# -- the two databases --------------------------------------------------------------------------------------
class PostgresBackend:
    name = "postgres"

    def __init__(self, data: Dataset, server: Any, prefix: str, sides: tuple[str, ...]) -> None:
        self.data = data
        self.dbs = {side: f"{prefix}_{side}" for side in sides}
        for db in self.dbs.values():
            server.create_database(db)
        self.store = audit_store(PostgresAuditDialect(NoHook()), STORE)
        self.conn = {side: server.connect(db, autocommit=False) for side, db in self.dbs.items()}
        self.watch = {side: server.connect(db, autocommit=True) for side, db in self.dbs.items()}
        for side, conn in self.conn.items():
            session = Session(self.store.dialect, conn)
            self.store.ensure(session)
            if side != "provider":  # the seed's own stage, in place of the provider's
                session.execute(f"DROP TABLE IF EXISTS {SEED_STAGE}")
                session.execute(SEED_STAGE_DDL)
            conn.commit()

    def reset(self) -> None:
        for side, conn in self.conn.items():
            stage = "" if side == "provider" else f", {SEED_STAGE}"  # the provider's stage is per session
            conn.execute(f"TRUNCATE migration.audit, migration.audit_history{stage}")
            with conn.cursor().copy(f"COPY migration.audit ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
                for row in self.data.init_rows(seed=side == "seed"):
                    copy.write_row(row)
            conn.commit()
        self.settle()

    def settle(self) -> None:
        for watch in self.watch.values():
            watch.execute("VACUUM ANALYZE")
        self.watch["seed"].execute("CHECKPOINT")

    def measure(self, side: str, work: Callable[[], tuple[float, float, int, dict]]) -> Measure:
        import servers

        watch = self.watch[side]
        before, lsn = servers.stat_snapshot(watch, STORE), servers.wal_lsn(watch)
        seconds, staging, updated, steps = work()
        servers.flush_stats(self.conn[side])
        self.conn[side].commit()
        wal = servers.wal_bytes(watch, lsn)
        after = servers.stat_snapshot(watch, STORE)
        delta = {
            t: [a - b for a, b in zip(after[t], before.get(t, (0, 0, 0, 0)), strict=True)] for t in after
        }
        return Measure(
            seconds,
            staging,
            audit_updated=delta["audit"][1],
            rows_written=sum(d[0] + d[1] + d[2] for d in delta.values()),
            dead_tuples=sum(max(d[3], 0) for d in delta.values()),
            wal_bytes=wal,
            steps=steps,
        )

    def provider(self, observations: dict[str, list[Observation]]) -> Measure:
        return self.measure(
            "provider", lambda: run_provider(self.store, self.conn["provider"], observations, None)
        )

    def seed(self, counts: list[tuple[str, str, int]], side: str = "seed") -> Measure:
        conn = self.conn[side]
        statements = SEED_STATEMENTS if side == "seed" else (ONE_PASS,)

        def work():
            with stopwatch() as elapsed:
                with stopwatch() as staging:
                    conn.execute(f"TRUNCATE {SEED_STAGE}")
                    with conn.cursor().copy(
                        f"COPY {SEED_STAGE} ({', '.join(SEED_STAGE_COLUMNS)}) FROM STDIN"
                    ) as cp:
                        for row in counts:
                            cp.write_row(row)
                updated = sum(
                    conn.execute(
                        sql.format(alias="", now="LOCALTIMESTAMP", distinct="IS DISTINCT FROM")
                    ).rowcount
                    for sql in statements
                )
                conn.commit()
            return elapsed(), staging(), updated, {}

        return self.measure(side, work)

    def same_counts(self) -> bool:
        q = "SELECT COUNT(*), SUM(tgt_row_count) FROM migration.audit"
        return len({watch.execute(q).fetchone() for watch in self.watch.values()}) == 1

    def close(self) -> None:
        for conn in (*self.conn.values(), *self.watch.values()):
            conn.close()


class SqliteBackend:
    name = "sqlite"

    def __init__(self, data: Dataset, folder: Path, sides: tuple[str, ...]) -> None:
        self.data = data
        self.sides = sides
        self.store = audit_store(SqliteAuditDialect(NoHook()), STORE)
        self.main = {}
        for side in sides:
            (folder / side).mkdir(parents=True)
            self.main[side] = folder / side / "main.db"
            sqlite3.connect(self.main[side]).close()
            conn = self.open(side)
            session = Session(self.store.dialect, conn)
            self.store.ensure(session)
            if side != "provider":
                session.execute(f"DROP TABLE IF EXISTS {SEED_STAGE}")
                session.execute(SEED_STAGE_DDL)
            conn.commit()
            conn.close()

    def open(self, side: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.main[side])
        begin(self.store.dialect, conn, [STORE], write=True)  # attach, BEGIN IMMEDIATE
        return conn

    def reset(self) -> None:
        marks = ", ".join("?" * len(AUDIT_COLUMNS))
        for side in self.sides:
            conn = self.open(side)
            stage = () if side == "provider" else (SEED_STAGE,)  # the provider's stage is per session
            for table in ("migration.audit", "migration.audit_history", *stage):
                conn.execute(f"DELETE FROM {table}")
            conn.executemany(
                f"INSERT INTO migration.audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks})",
                [
                    tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row)
                    for row in self.data.init_rows(seed=side == "seed")
                ],
            )
            conn.commit()
            conn.close()
        self.settle()

    def settle(self) -> None:
        for side in self.sides:
            conn = self.open(side)
            conn.commit()
            conn.execute("VACUUM migration")
            conn.execute("ANALYZE migration")
            conn.close()

    def provider(self, observations: dict[str, list[Observation]]) -> Measure:
        conn = self.open("provider")
        try:
            start = conn.total_changes
            seconds, staging, updated, steps = run_provider(self.store, conn, observations, "BEGIN IMMEDIATE")
            conn.commit()
            return Measure(seconds, staging, updated, conn.total_changes - start, steps=steps)
        finally:
            conn.close()

    def seed(self, counts: list[tuple[str, str, int]], side: str = "seed") -> Measure:
        conn = self.open(side)
        statements = SEED_STATEMENTS if side == "seed" else (ONE_PASS,)
        try:
            start = conn.total_changes
            with stopwatch() as elapsed:
                with stopwatch() as staging:
                    conn.execute(f"DELETE FROM {SEED_STAGE}")
                    conn.executemany(
                        f"INSERT INTO {SEED_STAGE} ({', '.join(SEED_STAGE_COLUMNS)}) VALUES (?, ?, ?)", counts
                    )
                updated = sum(
                    conn.execute(sql.format(alias="AS ", now="CURRENT_TIMESTAMP", distinct="IS NOT")).rowcount
                    for sql in statements
                )
                conn.commit()
            return Measure(elapsed(), staging(), updated, conn.total_changes - start)
        finally:
            conn.close()

    def same_counts(self) -> bool:
        q = "SELECT COUNT(*), SUM(tgt_row_count) FROM migration.audit"
        conns = {side: self.open(side) for side in self.sides}
        try:
            return len({conn.execute(q).fetchone() for conn in conns.values()}) == 1
        finally:
            for conn in conns.values():
                conn.close()

    def close(self) -> None:
        pass


# -- the run ----------------------------------------------------------------------------------------------
def run_backend(
    backend: Any, data: Dataset, repeat: int, sides: tuple[str, ...]
) -> dict[str, dict[str, list[Measure]]]:
    results: dict[str, dict[str, list[Measure]]] = {s: {side: [] for side in sides} for s in SCENARIOS}
    obs = {"a": data.observations(data.tgt_a), "b": data.observations(data.tgt_b)}
    counts = {"a": data.seed_counts(data.tgt_a), "b": data.seed_counts(data.tgt_b)}
    for round_no in range(repeat):
        backend.reset()
        for scenario, key in (("a", "a"), ("b", "b"), ("c", "b")):
            for side in sides if round_no % 2 == 0 else reversed(sides):
                m = backend.provider(obs[key]) if side == "provider" else backend.seed(counts[key], side)
                results[scenario][side].append(m)
            if not backend.same_counts():
                raise AssertionError(f"{backend.name}: the two sides hold different target counts")
            backend.settle()
    return results


def typical(ms: list[Measure]) -> Measure:
    """The median time (and staging) over the rounds; row and WAL figures of the last round."""
    steps: dict[str, float] = defaultdict(float)
    for m in ms:
        for k, v in m.steps.items():
            steps[k] += v / len(ms)
    last = ms[-1]
    return Measure(
        median([m.seconds for m in ms]),
        median([m.staging for m in ms]),
        last.audit_updated,
        last.rows_written,
        last.dead_tuples,
        last.wal_bytes,
        dict(steps),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="audit table sizes (rows = tables)")
    parser.add_argument("--backends", default="postgres,sqlite", help="postgres and/or sqlite")
    parser.add_argument(
        "--tables-per-schema",
        type=int,
        default=10_000,
        help="schema size (default 10,000: 1,000,000 tables = 100 schemas); 0 puts all in one schema",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size; the median time is shown")
    parser.add_argument("--seed", type=int, default=5, help="random seed of the data set")
    parser.add_argument("--profile", action="store_true", help="also print the provider's time per statement")
    parser.add_argument(
        "--one-pass",
        action="store_true",
        help="also time the seed's statements folded into one guarded UPDATE (a reference point)",
    )
    args = parser.parse_args(argv)
    sides = ("seed", "provider", "one-pass") if args.one_pass else ("seed", "provider")
    sizes = report.parse_sizes(args.sizes)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    per = args.tables_per_schema

    server = None
    rows_out: list[list[str]] = []
    summary: list[str] = []
    profiles: list[tuple[str, Measure]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    try:
        pg_version = None
        if "postgres" in backends:
            import servers

            server = servers.start_server()
            with server.connect() as conn:
                pg_version = servers.server_version(conn)
        layout = "one schema" if per <= 0 else f"{per:,} tables per schema"
        print(f"# machine: {measure.machine(pg_version)}")
        print(f"# layout: {layout}; median of {args.repeat} round(s); staging included on both sides")
        for n in sizes:
            data = Dataset.make(n, 1 if per <= 0 else max(1, -(-n // per)), args.seed)
            for name in backends:
                if name == "postgres":
                    backend: Any = PostgresBackend(data, server, f"refresh_{n}", sides)
                else:
                    backend = SqliteBackend(data, tmp / f"sqlite-{n}", sides)
                try:
                    results = run_backend(backend, data, args.repeat, sides)
                finally:
                    backend.close()
                ratios = []
                for scenario, label in SCENARIOS.items():
                    typ = {side: typical(results[scenario][side]) for side in sides}
                    seed_m, prov_m = typ["seed"], typ["provider"]
                    rows = f"{prov_m.audit_updated:,} vs {seed_m.audit_updated:,}"
                    ratios.append(f"{scenario} {seed_m.seconds / prov_m.seconds:.1f}x (rows updated {rows})")
                    for side, m in typ.items():
                        other = side != "seed"
                        bare = _ratio(seed_m.seconds - seed_m.staging, m.seconds - m.staging)
                        rows_out.append(
                            [
                                name, f"{n:,}", label, side, fmt_seconds(m.seconds),
                                fmt_seconds(m.staging), fmt_seconds(m.seconds - m.staging),
                                fmt_int(m.audit_updated), fmt_int(m.rows_written), fmt_int(m.dead_tuples),
                                fmt_mb(m.wal_bytes),
                                _ratio(seed_m.seconds, m.seconds) if other else "",
                                bare if other else "",
                            ]
                        )  # fmt: skip
                    profiles.append((f"{name} {n:,} {label}", prov_m))
                summary.append(f"{name} {n:,}: " + ", ".join(ratios))
                print(f"# done: {summary[-1]}", flush=True)
        print()
        print_table(
            ["db", "tables", "scenario", "side", "seconds", "of which staging", "without staging",
             "audit rows updated", "rows written", "dead tuples", "WAL MB", "seed / this",
             "seed / this, without staging"],
            rows_out,
            align="lrllrrrrrrrrr",
        )  # fmt: skip
        if args.profile:
            for label, m in profiles:
                print(f"\n# provider, {label}: seconds per step (median round)")
                for step, seconds in sorted(m.steps.items(), key=lambda kv: -kv[1]):
                    print(f"#   {seconds:8.3f}  {step}")
        print()
        print(f"SUMMARY refresh, seed time / provider time ({layout}): " + "; ".join(summary))
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _ratio(seed: float, provider: float) -> str:
    return fmt_ratio(seed / provider) if provider > 0 else "-"


if __name__ == "__main__":
    raise SystemExit(main())
