"""The audit store: ``<store>.audit``, its append-only ``audit_history`` and run log; the status pass's
stage is a temporary table of the target session (``create_stage.sql``).

Every write to the audit table goes through :meth:`AuditStore.refresh`, one call, in the target
session's one transaction:

1. lock the schema's audit rows (the database object's lock) and read them, once;
2. hand them to the caller's ``observe``, which counts, picks the tables to fingerprint
   (``status.fingerprint_candidates``) and compares them, and returns what it saw;
3. merge and stage only the rows whose inputs changed (``status.staged_rows``) in the session's
   private stage, made on first use (no WAL, no dead tuples in the store; dropped with the session);
4. decide their status (``decide_status.sql``), append the transitions and mismatches to the
   history, update/insert the audit rows in one pass, and log the run.

A repeat with nothing changed stages nothing and writes nothing, so ``update_ts`` keeps its value.
"""

from __future__ import annotations

import functools
import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from migration_audit_provider import store_versions
from migration_audit_provider.constants import DEFAULT_STORE_SCHEMA, STATUSES
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.filters import FILTERED_COUNT_METHOD
from migration_audit_provider.records import (
    STAGE_COLUMNS,
    AuditRow,
    Observation,
    audit_rows,
    column_list,
    stored_rows,
    utcnow,
)
from migration_audit_provider.sql import load_statement
from migration_audit_provider.status import COUNT_METHOD, DECIDE_STATUS, staged_rows

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.fingerprint import Comparison
    from migration_audit_provider.hooks.audit import MigrationAuditHook

_STORE_TABLES = {
    "audit": "audit",
    "history": "audit_history",
    "runs": "audit_runs",
    "version": "audit_store_version",  # store_versions.py
    "leases": "audit_leases",  # lease.py
}
STAGE_TABLE = "migration_audit_stage"
"""The session-private stage. Stores made before it keep their ``current_row_counts`` (the seed's, or
this provider's up to 0.3), untouched and no longer written."""
INPUT_COLUMNS = (
    "table_name",
    "export_status",
    "src_present",
    "src_row_count",
    "tgt_present",
    "tgt_row_count",
    "src_fingerprint",
    "tgt_fingerprint",
    "schema_drift",
    "schema_diff",
)
"""The audit row fields the status pass compares (``read_inputs.sql``; the schema is the pass's)."""


@dataclass
class Look:
    """What one look at the databases found: the caller's answer to :meth:`AuditStore.refresh`.

    :param source_complete: the observations cover the whole source catalog of the schema, so an
        audited table that is not among them has gone from the source.
    """

    observations: Sequence[Observation]
    source_complete: bool
    src_counted_at: datetime | None = None
    tgt_counted_at: datetime | None = None
    comparisons: Sequence[Comparison] = ()
    filtered: Mapping[str, str] = field(default_factory=dict)
    """Tables counted (and fingerprinted) under a row filter, with the filter as written: the run log
    records them (``audit_runs.row_filters``)."""


@dataclass
class RefreshResult:
    schema: str
    tables_seen: int = 0
    changed: int = 0
    added: int = 0
    fingerprinted: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


