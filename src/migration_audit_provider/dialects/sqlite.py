"""SQLite, the embedded default: a "schema" is a database file attached to the connection.

The connection's database file names a folder; schema ``sales`` is the file ``sales.db`` in that
folder, attached as ``sales`` when a session needs it. Only schemas asked for are attached (SQLite
attaches at most ten databases per connection). Writers take the database lock up front
(``BEGIN IMMEDIATE``), which serialises them just as the other databases' locks do; one writer per
file at a time also means copies into SQLite run one after another.

SQLite lacks ``MD5`` and ``TO_CHAR``: ``sqlite_functions.register`` gives each fingerprinting session
the functions ``include/sql/sqlite/fingerprint/`` calls, one Python call per row.

SQLite → SQLite on one machine: the target attaches the source's file and copies with one statement
(:class:`SqliteAttachCopyStrategy`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from migration_audit_provider.dialects import sqlite_functions
from migration_audit_provider.dialects.base import AuditDialect
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.transfers.base import CopyJob, CopyOutcome, CopyStrategy, check_counts
from migration_audit_provider.transfers.generic import GenericCopyStrategy

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

BUSY_TIMEOUT_MS = 60_000


class SqliteAuditDialect(AuditDialect):
    name: ClassVar[str] = "sqlite"
    conn_types: ClassVar[tuple[str, ...]] = ("sqlite",)
    max_identifier_bytes: ClassVar[int | None] = 128
    store_types: ClassVar[dict[str, str]] = {"event_id": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"}
    on_commit_delete: ClassVar[str] = ""  # no such clause: clear_stage.sql empties the stage
    temporary_schema: ClassVar[str | None] = "temp"
    enforces_declared_sizes: ClassVar[bool] = False
    """SQLite keeps a declared type's affinity only: ``VARCHAR(5)`` stores any length."""
    threads_share_connections: ClassVar[bool] = False
    """``sqlite3`` refuses a connection used from a thread other than its creator's."""
    sessions_share_connection: ClassVar[bool] = False
    """Each session attaches its schemas' files outside a transaction (at most ten at once): a
    connection per session, which costs little for a file."""
    native_fingerprints: ClassVar[bool] = True
    """A BLAKE2b of each row's values in one Python call (``sqlite_functions.NativeFingerprint``)."""
    max_parallel_writers: ClassVar[int | None] = 1
    """One writer per database file: copies run one after another instead of queueing on the lock."""
    sqlglot_dialect: ClassVar[str] = "sqlite"
    type_widths: ClassVar[dict[str, int]] = {}
    """SQLite keeps any integer in up to 8 bytes and any float in 8, whatever is declared: not compared."""

    def begin(self, conn: sqlite3.Connection, schemas: Sequence[str], *, write: bool) -> None:
        conn.isolation_level = None  # we open the transaction ourselves
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        folder = self.folder(conn)
        attached = {row[1] for row in conn.execute("PRAGMA database_list")}
        for schema in dict.fromkeys(schemas):
            if schema in attached:
                continue
            path = self.schema_file(folder, schema)
            if not path.exists() and not write:
                continue  # schema_exists() answers False; nothing is created by a reader
            conn.execute("ATTACH DATABASE ? AS " + self.quote(schema), (str(path),))
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def schema_file(self, folder: Path, schema: str) -> Path:
        self.check_identifier(schema, "schema")
        if schema.lower() in {"main", "temp"} or "/" in schema or "\\" in schema or schema.startswith("."):
            raise AuditInputError(f"schema {schema!r} cannot name a SQLite database file")
        return folder / f"{schema}.db"

    @staticmethod
    def folder(conn: sqlite3.Connection) -> Path:
        main = next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")
        if not main:
            raise AuditInputError("the SQLite connection must point at a database file, not :memory:")
        return Path(main).parent

    def create_schema(self, session: Session, schema: str) -> None:
        attached = {row[1] for row in session.fetchall("PRAGMA database_list")}
        if schema not in attached:
            raise AuditInputError(f"SQLite schema {schema!r} must be opened with write=True first")

    def schema_exists(self, session: Session, schema: str) -> bool:
        return any(row[1] == schema for row in session.fetchall("PRAGMA database_list"))

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        """``BEGIN IMMEDIATE`` in :meth:`begin` already holds the write lock."""

    def adapt(self, params: Any) -> Any:
        """Timestamps as ISO text (Python 3.12 deprecates sqlite3's implicit datetime adapter)."""
        return {k: (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for k, v in params.items()}

    def prepare_fingerprint(self, session: Session) -> None:
        sqlite_functions.register(session.conn)

    def fingerprint_row(self, session: Session, shape: Any) -> str:
        """The fingerprint statements' ``{row}``: a spec and the row's values, one Python call per row."""
        return sqlite_functions.row_arguments(session, shape)

    def native_values(self, session: Session, shape: Any) -> str | None:
        """The shared columns for one ``ma_native_fingerprint`` call per row (``None`` if too wide)."""
        if not shape.columns or len(shape.columns) > sqlite_functions.MAX_FUNCTION_ARGS:
            return None
        return ", ".join(self.quote(column) for column in shape.columns)

    def server_copy(self, source: Any, target: Any) -> CopyStrategy | None:
        same_engine = isinstance(source.dialect, SqliteAuditDialect)
        return SqliteAttachCopyStrategy(source, target) if same_engine else None


# -- SQLite -> SQLite: ATTACH + INSERT ... SELECT ---------------------------------------------------
SOURCE_ALIAS = "ma_copy_source"
"""Name under which the source's file is attached on the target connection (suffixed if taken)."""


class SqliteAttachCopyStrategy(CopyStrategy):
    """``ATTACH`` the source schema's file on the target, ``DELETE`` + ``INSERT ... SELECT``, commit,
    ``DETACH``. One copy at a time per target file (SQLite has one writer).

    The row-by-row path reads every row into Python, converts every value and writes it back with
    ``executemany``. When both sides are SQLite files this process can open, the target's connection can
    read the source file itself: ``ATTACH`` it, then ``INSERT ... SELECT`` — no value passes through
    Python (255,000 rows: 0.5 s instead of 2.9 s, see ``benchmarks/RESULTS-demo.md``).

    Same guarantees as the other strategies:

    * **Atomic replace.** ``DELETE`` of the target's rows, the source count and the ``INSERT ... SELECT``
      run in the target's one write transaction (``BEGIN IMMEDIATE``, opened by the session). Readers
      see the old rows until the commit; any error rolls it all back and the old rows stay.
    * **Rows counted.** Rows read are the source table's ``COUNT(*)`` taken in that same transaction:
      SQLite holds its read lock on the attached file from the first read to the end of the
      transaction, so the count and the insert see the same rows. Rows written are the insert's
      ``rowcount``; :func:`~.base.check_counts` refuses the copy when they differ.

    ``DETACH`` is refused while a transaction has read the attached file, so this strategy ends the
    transaction itself — it commits after the counts agree (as the Vertica strategy does) or rolls back
    on error — and then detaches. The caller's commit that follows has nothing left to do.

    A source schema that is not a database file here (in memory, a temporary database, the very file the
    target writes to) is copied by the row-by-row path instead.
    """

    method: ClassVar[str] = "sqlite_attach"
    max_parallel: int | None = 1

    def copy(self, job: CopyJob) -> CopyOutcome:
        path = source_file(job.source, job.schema)
        if path is None or _same_file(path, source_file(job.target, job.schema)):
            return self.fallback(job)
        target = job.target
        alias = free_alias(target)
        attach = job.statement(target, "attach_source", alias=job.target_dialect.quote(alias))
        target.execute(attach, {"path": path})
        try:
            outcome = self._replace(job, alias)
            target.commit()
        except BaseException:
            target.rollback()
            raise
        finally:
            detach(job, alias)
        return outcome

    def _replace(self, job: CopyJob, alias: str) -> CopyOutcome:
        target = job.target
        source = job.target_dialect.qualified(alias, job.table)
        target.execute(job.statement(target, "clear_target", target=job.target_table()))
        rows_read = self.source_rows(job, source)
        cursor = target.execute(
            job.statement(
                target,
                "copy_attached",
                target=job.target_table(),
                columns=job.target_columns(),
                source=source,
            )
        )
        rows_written = int(cursor.rowcount)
        check_counts(job, rows_read, rows_written)
        return CopyOutcome(rows_read, rows_written, self.method)

    @staticmethod
    def source_rows(job: CopyJob, source: str) -> int:
        """The attached source table's rows, counted in the target's transaction."""
        return int(job.target.fetchall(job.statement(job.target, "count_attached", source=source))[0][0])

    def fallback(self, job: CopyJob) -> CopyOutcome:
        """The row-by-row path, for a source that is no database file this process can attach."""
        return GenericCopyStrategy(self.source, self.target).copy(job)


def detach(job: CopyJob, alias: str) -> None:
    """Let go of the source file; the transaction has ended, so this cannot lose or undo a copy."""
    try:
        job.target.execute(job.statement(job.target, "detach_source", alias=job.target_dialect.quote(alias)))
    except sqlite3.Error:  # the connection closes right after; the copy's outcome is what matters
        pass


def _attached(session: Session) -> list[tuple]:
    return session.fetchall(CopyJob.statement(session, "attached_files"))


def source_file(session: Session, schema: str) -> str | None:
    """The database file attached as ``schema`` on ``session``'s connection, if it is a file here."""
    for _seq, name, file in _attached(session):
        if name == schema:
            return file if file and Path(file).is_file() else None
    return None


def free_alias(session: Session) -> str:
    attached = {row[1] for row in _attached(session)}
    alias, n = SOURCE_ALIAS, 1
    while alias in attached:
        n += 1
        alias = f"{SOURCE_ALIAS}_{n}"
    return alias


def _same_file(a: str, b: str | None) -> bool:
    return b is not None and os.path.samefile(a, b)
