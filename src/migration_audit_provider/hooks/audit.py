"""One side of the migration (source or target cluster), reached through an Airflow connection.

The SQL hook comes from common-sql by connection id (any connection type whose hook is a
``DbApiHook`` and that has a database object here works); the database object
(:mod:`migration_audit_provider.dialects`) is chosen by the connection's type. The hook owns the
connection's lifecycle: :meth:`MigrationAuditHook.session` opens it, lets the database object open
the transaction, commits or rolls back, and closes it. Nothing connects until a session is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from migration_audit_provider.constants import DEFAULT_TARGET_CONN_ID
from migration_audit_provider.dialects import dialect_for
from migration_audit_provider.dialects.session import Session
from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from migration_audit_provider.dialects.base import AuditDialect


class MigrationAuditHook(BaseHook):
    """A migration endpoint: a common-sql hook plus the database object that speaks to it.

    :param conn_id: Airflow connection of the cluster (``migration_source`` / ``migration_target``).
    :param hook_params: extra keyword arguments for the connection's own hook.
    :param database: database to use instead of the connection's (as common-sql's ``database``:
        PostgreSQL's database name, Vertica's database, which the Vertica hook reads from Schema).
    """

    conn_name_attr = "conn_id"
    default_conn_name = DEFAULT_TARGET_CONN_ID
    conn_type = "migration_audit"
    hook_name = "Migration audit endpoint"

    def __init__(
        self,
        conn_id: str = default_conn_name,
        hook_params: dict[str, Any] | None = None,
        database: str | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.hook_params = dict(hook_params or {})
        self.database = database
        self._kept: Any = None
        """The connection :meth:`one_connection` keeps open for the sessions inside it."""

    @cached_property
    def connection(self) -> Any:
        return self.get_connection(self.conn_id)

    @cached_property
    def dialect(self) -> AuditDialect:
        """The connection's database object, holding its common-sql hook (``dialect.hook``)."""
        from airflow.providers.common.sql.hooks.sql import DbApiHook

        hook = self.connection.get_hook(hook_params=self.hook_params)
        if not isinstance(hook, DbApiHook):
            raise AuditInputError(
                f"connection {self.conn_id!r} gives a {type(hook).__name__}, not a common-sql DbApiHook"
            )
        dialect = dialect_for(hook, self.connection.conn_type)
        if self.database:
            dialect.use_database(self.database)
        return dialect

    @property
    def sql_hook(self) -> DbApiHook:
        """The connection's common-sql hook (``database`` applied)."""
        return self.dialect.hook

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Sessions opened inside share one connection, each still its own transaction (committed or
        rolled back as it ends, its locks released with it): a task that refreshes many schemas
        connects once per cluster instead of once per schema (about 8 ms each on a local server).

        Where the database does not share (``dialect.sessions_share_connection`` false: SQLite attaches
        each session's schema files), every session opens its own connection, as outside.
        """
        if self._kept is not None or not self.dialect.sessions_share_connection:
            yield
            return
        self._kept = self.sql_hook.get_conn()
        try:
            yield
        finally:
            conn, self._kept = self._kept, None
            _quiet(conn.close)

    @contextmanager
    def session(self, schemas: Sequence[str] = (), *, write: bool = False) -> Iterator[Session]:
        """A :class:`Session` with ``schemas`` reachable: committed on success, rolled back on error,
        always closed (its connection too, unless :meth:`one_connection` keeps it)."""
        kept = self._kept
        conn = kept if kept is not None else self.sql_hook.get_conn()
        session: Session | None = None
        try:
            self.dialect.begin(conn, list(schemas), write=write)
            session = Session(self.dialect, conn)
            try:
                yield session
                conn.commit()
            except BaseException:
                _quiet(conn.rollback)
                raise
        finally:
            if session is not None:
                _quiet(session.cursor.close)  # an open statement would keep SQLite's lock alive
            if kept is None:
                _quiet(conn.close)

    def require_schema(self, session: Session, schema: str) -> None:
        """Refuse a schema this cluster's catalog does not have (a bound-parameter lookup)."""
        self.dialect.check_identifier(schema, "schema")
        if not self.dialect.schema_exists(session, schema):
            raise AuditInputError(f"schema {schema!r} does not exist on connection {self.conn_id!r}")

    def count_tables(
        self,
        session: Session,
        schema: str,
        tables: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> dict[str, int]:
        """Exact row counts of ``tables`` (default: every table of ``schema`` in the catalog).

        ``where``: per table, a validated row filter rendered for this database (see ``filters.py``).

        Tables the catalog does not list are left out of the result: the caller sees them as absent.
        A table dropped between the catalog read and the count makes the catalog be read once more.
        """
        for attempt in (1, 2):
            listed = self.dialect.list_tables(session, schema)
            if tables is not None:
                present = set(listed)
                listed = [t for t in tables if t in present]
            try:
                with self.dialect.released_reads(session):
                    return self.dialect.count_rows(session, schema, listed, where=where)
            except Exception:
                if attempt == 2:
                    raise
                self.log.warning("Counting %s failed; reading the catalog again and retrying once", schema)
        raise AssertionError("unreachable")


def _quiet(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # noqa: S110 - the connection may already be gone; the original error matters
        pass
