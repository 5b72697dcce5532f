"""The database object: everything that differs between the databases the provider speaks.

One subclass per database (``postgres.py``, ``sqlite.py``, ``vertica.py``), each with its SQL
overrides in ``include/sql/<name>/``. It says *how*: identifiers and their limits, bind parameters,
how a transaction is opened, what locks serialise writers, the catalog reads, counting, bulk
inserts, how rows are read from it and written into it for a copy, its server-side copy (if any)
and the functions its fingerprints need. It does not own connections: the hook opens, commits and
closes them and hands each to :meth:`AuditDialect.begin`. Callers never branch on a database's name.

It builds on common-sql's :class:`~airflow.providers.common.sql.dialects.dialect.Dialect` (so the
hook, placeholder, ``escape_word`` and SQLAlchemy-inspector helpers are there). Catalog reads are
the provider's own SQL rather than the inspector's: the inspector asks per table (≈7 ms each in a
catalog of 100,000 tables), needs a SQLAlchemy dialect (none is installed for Vertica) and does not
keep case-sensitive names apart the way the audit must.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.sql.dialects.dialect import Dialect

from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.transfers.base import Batch, CopyJob, CopyStrategy

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode category ``Cc`` exactly (C0, DEL, C1): refused in identifiers (one C-level search per name)."""
NAMED_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
"""A ``:name`` bind parameter in the provider's statement files."""
COUNT_BATCH_SIZE = 200
"""Tables counted per round trip: one ``UNION ALL`` of ``COUNT(*)`` sub-queries."""


