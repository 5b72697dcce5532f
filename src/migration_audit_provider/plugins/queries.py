"""What the dashboard reads from the audit store: bounded, aggregated, read-only queries.

The statements live in ``include/sql/dashboard/`` (portable SQL, ``:name`` binds, ``{audit}`` and
``{history}`` filled with the store's dialect-quoted names). Every one is aggregated in the database or
has a ``LIMIT``; nothing here writes. Values come back as plain Python (ints, strings) so the same
objects feed the HTML pages and the JSON endpoints.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from migration_audit_provider.config import DAG_ID_PREFIX, slug
from migration_audit_provider.dialects.base import Session
from migration_audit_provider.store import utcnow

DISPLAY_ORDER = ("complete", "partial", "overload", "reject", "missing", "pending", "dropped")
"""The order of the statuses in bars, legends and filters; any other status follows, by name."""

MAX_SUMMARY_ROWS = 10_000
"""At most this many (schema, status) pairs on the overview."""
PAGE_SIZE = 200
HISTORY_LIMIT = 100
TIMELINE_RUNS = 60
TIMELINE_DAYS = 90


def dag_id_for(schema: str) -> str:
    """The audit DAG of ``schema`` when its settings do not name another (``config.parse_settings``)."""
    return DAG_ID_PREFIX + slug(schema)


def ordered_statuses(statuses: Iterable[str]) -> list[str]:
    """Known statuses in display order, then any other (e.g. a status added later) by name."""
    seen = set(statuses)
    return [s for s in DISPLAY_ORDER if s in seen] + sorted(seen.difference(DISPLAY_ORDER))


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
    by_status: dict[str, int] = field(default_factory=dict)
    rows_expected: int = 0
    rows_migrated: int = 0
    rows_on_target: int = 0
    last_update: str | None = None

    @property
    def tables(self) -> int:
        return sum(self.by_status.values())

    @property
    def dag_id(self) -> str:
        return dag_id_for(self.schema)

    def add(self, row: tuple) -> None:
        _schema, status, tables, expected, on_target, migrated, last_update = row
        self.by_status[str(status)] = self.by_status.get(str(status), 0) + int(tables)
        self.rows_expected += int(expected or 0)
        self.rows_on_target += int(on_target or 0)
        self.rows_migrated += int(migrated or 0)
        stamp = _ts(last_update)
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

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_copy"] = self.last_copy.to_json() if self.last_copy else None
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

    @property
    def rows_per_second(self) -> float | None:
        return rows_per_second(self.rows_written, self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": self.rows_per_second}


@dataclass
class TableDetail:
    table: str
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

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "history"}
        out["last_copy"] = self.last_copy.to_json() if self.last_copy else None
        out["last_change"] = self.last_change.to_json() if self.last_change else None
        out["history"] = [e.to_json() for e in self.history]
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

    :param session: a session of the store's dialect (``AuditStore.session()``).
    :param names: the store's dialect-quoted table names (``AuditStore.names``).
    """

    def __init__(self, session: Session, names: Mapping[str, str]) -> None:
        self.session = session
        self.names = dict(names)

    def _rows(self, name: str, **params: Any) -> list[tuple]:
        return self.session.fetchall(self.session.statement(f"dashboard/{name}", **self.names), params)

    # -- summaries ---------------------------------------------------------------------------------
    def schemas(self, limit: int = MAX_SUMMARY_ROWS) -> list[SchemaSummary]:
        out: dict[str, SchemaSummary] = {}
        for row in self._rows("schemas", limit=limit):
            schema = str(row[0])
            out.setdefault(schema, SchemaSummary(schema)).add(row)
        return sorted(out.values(), key=lambda s: s.schema)

    def schema(self, schema: str) -> SchemaSummary | None:
        rows = self._rows("schema_summary", schema=schema, limit=MAX_SUMMARY_ROWS)
        if not rows:
            return None
        summary = SchemaSummary(schema)
        for row in rows:
            summary.add(row)
        return summary

    # -- drill-down --------------------------------------------------------------------------------
    def tables(
        self, schema: str, *, status: str = "", limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[TableRow]:
        out = []
        for r in self._rows("tables", schema=schema, status=status, limit=limit, offset=offset):
            copy = None
            if r[12] is not None or r[13] is not None:
                copy = CopyEvent(_ts(r[12]), r[13], _int(r[14]), _int(r[15]), _float(r[16]), r[17], r[18])
            out.append(
                TableRow(
                    table=r[0],
                    status=r[1],
                    src_rows=_int(r[2]),
                    tgt_rows=_int(r[3]),
                    src_present=_flag(r[4]),
                    tgt_present=_flag(r[5]),
                    updated_at=_ts(r[6]),
                    last_run_id=r[7],
                    changed_at=_ts(r[8]),
                    changed_from=r[9],
                    changed_to=r[10],
                    changed_run_id=r[11],
                    last_copy=copy,
                )
            )
        return out

    def table(self, schema: str, table: str, *, history_limit: int = HISTORY_LIMIT) -> TableDetail | None:
        rows = self._rows("table", schema=schema, table=table)
        if not rows:
            return None
        r = rows[0]
        detail = TableDetail(
            table=r[0],
            status=r[1],
            src_rows=_int(r[2]),
            tgt_rows=_int(r[3]),
            src_present=_flag(r[4]),
            tgt_present=_flag(r[5]),
            src_counted_at=_ts(r[6]),
            tgt_counted_at=_ts(r[7]),
            count_method=r[8],
            updated_at=_ts(r[9]),
            created_at=_ts(r[10]),
            last_run_id=r[11],
        )
        for h in self._rows("table_history", schema=schema, table=table, limit=history_limit):
            detail.history.append(
                HistoryEvent(
                    event_id=int(h[0]),
                    at=_ts(h[1]),
                    event_type=h[2],
                    run_id=h[3],
                    task_id=h[4],
                    old_status=h[5],
                    new_status=h[6],
                    src_rows=_int(h[7]),
                    tgt_rows=_int(h[8]),
                    copy_method=h[9],
                    rows_read=_int(h[10]),
                    rows_written=_int(h[11]),
                    seconds=_float(h[12]),
                    error=h[13],
                )
            )
        return detail

    # -- status over time --------------------------------------------------------------------------
    def schema_timeline(
        self, summary: SchemaSummary, *, runs: int = TIMELINE_RUNS, days: int = TIMELINE_DAYS
    ) -> list[TimelinePoint]:
        """Tables per status after each of the schema's newest audit runs, oldest first."""
        rows = self._rows("status_changes", schema=summary.schema, runs=runs, since=_since(days))
        changes = [
            (summary.schema, run_key, _ts(run_ts), int(seq), old, new, int(n))
            for run_key, run_ts, seq, old, new, n in rows
        ]
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
        rows = self._rows("status_changes_all", runs=runs, since=_since(days))
        changes = [
            (str(schema), run_key, _ts(run_ts), int(seq), old, new, int(n))
            for schema, run_key, run_ts, seq, old, new, n in rows
            if str(schema) in current
        ]
        by_day: dict[str, TimelinePoint] = {}
        for _schema, _run, at, counts in _walk_back(current, changes):
            day = at[:10]
            by_day[day] = TimelinePoint(label=day, at=at, counts=counts)  # the day's last run wins
        return [by_day[d] for d in sorted(by_day)]


def _since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def _walk_back(
    current: Mapping[str, Mapping[str, int]],
    changes: Iterable[tuple[str, str, str | None, int, str | None, str | None, int]],
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


def status_color(status: str) -> str:
    """A fixed colour per known status; any other status gets a stable one from a spare palette."""
    known = {
        "complete": "#2e7d32",
        "partial": "#f9a825",
        "overload": "#ef6c00",
        "reject": "#c62828",
        "missing": "#6a1b9a",
        "pending": "#78909c",
        "dropped": "#455a64",
    }
    spare = ("#00838f", "#ad1457", "#5d4037", "#283593", "#9e9d24", "#4e342e")
    return known.get(status) or spare[zlib.crc32(status.encode()) % len(spare)]
