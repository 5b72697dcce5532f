"""Benchmark data: the benchmark table in PostgreSQL and SQLite, and quoting for the scripts' SQL.

The benchmark table has a realistic ~150-byte row (``bigint`` key, ``integer``, two short and one
long ``text``, ``numeric(12,2)``, ``timestamp``; one ``note`` in ten is NULL), generated inside
PostgreSQL (``generate_series``) or SQLite (a recursive CTE), so no row passes through Python.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
