"""Each Vertica rule the emulator enforces, shown through vertica-python (docs/vertica.md lists the pages)."""

from __future__ import annotations

import datetime
import itertools
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import vertica_python
from vertica_python import errors

from migration_audit_provider.store import _decide_status
from vertica_emulator.sqltext import split

REPO = Path(__file__).resolve().parents[2]
_names = itertools.count()


@pytest.fixture
def cluster(vertica_emulator):
    name = f"c{next(_names)}"
    vertica_emulator.add_cluster(name)
    return name


@pytest.fixture
def conn(vertica_emulator, cluster):
    c = vertica_emulator.connect(cluster)
    yield c
    c.close()


def run(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchall()


def count(vertica_emulator, cluster, table):
    """Rows committed in ``table``, seen from a fresh session."""
    with vertica_emulator.connect(cluster) as other:
        return run(other, f"SELECT COUNT(*) FROM {table}")[0][0]


# -- protocol ---------------------------------------------------------------------------------------
def test_wrong_password_gets_vertica_error(vertica_emulator, cluster):
    info = vertica_emulator.conn_info(cluster, password="wrong")
    with pytest.raises(errors.ConnectionError, match="Invalid username or password"):
        vertica_python.connect(**info)


def test_unknown_database_refused(vertica_emulator):
    with pytest.raises(errors.ConnectionError, match="does not exist"):
        vertica_python.connect(**vertica_emulator.conn_info("no_such_db"))


def test_types_are_converted_by_the_driver(conn):
    row = run(
        conn,
        "SELECT 7, CAST(1.50 AS NUMERIC(10,2)), CAST(0.25 AS FLOAT), true, DATE '2024-01-02', "
        "TIMESTAMP '2024-01-02 03:04:05.123456', CAST('x' AS VARCHAR(5)), HEX_TO_BINARY('00ff'), "
        "CAST(NULL AS INT)",
    )[0]
    assert row == [
        7, Decimal("1.50"), 0.25, True, datetime.date(2024, 1, 2),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), "x", b"\x00\xff", None,
    ]  # fmt: skip
    tz = run(conn, "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+02'")[0][0]
    assert tz.astimezone(datetime.timezone.utc).replace(tzinfo=None) == datetime.datetime(2024, 1, 2, 1, 4, 5)


def test_error_response_carries_vertica_fields(conn):
    with pytest.raises(errors.MissingRelation) as info:
        run(conn, "SELECT * FROM nowhere.nothing")
    err = info.value
    assert (err.severity, err.sqlstate, err.error_code) == ("ERROR", "42V01", "4566")
    assert err.routine
    with pytest.raises(errors.VerticaSyntaxError) as info:
        run(conn, "SELEC 1")
    assert info.value.sqlstate == "42601" and info.value.error_code == "4856"


def test_dml_returns_vertica_output_row(conn):
    run(conn, "CREATE TABLE t (a INT)")
    assert run(conn, "INSERT INTO t SELECT 1 UNION ALL SELECT 2") == [[2]]
    assert conn.cursor().execute("UPDATE t SET a = a + 1").description[0].name == "OUTPUT"


# -- transactions -----------------------------------------------------------------------------------
def test_ddl_commits_the_open_transaction(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "INSERT INTO t VALUES (1)")
    run(conn, "CREATE TABLE u (a INT)")  # commits the INSERT too
    conn.rollback()
    assert count(vertica_emulator, cluster, "t") == 1


def test_ddl_error_rolls_back_the_whole_transaction(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "INSERT INTO t VALUES (1)")
    with pytest.raises(errors.DuplicateObject):
        run(conn, "CREATE TABLE t (a INT)")
    assert run(conn, "SELECT COUNT(*) FROM t") == [[0]]


def test_truncate_commits_even_when_it_fails(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "INSERT INTO t VALUES (1)")
    with pytest.raises(errors.MissingRelation):
        run(conn, "TRUNCATE TABLE missing_table")
    conn.rollback()
    assert count(vertica_emulator, cluster, "t") == 1


def test_truncate_commits(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "CREATE TABLE u (a INT)")
    run(conn, "INSERT INTO u VALUES (1)")
    run(conn, "TRUNCATE TABLE t")
    conn.rollback()
    assert count(vertica_emulator, cluster, "u") == 1


