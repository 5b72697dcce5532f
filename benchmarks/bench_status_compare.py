"""Where the status pass compares: the stored rows read into Python, or the observations sent to the database.

Run::

    .venv/bin/python benchmarks/bench_status_compare.py --tables 1000000 --per-schema 10000 --repeat 3

The question behind it (issue #16, status pass (c) "nothing changed" at 1,000,000 tables): can the pass
find the few changed rows faster by shipping what a refresh saw to the database and letting it compare,
instead of reading every stored row out (``read_inputs.sql``) and comparing in Python
(``status.staged_rows``)? Both ways are timed on one audit table of ``--tables`` rows (the store's
``audit`` table, made by ``AuditStore.ensure``; ``complete`` rows), per schema of ``--per-schema``
tables, one transaction per schema as the refresh does, after ``--changed`` of the target counts moved:

* ``read + Python``: the provider today: ``SELECT`` the schema's input columns, fetch them as tuples by
  table name, and pick the observations whose inputs differ (the comparison of ``status._unchanged``);
* ``COPY + join``: ``COPY`` the observations into a session-private ``ON COMMIT DELETE ROWS`` table,
  ``ANALYZE`` it (without, the join plan was 1.6x slower), and one join that returns the rows whose
  inputs differ (``IS DISTINCT FROM`` column by column) or that the audit does not have;
* ``COPY alone``: only the shipping of the observations, the floor of the second way.

Both ways must find the same changed tables (checked every round). Wall seconds, median of ``--repeat``;
opening the connection is excluded. The throwaway server is ``servers.start_server`` (1 GB of shared
buffers: the table is in memory, as on a server that refreshes it every batch).
"""

from __future__ import annotations

import argparse
import gc
import random
import time

import bootstrap  # noqa: F401, I001 - first: paths, and a throwaway Airflow home before Airflow is imported
import servers
from internals import NoHook, Session, audit_store
from measure import median

from migration_audit_provider.dialects.postgres import PostgresAuditDialect

INPUTS = "src_present, src_row_count, tgt_present, tgt_row_count, schema_drift, schema_diff"
FILL = """
INSERT INTO migration.audit (table_schema, table_name, src_row_count, tgt_row_count, export_status,
                             export_success, src_present, tgt_present, schema_drift, update_ts, created_ts)
SELECT 's' || lpad((i / %(per)s)::text, 4, '0'), 'order_lines_' || lpad(i::text, 7, '0'),
       i %% 1000, i %% 1000, 'complete', TRUE, TRUE, TRUE, FALSE, now(), now()
FROM generate_series(0, %(n)s - 1) AS i"""
SEEN = (
    "CREATE TEMPORARY TABLE seen (table_name VARCHAR(128) NOT NULL, src_present BOOLEAN, "
    "src_row_count BIGINT, tgt_present BOOLEAN, tgt_row_count BIGINT, schema_drift BOOLEAN, "
    "schema_diff VARCHAR(4000)) ON COMMIT DELETE ROWS"
)
JOIN = """
SELECT s.table_name FROM seen AS s
LEFT JOIN migration.audit AS a ON a.table_schema = %s AND a.table_name = s.table_name
WHERE a.table_name IS NULL""" + "".join(f"\n   OR a.{c} IS DISTINCT FROM s.{c}" for c in INPUTS.split(", "))


def observations(tables: int, per: int, changed: float, seed: int) -> dict[str, list[tuple]]:
    """Per schema, what a refresh saw: every table present, counts as stored but for ``changed`` of them."""
    rng = random.Random(seed)
    out: dict[str, list[tuple]] = {}
    for i in range(tables):
        count = i % 1000 + (1 if rng.random() < changed else 0)
        out.setdefault(f"s{i // per:04d}", []).append(
            (f"order_lines_{i:07d}", True, i % 1000, True, count, False, None)
        )
    return out


def read_and_compare(session: Session, read_sql: str, schema: str, seen: list[tuple]) -> list[str]:
    """The provider's read (``read_inputs.sql``, columns in ``store.INPUT_COLUMNS`` order), then the diff."""
    stored = {row[0]: row for row in session.execute(read_sql, {"schema": schema}).fetchall()}
    out = []
    for obs in seen:
        old = stored.get(obs[0])
        # the inputs: presence and counts (positions 2-5 stored, 1-4 seen), drift flag and difference
        if old is None or old[2:6] != obs[1:5] or bool(old[8]) != obs[5] or old[9] != obs[6]:
            out.append(obs[0])
    return out


def ship(cur, seen: list[tuple]) -> None:
    with cur.copy("COPY seen FROM STDIN") as copy:
        for row in seen:
            copy.write_row(row)


def copy_and_join(cur, schema: str, seen: list[tuple]) -> list[str]:
    ship(cur, seen)
    cur.execute("ANALYZE seen")
    cur.execute(JOIN, (schema,))
    return sorted(row[0] for row in cur.fetchall())


def timed(conn, by_schema: dict[str, list[tuple]], step) -> tuple[float, dict[str, list[str]]]:
    cur = conn.cursor()
    found = {}
    gc.disable()
    try:
        started = time.perf_counter()
        for schema, seen in by_schema.items():
            found[schema] = step(cur, schema, seen)
            conn.commit()
        return time.perf_counter() - started, found
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1_000_000)
    parser.add_argument("--per-schema", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.001, help="share of target counts moved")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    by_schema = observations(args.tables, args.per_schema, args.changed, args.seed)
    server = servers.start_server()
    try:
        conn = server.connect(autocommit=False)
        store = audit_store(PostgresAuditDialect(NoHook()), "migration")  # the store's own tables
        session = Session(store.dialect, conn)
        store.ensure(session)
        read_sql = store.sql(session, "read_inputs")
        conn.execute(FILL, {"per": args.per_schema, "n": args.tables})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE migration.audit")
        conn.execute(SEEN)
        conn.autocommit = False
        times: dict[str, list[float]] = {"read + Python": [], "COPY + join": [], "COPY alone": []}
        changed = 0
        for _ in range(args.repeat):
            seconds, by_read = timed(
                conn, by_schema, lambda _cur, sch, seen: read_and_compare(session, read_sql, sch, seen)
            )
            times["read + Python"].append(seconds)
            seconds, by_join = timed(conn, by_schema, copy_and_join)
            times["COPY + join"].append(seconds)
            if {s: sorted(t) for s, t in by_read.items()} != by_join:
                raise SystemExit("the two ways found different changed tables")
            changed = sum(map(len, by_join.values()))
            seconds, _ = timed(conn, by_schema, lambda cur, _schema, seen: ship(cur, seen))
            times["COPY alone"].append(seconds)
        conn.close()
    finally:
        server.stop()
    print(f"# {args.tables:,} tables, {args.per_schema:,} per schema, {changed:,} changed")
    print(f"# median of {args.repeat} round(s)")
    print("| db | way | seconds | x read + Python |")
    print("|:--|:--|--:|--:|")
    base = median(times["read + Python"])
    for way, values in times.items():
        print(f"| postgres | {way} | {median(values):.3f} | {median(values) / base:.2f}x |")
    ratio = median(times["COPY + join"]) / base
    print(f"SUMMARY status compare: COPY + join {ratio:.2f}x the time of read + Python ({changed:,} changed)")


if __name__ == "__main__":
    main()
