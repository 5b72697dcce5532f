"""SQLite, the embedded default: a "schema" is a database file attached to the connection.

The connection's database file names a folder; schema ``sales`` is the file ``sales.db`` in that
folder, attached as ``sales`` when a session needs it. Only schemas asked for are attached (SQLite
attaches at most ten databases per connection). Writers take the database lock up front
(``BEGIN IMMEDIATE``), which serialises them just as the other databases' locks do; one writer per
file at a time also means copies into SQLite run one after another.

SQLite lacks ``MD5`` and ``TO_CHAR``: :func:`register_functions` gives each fingerprinting session
the functions ``include/sql/sqlite/fingerprint/`` calls.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from migration_audit_provider.dialects.base import AuditDialect
from migration_audit_provider.exceptions import AuditInputError

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

BUSY_TIMEOUT_MS = 60_000


class SqliteAuditDialect(AuditDialect):
    name: ClassVar[str] = "sqlite"
    conn_types: ClassVar[tuple[str, ...]] = ("sqlite",)
    max_identifier_bytes: ClassVar[int | None] = 128
    store_types: ClassVar[dict[str, str]] = {"event_id": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"}
    threads_share_connections: ClassVar[bool] = False
    """``sqlite3`` refuses a connection used from a thread other than its creator's."""
    max_parallel_writers: ClassVar[int | None] = 1
    """One writer per database file: copies run one after another instead of queueing on the lock."""

    def begin(self, conn: sqlite3.Connection, schemas: Sequence[str], *, write: bool) -> None:
        conn.isolation_level = None  # we open the transaction ourselves
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        folder = self.folder(conn)
        attached = {row[1] for row in conn.execute("PRAGMA database_list")}
        for schema in dict.fromkeys(schemas):
            if schema in attached:
                continue
            path = self.schema_file(folder, schema)
            if not path.exists() and not write:
                continue  # schema_exists() answers False; nothing is created by a reader
            conn.execute("ATTACH DATABASE ? AS " + self.quote(schema), (str(path),))
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def schema_file(self, folder: Path, schema: str) -> Path:
        self.check_identifier(schema, "schema")
        if schema.lower() in {"main", "temp"} or "/" in schema or "\\" in schema or schema.startswith("."):
            raise AuditInputError(f"schema {schema!r} cannot name a SQLite database file")
        return folder / f"{schema}.db"

    @staticmethod
    def folder(conn: sqlite3.Connection) -> Path:
        main = next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")
        if not main:
            raise AuditInputError("the SQLite connection must point at a database file, not :memory:")
        return Path(main).parent

    def create_schema(self, session: Session, schema: str) -> None:
        attached = {row[1] for row in session.fetchall("PRAGMA database_list")}
        if schema not in attached:
            raise AuditInputError(f"SQLite schema {schema!r} must be opened with write=True first")

    def schema_exists(self, session: Session, schema: str) -> bool:
        return any(row[1] == schema for row in session.fetchall("PRAGMA database_list"))

    def lock_schema(self, session: Session, store_schema: str, schema: str) -> None:
        """``BEGIN IMMEDIATE`` in :meth:`begin` already holds the write lock."""

    def adapt(self, params: Any) -> Any:
        """Timestamps as ISO text (Python 3.12 deprecates sqlite3's implicit datetime adapter)."""
        return {k: (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for k, v in params.items()}

    def prepare_fingerprint(self, session: Session) -> None:
        register_functions(session.conn)


# -- the functions SQLite's fingerprint SQL calls ----------------------------------------------------
class _Fingerprint:
    """SQLite aggregate: the same ``count:sum1:sum2:sum3:sum4`` as the other dialects compute in SQL."""

    def __init__(self) -> None:
        self.count = 0
        self.sums = [0, 0, 0, 0]

    def step(self, row: str | None) -> None:
        digest = hashlib.md5((row or "").encode("utf-8")).hexdigest()  # noqa: S324 - not for security
        self.count += 1
        for i in range(4):
            self.sums[i] += int(digest[8 * i : 8 * i + 8], 16)

    def finalize(self) -> str:
        return ":".join(str(v) for v in (self.count, *self.sums))


def _md5(text: str | None) -> str | None:
    return None if text is None else hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324


def _canon_number(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return str(value)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parse_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _canon_timestamp(value: Any) -> str | None:
    moment = _parse_datetime(value)
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _canon_timestamptz(value: Any) -> str | None:
    moment = _parse_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _canon_date(value: Any) -> str | None:
    if value is None:
        return None
    return date.fromisoformat(str(value)[:10]).isoformat()


def register_functions(conn: Any) -> None:
    """Give a SQLite connection the functions the fingerprint SQL needs (idempotent)."""
    conn.create_aggregate("ma_fingerprint", 1, _Fingerprint)
    for name, func in (
        ("ma_md5", _md5),
        ("ma_canon_number", _canon_number),
        ("ma_canon_timestamp", _canon_timestamp),
        ("ma_canon_timestamptz", _canon_timestamptz),
        ("ma_canon_date", _canon_date),
    ):
        conn.create_function(name, 1, func, deterministic=True)