def test_copy_commits_unless_no_commit(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "INSERT INTO t VALUES (1)")
    conn.cursor().copy("COPY t (a) FROM STDIN NO COMMIT", "2\n")
    conn.rollback()
    assert count(vertica_emulator, cluster, "t") == 0
    run(conn, "INSERT INTO t VALUES (1)")
    conn.cursor().copy("COPY t (a) FROM STDIN", "2\n")  # commits itself and the INSERT
    conn.rollback()
    assert count(vertica_emulator, cluster, "t") == 2


def test_ordinary_error_rolls_back_only_the_statement(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT NOT NULL)")
    run(conn, "INSERT INTO t VALUES (1)")
    with pytest.raises(errors.QueryError):
        run(conn, "INSERT INTO t VALUES (NULL)")
    with pytest.raises(errors.MissingRelation):
        run(conn, "SELECT * FROM missing_table")
    run(conn, "INSERT INTO t VALUES (2)")
    conn.commit()
    assert count(vertica_emulator, cluster, "t") == 2


def test_lock_is_held_until_commit_and_a_lock_timeout_rolls_back(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, "CREATE TABLE u (a INT)")
    run(conn, "LOCK TABLE t IN EXCLUSIVE MODE")
    with vertica_emulator.connect(cluster) as other:
        run(other, "ALTER SESSION SET LockTimeout = 1")
        run(other, "INSERT INTO u VALUES (1)")
        with pytest.raises(errors.LockFailure):
            run(other, "LOCK TABLE t IN EXCLUSIVE MODE")
        assert run(other, "SELECT COUNT(*) FROM u") == [[0]]  # the whole transaction was rolled back
        assert run(other, "SELECT COUNT(*) FROM t") == [[0]]  # readers are not blocked
        conn.commit()
        run(other, "LOCK TABLE t IN EXCLUSIVE MODE")  # released at commit


def test_deadlock_rolls_back_the_whole_transaction(vertica_emulator, cluster, conn):
    run(conn, "CREATE TABLE t1 (a INT)")
    run(conn, "CREATE TABLE t2 (a INT)")
    other = vertica_emulator.connect(cluster)
    try:
        run(conn, "INSERT INTO t1 VALUES (1)")
        run(conn, "LOCK TABLE t1 IN EXCLUSIVE MODE")
        run(other, "INSERT INTO t2 VALUES (1)")
        run(other, "LOCK TABLE t2 IN EXCLUSIVE MODE")
        outcome = {}

        def second():
            try:
                run(conn, "LOCK TABLE t2 IN EXCLUSIVE MODE")
                outcome["conn"] = None
            except errors.QueryError as err:
                outcome["conn"] = err

        waiter = threading.Thread(target=second)
        waiter.start()
        try:
            run(other, "LOCK TABLE t1 IN EXCLUSIVE MODE")
            outcome["other"] = None
        except errors.QueryError as err:
            outcome["other"] = err
            other.rollback()
        waiter.join(10)
        victims = {k: v for k, v in outcome.items() if v is not None}
        assert len(victims) == 1
        ((name, err),) = victims.items()
        assert err.sqlstate == "40V01"
        victim = conn if name == "conn" else other
        table = "t1" if name == "conn" else "t2"
        assert run(victim, f"SELECT COUNT(*) FROM {table}") == [[0]]  # its INSERT was rolled back
    finally:
        conn.rollback()
        other.close()


# -- LOCK TABLE -------------------------------------------------------------------------------------
def test_lock_table_needs_an_existing_table(conn):
    with pytest.raises((errors.MissingRelation, errors.MissingSchema)):
        run(conn, "LOCK TABLE nowhere.audit IN EXCLUSIVE MODE")
    run(conn, "CREATE SCHEMA somewhere")
    with pytest.raises(errors.MissingRelation):
        run(conn, "LOCK TABLE somewhere.audit IN EXCLUSIVE MODE")


def test_provider_lock_before_the_store_exists_is_refused(conn):
    """The provider locks <store>.audit before creating it on a fresh cluster: Vertica refuses that."""
    with pytest.raises((errors.MissingRelation, errors.MissingSchema)):
        run(conn, "LOCK TABLE migration.audit IN EXCLUSIVE MODE")


@pytest.mark.parametrize(
    "mode",
    ["SHARE", "INSERT", "INSERT VALIDATE", "SHARE INSERT", "EXCLUSIVE", "NOT DELETE", "USAGE", "OWNER"],
)
def test_lock_table_documented_modes(conn, mode):
    run(conn, "CREATE TABLE t (a INT)")
    run(conn, f"LOCK TABLE t IN {mode} MODE NOWAIT")
    conn.rollback()


