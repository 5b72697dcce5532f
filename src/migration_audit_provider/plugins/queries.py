"""What the dashboard reads from the audit store: bounded, aggregated, read-only queries.

The statements live in ``include/sql/dashboard/`` (portable SQL, ``:name`` binds, ``{audit}`` and
``{history}`` filled with the store's dialect-quoted names). Every one is aggregated in the database or
has a ``LIMIT``; nothing here writes. Rows are read by the column names of the cursor's description
(:meth:`DashboardReader._records`), never by position. Values come back as plain Python (ints,
strings) so the same objects feed the HTML pages and the JSON endpoints.

The statuses, their order, meanings and colours come from :mod:`migration_audit_provider.constants`;
the DAG of each schema from a :class:`~migration_audit_provider.plugins.dag_map.DagMap`.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from migration_audit_provider.constants import STATUS_COLORS, STATUS_INFO, STATUSES
from migration_audit_provider.plugins.dag_map import DagMap
from migration_audit_provider.plugins.drift_detail import SchemaDifference
from migration_audit_provider.plugins.drift_detail import parse as parse_schema_diff

MAX_SUMMARY_ROWS = 10_000
"""At most this many (schema, status) pairs on the overview."""
PAGE_SIZE = 200
HISTORY_LIMIT = 100
TIMELINE_RUNS = 60
TIMELINE_DAYS = 90
AUDIT_EVENTS = ("init", "refresh")
"""The history events that record an audit row's state (and its column differences, ``detail``)."""


STATUS_MEANINGS = {s.name: s.meaning for s in STATUS_INFO}
SPARE_COLORS = tuple(
    c
    for c in ("#00838f", "#ad1457", "#5d4037", "#283593", "#9e9d24", "#4e342e")
    if c not in STATUS_COLORS.values()
)
"""Colours for a status that ``constants.STATUSES`` does not name (a row written by a newer version)."""


Change = tuple[str, str, str | None, int, str | None, str | None, int]
"""``(schema, run, run_ts, run_seq, old_status, new_status, tables)``: one row of ``status_changes*.sql``."""


class Session(Protocol):
    """What the reader needs of a store session (``MigrationAuditHook.session()``)."""

    def statement(self, name: str, **identifiers: str) -> str: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Any: ...


def ordered_statuses(statuses: Iterable[str]) -> list[str]:
    """Statuses in the order of ``constants.STATUSES``, then any other (from a newer version) by name."""
    seen = set(statuses)
    return [s for s in STATUSES if s in seen] + sorted(seen.difference(STATUSES))


def legend_statuses(summaries: Iterable[SchemaSummary] = ()) -> list[str]:
    """Every status the store can hold (``constants.STATUSES``), plus any other one ``summaries`` show."""
    return ordered_statuses({*STATUSES, *(status for s in summaries for status in s.by_status)})


def status_meaning(status: str) -> str:
    """What ``status`` means (``constants.STATUS_INFO``), or a note that this version does not know it."""
    return STATUS_MEANINGS.get(status, "a status this version of the provider does not know")


