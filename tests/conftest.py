"""Test set-up: an isolated Airflow home, a throwaway PostgreSQL server, SQLite "clusters".

Airflow reads its configuration when first imported, so the environment is set here, before any
test module imports it.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="ma-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow.db'}")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from pg_server import PgServer  # noqa: E402

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    server = PgServer.start()
    yield server
    server.stop()


class Cluster:
    """One side of a migration in a test: an Airflow connection id plus direct access for set-up."""

    def __init__(self, conn_id: str, kind: str, **info):
        self.conn_id = conn_id
        self.kind = kind
        self.info = info

    # direct (non-Airflow) access for arranging and asserting
    def execute(self, sql: str, params=(), schemas=()):
        conn = self.raw(schemas)
        try:
            cur = conn.cursor()
            cur.execute(sql, params)
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()

    @property
    def ph(self) -> str:
        """The driver's positional parameter marker."""
        return "?" if self.kind == "sqlite" else "%s"

    def raw(self, schemas=()):
        if self.kind == "postgres":
            return self.info["server"].connect(self.info["dbname"], autocommit=False)
        if self.kind == "vertica":  # through the emulator and the real vertica-python driver
            return self.info["emulator"].connect(self.info["cluster"])
        import sqlite3

        conn = sqlite3.connect(self.info["main"])
        for schema in schemas:
            conn.execute(
                "ATTACH DATABASE ? AS " + quote(schema), (str(self.info["folder"] / f"{schema}.db"),)
            )
        return conn

    def create_schema(self, schema: str) -> None:
        if self.kind in ("postgres", "vertica"):
            self.execute(f"CREATE SCHEMA {quote(schema)}")
        else:
            import sqlite3

            sqlite3.connect(self.info["folder"] / f"{schema}.db").close()

    def create_table(
        self, schema: str, table: str, rows: int, columns: str = "id INTEGER, name TEXT"
    ) -> None:
        self.execute(f"CREATE TABLE {quote(schema)}.{quote(table)} ({columns})", schemas=[schema])
        if rows:
            self.insert_rows(schema, table, rows)

    def insert_rows(self, schema: str, table: str, rows: int, start: int = 0) -> None:
        ph = self.ph
        conn = self.raw([schema])
        if self.kind == "vertica":  # the driver's executemany parses only plain names: load with COPY
            data = "".join(f"{i}|row {i}\n" for i in range(start, start + rows))
            try:
                conn.cursor().copy(f"COPY {quote(schema)}.{quote(table)} (id, name) FROM STDIN", data)
            finally:
                conn.close()
            return
        try:
            conn.cursor().executemany(
                f"INSERT INTO {quote(schema)}.{quote(table)} (id, name) VALUES ({ph}, {ph})",
                [(i, f"row {i}") for i in range(start, start + rows)],
            )
            conn.commit()
        finally:
            conn.close()

    def count(self, schema: str, table: str) -> int:
        return self.execute(f"SELECT COUNT(*) FROM {quote(schema)}.{quote(table)}", schemas=[schema])[0][0]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _make_cluster(kind: str, role: str, monkeypatch, tmp_path, request) -> Cluster:
    conn_id = f"migration_{role}"
    if kind == "vertica":
        emulator = request.getfixturevalue("vertica_emulator")
        cluster = f"{role}_{os.getpid()}_{next(_counter)}"
        emulator.add_cluster(cluster)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emulator.conn_json(cluster))
        return Cluster(conn_id, kind, emulator=emulator, cluster=cluster)
    if kind == "postgres":
        server = request.getfixturevalue("pg_server")
        dbname = f"{role}_{os.getpid()}_{next(_counter)}"
        server.create_database(dbname)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", server.conn_json(dbname))
        return Cluster(conn_id, kind, server=server, dbname=dbname)
    folder = tmp_path / role
    folder.mkdir()
    main = folder / "main.db"
    import sqlite3

    sqlite3.connect(main).close()
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", f'{{"conn_type": "sqlite", "host": "{main}"}}')
    return Cluster(conn_id, kind, folder=folder, main=main)


@pytest.fixture(params=["sqlite", "postgres", "vertica"])
def kind(request):
    return request.param


@pytest.fixture
def source(kind, monkeypatch, tmp_path, request) -> Cluster:
    return _make_cluster(kind, "source", monkeypatch, tmp_path, request)


@pytest.fixture
def target(kind, monkeypatch, tmp_path, request) -> Cluster:
    return _make_cluster(kind, "target", monkeypatch, tmp_path, request)


@pytest.fixture
def context():
    """The part of an Airflow task context the operators read."""
    return {"run_id": "manual__test", "task_instance": None}


def audit_rows(target: Cluster, schema: str) -> dict[str, tuple]:
    """``{table: (status, src, tgt, export_success, update_ts)}`` read straight from the audit table."""
    ph = target.ph
    rows = target.execute(
        "SELECT table_name, export_status, src_row_count, tgt_row_count, export_success, update_ts "
        f"FROM migration.audit WHERE table_schema = {ph}",
        (schema,),
        schemas=["migration"],
    )
    return {r[0]: (r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows}


def history_rows(target: Cluster, schema: str) -> list[tuple]:
    ph = target.ph
    return target.execute(
        "SELECT table_name, event_type, old_status, new_status, src_row_count, tgt_row_count, run_id "
        f"FROM migration.audit_history WHERE table_schema = {ph} ORDER BY event_id",
        (schema,),
        schemas=["migration"],
    )


def store_exists(target: Cluster) -> bool:
    if target.kind == "postgres":
        return bool(
            target.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'migration'")
        )
    if target.kind == "vertica":
        return bool(target.execute("SELECT 1 FROM v_catalog.schemata WHERE schema_name = 'migration'"))
    path = target.info["folder"] / "migration.db"
    if not path.exists():
        return False
    import sqlite3

    with sqlite3.connect(path) as conn:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchall())


# --- Vertica emulator (tests/vertica_emulator, issue #13): the session-scoped `vertica_emulator` fixture ---
from vertica_emulator.fixtures import vertica_emulator  # noqa: F401,E402