def test_lock_table_undocumented_mode_is_a_syntax_error(conn):
    run(conn, "CREATE TABLE t (a INT)")
    with pytest.raises(errors.VerticaSyntaxError):
        run(conn, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE")


# -- refused PostgreSQL features ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "call", ["pg_advisory_xact_lock(1)", "pg_try_advisory_lock(1)", "pg_advisory_lock(1)"]
)
def test_no_advisory_locks(conn, call):
    with pytest.raises(errors.QueryError) as info:
        run(conn, f"SELECT {call}")
    assert info.value.sqlstate == "42883" and "does not exist" in info.value.message


def test_no_on_conflict_and_no_returning(conn):
    run(conn, "CREATE TABLE t (a INT PRIMARY KEY)")
    with pytest.raises(errors.VerticaSyntaxError):
        run(conn, "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING")
    with pytest.raises(errors.VerticaSyntaxError):
        run(conn, "INSERT INTO t VALUES (1) RETURNING a")


def test_primary_keys_are_declared_not_enforced(conn):
    run(conn, "CREATE TABLE t (a INT PRIMARY KEY, b INT)")
    run(conn, "INSERT INTO t VALUES (1, 1)")
    run(conn, "INSERT INTO t VALUES (1, 2)")
    assert run(conn, "SELECT COUNT(*) FROM t") == [[2]]
    with pytest.raises(errors.QueryError):  # key columns are NOT NULL
        run(conn, "INSERT INTO t VALUES (NULL, 3)")


# -- IDENTITY / AUTO_INCREMENT ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "column", ["id IDENTITY(1, 1)", "id AUTO_INCREMENT", "id INT AUTO_INCREMENT", "id IDENTITY"]
)
def test_identity_columns(conn, column):
    run(conn, f"CREATE TABLE t ({column}, name VARCHAR(10))")
    run(conn, "INSERT INTO t (name) VALUES ('a')")
    run(conn, "INSERT INTO t (name) VALUES ('b')")
    assert run(conn, "SELECT id, name FROM t ORDER BY id") == [[1, "a"], [2, "b"]]
    with pytest.raises(errors.QueryError):  # values are generated, not loaded
        run(conn, "INSERT INTO t (id, name) VALUES (7, 'c')")


# -- identifiers and the catalog ----------------------------------------------------------------------
def test_identifiers_are_case_insensitive_even_quoted(conn):
    run(conn, 'CREATE SCHEMA "Sales"')
    run(conn, 'CREATE TABLE "Sales"."Orders" ("Id" INT)')
    run(conn, "INSERT INTO sales.orders (id) VALUES (1)")
    assert run(conn, 'SELECT "ID" FROM "SALES"."ORDERS"') == [[1]]
    with pytest.raises(errors.DuplicateObject):
        run(conn, "CREATE SCHEMA SALES")
    assert run(conn, "SELECT schema_name FROM v_catalog.schemata WHERE schema_name ILIKE 'sales'") == [
        ["Sales"]
    ]
    assert run(conn, "SELECT table_schema, table_name, column_name FROM v_catalog.columns "
                     "WHERE table_schema = 'Sales'") == [["Sales", "Orders", "Id"]]  # fmt: skip


