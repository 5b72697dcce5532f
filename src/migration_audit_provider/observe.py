"""One look at both clusters for a refresh: counts on each side, at the same time, then fingerprints.

The source and the target are different servers in production, so the source is counted in a
worker thread while the target is counted here (each on its one session; a database whose
connections may not change threads - SQLite - is counted one side after the other). An error on a
side is raised as that side's, naming its connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from migration_audit_provider import drift
from migration_audit_provider.drift import Column, SchemaDiff, columns_by_table
from migration_audit_provider.exceptions import AuditError
from migration_audit_provider.filters import RowFilter, filter_for
from migration_audit_provider.records import AuditRow, Observation
from migration_audit_provider.status import fingerprint_candidates
from migration_audit_provider.store import Look, utcnow

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.fingerprint import Comparison, Normalisation
    from migration_audit_provider.hooks.audit import MigrationAuditHook

T = TypeVar("T")


class SideError(AuditError):
    """Counting or fingerprinting failed on one side; the message names the side and its connection."""


@dataclass
class Sides:
    """Both clusters' hooks and their open sessions for one schema's refresh."""

    source: MigrationAuditHook
    target: MigrationAuditHook
    src: Session
    tgt: Session
    schema: str

    @property
    def concurrent(self) -> bool:
        return self.source.dialect.threads_share_connections

    def on_source(self, pool: ThreadPoolExecutor | None, func: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``func`` for the source in the pool (or now, when the source cannot change threads)."""
        if pool is not None:
            return pool.submit(_as_side, "source", self.source.conn_id, func, *args)
        future: Future[T] = Future()
        future.set_result(_as_side("source", self.source.conn_id, func, *args))
        return future

    def on_target(self, func: Callable[..., T], *args: Any) -> T:
        return _as_side("target", self.target.conn_id, func, *args)


def _as_side(side: str, conn_id: str, func: Callable[..., T], *args: Any) -> T:
    try:
        return func(*args)
    except AuditError:
        raise
    except Exception as err:
        raise SideError(f"{side} ({conn_id!r}): {type(err).__name__}: {err}") from err


@dataclass
class Counted:
    """What :func:`count_both` saw: each side's counts, when each was taken, and (if asked) each
    side's columns, read on the same trip."""

    src_counts: dict[str, int]
    tgt_counts: dict[str, int]
    src_at: Any
    tgt_at: Any
    src_cols: dict[str, list[Column]] = field(default_factory=dict)
    tgt_cols: dict[str, list[Column]] = field(default_factory=dict)


def count_both(
    sides: Sides,
    stored: Mapping[str, AuditRow],
    *,
    count_source: bool,
    src_where: Mapping[str, str] | None = None,
    tgt_where: Mapping[str, str] | None = None,
    with_columns: bool = False,
) -> Counted:
    """Source and target counts of the schema's tables; the source side concurrently when it can.

    Each side also reads its columns when ``with_columns`` (one catalog read, on the same trip, so
    the two catalogs are read at the same time too). The target is counted for the tables the store
    knows while the source is counted; tables new in the source are counted on the target afterwards
    (none, on a refresh that follows an init).
    """
    schema = sides.schema

    # Counts first: the catalog read they start with is the one the column read then uses.
    def source_side() -> tuple[dict[str, list[Column]], dict[str, int] | None]:
        counts = sides.source.count_tables(sides.src, schema, None, src_where) if count_source else None
        return (_columns(sides.source, sides.src, schema) if with_columns else {}), counts

    def target_side(tables: Sequence[str]) -> tuple[dict[str, list[Column]], dict[str, int]]:
        counts = sides.target.count_tables(sides.tgt, schema, tables, tgt_where)
        return (_columns(sides.target, sides.tgt, schema) if with_columns else {}), counts

    pool = ThreadPoolExecutor(1, thread_name_prefix="count-source") if sides.concurrent else None
    try:
        pending = sides.on_source(pool, source_side)
        tgt_cols, tgt_counts = sides.on_target(target_side, sorted(stored))
        tgt_at = utcnow()
        src_cols, counted = pending.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if counted is None:
        src_counts = {t: r.src_row_count for t, r in stored.items() if r.src_present}
        src_at = None
    else:
        src_counts, src_at = counted, utcnow()
    new = sorted(src_counts.keys() - stored.keys())
    if new:
        tgt_counts.update(sides.on_target(sides.target.count_tables, sides.tgt, schema, new, tgt_where))
        tgt_at = utcnow()
    return Counted(src_counts, tgt_counts, src_at, tgt_at, src_cols, tgt_cols)


def compare(
    sides: Sides,
    tables: Sequence[str],
    *,
    max_keys: int,
    normalisation: Normalisation | None = None,
    row_filters: Mapping[str, RowFilter] | None = None,
    columns: tuple[Mapping[str, Sequence[Column]], Mapping[str, Sequence[Column]]] | None = None,
) -> list[Comparison]:
    """Fingerprint ``tables`` on both sides; each table's reads leave no locks behind.

    ``columns``: both sides' columns from the refresh's catalog read, so a table's shape needs no
    catalog query of its own (a table missing from them is looked up).

    A table whose columns cannot be fingerprinted is left to the counts (logged by the caller);
    any other failure - a lost connection, a bug - is raised, so the task fails and is retried.
    """
    from migration_audit_provider.fingerprint import FingerprintUnsupported, compare_table

    out = []
    for table in tables:
        with sides.source.dialect.released_reads(sides.src), sides.target.dialect.released_reads(sides.tgt):
            try:
                compared = compare_table(
                    sides.src,
                    sides.tgt,
                    sides.schema,
                    table,
                    max_keys=max_keys,
                    normalisation=normalisation,
                    row_filter=(row_filters or {}).get(table),
                    known=_known_types(columns, table),
                )
                out.append(compared)
            except FingerprintUnsupported:
                continue
    return out


