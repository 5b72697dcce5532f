"""A threaded TCP server speaking Vertica's protocol (as vertica-python 1.4 speaks it), backed by PostgreSQL.

Each client connection is one Vertica session, backed by one psycopg connection to the PostgreSQL
database of the emulated cluster named in the startup message. The Vertica rules the emulator enforces
are listed, with their documentation pages, in docs/vertica.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq

from vertica_emulator import protocol as P
from vertica_emulator.catalog import INIT_SQL
from vertica_emulator.copyformat import records, truncate_bytes
from vertica_emulator.sqltext import (
    LOCK_MODES,
    CopyStdin,
    CopyVertica,
    SyntaxProblem,
    parse_connect,
    parse_copy,
    parse_disconnect,
    parse_lock,
    parse_session,
    split,
)
from vertica_emulator.translate import UnknownFunction, Unsupported, translate

DB_PREFIX = "vertica_"
TEMPLATE_DB = "vertica__template"
USER = "dbadmin"
CATALOG_LOCK_KEY = 5433_0001
"""The advisory lock that stands for Vertica's global catalog lock, held by each DDL statement."""
PASSWORD = "vertica-Emul-5e2b7d"  # a unique string, like pg_server's, so leaks can be searched for
SERVER_VERSION = "v24.1.0-0"

# PostgreSQL SQLSTATE -> (Vertica SQLSTATE, Vertica error code)
_STATES = {
    "42601": ("42601", 4856), "42P01": ("42V01", 4566), "3F000": ("3F000", 4650), "42703": ("42703", 2624),
    "42883": ("42883", 3457), "42P07": ("42710", 4213), "42P06": ("42710", 4213), "42710": ("42710", 4213),
    "23502": ("22004", 2501), "22001": ("22001", 4800), "40P01": ("40V01", 3010), "55P03": ("55V03", 5156),
    "22P02": ("22V02", 3681), "22003": ("22003", 3680), "22012": ("22012", 3117), "42804": ("42804", 2366),
    "22007": ("22007", 2005), "22008": ("22008", 2005), "42501": ("42501", 4367), "2BP01": ("2BP01", 3128),
    "42725": ("42725", 3460), "22023": ("22023", 2827),
}  # fmt: skip
WHOLE_TRANSACTION = {"40P01", "55P03", "40001"}  # deadlock, lock timeout: Vertica rolls back the transaction


class VerticaError(Exception):
    def __init__(self, message: str, sqlstate: str, code: int, severity: str = "ERROR", routine: str = ""):
        super().__init__(message)
        self.message, self.sqlstate, self.code, self.severity, self.routine = (
            message, sqlstate, code, severity, routine
        )  # fmt: skip

    def packet(self) -> bytes:
        return P.error_response(self.message, self.sqlstate, self.code, self.severity, self.routine)


class PgError(Exception):
    def __init__(self, sqlstate: str, message: str, routine: str = "") -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.routine = sqlstate, message, routine

    def vertica(self) -> VerticaError:
        state, code = _STATES.get(self.sqlstate, (self.sqlstate, 0))
        msg = self.message[:1].upper() + self.message[1:]
        if self.sqlstate == "40P01":
            msg = "Deadlock: initiator locks for query - " + msg
        elif self.sqlstate == "55P03":
            msg = "Unavailable: initiator locks for query - Locking failure: " + msg
        return VerticaError(msg, state, code, routine=self.routine)


def _syntax(near: str) -> VerticaError:
    return VerticaError(f'Syntax error at or near "{near}"', "42601", 4856, routine="base_yyerror")


def _pg_error_from_psycopg(err: psycopg.Error) -> PgError:
    diag = err.diag
    return PgError(diag.sqlstate or "XX000", diag.message_primary or str(err), diag.source_function or "")


@dataclass
class Cluster:
    name: str
    dbname: str


