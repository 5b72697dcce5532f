"""Content fingerprints computed inside each database, and bisection to the keys that differ.

Equal row counts do not mean equal data. A table's fingerprint is its row count plus four sums of
32-bit slices of each row's MD5, where a row is rendered in a canonical text form — so it does not
depend on row order, and the same content gives the same fingerprint on Vertica, PostgreSQL and
SQLite. No row is pulled into the worker; only, at the end of a bisection, the keys and row hashes of
a few small key ranges.

Canonical form of a row: the columns both sides share, ordered by name, each rendered by its type
class (``include/sql/fingerprint/canon_<class>.sql``, overridden per dialect), then written as
``<length>:<text>`` (``N`` for NULL, so NULL differs from ``''``) and joined with ``|``:

=============  ==================================================================
class          canonical text
=============  ==================================================================
``int``        decimal digits
``numeric``    the value with trailing fractional zeros removed: ``1.50`` -> ``1.5``
``float``      as numeric (values beyond ~15 significant digits may render differently)
``bool``       ``true`` / ``false``
``timestamp``  ``YYYY-MM-DD HH:MM:SS.ffffff``; with time zone: converted to UTC first
``date``       ``YYYY-MM-DD``
``binary``     lower-case hex
``text``       the text itself, byte for byte
=============  ==================================================================

A column's class is taken from the **source's** declared type and applied on both sides.
A database that lacks a function the SQL needs gets it from its database object
(``prepare_fingerprint``: SQLite registers MD5 and the canonical forms on the connection).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migration_audit_provider.exceptions import AuditError

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

MAX_KEYS = 100
"""Differing keys reported at most per table."""
LEAF_ROWS = 2_000
"""Key ranges with at most this many rows are compared row by row."""
SPLIT = 16
"""Segments per bisection step."""


class FingerprintUnsupported(AuditError):
    """The table cannot be fingerprinted (e.g. no column both sides share): counts decide its status."""


def classify(declared_type: str | None) -> str:
    """Map a declared column type (any of the three databases) to a canonical class."""
    t = (declared_type or "").lower()
    if "interval" in t:
        return "text"
    if "bool" in t:
        return "bool"
    if "timestamptz" in t or "with time zone" in t:
        return "timestamptz"
    if "timestamp" in t or "datetime" in t:
        return "timestamp"
    if t == "date":
        return "date"
    if "int" in t:
        return "int"
    if any(word in t for word in ("numeric", "decimal", "number", "money")):
        return "numeric"
    if any(word in t for word in ("float", "double", "real")):
        return "float"
    if any(word in t for word in ("bytea", "binary", "blob")):
        return "binary"
    return "text"


@dataclass
class TableShape:
    """The columns both sides share (by name), their classes, and the primary key if usable."""

    columns: list[str]
    classes: dict[str, str]
    key: str | None = None


@dataclass
class Comparison:
    table: str
    source: str
    target: str
    differing_keys: list[Any] = field(default_factory=list)
    keys_truncated: bool = False
    key: str | None = None

    @property
    def equal(self) -> bool:
        return self.source == self.target


def column_types(session: Session, schema: str, table: str) -> dict[str, str]:
    rows = session.fetchall(session.statement("fingerprint/column_types"), {"schema": schema, "table": table})
    return {name: dtype for name, dtype in rows}


def primary_key(session: Session, schema: str, table: str) -> list[str]:
    rows = session.fetchall(session.statement("fingerprint/primary_key"), {"schema": schema, "table": table})
    return [row[0] for row in rows]


def table_shape(source: Session, target: Session, schema: str, table: str) -> TableShape:
    src_types = column_types(source, schema, table)
    tgt_names = set(column_types(target, schema, table))
    shared = sorted(name for name in src_types if name in tgt_names)
    key = primary_key(source, schema, table)
    usable_key = key[0] if len(key) == 1 and key[0] in tgt_names else None
    return TableShape(shared, {c: classify(src_types[c]) for c in shared}, usable_key)


def row_expression(session: Session, shape: TableShape) -> str:
    """The canonical text of a row, as SQL for ``session``'s database (or that database's own form)."""
    dialect = session.dialect
    own = dialect.fingerprint_row(session, shape)
    if own is not None:
        return own
    parts = []
    for column in shape.columns:
        value = session.statement(f"fingerprint/canon_{shape.classes[column]}").strip()
        value = value.format(col=dialect.quote(column))
        parts.append(f"COALESCE(CAST(LENGTH({value}) AS VARCHAR(20)) || ':' || {value}, 'N')")
    return " || '|' || ".join(parts) if parts else "''"


class KeyRange:
    """``lo <= key < hi`` (either end open when ``None``), as a WHERE clause with bind parameters."""

    def __init__(self, lo: Any = None, hi: Any = None) -> None:
        self.lo, self.hi = lo, hi

    def where(self, session: Session, key: str | None) -> tuple[str, dict[str, Any]]:
        clauses, params = [], {}
        if key is not None and self.lo is not None:
            clauses.append(f"{session.dialect.quote(key)} >= :range_lo")
            params["range_lo"] = self.lo
        if key is not None and self.hi is not None:
            clauses.append(f"{session.dialect.quote(key)} < :range_hi")
            params["range_hi"] = self.hi
        return (" AND ".join(clauses) or "1 = 1"), params


def render(session: Session, name: str, **slots: str) -> str:
    """Statement ``name`` for the session's database with ``{slots}`` filled (SQL fragments we build)."""
    return string.Formatter().vformat(session.statement(name), (), slots)


