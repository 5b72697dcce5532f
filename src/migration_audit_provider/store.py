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

import functools
import gc
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import attrgetter, itemgetter
from typing import Any

from migration_audit_provider.dialects.base import AuditDialect, Session
from migration_audit_provider.exceptions import AuditInputError

DEFAULT_STORE_SCHEMA = "migration"
COUNT_METHOD = "count(*)"
STATUSES = ("pending", "complete", "partial", "overload", "reject", "missing", "mismatch", "dropped")
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
    src_fingerprint: str | None = None
    tgt_fingerprint: str | None = None
    """Content fingerprints, both or neither; taken only when the counts agree."""


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
    src_fingerprint: str | None = None
    tgt_fingerprint: str | None = None


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
        return {r[0]: AuditRow(r[0], _flag(r[1]), r[2], _flag(r[3]), r[4], *r[5:]) for r in rows}

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
        now = utcnow()
        refresh_id = uuid.uuid4().hex
        # This part touches every audited table on every refresh (1,000,000 rows take ~1 s): pausing
        # the cyclic GC keeps it from re-scanning the heap while a million tuples are being made.
        with _gc_paused():
            current = self._read_inputs(session, schema)
            if source_complete:
                seen = set(map(_TABLE, observations))
                if not current.keys() <= seen:
                    observations = [
                        *observations,
                        *(Observation(t, src_present=False) for t in current if t not in seen),
                    ]
            staged, new_tables = _changes(
                current,
                observations,
                force=force,
                head=(refresh_id, schema),
                # A non-NULL mark in the stage means "counted in this pass"; the time written is the
                # caller's (which may be None): the mark falls back to ``now`` only to stay non-NULL.
                src_mark=src_counted_at or now,
                tgt_mark=tgt_counted_at or now,
            )
            del current
        result = SyncResult(schema=schema, tables_seen=len(observations))
        if not staged:
            return result

        stmt = functools.partial(self._sql, session)
        ids = {"refresh_id": refresh_id}
        run = {"run_id": _run_id(context), "task_id": _task_id(context)}
        times = {"now": now, "src_counted_at": src_counted_at, "tgt_counted_at": tgt_counted_at}
        self.dialect.bulk_insert(session, stmt("stage_counts"), self.names["stage"], STAGE_COLUMNS, staged)
        session.execute(stmt("decide_status"), ids)
        if force:  # otherwise every staged row has changed inputs: nothing to prune (a scan saved)
            session.execute(stmt("prune_unchanged"), ids)
        session.execute(stmt("record_transitions"), {**ids, **run, "now": now, "event_type": event_type})
        if len(staged) > new_tables:
            result.changed = _rowcount(session.execute(stmt("apply_status"), {**ids, **run, **times}))
        if new_tables:
            result.added = _rowcount(session.execute(stmt("insert_new_tables"), {**ids, **run, **times}))
        session.execute(stmt("clear_stage"), ids)
        return result

    def _read_inputs(self, session: Session, schema: str) -> dict[str, tuple]:
        """``{table: (table, src_present, src_row_count, tgt_present, tgt_row_count, export_status,
        src_fingerprint, tgt_fingerprint)}``."""
        rows = session.fetchall(self._sql(session, "read_inputs"), {"schema": schema})
        return dict(zip(map(_TABLE_OF_ROW, rows), rows, strict=True))

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

    def record_mismatch(
        self, session: Session, *, context: Mapping[str, Any], schema: str, comparison: Any
    ) -> None:
        """Append where a content mismatch lies (``comparison``: a ``fingerprint.Comparison``)."""
        detail = {
            "key": comparison.key,
            "differing_keys": [str(k) for k in comparison.differing_keys],
            "keys_truncated": comparison.keys_truncated,
            "src_fingerprint": comparison.source,
            "tgt_fingerprint": comparison.target,
        }
        text = json.dumps(detail, ensure_ascii=False)
        while len(text) > 4000 and detail["differing_keys"]:  # the column's size: fewer keys, say so
            detail["differing_keys"] = detail["differing_keys"][: len(detail["differing_keys"]) // 2]
            detail["keys_truncated"] = True
            text = json.dumps(detail, ensure_ascii=False)
        session.execute(
            self._sql(session, "record_mismatch"),
            {
                "now": utcnow(),
                "run_id": _run_id(context),
                "task_id": _task_id(context),
                "table_schema": schema,
                "table_name": comparison.table,
                "detail": text,
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


STAGE_COLUMNS = (
    "refresh_id",
    "table_schema",
    "table_name",
    "src_present",
    "src_row_count",
    "tgt_present",
    "tgt_row_count",
    "src_counted_at",
    "tgt_counted_at",
    "count_method",
    "src_fingerprint",
    "tgt_fingerprint",
)
"""The columns :func:`_changes` fills, in order (``stage_counts.sql`` names the same)."""


def _changes(
    current: Mapping[str, tuple],
    observations: Iterable[Observation],
    *,
    force: bool,
    head: tuple[str, str],
    src_mark: datetime,
    tgt_mark: datetime,
) -> tuple[list[tuple], int]:
    """The stage rows (``STAGE_COLUMNS`` order) for the observations that change an audit row.

    Merge rule, per side: an observation that looked (``*_present`` not None) replaces presence and
    count (no count when absent); one that did not look keeps the stored ones. A count that differs
    from the stored one is marked as taken in this pass (``*_counted_at`` gets the mark,
    ``count_method`` is set); anything else keeps its stored time and method (NULL in the stage).
    Fingerprints: new ones replace the stored pair; without new ones, a count change drops the stored
    pair (it described other rows), otherwise it is kept.
    A row whose merged inputs equal the stored ones (and has a status) is left out unless ``force``.

    This loop runs once per audited table on every refresh, so it works on plain tuples.
    Returns the rows and how many of them are tables new to the audit.
    """
    staged: list[tuple] = []
    new_tables = 0
    get = current.get
    for obs in observations:
        old = get(obs.table)
        if old is None:
            old_sp = old_sc = old_tp = old_tc = status = old_sf = old_tf = None
        else:
            _, old_sp, old_sc, old_tp, old_tc, status, old_sf, old_tf = old
        sp = obs.src_present
        if sp is None:
            sp, sc, src_counted = old_sp, old_sc, False
        else:
            n = obs.src_row_count
            sc = n if sp else None
            src_counted = n is not None and n != old_sc
        tp = obs.tgt_present
        if tp is None:
            tp, tc, tgt_counted = old_tp, old_tc, False
        else:
            n = obs.tgt_row_count
            tc = n if tp else None
            tgt_counted = n is not None and n != old_tc
        if obs.src_fingerprint is not None:
            sf, tf = obs.src_fingerprint, obs.tgt_fingerprint
        elif sc == old_sc and tc == old_tc:
            sf, tf = old_sf, old_tf
        else:
            sf = tf = None
        if (
            sc == old_sc
            and tc == old_tc
            and sf == old_sf
            and tf == old_tf
            and status
            and not force
            and (sp is old_sp or _same_flag(sp, old_sp))
            and (tp is old_tp or _same_flag(tp, old_tp))
        ):
            continue
        if old is None:
            new_tables += 1
        staged.append(
            (
                *head,
                obs.table,
                _flag(sp),
                sc,
                _flag(tp),
                tc,
                src_mark if src_counted else None,
                tgt_mark if tgt_counted else None,
                COUNT_METHOD if src_counted or tgt_counted else None,
                sf,
                tf,
            )
        )
    return staged, new_tables


def _same_flag(a: Any, b: Any) -> bool:
    """Presence flags as stored: ``None``/``True``/``False``, or ``1``/``0`` from SQLite."""
    return a is b or (a is not None and b is not None and bool(a) == bool(b))


_TABLE = attrgetter("table")
_TABLE_OF_ROW = itemgetter(0)


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