class VerticaEmulator:
    """The emulated Vertica clusters of one PostgreSQL server, behind one TCP port."""

    def __init__(self, pg_server: Any, *, user: str = USER, password: str = PASSWORD) -> None:
        self.pg_server = pg_server
        self.user, self.password = user, password
        self.host = "127.0.0.1"
        self.port = 0
        self.clusters: dict[str, Cluster] = {}
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._sessions: set[Session] = set()
        self._lock = threading.Lock()
        self._pids = itertools.count(1000)
        self._stopping = False
        self._template_ready = False

    # -- life cycle ---------------------------------------------------------------------------------
    @classmethod
    def start(cls, pg_server: Any, **kwargs: Any) -> VerticaEmulator:
        emu = cls(pg_server, **kwargs)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((emu.host, 0))
        sock.listen(64)
        emu._sock = sock
        emu.port = sock.getsockname()[1]
        emu._thread = threading.Thread(target=emu._accept_loop, name="vertica-emulator", daemon=True)
        emu._thread.start()
        return emu

    def stop(self) -> None:
        self._stopping = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        with self._lock:
            sessions = list(self._sessions)
        for s in sessions:
            s.kill()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            session = Session(self, client, next(self._pids))
            with self._lock:
                self._sessions.add(session)
            threading.Thread(target=session.run, name=f"vertica-session-{session.pid}", daemon=True).start()

    def _forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.discard(session)

    # -- clusters -----------------------------------------------------------------------------------
    def add_cluster(self, name: str) -> Cluster:
        """Create (or re-create, empty) the PostgreSQL database behind the Vertica database ``name``."""
        key = name.lower()
        dbname = DB_PREFIX + key
        with self._lock:
            with self.pg_server.connect() as conn:
                if not self._template_ready:  # v_catalog and v_emulator are built once, then copied
                    conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
                    with self.pg_server.connect(TEMPLATE_DB) as init:
                        init.execute(INIT_SQL)
                    self._template_ready = True
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{TEMPLATE_DB}"')
        cluster = Cluster(name, dbname)
        self.clusters[key] = cluster
        return cluster

    def conn_info(self, cluster: str, **extra: Any) -> dict[str, Any]:
        """vertica_python.connect() keyword arguments for a session on ``cluster``."""
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                "database": cluster, "tlsmode": "disable", **extra}  # fmt: skip

    def connect(self, cluster: str, **extra: Any):
        import vertica_python

        return vertica_python.connect(**self.conn_info(cluster, **extra))

    def conn_json(self, cluster: str, extra: dict | None = None) -> str:
        """An Airflow connection (``AIRFLOW_CONN_<ID>`` value) for ``cluster``: Schema = database name."""
        data = {"conn_type": "vertica", "host": self.host, "port": self.port, "login": self.user,
                "password": self.password, "schema": cluster}  # fmt: skip
        if extra:
            data["extra"] = extra
        return json.dumps(data)

    def pg_connect(self, cluster: str, autocommit: bool = True):
        """A direct PostgreSQL connection to the database behind ``cluster`` (for assertions)."""
        return self.pg_server.connect(self.clusters[cluster.lower()].dbname, autocommit=autocommit)


class _Terminate(Exception):
    pass