def fingerprint(
    session: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange | None = None
) -> str:
    """``count:sum1:sum2:sum3:sum4`` of the table (or of a key range of it)."""
    session.dialect.prepare_fingerprint(session)
    where, params = (key_range or KeyRange()).where(session, shape.key)
    sql = render(
        session,
        "fingerprint/table",
        row=row_expression(session, shape),
        table=session.dialect.qualified(schema, table),
        where=where,
    )
    return str(session.fetchall(sql, params)[0][0])


def compare_table(
    source: Session,
    target: Session,
    schema: str,
    table: str,
    *,
    locate: bool = True,
    max_keys: int = MAX_KEYS,
) -> Comparison:
    """Fingerprint ``table`` on both sides; if they differ and it has a one-column key, find the keys."""
    shape = table_shape(source, target, schema, table)
    result = Comparison(
        table,
        fingerprint(source, schema, table, shape),
        fingerprint(target, schema, table, shape),
        key=shape.key,
    )
    if not result.equal and locate and shape.key is not None:
        keys: list[Any] = []
        _bisect(source, target, schema, table, shape, KeyRange(), keys, max_keys)
        result.differing_keys = sorted(keys[:max_keys], key=repr)
        result.keys_truncated = len(keys) > max_keys
    return result


def _bisect(
    source: Session,
    target: Session,
    schema: str,
    table: str,
    shape: TableShape,
    key_range: KeyRange,
    found: list[Any],
    max_keys: int,
) -> None:
    if len(found) > max_keys:
        return
    where, params = key_range.where(source, shape.key)
    qualified = source.dialect.qualified(schema, table)
    count_sql = render(source, "fingerprint/count_range", table=qualified, where=where)
    if source.fetchall(count_sql, params)[0][0] <= LEAF_ROWS:
        found.extend(_differing_rows(source, target, schema, table, shape, key_range))
        return
    key = source.dialect.quote(shape.key)
    split_sql = render(source, "fingerprint/split_points", key=key, table=qualified, where=where)
    points = [row[0] for row in source.fetchall(split_sql, {**params, "parts": SPLIT})][1:]
    src, tgt = (_segment_fingerprints(s, schema, table, shape, key_range, points) for s in (source, target))
    edges = [key_range.lo, *points, key_range.hi]
    for i in range(len(points) + 1):
        if src.get(i) != tgt.get(i):
            _bisect(source, target, schema, table, shape, KeyRange(edges[i], edges[i + 1]), found, max_keys)


def _segment_fingerprints(
    session: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange, points: list[Any]
) -> dict[int, str]:
    """Fingerprint of each segment ``[points[i-1], points[i])`` of ``key_range``, in one scan."""
    session.dialect.prepare_fingerprint(session)
    where, params = key_range.where(session, shape.key)
    key = session.dialect.quote(shape.key)
    cases = " ".join(f"WHEN {key} < :split_{i} THEN {i}" for i in range(len(points)))
    segment = f"CASE {cases} ELSE {len(points)} END" if points else "0"
    sql = render(
        session,
        "fingerprint/segments",
        segment=segment,
        row=row_expression(session, shape),
        table=session.dialect.qualified(schema, table),
        where=where,
    )
    params.update({f"split_{i}": point for i, point in enumerate(points)})
    return {int(seg): str(value) for seg, value in session.fetchall(sql, params)}


def _differing_rows(
    source: Session, target: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange
) -> list[Any]:
    def hashes(session: Session) -> dict[Any, str]:
        session.dialect.prepare_fingerprint(session)
        where, params = key_range.where(session, shape.key)
        sql = render(
            session,
            "fingerprint/row_hashes",
            key=session.dialect.quote(shape.key),
            row=row_expression(session, shape),
            table=session.dialect.qualified(schema, table),
            where=where,
        )
        return {key: digest for key, digest in session.fetchall(sql, params)}

    src, tgt = hashes(source), hashes(target)
    return [key for key in src.keys() | tgt.keys() if src.get(key) != tgt.get(key)]


__all__: Sequence[str] = [
    "Comparison",
    "FingerprintUnsupported",
    "KeyRange",
    "TableShape",
    "classify",
    "compare_table",
    "fingerprint",
    "render",
    "row_expression",
    "table_shape",
]
