"""One refresh of one schema: its audit rows read once (under the lock), one connection per cluster.

Measured on a real PostgreSQL server: connections are counted where psycopg opens them, statements
where the session sends them.
"""

from __future__ import annotations

import pytest
from conftest import _make_cluster
from psycopg.connection import Connection as PgConnection

from migration_audit_provider.dialects.session import Session
from migration_audit_provider.operators.audit import InitAuditOperator, RefreshAuditOperator
from migration_audit_provider.records import column_list
from migration_audit_provider.store import INPUT_COLUMNS


@pytest.fixture
def pg_pair(monkeypatch, tmp_path, request):
    source = _make_cluster("postgres", "source", monkeypatch, tmp_path, request)
    target = _make_cluster("postgres", "target", monkeypatch, tmp_path, request)
    for cluster in (source, target):
        cluster.create_schema("sales")
        for i in range(5):
            cluster.create_table("sales", f"t{i}", 3 if cluster is source or i else 0)
    return source, target


def spy(monkeypatch):
    connects: list[str] = []
    statements: list[str] = []
    original_connect = PgConnection.connect.__func__
    original_execute = Session.execute

    def connect(cls, *args, **kwargs):
        connects.append(kwargs.get("dbname") or kwargs.get("conninfo", ""))
        return original_connect(cls, *args, **kwargs)

    def execute(self, sql, params=None):
        statements.append(sql)
        return original_execute(self, sql, params)

    monkeypatch.setattr(PgConnection, "connect", classmethod(connect))
    monkeypatch.setattr(Session, "execute", execute)
    return connects, statements


@pytest.mark.parametrize("fingerprint", ["off", "all"])
def test_one_refresh_reads_the_audit_once_and_opens_each_connection_once(
    pg_pair, context, monkeypatch, fingerprint
):
    source, target = pg_pair
    InitAuditOperator(task_id="init", schema="sales").execute(context)
    connects, statements = spy(monkeypatch)

    refresh = RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint=fingerprint)
    summary = refresh.execute(context)

    assert summary["by_status"] == {"complete": 4, "reject": 1}
    assert sorted(connects) == sorted([source.info["dbname"], target.info["dbname"]]), connects
    audit = 'FROM "migration"."audit"\nWHERE table_schema = :schema'
    row_reads = [i for i, s in enumerate(statements) if audit in s]
    assert len(row_reads) == 1, [statements[i] for i in row_reads]  # the summary too is from this read
    assert column_list(INPUT_COLUMNS) in statements[row_reads[0]]
    locks = [i for i, s in enumerate(statements) if "pg_advisory_xact_lock" in s]
    assert locks and locks[-1] < row_reads[0]  # the rows are read under the schema's lock
    # One catalog read per side: the fingerprints take their columns from it, not a query per table.
    from migration_audit_provider.sql import load_statement

    per_table = load_statement("fingerprint/column_types", "postgres")
    whole = load_statement("list_schema_columns", "postgres")
    assert statements.count(per_table) == 0 and statements.count(whole) == 2
    assert summary["schemas"]["sales"]["fingerprinted"] == (4 if fingerprint == "all" else 0)  # t0: reject


def test_a_task_refreshing_every_schema_connects_once_per_cluster(pg_pair, context, monkeypatch):
    source, target = pg_pair
    for cluster in (source, target):
        cluster.create_schema("hr")
        cluster.create_table("hr", "staff", 2)
    for schema in ("sales", "hr"):
        InitAuditOperator(task_id="init", schema=schema).execute(context)
    connects, statements = spy(monkeypatch)

    summary = RefreshAuditOperator(task_id="refresh", schema=None, fingerprint="off").execute(context)

    assert list(summary["schemas"]) == ["hr", "sales"] and summary["tables"] == 6
    assert sorted(connects) == sorted([source.info["dbname"], target.info["dbname"]]), connects
    locks = [s for s in statements if "pg_advisory_xact_lock" in s]
    assert len(locks) == 1 + 2 * 2  # the store once for the list, then store + schema per schema


def test_postgres_counts_small_tables_in_serial_batches_and_big_ones_alone(pg_pair, context, monkeypatch):
    from migration_audit_provider.dialects import postgres

    source, target = pg_pair
    source.create_table("sales", "big", 0)
    source.execute("INSERT INTO sales.big SELECT g, 'row ' || g FROM generate_series(1, 20000) g")
    source.execute("ANALYZE sales.big")  # what autovacuum does soon after a big load; the plan reads it
    monkeypatch.setattr(postgres, "BIG_TABLE_BYTES", 512 * 1024)  # "big" is ~1 MB; the others ~16 kB
    _, statements = spy(monkeypatch)

    summary = InitAuditOperator(task_id="init", schema="sales").execute(context)

    assert summary["by_status"] == {"pending": 6}
    counts = [s for s in statements if "COUNT(*) AS n FROM" in s]
    assert len(counts) == 2, counts  # one batch of the five small tables, one statement for the big one
    assert '"big"' not in counts[0] and counts[0].count("UNION ALL") == 4
    assert counts[1] == 'SELECT 0 AS pos, COUNT(*) AS n FROM "sales"."big"'
    serial = [i for i, s in enumerate(statements) if "max_parallel_workers_per_gather" in s]
    assert len(serial) == 1 and serial[0] < statements.index(counts[0])  # only the small batch is serial
    rows = target.execute("SELECT src_row_count FROM migration.audit WHERE table_name = 'big'")
    assert rows == [(20000,)]