def status_color(status: str) -> str:
    """The colour of ``status`` (``constants.STATUS_COLORS``); any other status gets a stable spare one."""
    return STATUS_COLORS.get(status) or SPARE_COLORS[zlib.crc32(status.encode()) % len(SPARE_COLORS)]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _ts(value: Any) -> str | None:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` text (PostgreSQL gives datetimes, SQLite text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)[:19]


def rows_per_second(rows: int | None, seconds: float | None) -> float | None:
    if rows is None or not seconds or seconds <= 0:
        return None
    return rows / seconds


@dataclass
class SchemaSummary:
    """One schema: tables per status and rows migrated against rows expected."""

    schema: str
    dag_id: str | None = None
    """The DAG auditing the schema (``None``: no configured DAG names it)."""
    by_status: dict[str, int] = field(default_factory=dict)
    rows_expected: int = 0
    rows_migrated: int = 0
    rows_on_target: int = 0
    last_update: str | None = None

    @property
    def tables(self) -> int:
        return sum(self.by_status.values())

    def add(self, row: Mapping[str, Any]) -> None:
        """Add one ``(schema, status)`` row of ``schemas.sql`` / ``schema_summary.sql``."""
        status = str(row["export_status"])
        self.by_status[status] = self.by_status.get(status, 0) + int(row["tables"])
        self.rows_expected += int(row["rows_expected"] or 0)
        self.rows_on_target += int(row["rows_on_target"] or 0)
        self.rows_migrated += int(row["rows_migrated"] or 0)
        stamp = _ts(row["last_update"])
        if stamp and (self.last_update is None or stamp > self.last_update):
            self.last_update = stamp

    def ordered(self) -> dict[str, int]:
        return {s: self.by_status[s] for s in ordered_statuses(self.by_status)}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "dag_id": self.dag_id,
            "tables": self.tables,
            "by_status": self.ordered(),
            "rows_expected": self.rows_expected,
            "rows_migrated": self.rows_migrated,
            "rows_on_target": self.rows_on_target,
            "last_update": self.last_update,
        }


@dataclass
class CopyEvent:
    at: str | None
    method: str | None
    rows_read: int | None
    rows_written: int | None
    seconds: float | None
    error: str | None
    run_id: str | None

    @property
    def rows_per_second(self) -> float | None:
        return rows_per_second(self.rows_written, self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


@dataclass
class TableRow:
    """One table of a schema page: counts on both sides, its last status change and last copy."""

    table: str
    status: str
    src_rows: int | None
    tgt_rows: int | None
    src_present: bool | None
    tgt_present: bool | None
    updated_at: str | None
    last_run_id: str | None
    changed_at: str | None = None
    changed_from: str | None = None
    changed_to: str | None = None
    changed_run_id: str | None = None
    last_copy: CopyEvent | None = None
    schema_diff: SchemaDifference | None = None
    """The column differences of the audit row (``schema_diff``): why a ``drift``, and allowed widenings."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_copy"] = self.last_copy.to_json() if self.last_copy else None
        out["schema_diff"] = self.schema_diff.to_json() if self.schema_diff else None
        return out


@dataclass
class HistoryEvent:
    event_id: int
    at: str | None
    event_type: str
    run_id: str | None
    task_id: str | None
    old_status: str | None
    new_status: str | None
    src_rows: int | None
    tgt_rows: int | None
    copy_method: str | None
    rows_read: int | None
    rows_written: int | None
    seconds: float | None
    error: str | None
    schema_diff: SchemaDifference | None = None
    """The column differences this event recorded (an ``init``/``refresh`` event's ``detail``)."""

    @property
    def rows_per_second(self) -> float | None:
        return rows_per_second(self.rows_written, self.seconds)

    def to_json(self) -> dict[str, Any]:
        out = {**asdict(self), "rows_per_second": self.rows_per_second}
        out["schema_diff"] = self.schema_diff.to_json() if self.schema_diff else None
        return out


@dataclass
class TableDetail:
    table: str
    dag_id: str | None
    status: str
    src_rows: int | None
    tgt_rows: int | None
    src_present: bool | None
    tgt_present: bool | None
    src_counted_at: str | None
    tgt_counted_at: str | None
    count_method: str | None
    updated_at: str | None
    created_at: str | None
    last_run_id: str | None
    schema_diff: SchemaDifference | None = None
    """The audit row's column differences now (``schema_diff``)."""
    history: list[HistoryEvent] = field(default_factory=list)

    @property
    def last_copy(self) -> HistoryEvent | None:
        return next((e for e in self.history if e.event_type == "copy"), None)

    @property
    def last_change(self) -> HistoryEvent | None:
        return next(
            (
                e
                for e in self.history
                if e.event_type != "copy" and e.new_status and e.old_status != e.new_status
            ),
            None,
        )

    @property
    def drift_events(self) -> list[HistoryEvent]:
        """The audit events (newest first) whose column differences differ from those of the audit
        event before them: when a difference appeared, changed, or went away (``schema_diff`` None).
        The oldest audit event shown counts as a change only when it recorded a difference."""
        audits = [e for e in self.history if e.event_type in AUDIT_EVENTS]
        out = []
        for newer, older in zip(audits, [*audits[1:], None], strict=True):
            before = older.schema_diff if older else None
            if newer.schema_diff != before:
                out.append(newer)
        return out

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("history", "schema_diff")}
        out["schema_diff"] = self.schema_diff.to_json() if self.schema_diff else None
        out["last_copy"] = self.last_copy.to_json() if self.last_copy else None
        out["last_change"] = self.last_change.to_json() if self.last_change else None
        out["history"] = [e.to_json() for e in self.history]
        out["drift_events"] = [e.event_id for e in self.drift_events]
        return out


@dataclass
class TimelinePoint:
    """Tables per status after one audit run (or at the end of one day)."""

    label: str
    at: str
    counts: dict[str, int]
    run_id: str | None = None
    schema: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DashboardReader:
    """The dashboard's reads on one open, read-only session of the audit store.

    :param session: a read-only session of the store's connection (``MigrationAuditHook.session()``).
    :param names: the dialect-quoted names of the store's ``audit`` and ``history`` tables.
    :param dags: the DAG of each schema (for the summaries' and tables' ``dag_id``).
    """

    def __init__(self, session: Session, names: Mapping[str, str], dags: DagMap | None = None) -> None:
        self.session = session
        self.names = dict(names)
        self.dags = dags or DagMap()

    def _records(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of ``dashboard/<name>.sql`` as ``{column name: value}`` (lower-case names)."""
        cursor = self.session.execute(self.session.statement(f"dashboard/{name}", **self.names), params)
        columns = [str(column[0]).lower() for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    # -- summaries ---------------------------------------------------------------------------------
    def schemas(self, limit: int = MAX_SUMMARY_ROWS) -> list[SchemaSummary]:
        out: dict[str, SchemaSummary] = {}
        for row in self._records("schemas", limit=limit):
            schema = str(row["table_schema"])
            out.setdefault(schema, SchemaSummary(schema, self.dags.dag_id(schema))).add(row)
        return sorted(out.values(), key=lambda s: s.schema)

    def schema(self, schema: str) -> SchemaSummary | None:
        rows = self._records("schema_summary", schema=schema, limit=MAX_SUMMARY_ROWS)
        if not rows:
            return None
        summary = SchemaSummary(schema, self.dags.dag_id(schema))
        for row in rows:
            summary.add(row)
        return summary

    # -- drill-down --------------------------------------------------------------------------------
    def tables(
        self, schema: str, *, status: str = "", limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[TableRow]:
        return [
            _table_row(r)
            for r in self._records("tables", schema=schema, status=status, limit=limit, offset=offset)
        ]

    def table(self, schema: str, table: str, *, history_limit: int = HISTORY_LIMIT) -> TableDetail | None:
        rows = self._records("table", schema=schema, table=table)
        if not rows:
            return None
        r = rows[0]
        detail = TableDetail(
            table=r["table_name"],
            dag_id=self.dags.dag_id(schema),
            status=r["export_status"],
            src_rows=_int(r["src_row_count"]),
            tgt_rows=_int(r["tgt_row_count"]),
            src_present=_flag(r["src_present"]),
            tgt_present=_flag(r["tgt_present"]),
            src_counted_at=_ts(r["src_counted_at"]),
            tgt_counted_at=_ts(r["tgt_counted_at"]),
            count_method=r["count_method"],
            updated_at=_ts(r["update_ts"]),
            created_at=_ts(r["created_ts"]),
            last_run_id=r["last_run_id"],
            schema_diff=parse_schema_diff(r["schema_diff"]),
        )
        detail.history = [
            _history_event(h)
            for h in self._records("table_history", schema=schema, table=table, limit=history_limit)
        ]
        return detail

    # -- status over time --------------------------------------------------------------------------
    def schema_timeline(
        self, summary: SchemaSummary, *, runs: int = TIMELINE_RUNS, days: int = TIMELINE_DAYS
    ) -> list[TimelinePoint]:
        """Tables per status after each of the schema's newest audit runs, oldest first."""
        rows = self._records("status_changes", schema=summary.schema, runs=runs, since=_since(days))
        changes = [_change(summary.schema, r) for r in rows]
        points = _walk_back({summary.schema: summary.by_status}, changes)
        return [
            TimelinePoint(label=at[:16], at=at, counts=counts, run_id=run_id or None, schema=schema)
            for schema, run_id, at, counts in points
        ]

    def daily_timeline(
        self, summaries: Iterable[SchemaSummary], *, runs: int = TIMELINE_RUNS * 5, days: int = TIMELINE_DAYS
    ) -> list[TimelinePoint]:
        """Tables per status over all schemas at the end of each day that had audit runs, oldest first."""
        current = {s.schema: s.by_status for s in summaries}
        rows = self._records("status_changes_all", runs=runs, since=_since(days))
        changes = [_change(str(r["table_schema"]), r) for r in rows if str(r["table_schema"]) in current]
        by_day: dict[str, TimelinePoint] = {}
        for _schema, _run, at, counts in _walk_back(current, changes):
            day = at[:10]
            by_day[day] = TimelinePoint(label=day, at=at, counts=counts)  # the day's last run wins
        return [by_day[d] for d in sorted(by_day)]


def _table_row(r: Mapping[str, Any]) -> TableRow:
    """One row of ``tables.sql``: the audit row, its last status change and its last copy."""
    copy = None
    if r["copied_at"] is not None or r["copy_method"] is not None:
        copy = CopyEvent(
            at=_ts(r["copied_at"]),
            method=r["copy_method"],
            rows_read=_int(r["rows_read"]),
            rows_written=_int(r["rows_written"]),
            seconds=_float(r["seconds"]),
            error=r["error"],
            run_id=r["copied_run_id"],
        )
    return TableRow(
        table=r["table_name"],
        status=r["export_status"],
        src_rows=_int(r["src_row_count"]),
        tgt_rows=_int(r["tgt_row_count"]),
        src_present=_flag(r["src_present"]),
        tgt_present=_flag(r["tgt_present"]),
        updated_at=_ts(r["update_ts"]),
        last_run_id=r["last_run_id"],
        changed_at=_ts(r["changed_at"]),
        changed_from=r["old_status"],
        changed_to=r["new_status"],
        changed_run_id=r["changed_run_id"],
        last_copy=copy,
        schema_diff=parse_schema_diff(r["schema_diff"]),
    )


def _history_event(h: Mapping[str, Any]) -> HistoryEvent:
    """One row of ``table_history.sql``."""
    return HistoryEvent(
        event_id=int(h["event_id"]),
        at=_ts(h["event_ts"]),
        event_type=h["event_type"],
        run_id=h["run_id"],
        task_id=h["task_id"],
        old_status=h["old_status"],
        new_status=h["new_status"],
        src_rows=_int(h["src_row_count"]),
        tgt_rows=_int(h["tgt_row_count"]),
        copy_method=h["copy_method"],
        rows_read=_int(h["rows_read"]),
        rows_written=_int(h["rows_written"]),
        seconds=_float(h["seconds"]),
        error=h["error"],
        schema_diff=(
            parse_schema_diff(h["detail"], strict=False) if h["event_type"] in AUDIT_EVENTS else None
        ),
    )


def _change(schema: str, r: Mapping[str, Any]) -> Change:
    """One row of ``status_changes*.sql`` as :func:`_walk_back` takes it."""
    return (
        schema,
        r["run_key"],
        _ts(r["run_ts"]),
        int(r["run_seq"]),
        r["old_status"],
        r["new_status"],
        int(r["tables"]),
    )


def _since(days: int) -> datetime:
    """``days`` ago, naive UTC as the store's ``TIMESTAMP`` columns hold it."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(days=days)


def _walk_back(
    current: Mapping[str, Mapping[str, int]],
    changes: Iterable[Change],
) -> list[tuple[str, str, str, dict[str, int]]]:
    """Counts per status after each run, from the current counts and each run's status changes.

    ``changes`` holds ``(schema, run, run_ts, run_seq, old_status, new_status, tables)``; runs are
    ordered by their last event's time, then its id. Every change of an audit row is in the history
    with its run, so undoing the newest run's changes gives the counts after the run before it.
    Returns ``(schema, run, run_ts, counts)`` oldest first; ``counts`` are summed over the schemas
    in ``current``.
    """
    deltas: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    stamps: dict[tuple[str, str], tuple[str, int]] = {}
    for schema, run, run_ts, seq, old, new, n in changes:
        key = (schema, run)
        stamps[key] = (run_ts or "", seq)
        if new is not None:
            deltas[key][new] += n
        if old is not None:
            deltas[key][old] -= n
    state: dict[str, int] = defaultdict(int)
    for by_status in current.values():
        for status, n in by_status.items():
            state[status] += n
    out = []
    for key in sorted(stamps, key=lambda k: (stamps[k], k), reverse=True):
        out.append((key[0], key[1], stamps[key][0], {s: n for s, n in state.items() if n > 0}))
        for status, delta in deltas[key].items():
            state[status] = max(0, state[status] - delta)
    out.reverse()
    return out
