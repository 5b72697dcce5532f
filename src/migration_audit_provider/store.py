"""The audit store: ``<store>.audit``, its append-only ``audit_history``, the count stage and run log.

Every write to the audit table goes through :meth:`AuditStore.sync`, under a per-schema lock, in one
transaction:

1. read the schema's audit rows and merge the new observations into them (Python);
2. stage only the rows whose inputs changed (``current_row_counts``);
3. decide their status (``decide_status.sql`` — the one place that does), drop any that would not
   change, append their transitions to the history, then update/insert them in one pass.

A repeat with nothing changed stages nothing and writes nothing, so ``update_ts`` keeps its value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from migration_audit_provider.dialects.base import AuditDialect, Session
from migration_audit_provider.exceptions import AuditInputError

DEFAULT_STORE_SCHEMA = "migration"
COUNT_METHOD = "count(*)"
STATUSES = ("pending", "complete", "partial", "overload", "reject", "missing", "dropped")
"""Every status the audit knows; ``decide_status.sql`` says which applies."""

_STORE_TABLES = {
    "audit": "audit",
    "history": "audit_history",
    "stage": "current_row_counts",
    "runs": "audit_runs",
}


@dataclass(frozen=True)
class Observation:
    """What one look at the catalogs and counts found for a table; ``None`` means "not looked"."""

    table: str
    src_present: bool | None = None
    src_row_count: int | None = None
    tgt_present: bool | None = None
    tgt_row_count: int | None = None


@dataclass
class AuditRow:
    table: str
    src_present: bool | None = None
    src_row_count: int | None = None
    tgt_present: bool | None = None
    tgt_row_count: int | None = None
    src_counted_at: Any = None
    tgt_counted_at: Any = None
    count_method: str | None = None
    export_status: str | None = None

    def inputs(self) -> tuple:
        return (self.src_present, self.src_row_count, self.tgt_present, self.tgt_row_count)


@dataclass
class SyncResult:
    schema: str
    tables_seen: int = 0
    changed: int = 0
    added: int = 0
    transitions: dict[str, int] = field(default_factory=dict)


def utcnow() -> datetime:
    """Naive UTC, as stored in the audit tables' ``TIMESTAMP`` columns."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