def test_catalog_views_use_vertica_names_and_types(conn):
    run(conn, "CREATE SCHEMA s")
    run(
        conn,
        "CREATE TABLE s.t (id INT NOT NULL, name VARCHAR(50), amount NUMERIC(10,2), ratio FLOAT, "
        "ok BOOLEAN, day DATE, ts TIMESTAMP, tstz TIMESTAMPTZ, raw VARBINARY(16), note VARCHAR, "
        "CONSTRAINT pk_t PRIMARY KEY (id, name))",
    )
    run(conn, "CREATE LOCAL TEMPORARY TABLE scratch (a INT) ON COMMIT PRESERVE ROWS")
    cols = run(
        conn,
        "SELECT column_name, data_type, data_type_length, numeric_precision, numeric_scale, is_nullable, "
        "ordinal_position FROM v_catalog.columns WHERE table_schema = 's' AND table_name = 't' "
        "ORDER BY ordinal_position",
    )
    assert [c[:2] for c in cols] == [
        ["id", "int"], ["name", "varchar(50)"], ["amount", "numeric(10,2)"], ["ratio", "float"],
        ["ok", "boolean"], ["day", "date"], ["ts", "timestamp"], ["tstz", "timestamptz"],
        ["raw", "varbinary(16)"], ["note", "varchar(80)"],
    ]  # fmt: skip
    assert cols[1][2] == 50 and cols[2][3:5] == [10, 2] and cols[0][5] is False and cols[9][6] == 10
    assert run(conn, "SELECT column_name, ordinal_position, constraint_name FROM v_catalog.primary_keys "
                     "WHERE table_schema = 's' AND table_name = 't' ORDER BY ordinal_position") == [
        ["id", 1, "pk_t"], ["name", 2, "pk_t"]
    ]  # fmt: skip
    tables = run(conn, "SELECT table_schema, table_name, is_temp_table, table_id FROM v_catalog.tables "
                       "ORDER BY table_name")  # fmt: skip
    assert [t[:3] for t in tables] == [["v_temp_schema", "scratch", True], ["s", "t", False]]
    assert all(isinstance(t[3], int) for t in tables)
    assert run(conn, "SELECT table_name FROM v_catalog.tables WHERE table_schema = 's' AND NOT is_temp_table")


def test_temporary_tables_delete_rows_on_commit_by_default(conn):
    run(conn, "CREATE LOCAL TEMPORARY TABLE tmp (a INT)")
    run(conn, "INSERT INTO tmp VALUES (1)")
    conn.commit()
    assert run(conn, "SELECT COUNT(*) FROM tmp") == [[0]]


# -- CONNECT TO VERTICA / COPY FROM VERTICA / DISCONNECT ---------------------------------------------
def _connect_sql(emu, database, password=None, port=None):
    password = emu.password if password is None else password
    return (f"CONNECT TO VERTICA {database} USER {emu.user} PASSWORD '{password}' "
            f"ON '{emu.host}', {emu.port if port is None else port}")  # fmt: skip


def test_copy_from_vertica_pulls_rows_into_the_open_transaction(vertica_emulator, cluster, conn):
    source = f"src{next(_names)}"
    vertica_emulator.add_cluster(source)
    with vertica_emulator.connect(source) as src:
        run(src, "CREATE SCHEMA s")
        run(src, "CREATE TABLE s.t (id INT, name VARCHAR(20))")
        run(src, "INSERT INTO s.t SELECT 1, 'a' UNION ALL SELECT 2, 'b' UNION ALL SELECT 3, NULL")
        src.commit()
    run(conn, "CREATE SCHEMA s")
    run(conn, "CREATE TABLE s.t (id INT, name VARCHAR(20))")
    with pytest.raises(errors.QueryError, match="CONNECT TO VERTICA"):
        run(conn, f"COPY s.t FROM VERTICA {source}.s.t")  # needs a prior CONNECT
    run(conn, _connect_sql(vertica_emulator, source))
    with pytest.raises(errors.QueryError, match="Already connected"):
        run(conn, _connect_sql(vertica_emulator, source))  # one remote connection per session
    with pytest.raises(errors.MissingRelation):
        run(conn, f"COPY s.missing FROM VERTICA {source}.s.t NO COMMIT")  # the target must exist
    run(conn, "DELETE FROM s.t")
    assert run(conn, f"COPY s.t (id, name) FROM VERTICA {source}.s.t (id, name) NO COMMIT") == [[3]]
    assert run(conn, "SELECT GET_NUM_ACCEPTED_ROWS()") == [[3]]
    conn.rollback()  # NO COMMIT: the load was part of the transaction
    assert count(vertica_emulator, cluster, "s.t") == 0
    assert run(conn, f"COPY s.t FROM VERTICA {source}.s.t") == [[3]]  # commits by itself
    conn.rollback()
    assert count(vertica_emulator, cluster, "s.t") == 3
    run(conn, f"DISCONNECT {source}")
    with pytest.raises(errors.QueryError):
        run(conn, f"DISCONNECT {source}")


def test_connect_to_vertica_checks_credentials_and_address(vertica_emulator, cluster, conn):
    with pytest.raises(errors.QueryError, match="Invalid username or password"):
        run(conn, _connect_sql(vertica_emulator, cluster, password="nope"))
    with pytest.raises(errors.QueryError, match="Could not connect"):
        run(conn, _connect_sql(vertica_emulator, cluster, port=1))
    with pytest.raises(errors.VerticaSyntaxError):
        run(conn, f"CONNECT TO VERTICA {cluster} USER dbadmin ON 'localhost', 5433")


