"""The provider's internals that bench_counting, bench_refresh and bench_fingerprint drive directly.

Those three measure parts below the operators (a dialect's counting, ``AuditStore.sync``, the
fingerprint SQL) on connections they open themselves. What they need that moved in the redesign
(``a31438b``: ``Session`` in ``dialects/session.py``, dialects built on a common-sql ``DbApiHook``,
``prepare`` renamed ``begin``) is looked up here, once, so the scripts run on both layouts.
``bench_scale.py`` uses only the operators' public arguments and needs none of this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.sql.hooks.sql import DbApiHook

try:
    from migration_audit_provider.dialects.session import Session
except ImportError:  # the layout before the redesign
    from migration_audit_provider.dialects.base import Session

__all__ = ["NoHook", "Session", "begin"]


class NoHook(DbApiHook):
    """A hook for a dialect whose connections the benchmark opens itself (common-sql's ``Dialect``
    wants a ``DbApiHook``)."""

    conn_name_attr = "bench_conn_id"
    default_conn_name = "bench_unused"

    def get_conn(self) -> Any:
        raise AssertionError("the benchmark opens its own connections")


def begin(dialect: Any, conn: Any, schemas: Sequence[str], *, write: bool = False) -> None:
    """Start the dialect's transaction on ``conn`` with ``schemas`` reachable (``begin``/``prepare``)."""
    start = getattr(dialect, "begin", None) or dialect.prepare
    start(conn, list(schemas), write=write)


def audit_store(dialect: Any, store_schema: str) -> Any:
    """An ``AuditStore`` over ``dialect`` for sessions the benchmark opens itself.

    Since the redesign the store takes the target hook (it opens its own sessions through it, which
    the benchmark never asks for); before, it took the dialect.
    """
    import inspect
    from types import SimpleNamespace

    from migration_audit_provider.store import AuditStore

    first = next(iter(inspect.signature(AuditStore).parameters))
    if first == "dialect":
        return AuditStore(dialect, store_schema)
    return AuditStore(SimpleNamespace(dialect=dialect), store_schema)


def status_pass(
    store: Any,
    session: Any,
    schema: str,
    observations: Sequence[Any],
    *,
    context: dict[str, Any],
    counted_at: Any,
) -> int:
    """One schema's status pass, as ``RefreshAuditOperator`` runs it, given fresh observations; the
    rows changed or added.

    Since the redesign this is ``AuditStore.refresh`` (lock, read once, merge, decide, record, run
    log, summary); before, ``AuditStore.sync`` (lock, read, merge, decide, record).
    """
    if hasattr(store, "sync"):
        times = {"src_counted_at": counted_at, "tgt_counted_at": counted_at}
        kwargs = {"source_complete": True, "context": context, "event_type": "refresh", **times}
        result = store.sync(session, schema, observations, **kwargs)
    else:
        from migration_audit_provider.store import Look

        look = Look(observations, source_complete=True, src_counted_at=counted_at, tgt_counted_at=counted_at)
        result = store.refresh(session, schema, lambda _stored: look, context=context, step="refresh")
    return result.changed + result.added
