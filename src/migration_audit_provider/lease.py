"""One run per schema at a time: a lease in ``<store>.audit_leases``, held for a run's whole chain.

Airflow 3.3 does not count backfill runs against ``max_active_runs``, so a backfill and a scheduled
run of one schema could copy and refresh at once. The first task of the chain (``take_lease``, a
sensor in reschedule mode) takes the schema's lease, every later task renews it before it starts
(:class:`LeaseRenewal`, the tasks' ``pre_execute``), and a teardown task releases it, also when the
run failed. A second run of the schema waits in ``take_lease`` without holding a worker slot. A lease
left behind (its run's worker and teardown both gone) expires at ``expires_at`` and is taken over;
the run that lost it fails at its next task instead of working on. Different schemas are different
rows: they never wait on each other. See ``docs/adr/0004-store-versions-adoption-and-leases.md``.

Take, renew and release are one statement each on PostgreSQL and SQLite (take: ``INSERT … ON
CONFLICT … DO UPDATE … WHERE``); on Vertica (no ON CONFLICT, keys not enforced) take is the lease
table's lock plus an UPDATE and an INSERT in one transaction (``include/sql/vertica/lease/take.sql``).
Times are the workers' UTC clocks: keep them within a small fraction of the lease's lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from migration_audit_provider.dialects.base import NAMED_PARAM
from migration_audit_provider.sql import split_statements
from migration_audit_provider.store import utcnow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from migration_audit_provider.dialects.session import Session
    from migration_audit_provider.store import AuditStore


@dataclass(frozen=True)
class Lease:
    schema: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def holder_of(context: Mapping[str, Any]) -> str:
    """The lease holder a task run stands for: its DAG run (``dag_id/run_id``)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    return f"{dag_id}/{context.get('run_id')}"


class Leases:
    """The leases of one audit store (its tables must exist: :meth:`AuditStore.ensure` first)."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def _run(self, session: Session, name: str, params: Mapping[str, Any]) -> Any:
        cursor = None
        for stmt in split_statements(self.store.sql(session, name)):
            used = set(NAMED_PARAM.findall(stmt))
            cursor = session.execute(stmt, {k: v for k, v in params.items() if k in used})
        return cursor

    def read(self, session: Session, schema: str) -> Lease | None:
        rows = session.fetch_dicts(self.store.sql(session, "lease/read"), {"schema": schema})
        return _lease(rows[0]) if rows else None

    def take(self, session: Session, schema: str, holder: str, ttl: timedelta) -> Lease:
        """Take the lease if free, expired or already ``holder``'s; return whoever holds it now."""
        now = utcnow()
        params = {"schema": schema, "holder": holder, "now": now, "expires_at": now + ttl}
        self._run(session, "lease/take", params)
        lease = self.read(session, schema)
        if lease is None:  # cannot happen: the statement above leaves a row
            raise RuntimeError(f"lease of schema {schema!r} not found after taking it")
        return lease

    def renew(self, session: Session, schema: str, holder: str, ttl: timedelta) -> bool:
        """Move the expiry of ``holder``'s lease; ``False`` if ``holder`` does not hold it."""
        params = {"schema": schema, "holder": holder, "expires_at": utcnow() + ttl}
        return self.store.dialect.affected_rows(self._run(session, "lease/renew", params)) == 1

    def release(self, session: Session, schema: str, holder: str) -> bool:
        """Release ``holder``'s lease; ``False`` if it held none (released, or taken over)."""
        params = {"schema": schema, "holder": holder}
        return self.store.dialect.affected_rows(self._run(session, "lease/release", params)) == 1


def _lease(row: Mapping[str, Any]) -> Lease:
    return Lease(row["table_schema"], row["holder"], _time(row["acquired_at"]), _time(row["expires_at"]))


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
