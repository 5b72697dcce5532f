"""The audit store's schema version, and the steps that bring an older store up to date.

``<store>.audit_store_version`` holds one row per layout the store has reached; the store's version is
the highest. :func:`upgrade` runs from :meth:`AuditStore.ensure`, before the first write of every
operator: it reads the version (or, for a store older than the version table, recognises its layout
from the audit table's columns) and applies the missing steps, ``include/sql/upgrade/NNNN_*.sql``,
one after another. See ``docs/adr/0004-store-versions-adoption-and-leases.md``.

* **Every row kept.** Steps only add nullable columns and tables; a seed row is filled in when its
  schema's DAG first writes (:func:`adopt_schema`), so rows of schemas no DAG configures stay as
  they were.
* **Idempotent, one transaction per step.** An ``ALTER TABLE … ADD COLUMN`` runs only when the
  catalog lacks the column (checked under the store lock), ``CREATE TABLE`` is ``IF NOT EXISTS``, and
  the version row is written after the version is read again under the lock. On PostgreSQL and
  SQLite a step and its version row commit together; on Vertica each DDL statement commits by itself
  (and releases the lock), which the re-check under the lock makes safe.
* **Two first runs at once.** The store lock (PostgreSQL: advisory; SQLite: ``BEGIN IMMEDIATE``;
  Vertica: the audit table's lock, taken again before each statement) serialises them; the second
  finds the work done.
* **A newer store is refused** (:class:`AuditInputError`) before anything is created or changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from migration_audit_provider import __version__
from migration_audit_provider.exceptions import AuditInputError
from migration_audit_provider.records import utcnow
from migration_audit_provider.sql import split_statements

if TYPE_CHECKING:
    from collections.abc import Mapping

    from migration_audit_provider.dialects.session import Session


class AuditStore(Protocol):
    """What the upgrade steps need of ``store.AuditStore`` (which calls them from ``ensure``)."""

    schema: str
    dialect: Any
    names: dict[str, str]
    table_names: dict[str, str]

    def sql(self, session: Session, name: str) -> str: ...


SEED_LAYOUT = 0
"""The seed scripts' ``migration.audit`` (seven columns), adopted by step 1."""
STORE_VERSION = 5
"""The store layout this provider writes; a store with a higher version is refused."""


@dataclass(frozen=True)
class Step:
    version: int
    statement: str
    description: str


STEPS: tuple[Step, ...] = (
    Step(1, "upgrade/0001_adopt_seed", "seed scripts' audit table adopted (provider 0.1.0 layout)"),
    Step(2, "upgrade/0002_fingerprints", "content fingerprints"),
    Step(3, "upgrade/0003_leases", "per-schema leases"),
    Step(4, "upgrade/0004_schema_drift", "schema drift columns"),
    Step(5, "upgrade/0005_run_filters", "row filters in the run log"),
)
_ADD_COLUMN = re.compile(r"^(?:--[^\n]*\n\s*)*ALTER TABLE \{(\w+)\} ADD COLUMN (\w+)\b", re.IGNORECASE)


def check_not_newer(store: AuditStore, session: Session) -> dict[str, Any] | None:
    """Refuse a store written by a newer provider, before anything is written (read-only); return its
    versions (``version``, ``first_version``), or ``None`` for a store without a version table."""
    if not store.dialect.schema_exists(session, store.schema):
        return None
    if not store.dialect.table_exists(session, store.schema, store.table_names["version"]):
        return None
    versions = read_version(store, session)
    found = versions["version"]
    if found is not None and int(found) > STORE_VERSION:
        raise AuditInputError(
            f"the audit store {store.schema!r} has version {found}, newer than this provider "
            f"({__version__}, store version {STORE_VERSION}) knows: upgrade the provider; nothing was written"
        )
    return versions


