"""The row-by-row path, for any pair of databases without a server-side copy of its own.

Rows are read in batches of ``batch_size`` from the source and written in batches into the target,
inside the target's one write transaction: ``DELETE`` of the old rows, the new rows, then the commit
that the caller's session makes when :meth:`GenericCopyStrategy.copy` returns. Memory holds one
batch at a time (plus the driver's own buffer), whatever the table size.

How a batch is read is the source database's business (``AuditDialect.read_batches``), how it is
written the target's (``AuditDialect.write_batches``): this module never asks which databases they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from migration_audit_provider.transfers.base import Batch, CopyJob, CopyOutcome, CopyStrategy, check_counts


class GenericCopyStrategy(CopyStrategy):
    """Batched reads, batched writes, one target transaction (see the module docstring)."""

    method: ClassVar[str] = "batched"

    def __init__(self, source: Any = None, target: Any = None) -> None:
        super().__init__(source, target)
        self.max_parallel = target.dialect.max_parallel_writers if target is not None else None

    @property
    def method_name(self) -> str:
        writer = self.target.dialect.writer_name if self.target is not None else "insert"
        return f"{self.method}_{writer}"

    def read_chunks(self, job: CopyJob) -> Iterator[Batch]:
        """The source's rows, one batch at a time, as the source database reads them."""
        return job.source_dialect.read_batches(job)

    def copy(self, job: CopyJob) -> CopyOutcome:
        job.target.execute(job.statement(job.target, "clear_target", target=job.target_table()))
        rows_read = 0

        def counted() -> Iterator[Batch]:
            nonlocal rows_read
            for batch in self.read_chunks(job):
                rows_read += len(batch)
                yield batch

        rows_written = job.target_dialect.write_batches(job, counted())
        check_counts(job, rows_read, rows_written)
        return CopyOutcome(rows_read, rows_written, self.method_name)
