"""The schema lease in a DAG: take it (a sensor that waits in reschedule mode), renew it before each
task, release it in a teardown. What a lease is: ``migration_audit_provider/lease.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from migration_audit_provider.constants import (
    DEFAULT_LEASE_POKE_SECONDS,
    DEFAULT_LEASE_TTL_SECONDS,
    DEFAULT_LEASE_WAIT_SECONDS,
    DEFAULT_STORE_SCHEMA,
    DEFAULT_TARGET_CONN_ID,
)
from migration_audit_provider.hooks.audit import MigrationAuditHook
from migration_audit_provider.lease import Leases, holder_of
from migration_audit_provider.store import AuditStore

if TYPE_CHECKING:
    from airflow.sdk import Context


class _LeaseArgs:
    """Where the lease lives: the target connection's audit store."""

    def __init__(
        self,
        schema: str,
        conn_id: str = DEFAULT_TARGET_CONN_ID,
        store_schema: str = DEFAULT_STORE_SCHEMA,
        hook_params: dict[str, Any] | None = None,
        database: str | None = None,
        ttl_seconds: int = DEFAULT_LEASE_TTL_SECONDS,
    ) -> None:
        self.schema = schema
        self.conn_id = conn_id
        self.store_schema = store_schema
        self.hook_params = hook_params
        self.database = database
        self.ttl_seconds = ttl_seconds

    def store(self) -> AuditStore:
        hook = MigrationAuditHook(self.conn_id, self.hook_params, self.database)
        return AuditStore(hook, self.store_schema)

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=int(self.ttl_seconds))


class LeaseRenewal(_LeaseArgs):
    """A task's ``pre_execute``: renew the run's lease of ``schema``, or fail the task if the run no
    longer holds it (it expired and another run took it over): the work is not done twice."""

    def __call__(self, context: Context) -> None:
        store, holder = self.store(), holder_of(context)
        with store.session(write=True) as session:
            leases = Leases(store)
            if leases.renew(session, self.schema, holder, self.ttl):
                return
            current = leases.read(session, self.schema)
        taken = f"{current.holder} holds it until {current.expires_at}" if current else "nobody holds it"
        raise AirflowFailException(
            f"run {holder} no longer holds the lease of schema {self.schema!r} ({taken}): "
            "it expired and was taken over, or was released; not working on"
        )


class TakeLeaseSensor(BaseSensorOperator):
    """Take the lease of ``schema`` for this DAG run, waiting while another run holds it.

    Waits in ``reschedule`` mode by default: between pokes no worker slot is held. Each poke that
    finds the lease taken logs who holds it and until when; a lease past its ``expires_at`` is taken
    over. After ``timeout`` the task fails (``AirflowSensorTimeout``), the holder named in its log.

    :param ttl_seconds: lifetime of the lease from each take or renewal.
    """

    template_fields: Sequence[str] = ("schema", "conn_id", "store_schema", "hook_params", "database")
    ui_color = "#fff3e0"

    def __init__(
        self,
        *,
        schema: str,
        conn_id: str = DEFAULT_TARGET_CONN_ID,
        store_schema: str = DEFAULT_STORE_SCHEMA,
        hook_params: dict[str, Any] | None = None,
        database: str | None = None,
        ttl_seconds: int = DEFAULT_LEASE_TTL_SECONDS,
        mode: str = "reschedule",
        poke_interval: float = DEFAULT_LEASE_POKE_SECONDS,
        timeout: float = DEFAULT_LEASE_WAIT_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(mode=mode, poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.schema = schema
        self.conn_id = conn_id
        self.store_schema = store_schema
        self.hook_params = hook_params
        self.database = database
        self.ttl_seconds = ttl_seconds

    def args(self) -> _LeaseArgs:
        return _LeaseArgs(
            self.schema, self.conn_id, self.store_schema, self.hook_params, self.database, self.ttl_seconds
        )

    def poke(self, context: Context) -> bool:
        args, holder = self.args(), holder_of(context)
        store = args.store()
        with store.session(write=True) as session:
            store.ensure(session)  # the lease table comes with the store's current version
            lease = Leases(store).take(session, self.schema, holder, args.ttl)
        if lease.holder == holder:
            self.log.info("Lease of %s taken by %s until %s", self.schema, holder, lease.expires_at)
            return True
        self.log.info(
            "Schema %s is leased by %s (since %s, until %s); waiting",
            self.schema,
            lease.holder,
            lease.acquired_at,
            lease.expires_at,
        )
        return False


class ReleaseLeaseOperator(BaseOperator):
    """Release this run's lease of ``schema`` (a teardown: runs when the run failed, too)."""

    template_fields: Sequence[str] = ("schema", "conn_id", "store_schema", "hook_params", "database")
    ui_color = "#fff3e0"

    def __init__(
        self,
        *,
        schema: str,
        conn_id: str = DEFAULT_TARGET_CONN_ID,
        store_schema: str = DEFAULT_STORE_SCHEMA,
        hook_params: dict[str, Any] | None = None,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.conn_id = conn_id
        self.store_schema = store_schema
        self.hook_params = hook_params
        self.database = database

    def execute(self, context: Context) -> dict[str, Any]:
        holder = holder_of(context)
        args = _LeaseArgs(self.schema, self.conn_id, self.store_schema, self.hook_params, self.database)
        store = args.store()
        with store.session(write=True) as session:
            released = Leases(store).release(session, self.schema, holder)
        if released:
            self.log.info("Lease of %s released by %s", self.schema, holder)
        else:
            self.log.warning("Run %s held no lease of %s (taken over after expiry?)", holder, self.schema)
        return {"schema": self.schema, "holder": holder, "released": released}