class AuditStore:
    """The audit tables in schema ``store_schema`` of the target connection."""

    def __init__(self, target: MigrationAuditHook, store_schema: str = DEFAULT_STORE_SCHEMA) -> None:
        target.dialect.check_identifier(store_schema, "audit store schema")
        self.target = target
        self.dialect = target.dialect
        self.schema = store_schema
        self.names = {key: self.dialect.qualified(store_schema, t) for key, t in _STORE_TABLES.items()}
        self.names["stage"] = self.dialect.temporary(STAGE_TABLE)
        self.table_names = dict(_STORE_TABLES)
        self.adopted = False
        """Set by :meth:`ensure`: the store was the seed scripts' table; each schema's rows are adopted."""

    # -- plumbing ----------------------------------------------------------------------------------
    def session(self, *schemas: str, write: bool = False):
        """A target session with the store's schema (and ``schemas``) reachable."""
        return self.target.session([self.schema, *schemas], write=write)

    def _sql(self, session: Session, name: str) -> str:
        return session.statement(
            name,
            **self.names,
            audit_columns=column_list(),
            input_columns=column_list(INPUT_COLUMNS),
            decide_status=_decide_status(session.dialect.name),
        )

    def sql(self, session: Session, name: str) -> str:
        """Statement ``name`` with the store's table slots filled."""
        return self._sql(session, name)

    def ensure(self, session: Session) -> None:
        """Create the store's schema and tables if they are missing, and bring an older store up to
        date (``store_versions``; safe to run concurrently). A newer store is refused first.

        Runs before any lock on the store's tables: on Vertica every DDL statement commits the open
        transaction (and a table lock needs the table), so nothing taken earlier would survive it.
        A store already at this provider's version is only read (its version), not touched: no
        ``CREATE … IF NOT EXISTS`` per task, which on Vertica would each commit.
        """
        self.dialect.lock_store(session, self.schema)
        versions = store_versions.check_not_newer(self, session)  # before anything is written
        if store_versions.is_current(versions):  # every task's case but the first: no DDL at all
            self.adopted = store_versions.passed_through_seed(versions)
            return
        if not self.dialect.schema_exists(session, self.schema):
            self.dialect.create_schema(session, self.schema)
        slots = {**self.names, **self.dialect.store_types}
        session.script(session.statement("create_store", **slots))
        if self.dialect.has_indexes:
            index = session.statement(
                "create_history_index",
                schema=self.dialect.quote(self.schema),
                history_name=self.dialect.quote(_STORE_TABLES["history"]),
                **self.names,
            )
            session.script(index)
        self.adopted = store_versions.upgrade(self, session)

    def prepare_stage(self, session: Session) -> None:
        """Make the session's private stage if it has none yet (``create_stage.sql``; once per pass:
        a rolled-back transaction takes a stage made in it along on PostgreSQL and SQLite)."""
        dialect = self.dialect
        session.script(
            session.statement(
                "create_stage",
                create_temporary=dialect.temporary_table,
                stage_name=dialect.quote(STAGE_TABLE),
                on_commit_delete=dialect.on_commit_delete,
            )
        )

    # -- reads -------------------------------------------------------------------------------------
    def read(self, session: Session, schema: str) -> dict[str, AuditRow]:
        cursor = session.execute(self._sql(session, "read_audit"), {"schema": schema})
        return {row.table_name: row for row in audit_rows(cursor)}

    def copied_tables(self, session: Session, schema: str) -> list[str]:
        """Tables of ``schema`` that a copy has filled at least once without an error."""
        rows = session.fetch_dicts(self._sql(session, "list_copied_tables"), {"schema": schema})
        return [r["table_name"] for r in rows]

    def schema_diffs(self, session: Session, schema: str) -> dict[str, str | None]:
        """``{table: schema_diff JSON}`` of the schema's tables in status ``drift``, sorted by name."""
        rows = self.read(session, schema)
        return {t: rows[t].schema_diff for t in sorted(rows) if rows[t].export_status == "drift"}

    def audited_schemas(self, session: Session) -> list[str]:
        return [row[0] for row in session.fetchall(self._sql(session, "list_audited_schemas"))]

    def summary(self, session: Session, schema: str) -> dict[str, Any]:
        """Tables and rows per status for one schema: the operators' XCom value."""
        rows = session.fetch_dicts(self._sql(session, "status_summary"), {"schema": schema})
        return _summary(schema, {}, rows, ())

    def tables_with_status(self, session: Session, schema: str, statuses: Iterable[str]) -> list[str]:
        wanted = set(statuses)
        unknown = wanted.difference(STATUSES)
        if unknown:
            raise AuditInputError(f"unknown status(es) {sorted(unknown)}; known: {', '.join(STATUSES)}")
        rows = session.fetch_dicts(self._sql(session, "list_table_statuses"), {"schema": schema})
        return [r["table_name"] for r in rows if r["export_status"] in wanted]

    # -- the one write path ------------------------------------------------------------------------
    def refresh(
        self,
        session: Session,
        schema: str,
        observe: Callable[[Mapping[str, AuditRow]], Look],
        *,
        context: Mapping[str, Any],
        step: str,
        force: bool = False,
    ) -> RefreshResult:
        """Lock, read once, observe, merge, decide, record: one refresh (or init) of ``schema``.

        :param observe: given the schema's stored rows (read under the lock), looks at the databases
            and returns a :class:`Look`.
        :param step: ``init`` or ``refresh``: the history's event type and the run log's step.
        :param force: stage every row seen, even if its inputs did not change (repairs hand edits).
        """
        started = utcnow()
        if self.dialect.ddl_commits:  # made before the lock, which its commit would release
            self.prepare_stage(session)
        self.dialect.lock_schema(session, self.schema, schema)
        if self.adopted:  # a seed store: this schema's rows are adopted before their first refresh
            store_versions.adopt_schema(self, session, schema, context)
        stored = self._read_inputs(session, schema)
        look = observe(stored)
        result = self._sync(session, schema, stored, look, context=context, event_type=step, force=force)
        for comparison in look.comparisons:
            if not comparison.equal:
                self.record_mismatch(session, context=context, schema=schema, comparison=comparison)
        self.record_run(
            session,
            context=context,
            step=step,
            schema=schema,
            started_at=started,
            tables_seen=result.tables_seen,
            rows_changed=result.changed + result.added,
            count_method=FILTERED_COUNT_METHOD if look.filtered else COUNT_METHOD,
            row_filters=look.filtered,
        )
        result.fingerprinted = len(look.comparisons)
        return result

    def _read_inputs(self, session: Session, schema: str) -> dict[str, Any]:
        # Touches every audited table on every refresh (1,000,000 rows take ~1 s): pausing the cyclic
        # GC keeps it from re-scanning the heap while a million rows are being made.
        with _gc_paused():
            return stored_rows(session.execute(self._sql(session, "read_inputs"), {"schema": schema}))

    def _sync(
        self,
        session: Session,
        schema: str,
        current: Mapping[str, AuditRow],
        look: Look,
        *,
        context: Mapping[str, Any],
        event_type: str,
        force: bool,
    ) -> RefreshResult:
        """Stage the changed rows, decide their status, record the transitions, write the rows."""
        now = utcnow()
        observations = list(look.observations)
        if look.source_complete:
            gone = current.keys() - {obs.table for obs in observations}
            if gone:
                observations += [Observation(t, src_present=False) for t in current if t in gone]
        with _gc_paused():
            staged, new_tables = staged_rows(
                current,
                observations,
                force=force,
                # A non-NULL mark in the stage means "counted in this pass"; the time written is the
                # caller's (which may be None): the mark falls back to ``now`` only to stay non-NULL.
                src_mark=look.src_counted_at or now,
                tgt_mark=look.tgt_counted_at or now,
            )
        result = RefreshResult(schema=schema, tables_seen=len(observations))
        if not staged:
            result.summary = _summary(schema, current, [], ())
            return result
        sql = self._sql
        at = {"schema": schema}
        run = {"run_id": context.get("run_id"), "task_id": _task_id(context)}
        times = {"now": now, "src_counted_at": look.src_counted_at, "tgt_counted_at": look.tgt_counted_at}
        if not self.dialect.ddl_commits:  # DDL in the transaction: made only when something is staged
            self.prepare_stage(session)
        self.dialect.bulk_insert(
            session, sql(session, "stage_counts"), self.names["stage"], STAGE_COLUMNS, staged
        )
        # Before any prune: a pruned row's status and counts are its stored ones, so it adds up the same.
        staged_summary = session.fetch_dicts(sql(session, "stage_summary"))
        if force:  # otherwise every staged row has changed inputs: nothing to prune (a scan saved)
            session.execute(sql(session, "prune_unchanged"), at)
        session.execute(
            sql(session, "record_transitions"), {**at, **run, "now": now, "event_type": event_type}
        )
        if len(staged) > new_tables:
            result.changed = self.dialect.affected_rows(
                session.execute(sql(session, "apply_status"), {**at, **run, **times})
            )
        if new_tables:
            result.added = self.dialect.affected_rows(
                session.execute(sql(session, "insert_new_tables"), {**at, **run, **times})
            )
        session.execute(sql(session, "clear_stage"))
        result.summary = _summary(schema, current, staged_summary, (row[0] for row in staged))
        return result

    # -- history -----------------------------------------------------------------------------------
    def record_run(
        self,
        session: Session,
        *,
        context: Mapping[str, Any],
        step: str,
        schema: str,
        started_at: datetime,
        tables_seen: int,
        rows_changed: int,
        count_method: str = COUNT_METHOD,
        row_filters: Mapping[str, str] | None = None,
    ) -> None:
        session.execute(
            self._sql(session, "record_run"),
            {
                "run_id": context.get("run_id"),
                "task_id": _task_id(context),
                "step": step,
                "table_schema": schema,
                "started_at": started_at,
                "finished_at": utcnow(),
                "count_method": count_method,
                "tables_seen": tables_seen,
                "rows_changed": rows_changed,
                "row_filters": _filters_json(row_filters),
            },
        )

    def record_mismatch(
        self, session: Session, *, context: Mapping[str, Any], schema: str, comparison: Comparison
    ) -> None:
        """Append where a content mismatch lies (``comparison``: a ``fingerprint.Comparison``)."""
        detail = {
            "key": comparison.key,  # the key columns, in key order (None: no usable primary key)
            "differing_keys": [[str(v) for v in k] for k in comparison.differing_keys],  # key tuples
            "keys_truncated": comparison.keys_truncated,
            "src_fingerprint": comparison.source,
            "tgt_fingerprint": comparison.target,
        }
        if getattr(comparison, "detail", None):
            detail["note"] = comparison.detail
        text = json.dumps(detail, ensure_ascii=False)
        while len(text) > 4000 and detail["differing_keys"]:  # the column's size: fewer keys, say so
            detail["differing_keys"] = detail["differing_keys"][: len(detail["differing_keys"]) // 2]
            detail["keys_truncated"] = True
            text = json.dumps(detail, ensure_ascii=False)
        session.execute(
            self._sql(session, "record_mismatch"),
            {
                "now": utcnow(),
                "run_id": context.get("run_id"),
                "task_id": _task_id(context),
                "table_schema": schema,
                "table_name": comparison.table,
                "detail": text,
            },
        )

    def record_copy(self, session: Session, *, context: Mapping[str, Any], result: Any) -> None:
        """Append one table's copy (a ``transfers.CopyResult``) as a ``copy`` event."""
        session.execute(
            self._sql(session, "record_copy"),
            {
                "now": utcnow(),
                "run_id": context.get("run_id"),
                "task_id": _task_id(context),
                "table_schema": result.schema,
                "table_name": result.table,
                "copy_method": result.method,
                "rows_read": result.rows_read,
                "rows_written": result.rows_written,
                "seconds": round(result.seconds, 3),
                "error": result.error[:4000] if result.error else None,
            },
        )


def _summary(
    schema: str, stored: Mapping[str, Any], staged: Sequence[Mapping[str, Any]], staged_tables: Iterable[str]
) -> dict[str, Any]:
    """A schema's summary: ``stored`` rows (as read under the lock), less the ``staged_tables``, plus
    ``staged`` rows per status with their sums (``stage_summary.sql``, or ``status_summary.sql`` over
    the whole schema with nothing stored: :meth:`AuditStore.summary`). After a pass this is the audit
    table's own summary without reading its rows again."""
    rows = stored.values()  # up to a million: C-level loops (map, filter, Counter), no Python loop
    by_status: Counter[str] = Counter(map(attrgetter("export_status"), rows))
    src = sum(filter(None, map(attrgetter("src_row_count"), rows)))
    tgt = sum(filter(None, map(attrgetter("tgt_row_count"), rows)))
    replaced = list(filter(None, map(stored.get, staged_tables)))  # new tables have no stored row
    by_status.subtract(map(attrgetter("export_status"), replaced))
    src -= sum(filter(None, map(attrgetter("src_row_count"), replaced)))
    tgt -= sum(filter(None, map(attrgetter("tgt_row_count"), replaced)))
    for row in staged:
        by_status[row["export_status"]] += int(row["tables"])
        src += int(row["src_rows"] or 0)
        tgt += int(row["tgt_rows"] or 0)
    return {
        "schema": schema,
        "tables": sum(by_status.values()),  # a row never decided (NULL status) counts, as in SQL
        "by_status": {s: by_status[s] for s in STATUSES if by_status.get(s)},
        "src_rows": src,
        "tgt_rows": tgt,
    }


@functools.cache
def _decide_status(dialect: str) -> str:
    """``decide_status.sql``, the status rule, as the expression the status pass's statements embed
    (its leading comment lines left out; evaluated on the stage row ``s``)."""
    lines = load_statement(DECIDE_STATUS, dialect).splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip().format(row="s")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if on) for a burst of allocations; reference counting
    still frees everything. Objects made meanwhile are collected as usual afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _filters_json(filters: Mapping[str, str] | None, limit: int = 4000) -> str | None:
    """``{table: filter}`` as JSON for the run log, within the column's size: tables beyond it are
    left out and ``"..."`` says how many."""
    if not filters:
        return None
    kept = dict(sorted(filters.items()))
    text = json.dumps(kept, ensure_ascii=False, sort_keys=True)
    while len(text) > limit and kept:
        kept = dict(list(kept.items())[: len(kept) // 2])
        text = json.dumps({**kept, "...": f"{len(filters) - len(kept)} more"}, ensure_ascii=False)
    return text


def _task_id(context: Mapping[str, Any]) -> str | None:
    ti = context.get("ti") or context.get("task_instance")
    if ti is not None:
        return getattr(ti, "task_id", None)
    task = context.get("task")
    return getattr(task, "task_id", None)