def test_postgres_column_catalog_read_equals_information_schema(pg_pair):
    from migration_audit_provider.sql import load_statement

    source, _ = pg_pair
    source.execute(
        "CREATE DOMAIN sales.money2 AS NUMERIC(12,2) NOT NULL; CREATE DOMAIN sales.code AS VARCHAR(7); "
        "CREATE TYPE sales.mood AS ENUM ('ok', 'sad'); "
        'CREATE TABLE sales."Odd" (a INT NOT NULL, b BIGINT, c VARCHAR(50), d CHAR(3), e TEXT, '
        "f NUMERIC(10,2), g NUMERIC, h DOUBLE PRECISION, i REAL, j BOOLEAN, k DATE, l TIMESTAMP(3), "
        "m TIMESTAMPTZ, n BYTEA, o INT[], p sales.money2, q sales.mood, r SMALLINT, s TIME, "
        "t BIT(3), u VARBIT(5), v VARCHAR, w CHAR, x sales.code, y NUMERIC(7), "
        'dropped INT); ALTER TABLE sales."Odd" DROP COLUMN dropped'
    )
    portable = load_statement("list_schema_columns", "").replace(":schema", "%s")
    assert "information_schema.columns" in portable
    expected = source.execute(portable, ("sales",))
    assert len(expected) == 5 * 2 + 25

    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from migration_audit_provider.dialects.postgres import PostgresAuditDialect
    from migration_audit_provider.dialects.session import Session

    conn = source.raw()
    try:
        session = Session(PostgresAuditDialect(PostgresHook()), conn)
        dialect = session.dialect
        own = [tuple(r.values()) for r in dialect.list_schema_columns(session, "sales")]  # lists first
        assert list(session.catalog) == ["sales"] and len(session.catalog["sales"]) == 6
        assert own == expected
        # The catalog read is kept for the session: table sizes come from it too, with no new read.
        assert set(dialect.table_sizes(session, "sales")) == {"Odd", "t0", "t1", "t2", "t3", "t4"}
    finally:
        conn.close()


def test_the_status_pass_stages_in_a_session_private_table(pg_pair, context, monkeypatch):
    """The changed rows go through a temporary table of the target session (no WAL, no dead tuples in
    the store), made only when something is staged; the store's schema never holds a stage."""
    from migration_audit_provider.dialects.postgres import PostgresAuditDialect

    source, target = pg_pair
    staged_into: list[tuple[str, str, int]] = []
    original = PostgresAuditDialect.bulk_insert

    def bulk_insert(self, session, insert_sql, table_sql, columns, rows):
        original(self, session, insert_sql, table_sql, columns, rows)
        found = session.fetchall(
            "SELECT c.relpersistence, n.nspname = pg_my_temp_schema()::regnamespace::text, "
            f"(SELECT count(*) FROM {table_sql}) FROM pg_class c JOIN pg_namespace n "
            f"ON n.oid = c.relnamespace WHERE c.oid = to_regclass('{table_sql}')"
        )
        staged_into.append((table_sql, *found[0]))

    monkeypatch.setattr(PostgresAuditDialect, "bulk_insert", bulk_insert)
    InitAuditOperator(task_id="init", schema="sales").execute(context)
    assert staged_into == [('"pg_temp"."migration_audit_stage"', "t", True, 5)]

    target.execute("INSERT INTO sales.t0 VALUES (1, 'late')")
    RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint="off").execute(context)
    assert staged_into[1:] == [('"pg_temp"."migration_audit_stage"', "t", True, 5)]  # 5 new target counts
    RefreshAuditOperator(task_id="refresh", schema="sales", fingerprint="off").execute(context)
    assert len(staged_into) == 2  # nothing changed: nothing staged, no stage made

    store_tables = target.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'migration' AND c.relkind = 'r' ORDER BY 1"
    )
    assert [r[0] for r in store_tables] == [
        "audit", "audit_history", "audit_leases", "audit_runs", "audit_store_version"
    ]  # fmt: skip


