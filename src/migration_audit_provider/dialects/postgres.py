"""PostgreSQL: ``%(name)s`` parameters, 63-byte identifiers, advisory locks, ``COPY`` for bulk rows.

Copies: as a source it streams through a server-side cursor; as a target it loads with
``COPY … FROM STDIN``; PostgreSQL → PostgreSQL pipes the source's ``COPY TO STDOUT`` straight into
the target's ``COPY FROM STDIN`` (:class:`PostgresCopyStrategy`). SQL: ``include/sql/postgres/``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from migration_audit_provider.dialects.base import COUNT_BATCH_SIZE, NAMED_PARAM, AuditDialect
from migration_audit_provider.transfers.base import CopyJob, CopyOutcome, CopyStrategy, check_counts

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.transfers.base import Batch

ADVISORY_LOCK_CLASS = 7245
"""First key of the provider's advisory locks (the second is a hash of store and schema)."""
BIG_TABLE_BYTES = 64 * 1024 * 1024
"""A table this size or larger is counted alone, with the server's parallel scan."""
BLOCK_BYTES = 128 * 1024
"""A PostgreSQL → PostgreSQL stream is written to the target in blocks of about this size."""


class PostgresAuditDialect(AuditDialect):
    name: ClassVar[str] = "postgres"
    conn_types: ClassVar[tuple[str, ...]] = ("postgres", "postgresql")
    max_identifier_bytes: ClassVar[int | None] = 63
    temporary_schema: ClassVar[str | None] = "pg_temp"
    writer_name: ClassVar[str] = "pg_copy"
    native_fingerprints: ClassVar[bool] = True
    """Per-column 64-bit hashes combined per row and summed: ``postgres/fingerprint/native_*``."""
    native_hashes: ClassVar[dict[str, str]] = {
        "int": "hashint8extended(CAST({col} AS BIGINT), {seed})",
        "numeric": "hash_numeric_extended(CAST({col} AS NUMERIC), {seed})",
        "float": "hashfloat8extended(CAST({col} AS DOUBLE PRECISION), {seed})",
        "text": "hashtextextended(CAST({col} AS TEXT), {seed})",
        "char": "hashtextextended(CAST({col} AS TEXT), {seed})",
        "timestamp": "timestamp_hash_extended(CAST({col} AS TIMESTAMP), {seed})",
    }
    """Each class's hash function (its argument cast so that int4/int8 or numeric scales hash alike);
    other classes (timestamptz, date, bool, bytea, ...): ``hash_record_extended(ROW(col), seed)``."""

    def native_values(self, session: Session, shape: Any) -> str | None:
        """The row's hash: each shared column's hash seeded by its position, combined with XOR (``#``).

        Measured on 1,000,000 rows: 2.6x ``COUNT(*)``, where ``hash_record_extended(ROW(...), 0)`` of the
        whole row took 4.2x (it builds a record per row). A NULL contributes its position.
        """
        parts = []
        for seed, column in enumerate(shape.columns):
            fallback = "hash_record_extended(ROW({col}), {seed})"
            template = self.native_hashes.get(shape.classes[column], fallback)
            parts.append(f"COALESCE({template.format(col=self.quote(column), seed=seed)}, {seed})")
        return " # ".join(parts) or None

    def convert_params(self, sql: str) -> str:
        return NAMED_PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))

    def use_database(self, database: str) -> None:
        self.hook.database = database  # type: ignore[attr-defined]

    def begin(self, conn: Any, schemas: Sequence[str], *, write: bool) -> None:
        conn.autocommit = False

    @contextmanager
    def released_reads(self, session: Session, *, then: str = "") -> Iterator[None]:
        """Reads inside roll back to a savepoint afterwards, which releases their table locks.

        PostgreSQL keeps the lock taken on every table read until the transaction ends, and its lock
        table has room for ``max_locks_per_transaction x max_connections`` locks (about 6,400 with the
        defaults): reading 20,000 tables in one transaction failed with "out of shared memory".
        What was read is kept by the caller; nothing else in the transaction is undone.

        One round trip each way (statements without parameters go in one simple query): ``then``, a
        parameterless statement of ours, is sent with the savepoint (the counting batches' plan
        setting), and the rollback and release go together.
        """
        session.execute("SAVEPOINT audit_reads" + (f";\n{then}" if then else ""))
        try:
            yield
        finally:
            session.execute("ROLLBACK TO SAVEPOINT audit_reads; RELEASE SAVEPOINT audit_reads")

    def lock_store(self, session: Session, store_schema: str) -> None:
        self.lock_schema(session, store_schema, "")

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        key = zlib.crc32(f"{store_schema}\x00{schema}".encode())
        session.execute(
            "SELECT pg_advisory_xact_lock(:k1, :k2)", {"k1": ADVISORY_LOCK_CLASS, "k2": key - 2**31}
        )

    def count_rows(
        self,
        session: Session,
        schema: str,
        tables: Sequence[str],
        batch_size: int = COUNT_BATCH_SIZE,
        where: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        """Exact ``COUNT(*)``, planned by table size, each batch's table locks released once read.

        Small tables (the many) go in ``UNION ALL`` batches with parallel plans off for that batch:
        never-analysed tables get parallel plans (``Gather`` over a ``Parallel Append`` whose workers
        each open every table), which doubled the time of 100,000 small tables (BENCHMARKS.md). Tables
        of :data:`BIG_TABLE_BYTES` or more are counted one per statement with the server's parallel
        scan, as configured.
        """
        sizes = self.table_sizes(session, schema)
        big = [t for t in tables if sizes.get(t, 0) >= BIG_TABLE_BYTES]
        small = [t for t in tables if sizes.get(t, 0) < BIG_TABLE_BYTES]
        counts: dict[str, int] = {}
        serial = session.statement("count/serial_plans")  # SET LOCAL: undone with the batch
        for start in range(0, len(small), batch_size):
            with self.released_reads(session, then=serial):
                batch = small[start : start + batch_size]
                counts.update(super().count_rows(session, schema, batch, where=where))
        for table in big:
            with self.released_reads(session):
                counts.update(super().count_rows(session, schema, [table], where=where))
        return counts

    # -- the catalog: one read of a schema's tables per session, by index ----------------------------
    def list_tables(self, session: Session, schema: str) -> list[str]:
        """The schema's tables, found through ``pg_depend``'s index (``list_tables.sql``: pg_class has
        no index on the schema); their oids and sizes are kept on the session for :meth:`table_sizes`
        and :meth:`list_schema_columns`."""
        rows = session.fetchall(session.statement("list_tables"), {"schema": schema})
        session.catalog[schema] = {name: (int(oid), int(size or 0)) for name, oid, size in rows}
        return [row[0] for row in rows]

    def table_exists(self, session: Session, schema: str, table: str) -> bool:
        """By name, through pg_class's name index (no listing of the schema's tables)."""
        params = {"schema": schema, "table": table}
        return bool(session.fetchall(session.statement("catalog/table_exists"), params))

    def _catalog(self, session: Session, schema: str) -> dict[str, tuple[int, int]]:
        if schema not in session.catalog:
            self.list_tables(session, schema)
        return session.catalog[schema]

    def table_sizes(self, session: Session, schema: str) -> dict[str, int]:
        """Each table's size as the catalog last measured it (no file access): from this session's
        last read of the schema's tables, made now if there was none."""
        return {name: size for name, (_, size) in self._catalog(session, schema).items()}

    def list_schema_columns(self, session: Session, schema: str) -> list[dict[str, Any]]:
        """The columns of the tables this session last listed (``list_tables``), by their oids."""
        oids = [oid for oid, _ in self._catalog(session, schema).values()]
        return session.fetch_dicts(session.statement("list_schema_columns"), {"table_oids": oids})

    def bulk_insert(
        self,
        session: Session,
        insert_sql: str,
        table_sql: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """``COPY … FROM STDIN`` through psycopg 3's ``cursor.copy()``, inside the open transaction.

        About 4x faster than ``executemany`` (100,000 stage rows: 0.25 s instead of 1.0 s, see
        BENCHMARKS.md); psycopg 2 (no ``copy()``) falls back to the default.
        """
        if not rows:
            return
        if not hasattr(session.cursor, "copy"):
            super().bulk_insert(session, insert_sql, table_sql, columns, rows)
            return
        # Only the dialect-quoted table and our own column names go into the text.
        names = ", ".join(self.quote(column) for column in columns)
        with session.cursor.copy(f"COPY {table_sql} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # -- copies ------------------------------------------------------------------------------------
    def read_batches(self, job: CopyJob) -> Iterator[Batch]:
        """A named (server-side) cursor: psycopg's ordinary cursor would pull the whole result into
        memory on ``execute``; this one fetches ``batch_size`` rows per ``FETCH``."""
        from psycopg.rows import tuple_row

        sql = job.statement(
            job.source, "select_rows", columns=job.source_columns(), source=job.source_table()
        )
        cursor = job.source.conn.cursor(name="migration_audit_copy", row_factory=tuple_row)
        try:
            cursor.itersize = job.batch_size
            cursor.execute(sql)
            while rows := cursor.fetchmany(job.batch_size):
                yield rows
        finally:
            cursor.close()

    def write_batches(self, job: CopyJob, batches: Iterable[Batch]) -> int:
        """``COPY … FROM STDIN`` (text) fed with ``write_row``: every value goes through the column
        type's input function, as a literal would (SQLite's ``1`` for a boolean, its text timestamps),
        and it is ~10x faster than ``executemany``."""
        sql = job.statement(
            job.target, "copy_from_stdin", target=job.target_table(), columns=job.target_columns()
        )
        cursor = job.target.cursor
        with cursor.copy(sql) as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
        return int(cursor.rowcount)

    def server_copy(self, source: Any, target: Any) -> CopyStrategy | None:
        return (
            PostgresCopyStrategy(source, target) if isinstance(source.dialect, PostgresAuditDialect) else None
        )


class PostgresCopyStrategy(CopyStrategy):
    """PostgreSQL → PostgreSQL: the source's ``COPY TO STDOUT`` piped into the target's ``COPY FROM STDIN``.

    No row is parsed in Python: the text COPY format passes through in blocks of about
    :data:`BLOCK_BYTES` (fewer calls into libpq; ~20% faster than writing each row's block). Memory
    holds one block, whatever the table size.

    Atomic replace: ``DELETE`` of the target's rows and the ``COPY`` run in the target's one
    transaction, committed by the caller's session only after the stream ended and both sides' row
    counts (the ``COPY`` command tags) agree. Readers see the old rows until then.

    Text, not binary: binary needs the same column types on both sides (an ``int4`` into an ``int8``
    fails, a ``timestamp`` into a ``timestamptz`` silently shifts); text goes through each target
    column's input function. Both sessions pin DateStyle, IntervalStyle, extra_float_digits and
    bytea_output for the transaction (``text_settings.sql``) so differently configured servers
    still round-trip every value.
    """

    method: ClassVar[str] = "pg_copy_stream"

    def read_chunks(self, job: CopyJob, copy_out: Iterable[bytes]) -> Iterator[bytes]:
        """The source's COPY stream in blocks of about :data:`BLOCK_BYTES`."""
        buffer = bytearray()
        for block in copy_out:
            buffer += block
            if len(buffer) >= BLOCK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)

    def copy(self, job: CopyJob) -> CopyOutcome:
        src, tgt = job.source.cursor, job.target.cursor
        src.execute(job.statement(job.source, "text_settings"))
        tgt.execute(job.statement(job.target, "text_settings"))
        tgt.execute(job.statement(job.target, "clear_target", target=job.target_table()))
        copy_out = job.statement(
            job.source, "copy_to_stdout", columns=job.source_columns(), source=job.source_table()
        )
        copy_in = job.statement(
            job.target, "copy_from_stdin", target=job.target_table(), columns=job.target_columns()
        )
        with src.copy(copy_out) as out, tgt.copy(copy_in) as into:
            for chunk in self.read_chunks(job, out):
                into.write(chunk)
        rows_read, rows_written = int(src.rowcount), int(tgt.rowcount)
        check_counts(job, rows_read, rows_written)
        return CopyOutcome(rows_read, rows_written, self.method)