class AuditDialect(Dialect):
    """Base: ANSI double-quoted identifiers, ``COUNT(*)`` batched with ``UNION ALL``, DB-API writes."""

    name: ClassVar[str] = "ansi"
    conn_types: ClassVar[tuple[str, ...]] = ()
    max_identifier_bytes: ClassVar[int | None] = 128
    """Longest identifier the database keeps without truncating it (in UTF-8 bytes)."""
    store_types: ClassVar[Mapping[str, str]] = {
        "event_id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "float": "DOUBLE PRECISION",
    }
    """Column types of the audit store that differ per database (slots of ``create_store.sql``)."""
    temporary_table: ClassVar[str] = "CREATE TEMPORARY TABLE IF NOT EXISTS"
    """How ``create_stage.sql`` makes the status pass's session-private stage."""
    on_commit_delete: ClassVar[str] = "ON COMMIT DELETE ROWS"
    """The stage's rows end with the transaction (empty where the database has no such clause)."""
    temporary_schema: ClassVar[str | None] = None
    """The schema a session's temporary tables are named by (``None``: by their bare name)."""
    ddl_commits: ClassVar[bool] = False
    """Every DDL statement commits the open transaction (and its locks): the stage is made first."""
    has_indexes: ClassVar[bool] = True
    """``create_history_index.sql`` runs only where the database has indexes."""
    enforces_declared_sizes: ClassVar[bool] = True
    """Declared lengths and precisions (``VARCHAR(50)``, ``NUMERIC(10,2)``) limit the values stored."""
    threads_share_connections: ClassVar[bool] = True
    """A connection opened in one thread may be used from another (one thread at a time)."""
    sessions_share_connection: ClassVar[bool] = True
    """One connection may serve one session after another (``MigrationAuditHook.one_connection``)."""
    writer_name: ClassVar[str] = "insert"
    max_parallel_writers: ClassVar[int | None] = None
    """Tables copied into this database at the same time at most (``None``: the caller's limit)."""
    sqlglot_dialect: ClassVar[str] = "postgres"
    """The sqlglot dialect a row filter is rendered in for this database (``filters.py``)."""
    folds_identifier_case: ClassVar[bool] = False
    """Names differing only in case are the same name (Vertica): schema drift matches columns case-blind."""
    type_widths: ClassVar[Mapping[str, int]] = {
        "smallint": 2, "int2": 2, "integer": 4, "int": 4, "int4": 4, "bigint": 8, "int8": 8,
        "real": 4, "float4": 4, "double precision": 8, "float8": 8, "float": 8,
    }  # fmt: skip
    """Byte width of each integer and float type name the catalog reports (schema drift compares
    them; a name not listed has an unknown width and is not compared)."""

    # -- identifiers -------------------------------------------------------------------------------
    def check_identifier(self, name: object, what: str = "identifier") -> str:
        """Refuse what cannot be a name in this database; return it unchanged otherwise."""
        if not isinstance(name, str) or not name:
            raise AuditInputError(f"{what} must be a non-empty string, got {name!r}")
        if CONTROL_CHARACTERS.search(name):
            raise AuditInputError(f"{what} {name!r} contains control characters")
        limit = self.max_identifier_bytes
        if limit is not None and len(name.encode("utf-8")) > limit:
            raise AuditInputError(
                f"{what} {name[:40]!r}... is {len(name.encode('utf-8'))} bytes long; "
                f"{self.name} keeps at most {limit}"
            )
        return name

    def quote(self, name: str) -> str:
        """Quote one identifier: always quoted, embedded quotes doubled, so case and spaces survive.

        Stricter than common-sql's ``escape_word``, which leaves ordinary words unquoted.
        """
        self.check_identifier(name)
        return '"' + name.replace('"', '""') + '"'

    def qualified(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}"

    def temporary(self, table: str) -> str:
        """How a statement names this session's temporary table ``table``."""
        if self.temporary_schema is None:
            return self.quote(table)
        return f'"{self.temporary_schema}".{self.quote(table)}'

    # -- parameters --------------------------------------------------------------------------------
    def convert_params(self, sql: str) -> str:
        """Rewrite ``:name`` bind parameters into the driver's style (default: keep them)."""
        return sql

    def adapt(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        return params

    # -- the connection ------------------------------------------------------------------------------
    def use_database(self, database: str) -> None:
        """Point the hook at ``database`` instead of the connection's, as common-sql's
        ``BaseSQLOperator`` does for a hook without a ``database`` attribute: the Schema field."""
        self.hook.schema = database  # type: ignore[attr-defined]

    # -- transactions and locks (the hook calls begin; the rest run inside its transaction) ---------
    def begin(self, conn: Any, schemas: Sequence[str], *, write: bool) -> None:
        """Make ``schemas`` reachable on a new ``conn`` and open its transaction (default: nothing)."""

    def released_reads(self, session: Session) -> AbstractContextManager[Any]:
        """A block whose reads leave no locks behind in the session's transaction (default: none do)."""
        return nullcontext()

    def lock_store(self, session: Session, store_schema: str) -> None:
        """Serialise creators of the audit store until the transaction ends (default: nothing)."""

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        """Serialise writers of one schema's audit rows until the transaction ends.

        Called after :meth:`lock_store`'s DDL, so the store's tables exist.
        """
        raise NotImplementedError

    def affected_rows(self, cursor: Any) -> int:
        """Rows the cursor's last ``INSERT``/``UPDATE``/``DELETE`` touched (0 if it cannot say)."""
        count = getattr(cursor, "rowcount", -1)
        return int(count) if count is not None and count >= 0 else 0

    def create_schema(self, session: Session, schema: str) -> None:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")

    # -- catalog -----------------------------------------------------------------------------------
    def schema_exists(self, session: Session, schema: str) -> bool:
        return bool(session.fetchall(session.statement("schema_exists"), {"schema": schema}))

    def list_tables(self, session: Session, schema: str) -> list[str]:
        return [row[0] for row in session.fetchall(session.statement("list_tables"), {"schema": schema})]

    def table_exists(self, session: Session, schema: str, table: str) -> bool:
        return table in self.list_tables(session, schema)

    def list_columns(self, session: Session, schema: str, table: str) -> list[str]:
        rows = session.fetchall(session.statement("list_columns"), {"schema": schema, "table": table})
        return [row[0] for row in rows]

    def list_schema_columns(self, session: Session, schema: str) -> list[dict[str, Any]]:
        """Every column of every table of ``schema`` in one read: ``table_name``, ``column_name``,
        ``data_type``, ``char_length``, ``num_precision``, ``num_scale``, ``nullable``."""
        return session.fetch_dicts(session.statement("list_schema_columns"), {"schema": schema})

    # -- counting ----------------------------------------------------------------------------------
    def count_rows(
        self,
        session: Session,
        schema: str,
        tables: Sequence[str],
        batch_size: int = COUNT_BATCH_SIZE,
        where: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        """Exact ``COUNT(*)`` of each table, many tables per round trip.

        :param where: per table, a row filter already rendered for this database (``filters.py``:
            validated from the settings file, never from a trigger); counts only the rows it keeps.
        """
        where = where or {}
        quoted = self.quote(schema)
        counts: dict[str, int] = {}
        for start in range(0, len(tables), batch_size):
            batch = tables[start : start + batch_size]
            # Only integer positions, dialect-quoted catalog names and validated filters go in the text.
            sql = " UNION ALL ".join(
                f"SELECT {i} AS pos, COUNT(*) AS n FROM {quoted}.{self.quote(table)}"  # noqa: S608
                + (f" WHERE {where[table]}" if table in where else "")
                for i, table in enumerate(batch)
            )
            for pos, n in session.fetchall(sql):
                counts[batch[int(pos)]] = int(n)
        return counts

    # -- bulk writes -------------------------------------------------------------------------------
    def bulk_insert(
        self,
        session: Session,
        insert_sql: str,
        table_sql: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table_sql`` in the current transaction.

        :param insert_sql: the statement file's ``INSERT … VALUES (:column, …)`` for those columns,
            run once per row (default: the driver's ``executemany``).
        :param table_sql: the dialect-quoted target table, for dialects with a bulk path of their own.
        """
        session.executemany(insert_sql, [dict(zip(columns, row, strict=True)) for row in rows])

    # -- copies: reading from this database, writing into it ------------------------------------------
    def read_batches(self, job: CopyJob) -> Iterator[Batch]:
        """The source table's rows, ``job.batch_size`` at a time (default: ``fetchmany``, which
        streams on SQLite and vertica-python)."""
        sql = job.statement(
            job.source, "select_rows", columns=job.source_columns(), source=job.source_table()
        )
        cursor = job.source.cursor
        cursor.execute(sql)
        while rows := cursor.fetchmany(job.batch_size):
            yield rows

    def write_batches(self, job: CopyJob, batches: Iterable[Batch]) -> int:
        """Write batches into the (already emptied) target table; return the rows it took.

        Default: ``executemany`` of one ``INSERT`` per batch, with ``:cN`` parameters.
        """
        keys = [f"c{i}" for i in range(len(job.columns))]
        sql = job.statement(
            job.target,
            "insert_rows",
            target=job.target_table(),
            columns=job.target_columns(),
            markers=", ".join(f":{k}" for k in keys),
        )
        written = 0
        for batch in batches:
            job.target.executemany(
                sql, [dict(zip(keys, map(plain_value, row), strict=True)) for row in batch]
            )
            written += len(batch)
        return written

    def server_copy(self, source: Any, target: Any) -> CopyStrategy | None:
        """A copy that this (target) database runs itself from ``source``'s database, or ``None``.

        :param source: the source endpoint (a ``MigrationAuditHook``), whose ``dialect`` says which
            database it is and whose connection holds the credentials a server-side copy needs.
        :param target: the target endpoint (this dialect's).
        """
        return None

    # -- fingerprints ------------------------------------------------------------------------------
    def prepare_fingerprint(self, session: Session) -> None:
        """Give the session what the fingerprint SQL needs (default: the database has it all)."""

    def fingerprint_row(self, session: Session, shape: Any) -> str | None:
        """This database's own ``{row}`` for the fingerprint statements, or ``None`` for the portable
        canonical row expression (``fingerprint.row_expression``)."""
        return None

    native_fingerprints: ClassVar[bool] = False
    """The database has ``fingerprint/native_{table,segments,row_hashes}.sql``: a fingerprint from its
    own per-row hash, used when both sides are this database (``fingerprint.same_engine``)."""

    def native_values(self, session: Session, shape: Any) -> str | None:
        """The ``{values}`` slot of the native statements: the shared columns in name order (or ``None``
        when this table cannot be hashed natively, e.g. too wide for one call)."""
        return ", ".join(self.quote(column) for column in shape.columns) if shape.columns else None


def plain_value(value: Any) -> Any:
    """A value every DB-API driver binds: decimals, UUIDs and times from other databases as text."""
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value