def test_postgres_fingerprint_catalog_reads_equal_information_schema(pg_pair):
    """The per-table column and key reads of a fingerprint, from pg_catalog by index: the portable
    information_schema queries' rows, for odd types, a domain and a composite key out of column order."""
    from migration_audit_provider.sql import load_statement

    source, _ = pg_pair
    source.execute(
        "CREATE DOMAIN sales.amount AS NUMERIC(12,2); CREATE TYPE sales.mood AS ENUM ('ok', 'sad'); "
        'CREATE TABLE sales."Keyed" (a INT, "B c" VARCHAR(9), d sales.amount, e sales.mood, f INT[], '
        'g TIMESTAMPTZ, gone INT, h CHAR(2), PRIMARY KEY (h, "B c", a)); '
        'ALTER TABLE sales."Keyed" DROP COLUMN gone'
    )
    for name, want in (("column_types", 7), ("primary_key", 3)):
        portable = load_statement(f"fingerprint/{name}", "")
        own = load_statement(f"fingerprint/{name}", "postgres")
        assert "FROM information_schema" in portable and "pg_catalog.pg_attribute" in own
        params = {"schema": "sales", "table": "Keyed"}
        expected = source.execute(
            portable.replace(":schema", "%(schema)s").replace(":table", "%(table)s"), params
        )
        assert len(expected) == want
        assert (
            source.execute(own.replace(":schema", "%(schema)s").replace(":table", "%(table)s"), params)
            == expected
        )
    assert [r[0] for r in expected] == ["h", "B c", "a"]  # key order, not column order


def test_postgres_table_list_found_by_dependency_equals_a_scan_of_pg_class(pg_pair):
    """``list_tables`` finds a schema's tables through pg_depend's index (a scan of pg_class took 58 ms
    per schema at 100,000 tables): the same tables as a scan, whatever way they got there, and the
    scan itself for a schema made by initdb (public), whose dependencies may not be recorded."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from migration_audit_provider.dialects.postgres import PostgresAuditDialect

    source, _ = pg_pair
    source.execute(
        "CREATE SCHEMA other; CREATE TABLE public.moved_in (a INT); CREATE TABLE other.from_other (a INT); "
        "ALTER TABLE public.moved_in SET SCHEMA sales; ALTER TABLE other.from_other SET SCHEMA sales; "
        "ALTER TABLE sales.t4 SET SCHEMA other; "  # moved out: listed in other, not in sales
        "CREATE TABLE sales.parted (a INT) PARTITION BY RANGE (a); "
        "CREATE TABLE sales.part_1 PARTITION OF sales.parted FOR VALUES FROM (0) TO (10); "
        "CREATE TABLE other.part_2 PARTITION OF sales.parted FOR VALUES FROM (10) TO (20); "
        "CREATE VIEW sales.v AS SELECT 1 AS a; CREATE SEQUENCE sales.seq; "
        "CREATE MATERIALIZED VIEW sales.mv AS SELECT 1 AS a; CREATE INDEX ON sales.t0 (id); "
        'CREATE TABLE sales."Mixed Case" (a INT); CREATE TABLE public.in_public (a INT)'
    )
    scan = (
        "SELECT c.relname, c.oid::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    conn = source.raw()
    try:
        session = Session(PostgresAuditDialect(PostgresHook()), conn)
        for schema in ("sales", "other", "public", "no_such_schema"):
            listed = session.dialect.list_tables(session, schema)
            expected = source.execute(scan, (schema,))
            assert listed == [name for name, _ in expected], schema
            assert {n: oid for n, (oid, _) in session.catalog[schema].items()} == dict(expected)
        assert session.dialect.list_tables(session, "sales") == [
            "Mixed Case", "from_other", "moved_in", "part_1", "parted", "t0", "t1", "t2", "t3"
        ]  # fmt: skip
        assert "in_public" in session.dialect.list_tables(session, "public")
        schema_oid = source.execute("SELECT oid::bigint FROM pg_namespace WHERE nspname = 'public'")[0][0]
        assert schema_oid < 16384  # the scan branch is the one that answered for public
    finally:
        conn.close()


def test_postgres_counting_leaves_no_table_locks_in_the_transaction(pg_pair):
    """Each batch's table locks go with its savepoint (PostgreSQL's lock table holds ~6,400: 20,000
    tables read in one transaction failed), the rest of the transaction stays, and the counts are kept."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from migration_audit_provider.dialects.postgres import PostgresAuditDialect

    source, _ = pg_pair
    source.execute("; ".join(f"CREATE TABLE sales.many_{i} (a INT)" for i in range(25)))
    source.execute("INSERT INTO sales.many_7 VALUES (1), (2)")
    conn = source.raw()
    try:
        session = Session(PostgresAuditDialect(PostgresHook()), conn)
        session.execute("CREATE TEMPORARY TABLE kept (a INT)")  # made before: must survive the counts
        tables = session.dialect.list_tables(session, "sales")
        counts = session.dialect.count_rows(session, "sales", tables, batch_size=10)
        assert len(counts) == 30 and counts["many_7"] == 2 and counts["t1"] == 3
        held = session.fetchall(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE l.pid = pg_backend_pid() AND n.nspname = 'sales'"
        )
        assert held == [(0,)]
        assert session.fetchall("SELECT count(*) FROM kept") == [(0,)]
        assert session.fetchall("SELECT current_setting('max_parallel_workers_per_gather')") != [("0",)]
    finally:
        conn.close()