class AuditStore:
    """The audit tables in schema ``store_schema`` of the target connection."""

    def __init__(self, dialect: AuditDialect, store_schema: str = DEFAULT_STORE_SCHEMA) -> None:
        dialect.check_identifier(store_schema, "audit store schema")
        self.dialect = dialect
        self.schema = store_schema
        self.names = {key: dialect.qualified(store_schema, table) for key, table in _STORE_TABLES.items()}

    # -- plumbing ----------------------------------------------------------------------------------
    def session(self, *schemas: str, write: bool = False):
        return self.dialect.session([self.schema, *schemas], write=write)

    def _sql(self, session: Session, name: str) -> str:
        return session.statement(name, **self.names)

    def ensure(self, session: Session) -> None:
        """Create the store's schema and tables if they are missing (safe to run concurrently)."""
        self.dialect.lock_schema(session, self.schema, "")
        if not self.dialect.schema_exists(session, self.schema):
            self.dialect.create_schema(session, self.schema)
        text = session.statement(
            "create_store",
            schema=self.dialect.quote(self.schema),
            history_name=self.dialect.quote(_STORE_TABLES["history"]),
            **self.names,
        )
        session.script(text)

    # -- reads -------------------------------------------------------------------------------------
    def read(self, session: Session, schema: str) -> dict[str, AuditRow]:
        rows = session.fetchall(self._sql(session, "read_audit"), {"schema": schema})
        return {
            r[0]: AuditRow(r[0], _flag(r[1]), r[2], _flag(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows
        }

    def audited_schemas(self, session: Session) -> list[str]:
        return [row[0] for row in session.fetchall(self._sql(session, "list_audited_schemas"))]

    def summary(self, session: Session, schema: str) -> dict[str, Any]:
        """Tables and rows per status for one schema: the operators' XCom value."""
        rows = session.fetchall(self._sql(session, "status_summary"), {"schema": schema})
        by_status = {status: int(tables) for status, tables, _src, _tgt in rows}
        return {
            "schema": schema,
            "tables": sum(by_status.values()),
            "by_status": {s: by_status[s] for s in STATUSES if s in by_status},
            "src_rows": sum(int(src or 0) for _s, _t, src, _tgt in rows),
            "tgt_rows": sum(int(tgt or 0) for _s, _t, _src, tgt in rows),
        }

    def tables_with_status(self, session: Session, schema: str, statuses: Iterable[str]) -> list[str]:
        wanted = set(statuses)
        unknown = wanted.difference(STATUSES)
        if unknown:
            raise AuditInputError(f"unknown status(es) {sorted(unknown)}; known: {', '.join(STATUSES)}")
        rows = session.fetchall(self._sql(session, "list_table_statuses"), {"schema": schema})
        return [table for table, status in rows if status in wanted]

    # -- writes ------------------------------------------------------------------------------------
    def sync(
        self,
        session: Session,
        schema: str,
        observations: Sequence[Observation],
        *,
        source_complete: bool,
        context: Mapping[str, Any],
        event_type: str,
        src_counted_at: datetime | None = None,
        tgt_counted_at: datetime | None = None,
        force: bool = False,
    ) -> SyncResult:
        """Merge ``observations`` into the schema's audit rows and record every change.

        :param source_complete: the observations cover the whole source catalog of ``schema``, so an
            audited table that is not among them has gone from the source.
        :param force: stage every row seen, even if its inputs did not change (repairs hand edits).
        """
        self.dialect.lock_schema(session, self.schema, schema)
        current = self.read(session, schema)
        seen = {obs.table for obs in observations}
        if source_complete:
            observations = [
                *observations,
                *(Observation(t, src_present=False) for t in current if t not in seen),
            ]

        staged: list[dict[str, Any]] = []
        refresh_id = uuid.uuid4().hex
        for obs in observations:
            old = current.get(obs.table)
            new = _merge(old or AuditRow(obs.table), obs, src_counted_at, tgt_counted_at)
            if old is not None and not force and old.export_status and new.inputs() == old.inputs():
                continue
            staged.append(
                {
                    "refresh_id": refresh_id,
                    "table_schema": schema,
                    "table_name": new.table,
                    "src_present": new.src_present,
                    "src_row_count": new.src_row_count,
                    "tgt_present": new.tgt_present,
                    "tgt_row_count": new.tgt_row_count,
                    "src_counted_at": new.src_counted_at,
                    "tgt_counted_at": new.tgt_counted_at,
                    "count_method": new.count_method,
                }
            )

        result = SyncResult(schema=schema, tables_seen=len(observations))
        if not staged:
            return result

        run = {"run_id": _run_id(context), "task_id": _task_id(context)}
        ids = {"refresh_id": refresh_id}
        now = utcnow()
        session.executemany(self._sql(session, "stage_counts"), staged)
        session.execute(self._sql(session, "decide_status"), ids)
        session.execute(self._sql(session, "prune_unchanged"), ids)
        session.execute(
            self._sql(session, "record_transitions"), {**ids, **run, "now": now, "event_type": event_type}
        )
        result.changed = _rowcount(
            session.execute(self._sql(session, "apply_status"), {**ids, **run, "now": now})
        )
        result.added = _rowcount(
            session.execute(self._sql(session, "insert_new_tables"), {**ids, **run, "now": now})
        )
        session.execute(self._sql(session, "clear_stage"), ids)
        return result

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
    ) -> None:
        session.execute(
            self._sql(session, "record_run"),
            {
                "run_id": _run_id(context),
                "task_id": _task_id(context),
                "step": step,
                "table_schema": schema,
                "started_at": started_at,
                "finished_at": utcnow(),
                "count_method": COUNT_METHOD,
                "tables_seen": tables_seen,
                "rows_changed": rows_changed,
            },
        )

    def record_copy(
        self,
        session: Session,
        *,
        context: Mapping[str, Any],
        schema: str,
        table: str,
        method: str,
        rows_read: int | None,
        rows_written: int | None,
        seconds: float,
        error: str | None,
    ) -> None:
        session.execute(
            self._sql(session, "record_copy"),
            {
                "now": utcnow(),
                "run_id": _run_id(context),
                "task_id": _task_id(context),
                "table_schema": schema,
                "table_name": table,
                "copy_method": method,
                "rows_read": rows_read,
                "rows_written": rows_written,
                "seconds": round(seconds, 3),
                "error": error[:4000] if error else None,
            },
        )


def _merge(
    old: AuditRow, obs: Observation, src_counted_at: datetime | None, tgt_counted_at: datetime | None
) -> AuditRow:
    new = AuditRow(**{**old.__dict__})
    if obs.src_present is not None:
        new.src_present = obs.src_present
        new.src_row_count = obs.src_row_count if obs.src_present else None
        if obs.src_row_count is not None and obs.src_row_count != old.src_row_count:
            new.src_counted_at = src_counted_at
            new.count_method = COUNT_METHOD
    if obs.tgt_present is not None:
        new.tgt_present = obs.tgt_present
        new.tgt_row_count = obs.tgt_row_count if obs.tgt_present else None
        if obs.tgt_row_count is not None and obs.tgt_row_count != old.tgt_row_count:
            new.tgt_counted_at = tgt_counted_at
            new.count_method = COUNT_METHOD
    return new


def _rowcount(cursor: Any) -> int:
    count = getattr(cursor, "rowcount", -1)
    return int(count) if count is not None and count >= 0 else 0


def _run_id(context: Mapping[str, Any]) -> str | None:
    return context.get("run_id")


def _task_id(context: Mapping[str, Any]) -> str | None:
    ti = context.get("ti") or context.get("task_instance")
    if ti is not None:
        return getattr(ti, "task_id", None)
    task = context.get("task")
    return getattr(task, "task_id", None)