def is_current(versions: Mapping[str, Any] | None) -> bool:
    """The store has reached :data:`STORE_VERSION`: every table, column and index of it was made
    before that version row was written, so nothing needs creating or upgrading."""
    found = versions["version"] if versions is not None else None
    return found is not None and int(found) == STORE_VERSION


def passed_through_seed(versions: Mapping[str, Any]) -> bool:
    """The store began as the seed scripts' table (its rows are adopted per schema)."""
    return versions["first_version"] is not None and int(versions["first_version"]) == SEED_LAYOUT


def read_version(store: AuditStore, session: Session) -> dict[str, Any]:
    return session.fetch_dicts(store.sql(session, "upgrade/read_version"))[0]


def upgrade(store: AuditStore, session: Session) -> bool:
    """Bring the (existing) store to :data:`STORE_VERSION`; return whether it passed through the
    seed layout (its rows are adopted per schema by :func:`adopt_schema`)."""
    session.execute(store.sql(session, "upgrade/version_table"))
    while True:
        lock(store, session)
        versions = read_version(store, session)
        current = versions["version"]
        if current is None:
            current = _layout(store, session)
            mark(store, session, current, "layout found (before store versions)")
            versions = {"version": current, "first_version": current}
        if int(current) >= STORE_VERSION:
            return passed_through_seed(versions)
        step = next(s for s in STEPS if s.version > int(current))
        apply(store, session, step)
        # A step in its own transaction: commit it, then open the next one the database's own way.
        session.commit()
        store.dialect.begin(session.conn, [store.schema], write=True)


def lock(store: AuditStore, session: Session) -> None:
    """The store-wide writers' lock (the tables exist by now; see ``dialects``)."""
    store.dialect.lock_store(session, store.schema)
    store.dialect.lock_schema(session, store.schema, "")


def apply(store: AuditStore, session: Session, step: Step) -> None:
    template = session.statement(step.statement)  # unfilled: the {table} slots name the store's tables
    for stmt in split_statements(template):
        lock(store, session)  # again: on Vertica the previous DDL statement committed and released it
        code = "\n".join(line for line in stmt.splitlines() if not line.lstrip().startswith("--"))
        added = _ADD_COLUMN.match(code.strip())
        if added and added.group(2).lower() in _columns(store, session, added.group(1)):
            continue
        session.execute(stmt.format(**store.names))
    lock(store, session)
    if (read_version(store, session)["version"] or 0) < step.version:
        mark(store, session, step.version, step.description)


def mark(store: AuditStore, session: Session, version: int, description: str) -> None:
    session.execute(
        store.sql(session, "upgrade/mark_version"),
        {
            "version": version,
            "now": _now(),
            "provider_version": __version__,
            "description": description,
        },
    )


def _layout(store: AuditStore, session: Session) -> int:
    """The version of a store made before ``audit_store_version`` existed, from its audit columns."""
    columns = _columns(store, session, "audit")
    if "created_ts" not in columns:
        return SEED_LAYOUT
    if "fingerprinted_at" not in columns:
        return 1
    return 2  # the versions after 2 came with the version table (a fresh store starts here, too)


def _columns(store: AuditStore, session: Session, key: str) -> set[str]:
    names = store.dialect.list_columns(session, store.schema, store.table_names[key])
    return {name.lower() for name in names}


def adopt_schema(store: AuditStore, session: Session, schema: str, context: Mapping[str, Any]) -> None:
    """Adopt one schema's seed rows (those this provider never wrote), once, under the schema's lock:
    one ``adopt`` history event per row, then the row filled in (``adopt_rows.sql``)."""
    ti = context.get("ti") or context.get("task_instance")
    params = {
        "schema": schema,
        "now": _now(),
        "run_id": context.get("run_id"),
        "task_id": getattr(ti, "task_id", None),
        "detail": "adopted from the seed scripts' audit table",
    }
    session.execute(store.sql(session, "upgrade/adopt_history"), params)
    session.execute(store.sql(session, "upgrade/adopt_rows"), params)


def _now() -> Any:
    return utcnow()