# -- functions used by the fingerprint SQL ------------------------------------------------------------
def test_fingerprint_functions(conn):
    assert run(conn, "SELECT MD5('abc')") == [["900150983cd24fb0d6963f7d28e17f72"]]
    hexes = "SELECT HEX_TO_INTEGER('ff'), HEX_TO_INTEGER('0xFF'), HEX_TO_INTEGER(SUBSTR(MD5('abc'), 1, 8))"
    assert run(conn, hexes) == [
        [255, 255, 0x90015098]
    ]  # fmt: skip
    with pytest.raises(errors.QueryError):
        run(conn, "SELECT HEX_TO_INTEGER('xyz')")
    assert run(conn, "SELECT TO_CHAR(TIMESTAMP '2024-01-02 03:04:05.5', 'YYYY-MM-DD HH24:MI:SS.US'), "
                     "TO_CHAR(DATE '2024-01-02', 'YYYY-MM-DD'), TO_CHAR(12.5, '999D99')") == [
        ["2024-01-02 03:04:05.500000", "2024-01-02", "  12.50"]
    ]  # fmt: skip
    a, b, c = run(conn, "SELECT HASH(1), HASH(CAST(1 AS NUMERIC(10,1))), HASH(1)")[0]
    assert a == c and a != b and a >= 0
    assert run(conn, "SELECT CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(1), 0) AS VARCHAR)") == [
        ["1:1"]
    ]
    assert run(conn, "SELECT TO_HEX(HEX_TO_BINARY('0aff'))") == [["0aff"]]


def test_provider_fingerprint_statement_runs(conn):
    table_sql = (REPO / "include/sql/vertica/fingerprint/table.sql").read_text()
    run(conn, "CREATE TABLE t (id INT, name VARCHAR(20))")
    run(conn, "INSERT INTO t SELECT 1, 'a' UNION ALL SELECT 2, 'b'")
    sql = table_sql.format(row="CAST(id AS VARCHAR(40)) || '|' || name", table="t", where="1 = 1")
    (value,) = run(conn, sql)[0]
    assert value.startswith("2:")


# -- COPY FROM STDIN -----------------------------------------------------------------------------------
PROVIDER_COPY = (
    "COPY t ({cols}) FROM STDIN ABORT ON ERROR DELIMITER '|' ENCLOSED BY '''' ENFORCELENGTH NO COMMIT"
)


def test_copy_from_stdin_in_the_providers_format(conn):
    run(conn, "CREATE TABLE t (id INT, name VARCHAR(10), ok BOOLEAN, day DATE)")
    data = "1|'a\\|b'|True|'2024-01-02'\n2||False|\n3|''||\n4|'it\\'s\\\\'||\n5|'line\\\nbreak'||\n"
    conn.cursor().copy(PROVIDER_COPY.format(cols="id, name, ok, day"), data)
    assert run(conn, "SELECT GET_NUM_ACCEPTED_ROWS()") == [[5]]
    assert run(conn, "SELECT id, name, ok, day FROM t ORDER BY id") == [
        [1, "a|b", True, datetime.date(2024, 1, 2)], [2, None, False, None], [3, "", None, None],
        [4, "it's\\", None, None], [5, "line\nbreak", None, None],
    ]  # fmt: skip


def test_copy_enforcelength_and_abort_on_error(vertica_emulator, conn):
    run(conn, "CREATE TABLE t (id INT, name VARCHAR(3))")
    with pytest.raises(errors.CopyRejected):
        conn.cursor().copy(PROVIDER_COPY.format(cols="id, name"), "1|'abcdef'\n")
    with pytest.raises(errors.CopyRejected):
        conn.cursor().copy(PROVIDER_COPY.format(cols="id, name"), "1|'a'|'extra'\n")
    conn.cursor().copy("COPY t (id, name) FROM STDIN ENCLOSED BY '''' NO COMMIT", "1|'abcdef'\n")
    assert run(conn, "SELECT name FROM t") == [["abc"]]  # without ENFORCELENGTH: truncated
    conn.cursor().copy("COPY t (id, name) FROM STDIN NO COMMIT", "x|a\n2|b\n")  # rejected row skipped
    assert run(conn, "SELECT GET_NUM_ACCEPTED_ROWS()") == [[1]]