class Session:
    def __init__(self, emu: VerticaEmulator, sock: socket.socket, pid: int) -> None:
        self.emu, self.sock, self.pid = emu, sock, pid
        self.reader = P.Reader(sock)
        self.conn: psycopg.Connection | None = None
        self.cluster: Cluster | None = None
        self.autocommit = False
        self.accepted_rows: int | None = None
        self.remote: tuple[str, psycopg.Connection] | None = None

    # -- plumbing -----------------------------------------------------------------------------------
    def send(self, *packets: bytes) -> None:
        self.sock.sendall(b"".join(packets))

    def kill(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def run(self) -> None:
        try:
            if self.startup():
                self.loop()
        except (EOFError, OSError, _Terminate):
            pass
        finally:
            for c in (self.remote[1] if self.remote else None, self.conn):
                if c is not None:
                    try:
                        c.close()
                    except Exception:  # noqa: S110 - closing after the client went away
                        pass
            try:
                self.sock.close()
            except OSError:
                pass
            self.emu._forget(self)

    def startup(self) -> bool:
        size = struct.unpack("!I", self.reader.exact(4))[0]
        body = self.reader.exact(size - 4)
        code = struct.unpack("!I", body[:4])[0]
        if code == 80877103:  # SSLRequest: no TLS here
            self.send(b"N")
            size = struct.unpack("!I", self.reader.exact(4))[0]
            body = self.reader.exact(size - 4)
        elif code == 80877102:  # CancelRequest
            return False
        params = _startup_params(body)
        user, database = params.get("user", ""), params.get("database", "")
        salt = os.urandom(4)
        self.send(P.authentication(5, salt))  # MD5_PASSWORD
        type_byte, data = self.reader.message()
        if type_byte != b"p":
            return False
        sent = data.rstrip(b"\x00")
        inner = hashlib.md5((self.emu.password + user).encode()).hexdigest().encode()
        expected = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
        if user.lower() != self.emu.user.lower() or sent != expected:
            self.send(VerticaError('Invalid username or password', "28000", 3781, "FATAL",
                                   "auth_failed").packet())  # fmt: skip
            return False
        cluster = self.emu.clusters.get(database.lower())
        if cluster is None:
            self.send(VerticaError(f'Database "{database}" does not exist', "3D000", 5963, "FATAL").packet())
            return False
        self.cluster = cluster
        self.conn = self.emu.pg_server.connect(cluster.dbname, autocommit=True)
        self.exec_raw(
            "SET search_path = \"$user\", public, v_catalog, v_emulator; SET TimeZone = 'UTC'; "
            "SET DateStyle = 'ISO, MDY'; SET bytea_output = 'escape'; SET IntervalStyle = 'sql_standard'; "
            "SET lock_timeout = '300s'; SET deadlock_timeout = '100ms'"
        )
        self.autocommit = params.get("autocommit", "off") == "on"
        self.send(
            P.authentication(0),
            P.parameter_status("server_version", SERVER_VERSION),
            P.parameter_status("standard_conforming_strings", "on"),
            P.parameter_status("auto_commit", "on" if self.autocommit else "off"),
            P.backend_key_data(self.pid, 0),
            self.ready(),
        )
        return True

    def ready(self) -> bytes:
        status = self.conn.pgconn.transaction_status if self.conn else pq.TransactionStatus.IDLE
        return P.ready_for_query(b"I" if status == pq.TransactionStatus.IDLE else b"T")

    def loop(self) -> None:
        while True:
            type_byte, data = self.reader.message()
            if type_byte == b"X":
                return
            if type_byte == b"Q":
                self.query(data.rstrip(b"\x00").decode("utf-8"))
            elif type_byte in (b"d", b"c", b"f", b"H"):
                continue  # stray copy messages after a refused COPY
            elif type_byte == b"S":
                self.send(self.ready())
            else:
                self.send(VerticaError("The emulator supports simple queries only (no prepared statements)",
                                       "0A000", 0).packet(), self.ready())  # fmt: skip

    # -- PostgreSQL ---------------------------------------------------------------------------------
    def exec_raw(self, sql: str) -> pq.PGresult:
        res = self.conn.pgconn.exec_(sql.encode("utf-8"))
        if res.status == pq.ExecStatus.FATAL_ERROR:
            F = pq.DiagnosticField
            state = (res.error_field(F.SQLSTATE) or b"XX000").decode()
            msg = (res.error_field(F.MESSAGE_PRIMARY) or b"").decode("utf-8", "replace")
            routine = (res.error_field(F.SOURCE_FUNCTION) or b"").decode()
            raise PgError(state, msg, routine)
        return res

    @property
    def in_transaction(self) -> bool:
        return self.conn.pgconn.transaction_status != pq.TransactionStatus.IDLE

    def begin(self) -> None:
        if not self.in_transaction:
            self.exec_raw("BEGIN")

    def statement_scope(self, action):
        """Run ``action`` as one statement of the open transaction: an ordinary error rolls back only
        that statement; a deadlock or lock timeout rolls back the whole transaction."""
        self.begin()
        self.exec_raw("SAVEPOINT v_emulator_statement")
        try:
            result = action()
        except psycopg.Error as err:
            self._undo(err.diag.sqlstate or "")
            raise _pg_error_from_psycopg(err) from None
        except PgError as err:
            self._undo(err.sqlstate)
            raise
        except Exception:
            self._undo("")
            raise
        self.exec_raw("RELEASE SAVEPOINT v_emulator_statement")
        return result

    def _undo(self, sqlstate: str) -> None:
        if sqlstate in WHOLE_TRANSACTION:
            self.exec_raw("ROLLBACK")
        else:
            self.exec_raw("ROLLBACK TO SAVEPOINT v_emulator_statement")
            self.exec_raw("RELEASE SAVEPOINT v_emulator_statement")

    def commit(self) -> None:
        if self.in_transaction:
            self.exec_raw("COMMIT")

    def after_statement(self) -> None:
        if self.autocommit:
            self.commit()

    # -- queries ------------------------------------------------------------------------------------
    def query(self, text: str) -> None:
        try:
            statements = split(text)
        except SyntaxProblem as err:
            self.send(_syntax(err.near).packet(), self.ready())
            return
        if not statements:
            self.send(P.empty_query_response(), self.ready())
            return
        for sql in statements:
            try:
                self.statement(sql)
            except SyntaxProblem as err:
                self.send(_syntax(err.near).packet())
                break
            except UnknownFunction as err:
                self.send(VerticaError(str(err), "42883", 3457, routine="LookupFuncOrAggregate").packet())
                break
            except Unsupported as err:
                self.send(VerticaError(str(err), "0A000", 0).packet())
                break
            except PgError as err:
                self.send(err.vertica().packet())
                break
            except VerticaError as err:
                self.send(err.packet())
                break
        self.send(self.ready())

    def statement(self, sql: str) -> None:
        words = sql.split()
        first = words[0].upper()
        second = words[1].upper() if len(words) > 1 else ""
        if first in ("COMMIT", "END") and len(words) <= 2:
            self.commit()
            self.send(P.command_complete("COMMIT"))
        elif first in ("ROLLBACK", "ABORT") and len(words) <= 2:
            if self.in_transaction:
                self.exec_raw("ROLLBACK")
            self.send(P.command_complete("ROLLBACK"))
        elif first == "BEGIN" or (first == "START" and second == "TRANSACTION"):
            self.begin()
            self.send(P.command_complete("BEGIN"))
        elif first in ("SET", "ALTER") and second == "SESSION":
            self.session_setting(sql)
        elif first == "CONNECT":
            self.connect_to_vertica(sql)
        elif first == "DISCONNECT":
            self.disconnect(sql)
        elif first == "COPY":
            stmt = parse_copy(sql)
            if isinstance(stmt, CopyVertica):
                self.copy_from_vertica(stmt)
            else:
                self.copy_from_stdin(stmt)
        elif first == "LOCK":
            self.lock(sql)
        else:
            self.translated(sql)

    def session_setting(self, sql: str) -> None:
        setting = parse_session(sql)
        if setting is None:
            raise Unsupported(f"{' '.join(sql.split()[:3])} is not supported by the Vertica emulator")
        if setting.autocommit is not None:
            self.autocommit = setting.autocommit
            if self.autocommit:
                self.commit()
            self.send(P.parameter_status("auto_commit", "on" if self.autocommit else "off"),
                      P.command_complete("SET"))  # fmt: skip
        else:
            self.exec_raw(f"SET lock_timeout = '{int(setting.lock_timeout)}s'")
            self.send(P.command_complete("ALTER SESSION"))

    def translated(self, sql: str) -> None:
        t = translate(sql, self.accepted_rows)
        if t.kind == "ddl":
            # Vertica commits DDL, and the transaction it was issued in; a DDL error rolls it all back.
            # DDL holds Vertica's global catalog lock, so concurrent DDL (two CREATE ... IF NOT EXISTS
            # of one table) runs one at a time: the second sees the table and does nothing.
            self.begin()
            try:
                self.exec_raw(f"SELECT pg_advisory_xact_lock({CATALOG_LOCK_KEY})")
                self.exec_raw(t.sql)
                self._catalog_effects(t)
            except PgError:
                self.exec_raw("ROLLBACK")
                raise
            self.commit()
            self.send(P.command_complete(t.tag))
        elif t.kind == "truncate":
            # Vertica's TRUNCATE TABLE commits the transaction, even when it fails.
            error = None
            try:
                self.statement_scope(lambda: self.exec_raw(t.sql))
            except PgError as err:
                error = err
            self.commit()
            if error is not None:
                raise error
            self.send(P.command_complete("TRUNCATE TABLE"))
        elif t.kind == "dml":
            res = self.statement_scope(lambda: self.exec_raw(t.sql))
            count = res.command_tuples or 0
            self.send(
                P.row_description([P.Field("OUTPUT", P.INT8, 8)]),
                P.data_row([str(count).encode()]),
                P.command_complete(t.tag),
            )
            self.after_statement()
        else:
            if self.in_transaction:
                res = self.statement_scope(lambda: self.exec_raw(t.sql))
            else:  # READ COMMITTED reads take no locks in Vertica: do not hold any after the statement
                res = self.exec_raw(t.sql)
            self.send_result(res, t.tag)

    def _catalog_effects(self, t: Any) -> None:
        for s in t.drop_schemas:
            self.exec_params("DELETE FROM v_emulator.names WHERE schema_name = %s", (s,))
            self.exec_params("DELETE FROM v_emulator.primary_keys WHERE schema_name = %s", (s,))
        for s, n in t.drop_tables:
            self.exec_params("DELETE FROM v_emulator.names WHERE schema_name = %s AND table_name = %s",
                             (s, n))  # fmt: skip
            self.exec_params("DELETE FROM v_emulator.primary_keys WHERE schema_name = %s AND table_name = %s",
                             (s, n))  # fmt: skip
        for row in t.names:
            self.exec_params(
                "INSERT INTO v_emulator.names (schema_name, table_name, column_name, spelling, vertica_type) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                row,
            )
        for row in t.primary_keys:
            self.exec_params(
                "INSERT INTO v_emulator.primary_keys (schema_name, table_name, constraint_name, column_name, "
                "ordinal_position) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                row,
            )

    def exec_params(self, sql: str, params: tuple) -> None:
        try:
            self.conn.execute(sql, params)
        except psycopg.Error as err:
            raise _pg_error_from_psycopg(err) from None

    def send_result(self, res: pq.PGresult, tag: str) -> None:
        if res.status != pq.ExecStatus.TUPLES_OK:
            self.send(P.command_complete(tag))
            return
        fields = []
        for j in range(res.nfields):
            vtype, size = P.PG_TO_VERTICA.get(res.ftype(j), (P.VARCHAR, -1))
            name = (res.fname(j) or b"").decode()
            fields.append(P.Field(name, vtype, size, res.fmod(j)))
        packets = [P.row_description(fields)]
        for i in range(res.ntuples):
            packets.append(P.data_row([res.get_value(i, j) for j in range(res.nfields)]))
            if len(packets) >= 1000:
                self.send(*packets)
                packets = []
        packets.append(P.command_complete(tag))
        self.send(*packets)

    # -- LOCK TABLE ---------------------------------------------------------------------------------
    def lock(self, sql: str) -> None:
        stmt = parse_lock(sql)
        names = ", ".join(_qualified(t) for t in stmt.tables)
        pg = f"LOCK TABLE {names} IN {LOCK_MODES[stmt.mode]} MODE" + (" NOWAIT" if stmt.nowait else "")
        self.statement_scope(lambda: self.exec_raw(pg))
        self.send(P.command_complete("LOCK TABLE"))
        self.after_statement()

    # -- CONNECT TO VERTICA / DISCONNECT ------------------------------------------------------------
    def connect_to_vertica(self, sql: str) -> None:
        stmt = parse_connect(sql)
        if self.remote is not None:
            raise VerticaError(f"Already connected to remote database {self.remote[0]}", "08002", 5730)
        cluster = self.emu.clusters.get(stmt.database.lower())
        reachable = stmt.host in ("127.0.0.1", "localhost", self.emu.host) and stmt.port == self.emu.port
        if not reachable:
            raise VerticaError(f"Could not connect to remote database {stmt.database} on {stmt.host}:"
                               f"{stmt.port}", "08001", 5742)  # fmt: skip
        if stmt.user.lower() != self.emu.user.lower() or stmt.password != self.emu.password:
            raise VerticaError("Failed to connect to remote database: Invalid username or password",
                               "28000", 3781)  # fmt: skip
        if cluster is None:
            raise VerticaError(f'Failed to connect to remote database: Database "{stmt.database}" does not '
                               "exist", "3D000", 5963)  # fmt: skip
        remote = self.emu.pg_server.connect(cluster.dbname, autocommit=True)
        remote.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'")
        self.remote = (stmt.database.lower(), remote)
        self.send(P.command_complete("CONNECT"))

    def disconnect(self, sql: str) -> None:
        database = parse_disconnect(sql)
        if self.remote is None or self.remote[0] != database.lower():
            raise VerticaError(f"Not connected to remote database {database}", "08003", 5743)
        self.remote[1].close()
        self.remote = None
        self.send(P.command_complete("DISCONNECT"))

    # -- COPY ---------------------------------------------------------------------------------------
    def table_columns(self, conn: psycopg.Connection, qualified: str) -> list[tuple[str, int, int, bool]]:
        rows = conn.execute(
            "SELECT a.attname, a.atttypid, a.atttypmod, a.attidentity <> '' FROM pg_attribute AS a "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (qualified,),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def target(self, parts: list[str]) -> tuple[str, bool]:
        qualified = _qualified(parts)
        row = self.conn.execute(
            "SELECT c.relpersistence = 't' FROM pg_class AS c WHERE c.oid = to_regclass(%s) "
            "AND c.relkind IN ('r', 'p')",
            (qualified,),
        ).fetchone()
        if row is None:
            raise VerticaError(f'Table "{".".join(parts)}" does not exist', "42V01", 4566)
        return qualified, bool(row[0])

    def _load_columns(self, qualified: str, wanted: list[str] | None) -> list[tuple[str, int, int, bool]]:
        cols = self.table_columns(self.conn, qualified)
        if wanted is None:
            return [c for c in cols if not c[3]]
        by_name = {c[0]: c for c in cols}
        out = []
        for w in wanted:
            col = by_name.get(w.lower())
            if col is None:
                raise VerticaError(f'Column "{w}" does not exist in table {qualified}', "42703", 2624)
            if col[3]:
                raise VerticaError(f'Cannot insert into or update IDENTITY/AUTO_INCREMENT column "{w}"',
                                   "42601", 2444)  # fmt: skip
            out.append(col)
        return out

    def copy_from_vertica(self, stmt: CopyVertica) -> None:
        if self.remote is None or self.remote[0] != stmt.database.lower():
            raise VerticaError(f"Not connected to database {stmt.database}: run CONNECT TO VERTICA first",
                               "08003", 5743)  # fmt: skip
        remote = self.remote[1]
        qualified, temp = self.target(stmt.table)
        columns = self._load_columns(qualified, stmt.columns)
        source = _qualified(stmt.source)
        src_cols = self.table_columns(remote, source)
        if not src_cols:
            raise VerticaError(f'Table "{".".join(stmt.source)}" does not exist in database {stmt.database}',
                               "42V01", 4566)  # fmt: skip
        if stmt.source_columns is None:
            src_names = [c[0] for c in src_cols if True]
        else:
            known = {c[0] for c in src_cols}
            src_names = [c.lower() for c in stmt.source_columns]
            for c in src_names:
                if c not in known:
                    raise VerticaError(f'Column "{c}" does not exist in table {source}', "42703", 2624)
        if len(src_names) != len(columns):
            raise VerticaError("COPY FROM VERTICA: the source and target column lists differ in length",
                               "42601", 4856)  # fmt: skip
        select = f"SELECT {', '.join(_quote(c) for c in src_names)} FROM {source}"
        insert = f"COPY {qualified} ({', '.join(_quote(c[0]) for c in columns)}) FROM STDIN"

        def load() -> int:
            with remote.cursor().copy(f"COPY ({select}) TO STDOUT") as out:
                cur = self.conn.cursor()
                with cur.copy(insert) as inp:
                    for chunk in out:
                        inp.write(chunk)
            return cur.rowcount

        rows = self.statement_scope(load)
        self.accepted_rows = rows
        if not stmt.no_commit and not temp:
            self.commit()  # COPY commits itself and the open transaction unless NO COMMIT
        self.send(P.row_description([P.Field("Rows Loaded", P.INT8, 8)]), P.data_row([str(rows).encode()]),
                  P.command_complete("COPY"))  # fmt: skip
        self.after_statement()

    def copy_from_stdin(self, stmt: CopyStdin) -> None:
        qualified, temp = self.target(stmt.table)
        columns = self._load_columns(qualified, stmt.columns)
        self.send(P.copy_in_response())
        chunks = []
        while True:
            type_byte, data = self.reader.message()
            if type_byte == b"d":
                chunks.append(data)
            elif type_byte == b"c":
                break
            elif type_byte == b"f":
                reason = data.rstrip(b"\x00").decode()
                raise VerticaError("COPY: Input data stream failed: " + reason, "08000", 0)
            else:
                raise VerticaError("Unexpected message during COPY", "08P01", 0)
        try:
            text = b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise VerticaError("COPY: Input record 1 has been rejected (Invalid UTF-8)", "22V04",
                               2035) from None  # fmt: skip
        good, rejected = [], []
        for number, fields in enumerate(
            records(text, stmt.delimiter, stmt.enclosed_by, stmt.escape, stmt.record_terminator), 1
        ):
            if number <= stmt.skip:
                continue
            row, problem = _convert(fields, columns, stmt)
            if problem:
                rejected.append((number, problem))
                if stmt.abort_on_error:
                    raise VerticaError(f"COPY: Input record {number} has been rejected ({problem})",
                                       "22V04", 2035)  # fmt: skip
            else:
                good.append((number, row))
        insert_cols = ", ".join(_quote(c[0]) for c in columns)

        def load() -> int:
            with self.conn.cursor().copy(f"COPY {qualified} ({insert_cols}) FROM STDIN") as cp:
                for _, row in good:
                    cp.write_row(row)
            return len(good)

        def one_by_one() -> int:
            placeholders = ", ".join(["%s"] * len(columns))
            loaded = 0
            for number, row in good:
                try:
                    with self.conn.transaction():  # a savepoint inside the open transaction
                        self.conn.execute(
                            f"INSERT INTO {qualified} ({insert_cols}) VALUES ({placeholders})", row
                        )
                    loaded += 1
                except psycopg.Error as err:
                    rejected.append((number, err.diag.message_primary or str(err)))
            return loaded

        try:
            loaded = self.statement_scope(load)
        except PgError as err:
            if stmt.abort_on_error or err.sqlstate in WHOLE_TRANSACTION:
                raise VerticaError(f"COPY: Input record has been rejected ({err.message})", "22V04",
                                   2035) from None  # fmt: skip
            loaded = self.statement_scope(one_by_one)
        if stmt.rejectmax is not None and len(rejected) > stmt.rejectmax:
            raise VerticaError(f"COPY: Exceeded REJECTMAX ({stmt.rejectmax})", "22V04", 2035)
        self.accepted_rows = loaded
        if not stmt.no_commit and not temp:
            self.commit()
        self.send(P.command_complete("COPY"))
        self.after_statement()


def _convert(fields: list[tuple[str, bool]], columns: list[tuple[str, int, int, bool]],
             stmt: CopyStdin) -> tuple[list | None, str | None]:  # fmt: skip
    if len(fields) < len(columns):
        return None, "Too few columns found"
    if len(fields) > len(columns):
        return None, "Too many columns found"
    row: list[Any] = []
    for (value, enclosed), (name, typ, typmod, _) in zip(fields, columns, strict=True):
        if not enclosed and value == stmt.null:
            row.append(None)
            continue
        if typ in (1042, 1043) and typmod > 4:
            limit = typmod - 4
            if len(value.encode("utf-8")) > limit:
                if stmt.enforce_length:
                    size = len(value.encode())
                    return None, (f"The {size}-byte value is too long for type Varchar({limit}), "
                                  f"column {len(row) + 1} ({name})")  # fmt: skip
                value = truncate_bytes(value, limit)
        if typ == 17:
            row.append(value.encode("utf-8"))
        else:
            row.append(value)
    return row, None


def _startup_params(body: bytes) -> dict[str, str]:
    pos = 4
    params: dict[str, str] = {}
    while pos < len(body) and body[pos] != 0:
        end = body.index(b"\x00", pos)
        key = body[pos:end].decode()
        pos = end + 1
        if key == "protocol_version":  # a 4-byte integer, not a string (vertica-python's Startup)
            pos += 5
            continue
        end = body.index(b"\x00", pos)
        params[key] = body[pos:end].decode("utf-8")
        pos = end + 1
    return params


def _quote(name: str) -> str:
    return '"' + name.lower().replace('"', '""') + '"'


def _qualified(parts: list[str]) -> str:
    parts = parts[-2:]  # a leading database name is the current database in Vertica
    return ".".join(_quote(p) for p in parts)
