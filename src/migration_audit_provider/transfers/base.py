"""What every copy strategy is given and must return.

A strategy replaces the rows of one target table with the rows of the same table on the source. It
is handed a :class:`CopyJob`: both sessions already open (the target's as a write transaction that
commits when the strategy returns and rolls back if it raises), the table, and the source's column
names, already checked against the target's. It returns a :class:`CopyOutcome`.

Statement text comes from ``include/sql/<dialect>/copy/*.sql`` through :meth:`CopyJob.statement`;
the ``{slots}`` there are filled only with identifiers quoted by the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

DEFAULT_BATCH_SIZE = 10_000
"""Rows per ``fetchmany`` / insert batch on the row-by-row paths."""

Batch = Sequence[Sequence[Any]]
"""Rows of one read or write, each in ``CopyJob.columns`` order."""


@dataclass(frozen=True)
class CopyOutcome:
    rows_read: int | None
    rows_written: int | None
    method: str


@dataclass
class CopyJob:
    """One table to copy, with both sessions open."""

    schema: str
    table: str
    columns: list[str]
    source: Session
    target: Session
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    def source_dialect(self) -> Any:
        """The source's database object (``dialects.base.AuditDialect``)."""
        return self.source.dialect

    @property
    def target_dialect(self) -> Any:
        """The target's database object (``dialects.base.AuditDialect``)."""
        return self.target.dialect

    def source_columns(self) -> str:
        return ", ".join(self.source_dialect.quote(c) for c in self.columns)

    def target_columns(self) -> str:
        return ", ".join(self.target_dialect.quote(c) for c in self.columns)

    def source_table(self) -> str:
        return self.source_dialect.qualified(self.schema, self.table)

    def target_table(self) -> str:
        return self.target_dialect.qualified(self.schema, self.table)

    @staticmethod
    def statement(session: Session, name: str, **slots: str) -> str:
        """Text of ``copy/<name>.sql`` for the session's dialect, slots filled, comment lines dropped
        (the files explain themselves; the database and the driver's log need not see that)."""
        text = session.statement(f"copy/{name}", **slots)
        return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


class CopyStrategy:
    """Base class: ``copy(job)`` replaces the target table's rows with the source's.

    :param source: the source endpoint (a ``MigrationAuditHook``); only strategies that need the
        source's credentials (server-side copies) use it.
    :param target: the target endpoint.
    """

    method: ClassVar[str] = "abstract"
    max_parallel: int | None = None
    """Most tables this strategy should copy at once into one target (``None``: no limit)."""

    def __init__(self, source: Any = None, target: Any = None) -> None:
        self.source = source
        self.target = target

    def copy(self, job: CopyJob) -> CopyOutcome:
        raise NotImplementedError


class CopyCountMismatch(RuntimeError):
    """The rows written differ from the rows read: the copy is rolled back."""

    def __init__(self, job: CopyJob, rows_read: int | None, rows_written: int | None) -> None:
        super().__init__(
            f"{job.schema}.{job.table}: read {rows_read} rows from the source but the target took "
            f"{rows_written}; rolled back"
        )


def check_counts(job: CopyJob, rows_read: int | None, rows_written: int | None) -> None:
    if rows_read is not None and rows_written is not None and rows_read != rows_written:
        raise CopyCountMismatch(job, rows_read, rows_written)