def test_copy_needs_an_existing_table(conn):
    with pytest.raises(errors.MissingRelation):
        conn.cursor().copy("COPY missing FROM STDIN", "1\n")


def test_driver_executemany_goes_through_copy(conn):
    run(conn, "CREATE TABLE t (id INT, name VARCHAR(10))")
    conn.cursor().executemany("INSERT INTO t (id, name) VALUES (%s, %s)", [(1, "a|b"), (2, None)])
    conn.commit()
    assert run(conn, "SELECT id, name FROM t ORDER BY id") == [[1, "a|b"], [2, None]]


# -- the provider's statements ----------------------------------------------------------------------
def _store_sql() -> str:
    for candidate in ("include/sql/vertica/create_store.sql", "include/sql/create_store.sql"):
        if (REPO / candidate).exists():
            return (REPO / candidate).read_text()
    pytest.fail("create_store.sql not found under include/sql")


def test_provider_store_and_status_statements_run(conn):
    names = {"schema": "migration", "audit": "migration.audit", "history": "migration.audit_history",
             "stage": "migration_audit_stage", "stage_name": "migration_audit_stage",
             "runs": "migration.audit_runs",
             "create_temporary": "CREATE LOCAL TEMPORARY TABLE IF NOT EXISTS",
             "on_commit_delete": "ON COMMIT DELETE ROWS",
             "event_id": "IDENTITY(1, 1)", "float": "FLOAT"}  # fmt: skip
    run(conn, "CREATE SCHEMA IF NOT EXISTS migration")
    for statement in split(_store_sql().format_map(names)):
        run(conn, statement)
    run(conn, (REPO / "include/sql/create_stage.sql").read_text().format_map(names))  # DDL: commits
    now = datetime.datetime(2024, 1, 2, 3, 4, 5)
    stage = (REPO / "include/sql/stage_counts.sql").read_text().format_map(names)
    conn.cursor().execute(stage, {
        "table_name": "t", "old_status": None, "src_present": True, "src_row_count": 3,
        "tgt_present": True, "tgt_row_count": 3, "src_counted_at": now, "tgt_counted_at": now,
        "count_method": "exact", "src_fingerprint": None, "tgt_fingerprint": None,
        "schema_drift": False, "schema_diff": None,
    })  # fmt: skip
    names["decide_status"] = _decide_status("vertica")  # the expression the status pass embeds
    params = {"now": now, "run_id": "run", "task_id": "task", "src_counted_at": now,
              "tgt_counted_at": now, "event_type": "status", "schema": "s"}  # fmt: skip
    statements = ("stage_summary", "prune_unchanged", "record_transitions", "apply_status",
                  "insert_new_tables", "status_summary", "list_table_statuses", "clear_stage")  # fmt: skip
    for name in statements:
        sql = (REPO / f"include/sql/{name}.sql").read_text().format_map(names)
        used = {k: v for k, v in params.items() if f":{k}" in sql}
        conn.cursor().execute(sql, used)
    run(conn, "LOCK TABLE migration.audit IN EXCLUSIVE MODE")
    conn.commit()
    assert run(conn, "SELECT table_name, export_status FROM migration.audit") == [["t", "complete"]]
    assert run(conn, "SELECT COUNT(*) FROM migration.audit_history") == [[1]]
    assert run(conn, (REPO / "include/sql/vertica/list_tables.sql").read_text(), {"schema": "migration"}) == [
        ["audit"],
        ["audit_history"],
        ["audit_runs"],
    ]  # fmt: skip: the stage is in V_TEMP_SCHEMA, this session's


# -- Airflow --------------------------------------------------------------------------------------
def test_airflow_vertica_hook_connects(vertica_emulator, cluster, monkeypatch):
    from airflow.providers.vertica.hooks.vertica import VerticaHook
    from vertica_python.vertica.connection import Connection

    monkeypatch.setenv("AIRFLOW_CONN_VERTICA_EMU", vertica_emulator.conn_json(cluster))
    hook = VerticaHook(vertica_conn_id="vertica_emu")
    conn = hook.get_conn()
    try:
        assert isinstance(conn, Connection)
        assert run(conn, "SELECT 1") == [[1]]
    finally:
        conn.close()
    assert hook.get_first("SELECT 41 + 1") == [42]