def _known_types(
    columns: tuple[Mapping[str, Sequence[Column]], Mapping[str, Sequence[Column]]] | None, table: str
) -> tuple[dict[str, str], dict[str, str]] | None:
    if columns is None or table not in columns[0] or table not in columns[1]:
        return None
    src, tgt = columns
    return {c.name: c.catalog_type for c in src[table]}, {c.name: c.catalog_type for c in tgt[table]}


def refresh_look(
    sides: Sides,
    stored: Mapping[str, AuditRow],
    *,
    count_source: bool,
    mode: str,
    max_keys: int,
    normalisation: Normalisation | None = None,
    row_filters: Mapping[str, RowFilter] | None = None,
) -> Look:
    """Everything one refresh observes: both sides' columns (one catalog read each) and the schema drift
    they show, both sides' counts (under the row filters that apply), then the fingerprints that rule 1
    picks (under the same filters). Without row filters each side reads its catalog and counts on one
    trip, both sides at once; a filter needs both sides' columns before anything is counted."""
    if row_filters:
        src_cols, tgt_cols = read_columns(sides)
        applied = applied_filters(row_filters, src_cols, tgt_cols)
        src_where = {t: f.sql(sides.source.dialect.sqlglot_dialect) for t, f in applied.items()}
        tgt_where = {t: f.sql(sides.target.dialect.sqlglot_dialect) for t, f in applied.items()}
        counted = count_both(
            sides, stored, count_source=count_source, src_where=src_where, tgt_where=tgt_where
        )
    else:
        applied = {}
        counted = count_both(sides, stored, count_source=count_source, with_columns=True)
        src_cols, tgt_cols = counted.src_cols, counted.tgt_cols
    src_counts, tgt_counts = counted.src_counts, counted.tgt_counts
    src_at, tgt_at = counted.src_at, counted.tgt_at
    candidates = fingerprint_candidates(mode, stored, src_counts, tgt_counts)
    comparisons = compare(
        sides,
        candidates,
        max_keys=max_keys,
        normalisation=normalisation,
        row_filters=applied,
        columns=(src_cols, tgt_cols),
    )
    by_table = {c.table: c for c in comparisons}
    observations = []
    for table in sorted(stored.keys() | src_counts.keys()):
        comparison = by_table.get(table)
        diff = schema_diff(sides, src_cols.get(table), tgt_cols.get(table))
        observations.append(
            Observation(
                table,
                src_present=(table in src_counts) if count_source else None,
                src_row_count=src_counts.get(table) if count_source else None,
                tgt_present=table in tgt_counts,
                tgt_row_count=tgt_counts.get(table),
                src_fingerprint=comparison.source if comparison else None,
                tgt_fingerprint=comparison.target if comparison else None,
                schema_drift=diff.drifted if diff else False,
                schema_diff=diff.detail() if diff else None,
                filtered=table in applied,
            )
        )
    return Look(
        observations,
        count_source,
        src_at,
        tgt_at,
        comparisons,
        filtered={t: applied[t].text for t in sorted(applied)},
    )


def read_columns(sides: Sides) -> tuple[dict[str, list[Column]], dict[str, list[Column]]]:
    """Every table's columns on each side: one catalog read per side for the whole schema, both at
    once where the source's connection may change threads."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="columns-source") if sides.concurrent else None
    try:
        src = sides.on_source(pool, _columns, sides.source, sides.src, sides.schema)
        tgt = sides.on_target(_columns, sides.target, sides.tgt, sides.schema)
        return src.result(), tgt
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _columns(hook: MigrationAuditHook, session: Session, schema: str) -> dict[str, list[Column]]:
    dialect = hook.dialect
    return columns_by_table(dialect.list_schema_columns(session, schema), dialect.type_widths)


def schema_diff(
    sides: Sides, src: Sequence[Column] | None, tgt: Sequence[Column] | None
) -> SchemaDiff | None:
    """The table's column differences, or ``None`` when it is not on both sides."""
    if not src or not tgt:
        return None
    source, target = sides.source.dialect, sides.target.dialect
    fold = source.folds_identifier_case or target.folds_identifier_case
    sizes = source.enforces_declared_sizes and target.enforces_declared_sizes
    return drift.compare(src, tgt, fold_case=fold, sizes=sizes)


def applied_filters(
    filters: Mapping[str, RowFilter],
    src_cols: Mapping[str, Sequence[Column]],
    tgt_cols: Mapping[str, Sequence[Column]],
) -> dict[str, RowFilter]:
    """The row filter of each table that has one (``filters.filter_for``, on the columns both sides have)."""
    if not filters:
        return {}
    out = {}
    for table in src_cols.keys() | tgt_cols.keys():
        tgt_names = {c.name.casefold() for c in tgt_cols.get(table, ())}
        names = [c.name for c in src_cols.get(table, ()) if c.name.casefold() in tgt_names]
        chosen = filter_for(filters, table, names)
        if chosen is not None:
            out[table] = chosen
    return out
