"""The row-by-row path, for any pair of databases without a fast path of its own.

Rows are read in batches of ``batch_size`` from a streaming source cursor and written in batches
into the target, inside the target's one write transaction: ``DELETE`` of the old rows, the new
rows, then the commit that the caller's session makes when :meth:`GenericCopyStrategy.copy`
returns. Memory holds one batch at a time (plus the driver's own buffer), whatever the table size.

How a batch is read depends only on the source (:data:`READERS`), how it is written only on the
target (:data:`WRITERS`); both are registries keyed by dialect name, so callers never branch on it:

- PostgreSQL source: a server-side (named) cursor, because psycopg's ordinary cursor would pull the
  whole result into memory on ``execute``. Other drivers stream with ``fetchmany`` already.
- PostgreSQL target: ``COPY ... FROM STDIN`` fed with ``write_row`` (text format). Every value goes
  through the column type's input function, as with a literal, so e.g. SQLite's ``1`` for a boolean
  or its text timestamps load as they would in an ``INSERT`` of literals; it is also ~10x faster
  than ``executemany``.
- Vertica target: ``COPY ... FROM STDIN ... NO COMMIT`` (see :mod:`.vertica`).
- Anything else (SQLite): ``executemany`` of an ``INSERT``, one batch per call.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from migration_audit_provider.transfers.base import CopyJob, CopyOutcome, CopyStrategy, check_counts

Batch = Sequence[Sequence[Any]]


# -- readers ---------------------------------------------------------------------------------------
def cursor_batches(job: CopyJob) -> Iterator[Batch]:
    """``fetchmany`` on the session's cursor (SQLite and vertica-python stream rows as they are fetched)."""
    sql = job.statement(job.source, "select_rows", columns=job.source_columns(), source=job.source_table())
    cursor = job.source.cursor
    cursor.execute(sql)
    while rows := cursor.fetchmany(job.batch_size):
        yield rows


def postgres_batches(job: CopyJob) -> Iterator[Batch]:
    """A named (server-side) cursor: PostgreSQL sends ``batch_size`` rows per ``FETCH``."""
    from psycopg.rows import tuple_row

    sql = job.statement(job.source, "select_rows", columns=job.source_columns(), source=job.source_table())
    cursor = job.source.conn.cursor(name="migration_audit_copy", row_factory=tuple_row)
    try:
        cursor.itersize = job.batch_size
        cursor.execute(sql)
        while rows := cursor.fetchmany(job.batch_size):
            yield rows
    finally:
        cursor.close()


READERS: dict[str, Callable[[CopyJob], Iterator[Batch]]] = {"postgres": postgres_batches}
"""Source dialect name -> batch reader; :func:`cursor_batches` for the others."""


# -- writers ---------------------------------------------------------------------------------------
class RowWriter:
    """Writes batches into the (already emptied) target table; returns the rows the target took."""

    name: ClassVar[str] = "abstract"
    max_parallel: ClassVar[int | None] = None

    def write(self, job: CopyJob, batches: Iterable[Batch]) -> int:
        raise NotImplementedError


class InsertWriter(RowWriter):
    """``executemany`` of one ``INSERT`` per batch, with ``:cN`` parameters the dialect converts.

    SQLite allows one writer per database file at a time, so copies into it run one after another
    (``max_parallel = 1``) instead of queueing on the file lock.
    """

    name: ClassVar[str] = "insert"
    max_parallel: ClassVar[int | None] = 1

    def write(self, job: CopyJob, batches: Iterable[Batch]) -> int:
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
            job.target.executemany(sql, [dict(zip(keys, map(_plain, row), strict=True)) for row in batch])
            written += len(batch)
        return written


def _plain(value: Any) -> Any:
    """Values every DB-API driver binds: decimals, UUIDs and times from other databases as text."""
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


class PostgresCopyWriter(RowWriter):
    """psycopg 3 ``COPY ... FROM STDIN`` (text), rows written with ``write_row``."""

    name: ClassVar[str] = "pg_copy"

    def write(self, job: CopyJob, batches: Iterable[Batch]) -> int:
        sql = job.statement(
            job.target, "copy_from_stdin", target=job.target_table(), columns=job.target_columns()
        )
        cursor = job.target.cursor
        with cursor.copy(sql) as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
        return int(cursor.rowcount)


def _vertica_writer() -> RowWriter:
    from migration_audit_provider.transfers.vertica import VerticaStdinWriter

    return VerticaStdinWriter()


WRITERS: dict[str, Callable[[], RowWriter]] = {
    "postgres": PostgresCopyWriter,
    "vertica": _vertica_writer,
}
"""Target dialect name -> batch writer; :class:`InsertWriter` for the others."""


# -- the strategy ----------------------------------------------------------------------------------
class GenericCopyStrategy(CopyStrategy):
    """Batched reads, batched writes, one target transaction (see the module docstring)."""

    method: ClassVar[str] = "batched"

    def __init__(self, source: Any = None, target: Any = None, *, target_dialect: str = "") -> None:
        super().__init__(source, target)
        self.writer = WRITERS.get(target_dialect, InsertWriter)()
        self.max_parallel = self.writer.max_parallel

    @property
    def method_name(self) -> str:
        return f"{self.method}_{self.writer.name}"

    def read_chunks(self, job: CopyJob) -> Iterator[Batch]:
        """The source's rows, one batch at a time."""
        return READERS.get(job.source_dialect.name, cursor_batches)(job)

    def copy(self, job: CopyJob) -> CopyOutcome:
        job.target.execute(job.statement(job.target, "clear_target", target=job.target_table()))
        rows_read = 0

        def counted() -> Iterator[Batch]:
            nonlocal rows_read
            for batch in self.read_chunks(job):
                rows_read += len(batch)
                yield batch

        rows_written = self.writer.write(job, counted())
        check_counts(job, rows_read, rows_written)
        return CopyOutcome(rows_read, rows_written, self.method_name)
