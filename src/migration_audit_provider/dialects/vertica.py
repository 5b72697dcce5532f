"""Vertica (production): everything that differs for it, in one module, with ``include/sql/vertica/``.

Identifiers of up to 128 bytes; vertica-python binds ``:name`` parameters itself; writers of one
schema's audit rows are serialised by a table lock (Vertica has no advisory locks); every statement
is sent alone (an error in a later statement of a multi-statement string can go unnoticed, Airflow
issues 32993 / 55502); DDL commits the open transaction, so the store is created before any lock is
taken; ``UPDATE`` leaves delete vectors, so the status pass touches only rows that change.

Copies into Vertica
-------------------
Vertica's ``TRUNCATE`` commits at once (even when it fails) and ``COPY`` commits unless told
``NO COMMIT``. A truncate-then-copy interrupted in between leaves an empty target table, which the
audit would then call a ``reject`` although nothing was rejected. So the replace is one transaction:

1. ``DELETE FROM target`` (transactional; readers keep seeing the old rows, Vertica's reads at READ
   COMMITTED take no locks);
2. ``COPY target (...) FROM VERTICA ... NO COMMIT`` (Vertica → Vertica, server side) or
   ``COPY ... FROM STDIN ... NO COMMIT`` (rows from any other source): a ``COPY ... NO COMMIT`` joins
   the DML already open in the transaction, as Vertica's documentation says;
3. ``COMMIT`` - the only point where the new contents become visible, all at once.

A failure or a killed worker before step 3 ends the session and Vertica rolls everything back. A
staging table plus ``ALTER TABLE ... RENAME`` swap would also be atomic, but it leaves staging tables
behind after a crash, loses the target's grants, comments and dependent views' binding unless
recreated, and needs ``CREATE`` rights in the schema. The ``DELETE`` path's cost: the deleted rows
remain as delete vectors until Vertica purges them - nothing for an empty target (first load, a
``reject`` rerun), one full delete vector for a ``partial`` or ``overload`` rerun.

The password in ``CONNECT TO VERTICA``
--------------------------------------
The statement must carry the source password in clear text. It is never logged: vertica-python's
per-connection logger is disabled for that one statement, our own log lines name only database,
user and host, the value is registered with Airflow's secrets masker, and any error raised while the
session is connected is re-raised as :class:`VerticaCopyError` with the password scrubbed and
without the original exception attached (vertica-python's ``QueryError`` quotes the statement).
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from migration_audit_provider.dialects.base import AuditDialect
from migration_audit_provider.exceptions import AuditError, AuditInputError
from migration_audit_provider.transfers.base import Batch, CopyJob, CopyOutcome, CopyStrategy, check_counts

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

log = logging.getLogger(__name__)

DEFAULT_PORT = 5433
STREAM_BUFFER_BYTES = 1 << 20
"""Bytes handed to vertica-python per ``CopyData`` read (its ``buffer_size``)."""
MASK = "***"


class VerticaCopyError(AuditError):
    """A Vertica copy failed; the message has been scrubbed of the source password."""


class VerticaAuditDialect(AuditDialect):
    name: ClassVar[str] = "vertica"
    conn_types: ClassVar[tuple[str, ...]] = ("vertica",)
    max_identifier_bytes: ClassVar[int | None] = 128
    store_types: ClassVar[dict[str, str]] = {"event_id": "IDENTITY(1, 1)", "float": "FLOAT"}
    temporary_table: ClassVar[str] = "CREATE LOCAL TEMPORARY TABLE IF NOT EXISTS"
    ddl_commits: ClassVar[bool] = True
    """Local temporary tables live in ``V_TEMP_SCHEMA``, found by their bare name (CREATE TEMPORARY
    TABLE, SQL Reference); ON COMMIT DELETE ROWS is Vertica's default, spelt out anyway."""
    has_indexes: ClassVar[bool] = False
    """Vertica has projections, not indexes; keys are declared, not enforced."""
    writer_name: ClassVar[str] = "vertica_copy"
    native_fingerprints: ClassVar[bool] = True
    """``HASH(...)`` of each row summed as NUMERIC: ``include/sql/vertica/fingerprint/native_*.sql``."""
    native_casts: ClassVar[dict[str, str]] = {
        "int": "INT", "numeric": "NUMERIC(37, 15)", "float": "FLOAT", "bool": "BOOLEAN", "date": "DATE",
        "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "binary": "VARBINARY(65000)",
    }  # fmt: skip
    """``HASH`` depends on the argument's type and size: each class is cast to one type (else VARCHAR)."""
    sqlglot_dialect: ClassVar[str] = "vertica"
    """Registered by the ``vertica-sqlglot-dialect`` package."""
    folds_identifier_case: ClassVar[bool] = True
    type_widths: ClassVar[dict[str, int]] = {
        "int": 8,
        "integer": 8,
        "bigint": 8,
        "smallint": 8,
        "tinyint": 8,
        "float": 8,
        "double precision": 8,
        "real": 8,
    }
    """Vertica's integers and floats are all 8 bytes."""

    def native_values(self, session: Session, shape: Any) -> str | None:
        """The shared columns, each cast to its class's one type, so that equal values hash equally."""
        casts = [
            f"CAST({self.quote(c)} AS {self.native_casts.get(shape.classes[c], 'VARCHAR(65000)')})"
            for c in shape.columns
        ]
        return ", ".join(casts) or None

    def use_database(self, database: str) -> None:
        """The Vertica hook reads the database from the connection's Schema field on every connect
        (``hook.schema`` is not consulted), so the connection it fetches gets that field."""
        fetch = self.hook.get_connection

        def with_database(conn_id: str) -> Any:
            conn = fetch(conn_id)
            conn.schema = database
            return conn

        self.hook.get_connection = with_database  # type: ignore[method-assign]

    def begin(self, conn: Any, schemas: Sequence[str], *, write: bool) -> None:
        conn.autocommit = False

    def affected_rows(self, cursor: Any) -> int:
        """Vertica answers DML with one row, ``OUTPUT``, holding the rows touched."""
        row = cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        # No advisory locks: an exclusive lock on the audit table serialises writers (readers are not
        # blocked) until the transaction commits. The table exists: the store is created first.
        session.execute(f"LOCK TABLE {self.qualified(store_schema, 'audit')} IN EXCLUSIVE MODE")

    def bulk_insert(
        self,
        session: Session,
        insert_sql: str,
        table_sql: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """``COPY … FROM STDIN … NO COMMIT`` in the open transaction (vertica-python's own
        ``executemany`` accepts only a one-line ``INSERT … VALUES`` and would load row by row)."""
        if not rows:
            return
        names = ", ".join(self.quote(column) for column in columns)
        sql = _without_comments(session.statement("copy/copy_from_stdin", target=table_sql, columns=names))
        session.cursor.copy(sql, RowStream([rows]), buffer_size=STREAM_BUFFER_BYTES)
        loaded = session.fetchall(_without_comments(session.statement("copy/rows_loaded")))
        if not loaded or loaded[0][0] is None or int(loaded[0][0]) != len(rows):
            raise AuditError(
                f"Vertica took {loaded[0][0] if loaded else None} of {len(rows)} rows into {table_sql}"
            )

    def write_batches(self, job: CopyJob, batches: Iterable[Batch]) -> int:
        """``COPY ... FROM STDIN ... NO COMMIT``, the stream produced batch by batch while
        vertica-python reads it (``buffer_size`` at a time): memory holds one batch and one buffer.
        ``ABORT ON ERROR`` makes a bad row fail the load; the rows loaded are then read back with
        ``GET_NUM_ACCEPTED_ROWS()`` and compared with the rows read."""
        sql = job.statement(
            job.target, "copy_from_stdin", target=job.target_table(), columns=job.target_columns()
        )
        job.target.cursor.copy(sql, RowStream(batches), buffer_size=STREAM_BUFFER_BYTES)
        return rows_loaded(job)

    def server_copy(self, source: Any, target: Any) -> CopyStrategy | None:
        return (
            VerticaToVerticaStrategy(source, target)
            if isinstance(source.dialect, VerticaAuditDialect)
            else None
        )


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def rows_loaded(job: CopyJob) -> int:
    """Rows the session's last ``COPY`` accepted; an unreadable answer is an error, not "unknown"."""
    loaded = job.target.fetchall(job.statement(job.target, "rows_loaded"))
    if not loaded or loaded[0][0] is None:
        raise AuditError(f"{job.schema}.{job.table}: Vertica did not report the rows the COPY loaded")
    return int(loaded[0][0])


# -- server-side copy ------------------------------------------------------------------------------
class VerticaToVerticaStrategy(CopyStrategy):
    """``CONNECT TO VERTICA`` the source from the target session, then ``COPY ... FROM VERTICA``.

    The source's credentials come from the source connection: host and port, login and password, and
    its Schema field as the database (as the Vertica hook reads it). The address the *target cluster*
    uses to reach the source can differ from the worker's: set ``cross_cluster_host`` /
    ``cross_cluster_port`` in the source connection's extra to override host and port.
    """

    method: ClassVar[str] = "copy_from_vertica"

    def credentials(self) -> dict[str, Any]:
        conn = self.source.get_connection(self.source.conn_id)
        extra = conn.extra_dejson or {}
        database = conn.schema
        if not database:
            raise AuditInputError(
                f"source connection {self.source.conn_id!r} needs its database name in the Schema field "
                "for COPY ... FROM VERTICA"
            )
        port = extra.get("cross_cluster_port") or conn.port or DEFAULT_PORT
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise AuditInputError(
                f"source connection {self.source.conn_id!r} has a bad port {port!r}"
            ) from None
        return {
            "database": database,
            "user": conn.login or "",
            "password": conn.password or "",
            "host": extra.get("cross_cluster_host") or conn.host or "localhost",
            "port": port,
        }

    def copy(self, job: CopyJob) -> CopyOutcome:
        creds = self.credentials()
        password = creds["password"]
        _mask_secret(password)
        quote = job.target_dialect.quote
        database = quote(creds["database"])
        connect = job.statement(
            job.target,
            "connect_to_source",
            source_database=database,
            source_user=quote(creds["user"]),
            password=string_literal(password),
            host=string_literal(creds["host"]),
            port=str(creds["port"]),
        )
        copy = job.statement(
            job.target,
            "copy_from_vertica",
            target=job.target_table(),
            columns=job.target_columns(),
            source_database=database,
            source_schema=quote(job.schema),
            source_table=quote(job.table),
        )
        log.info(
            "Copying %s.%s from Vertica database %s on %s:%s as %s (server side)",
            job.schema,
            job.table,
            creds["database"],
            creds["host"],
            creds["port"],
            creds["user"],
        )
        cursor = job.target.cursor
        error: str | None = None
        connected = False
        rows_read: int | None = None
        rows_written: int | None = None
        try:
            with driver_log_silenced(job.target.conn):
                cursor.execute(connect)
            connected = True
            cursor.execute(job.statement(job.target, "clear_target", target=job.target_table()))
            rows_read = self.source_rows(job)
            cursor.execute(copy)
            rows_written = _first_int(cursor)
            if rows_written is None:
                rows_written = rows_loaded(job)
            check_counts(job, rows_read, rows_written)
            job.target.commit()
        except Exception as exc:  # re-raised below, scrubbed and without the original attached
            error = scrub(f"{type(exc).__name__}: {exc}", password)
            _quiet(job.target.rollback)
        finally:
            if connected:
                _quiet(
                    lambda: cursor.execute(job.statement(job.target, "disconnect", source_database=database))
                )
        if error is not None:
            raise VerticaCopyError(f"COPY FROM VERTICA of {job.schema}.{job.table} failed: {error}")
        return CopyOutcome(rows_read, rows_written, self.method)

    @staticmethod
    def source_rows(job: CopyJob) -> int:
        """The source table's row count, read just before the server-side copy pulls it."""
        counts = job.source_dialect.count_rows(job.source, job.schema, [job.table])
        return counts[job.table]


def string_literal(value: str) -> str:
    """A Vertica string literal (standard-conforming: only the quote is special, doubled)."""
    if "\x00" in value:
        raise AuditInputError("a value for CONNECT TO VERTICA cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


def scrub(text: str, secret: str) -> str:
    """``text`` with ``secret`` masked: as given, as a SQL literal, and as Python's ``repr`` shows
    either (vertica-python's ``QueryError`` quotes the failed statement with ``repr``); then whatever
    still follows ``PASSWORD`` in a quoted statement, in case the driver rendered it some other way.
    """
    if not secret:
        return text
    forms = set()
    for base in (secret, secret.replace("'", "''")):
        forms.add(base)
        forms.add(repr(base + '"')[1:-2])  # inside '...': quotes and backslashes escaped
        if '"' not in base:
            forms.add(repr(base + "'")[1:-2])  # inside "...": backslashes escaped
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return _PASSWORD_CLAUSE.sub(rf"\1{MASK}\2", text)


_PASSWORD_CLAUSE = re.compile(r"(PASSWORD\s+)(?!\*\*\*\s)\S.*?(\s+ON\s+\\?['\"])", re.DOTALL)


@contextmanager
def driver_log_silenced(conn: Any) -> Iterator[None]:
    """Disable vertica-python's per-connection logger (it logs each statement's text) for a block.

    Each vertica-python connection has its own uniquely named logger, used by its cursor too; only
    this session's thread touches it, so flipping it is safe while other copies run.
    """
    logger = getattr(conn, "_logger", None)
    if not isinstance(logger, logging.Logger):
        yield
        return
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was_disabled


def _mask_secret(secret: str) -> None:
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow 3 always has it
        return
    mask_secret(secret)


def _first_int(cursor: Any) -> int | None:
    """The row count a ``COPY`` returns as its one-row result, if the driver exposes it."""
    try:
        row = cursor.fetchone()
    except Exception:
        return None
    if not row or row[0] is None:
        return None
    return int(row[0])


def _quiet(action: Any) -> None:
    try:
        action()
    except Exception:  # noqa: S110 - cleanup after a failure; the failure itself is what is reported
        pass


# -- rows streamed from another database into Vertica (COPY FROM STDIN) ----------------------------
def copy_field(value: Any) -> str:
    """One value as vertica-python's ``executemany`` writes it for ``COPY ... ENCLOSED BY ''''``.

    NULL is an empty, unenclosed field; text (and dates, times, UUIDs) is enclosed in single quotes
    with ``\\``, ``|``, newline and ``'`` escaped by a backslash; numbers and booleans are written bare.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    elif isinstance(value, (datetime.date, datetime.time, uuid.UUID)):
        value = str(value)
    elif not isinstance(value, str):
        value = str(value)
    out = []
    for ch in value:
        if ch in "\\|\n'":
            out.append("\\")
        out.append(ch)
    return "'" + "".join(out) + "'"


def copy_record(row: Any) -> str:
    return "|".join(copy_field(v) for v in row) + "\n"


class RowStream:
    """A read-only file over the encoded rows of ``batches`` (what ``cursor.copy`` reads from)."""

    def __init__(self, batches: Iterable[Batch]) -> None:
        self._batches = iter(batches)
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            batch = next(self._batches, None)
            if batch is None:
                self._done = True
                break
            self._buffer += "".join(copy_record(row) for row in batch).encode("utf-8")
        if size < 0 or size >= len(self._buffer):
            data, self._buffer = bytes(self._buffer), bytearray()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        return data
