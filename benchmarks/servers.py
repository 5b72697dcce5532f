"""Throwaway PostgreSQL servers for the benchmarks, and the server counters they report.

:func:`start_server` is the tests' ``PgServer``, restarted with settings closer to production; the
other functions read what a step cost the server (WAL inserted, rows written per table).

The tests start their server with ``fsync``, ``synchronous_commit`` and ``full_page_writes`` off:
fast and disposable. A benchmark that reports WAL volume should see what a real server writes, so
:func:`start_server` restarts it with ``full_page_writes`` on (WAL then carries full-page images
after each checkpoint, as in production), 1 GB of shared buffers (the 1,000,000-row audit table
fits) and autovacuum off, so that no vacuum starts in the middle of a timed step (the scripts
vacuum between steps themselves, untimed). ``fsync`` and ``synchronous_commit`` stay off: the
disk's flush latency is not what is compared.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from pg_server import PgServer  # noqa: E402

__all__ = [
    "PgServer",
    "flush_stats",
    "server_version",
    "start_server",
    "stat_snapshot",
    "wal_bytes",
    "wal_lsn",
]


def start_server(*, shared_buffers: str = "1GB", max_connections: int = 200) -> PgServer:
    """Start the tests' server and restart it with the benchmark settings (see the module docstring).

    :param max_connections: also sizes the lock table (``max_locks_per_transaction`` x this);
        PostgreSQL's default is 100.
    """
    server = PgServer.start()
    options = (
        f"-p {server.port} -k {server.datadir} -c listen_addresses=127.0.0.1 "
        f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=on -c autovacuum=off "
        f"-c shared_buffers={shared_buffers} -c max_wal_size=4GB"
    )
    try:
        # -o replaces the options the server was started with; -l keeps its output out of our pipes.
        server._run("pg_ctl", "-D", str(server.datadir), "-o", options, "-l", str(server.datadir / "log"),
                    "-m", "fast", "-w", "restart")  # fmt: skip
    except BaseException:
        server.stop()
        raise
    return server


def server_version(conn) -> str:
    return conn.execute("SHOW server_version").fetchone()[0]


def wal_lsn(conn) -> str:
    """Where WAL is being inserted now. ``pg_current_wal_lsn()`` is where it has been *written*: with
    ``synchronous_commit`` off, up to ``wal_buffers`` (16 MB here) of a finished step may not be."""
    return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]


def wal_bytes(conn, start_lsn: str) -> int:
    """WAL bytes inserted since ``start_lsn`` (a :func:`wal_lsn`), by every backend of the server."""
    row = conn.execute(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", (start_lsn,)
    ).fetchone()
    return int(row[0])


def flush_stats(conn) -> None:
    """Make this backend publish its table counters before it answers (PostgreSQL 15+)."""
    conn.execute("SELECT pg_stat_force_next_flush()")


def stat_snapshot(conn, schema: str) -> dict[str, tuple[int, int, int, int]]:
    """``{table: (n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup)}`` for one schema, read afresh.

    The backends that did the work must have published their counters first (:func:`flush_stats`).
    """
    conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = conn.execute(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup "
        "FROM pg_stat_user_tables WHERE schemaname = %s",
        (schema,),
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}
