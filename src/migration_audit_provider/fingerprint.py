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
``float``      rounded to ``float_digits`` significant digits (default 15), then as numeric
``bool``       ``true`` / ``false``
``timestamp``  ``YYYY-MM-DD HH:MM:SS.ffffff`` cut to ``timestamp_digits`` fractional digits
               (default 6); with time zone: converted to UTC first
``date``       ``YYYY-MM-DD``
``binary``     lower-case hex
``char``       CHAR(n): the text without trailing spaces (``char_padding="keep"``: as text)
``text``       the text itself, byte for byte
=============  ==================================================================

A column's class is taken from the **source's** declared type and applied on both sides. The
tolerances are :class:`Normalisation` (settings ``float_digits``, ``timestamp_digits``,
``char_padding``), bound as parameters; ``docs/fingerprints.md`` says what each does per database.

**Same engine, native hash.** When both sides are the same kind of database and it offers one
(``AuditDialect.native_fingerprints``), the fingerprint is ``native:<count>:<sum>`` of that database's
own per-row hash over the shared columns in name order (``include/sql/<database>/fingerprint/native_*``):
no text rendering, several times cheaper; exact (the tolerances do not apply). The bisection then uses
the same per-row hash for its segments and leaves.

**Keys.** Bisection works on any primary key, one column or several: a key range is a pair of key
tuples, and ``key >= lo`` is written ``k1 > :v1 OR (k1 = :v1 AND k2 >= :v2) ...`` (row-value comparisons
do not run everywhere). Differing keys are tuples in key order. Both sides are hashed at the same
time where the source's connection may change threads (``threads_share_connections``).
A database that lacks a function the SQL needs gets it from its database object
(``prepare_fingerprint``: SQLite registers MD5 and the canonical forms on the connection).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from migration_audit_provider.exceptions import AuditError, AuditInputError

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

T = TypeVar("T")

MAX_KEYS = 100
"""Differing keys reported at most per table."""
LEAF_ROWS = 2_000
"""Key ranges with at most this many rows are compared row by row."""
SPLIT = 16
"""Segments per bisection step."""
NO_KEY = "no key: keys not listed"
"""The detail of a differing table without a usable primary key."""
CHAR_PADDING = ("ignore", "keep")


class FingerprintUnsupported(AuditError):
    """The table cannot be fingerprinted (e.g. no column both sides share): counts decide its status."""


@dataclass(frozen=True)
class Normalisation:
    """Tolerances of the canonical (cross-engine) form.

    :param float_digits: floating-point values are compared to this many significant digits (1-15;
        15 is what PostgreSQL keeps when it turns a double into a decimal).
    :param timestamp_digits: fractional digits of seconds kept (0-6; cut, not rounded); values with a
        time zone are converted to UTC first.
    :param char_padding: ``"ignore"`` trailing spaces of ``CHAR(n)`` columns (VARCHAR/TEXT always keep
        theirs) or ``"keep"`` them.
    """

    float_digits: int = 15
    timestamp_digits: int = 6
    char_padding: str = "ignore"

    def __post_init__(self) -> None:
        for name, low, high in (("float_digits", 1, 15), ("timestamp_digits", 0, 6)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise AuditInputError(f"{name} must be an integer from {low} to {high}, got {value!r}")
        if self.char_padding not in CHAR_PADDING:
            raise AuditInputError(f"char_padding must be one of {CHAR_PADDING}, got {self.char_padding!r}")

    @property
    def timestamp_length(self) -> int:
        """Characters kept of ``YYYY-MM-DD HH:MM:SS.ffffff``."""
        return 19 + (1 + self.timestamp_digits if self.timestamp_digits else 0)

    def params(self) -> dict[str, int]:
        return {"fp_float_digits": self.float_digits, "fp_ts_len": self.timestamp_length}


def classify(declared_type: str | None) -> str:
    """Map a declared column type (any of the three databases) to a canonical class."""
    t = (declared_type or "").lower().strip()
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
    if t.split("(")[0].strip() in ("char", "character", "nchar", "bpchar"):
        return "char"
    return "text"


@dataclass
class TableShape:
    """The columns both sides share (by name), their classes, and the primary key if usable.

    ``key`` is the list of key columns (in key order), empty when the table has no usable key; a
    single name is accepted for one column.
    """

    columns: list[str]
    classes: dict[str, str]
    key: Any = field(default_factory=list)
    native: bool = False
    """Fingerprint with the database's own row hash (both sides are the same engine)."""
    normalisation: Normalisation = field(default_factory=Normalisation)
    row_filter: Any = None
    """A ``filters.RowFilter``: only the rows it keeps are fingerprinted, on both sides."""

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = []
        elif isinstance(self.key, str):
            self.key = [self.key]
        else:
            self.key = list(self.key)


@dataclass
class Comparison:
    table: str
    source: str
    target: str
    differing_keys: list[tuple[Any, ...]] = field(default_factory=list)
    keys_truncated: bool = False
    key: list[str] | None = None
    detail: str | None = None
    """Why keys are not listed (``NO_KEY``), when they are not."""

    @property
    def equal(self) -> bool:
        return self.source == self.target


def column_types(session: Session, schema: str, table: str) -> dict[str, str]:
    rows = session.fetchall(session.statement("fingerprint/column_types"), {"schema": schema, "table": table})
    return {name: dtype for name, dtype in rows}


def primary_key(session: Session, schema: str, table: str) -> list[str]:
    rows = session.fetchall(session.statement("fingerprint/primary_key"), {"schema": schema, "table": table})
    return [row[0] for row in rows]


def same_engine(source: Session, target: Session) -> bool:
    """Both sides are the same kind of database, and it has a native row hash."""
    return type(source.dialect) is type(target.dialect) and bool(source.dialect.native_fingerprints)


def table_shape(
    source: Session,
    target: Session,
    schema: str,
    table: str,
    normalisation: Normalisation | None = None,
    known: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
) -> TableShape:
    """The columns both sides have, their classes and the usable key.

    :param known: each side's ``{column: type as its catalog spells it}`` when the caller has just read
        them (the refresh's one catalog read per side); otherwise they are read here.
    """
    norm = normalisation or Normalisation()
    if known is None:
        known = (column_types(source, schema, table), column_types(target, schema, table))
    src_types, tgt_names = known[0], set(known[1])
    shared = sorted(name for name in src_types if name in tgt_names)
    key = primary_key(source, schema, table)
    usable_key = key if key and all(k in tgt_names for k in key) else []
    classes = {c: classify(src_types[c]) for c in shared}
    if norm.char_padding == "keep":
        classes = {c: "text" if k == "char" else k for c, k in classes.items()}
    shape = TableShape(shared, classes, usable_key, normalisation=norm)
    shape.native = same_engine(source, target) and all(
        s.dialect.native_values(s, shape) is not None for s in (source, target)
    )
    return shape


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


def key_compare(
    session: Session, key: Sequence[str], values: Sequence[Any], op: str, prefix: str
) -> tuple[str, dict[str, Any]]:
    """``key < values`` (``op="<"``) or ``key >= values`` (``op=">="``) over several columns, expanded to
    ``k1 < :v1 OR (k1 = :v1 AND k2 < :v2) ...`` with bind parameters named ``<prefix>_<i>``."""
    if len(values) != len(key):
        raise ValueError(f"a key of {len(key)} column(s) compared with {len(values)} value(s)")
    strict = "<" if op == "<" else ">"
    quoted = [session.dialect.quote(k) for k in key]
    params = {f"{prefix}_{i}": v for i, v in enumerate(values)}
    terms = []
    for i in range(len(key)):
        last = op if i == len(key) - 1 else strict
        equal = [f"{quoted[j]} = :{prefix}_{j}" for j in range(i)]
        terms.append(" AND ".join([*equal, f"{quoted[i]} {last} :{prefix}_{i}"]))
    return "(" + " OR ".join(f"({t})" for t in terms) + ")", params


class KeyRange:
    """``lo <= key < hi`` (either end open when ``None``), as a WHERE clause with bind parameters.

    ``lo`` and ``hi`` are key tuples (a single value stands for a one-column key).
    """

    def __init__(self, lo: Any = None, hi: Any = None) -> None:
        self.lo, self.hi = _as_tuple(lo), _as_tuple(hi)

    def where(self, session: Session, key: Any, row_filter: Any = None) -> tuple[str, dict[str, Any]]:
        key = [key] if isinstance(key, str) else list(key or [])
        clauses, params = [], {}
        if row_filter is not None:  # a validated filters.RowFilter, rendered for this database
            clauses.append(row_filter.sql(session.dialect.sqlglot_dialect))
        for bound, op, prefix in ((self.lo, ">=", "range_lo"), (self.hi, "<", "range_hi")):
            if key and bound is not None:
                clause, more = key_compare(session, key, bound, op, prefix)
                clauses.append(clause)
                params.update(more)
        return (" AND ".join(clauses) or "1 = 1"), params


def _as_tuple(value: Any) -> tuple[Any, ...] | None:
    if value is None or isinstance(value, tuple):
        return value
    return tuple(value) if isinstance(value, list) else (value,)


def render(session: Session, name: str, **slots: str) -> str:
    """Statement ``name`` for the session's database with ``{slots}`` filled (SQL fragments we build)."""
    return string.Formatter().vformat(session.statement(name), (), slots)


def _statement(session: Session, shape: TableShape, name: str, **slots: str) -> str:
    """Statement ``native_<name>`` with ``{values}``, or ``<name>`` with the canonical ``{row}``."""
    session.dialect.prepare_fingerprint(session)
    if shape.native:
        values = session.dialect.native_values(session, shape)
        return render(session, f"fingerprint/native_{name}", values=values, **slots)
    return render(session, f"fingerprint/{name}", row=row_expression(session, shape), **slots)


def _run(session: Session, shape: TableShape, sql: str, params: dict[str, Any]) -> list[tuple]:
    norm = {k: v for k, v in shape.normalisation.params().items() if f":{k}" in sql}
    return session.fetchall(sql, {**params, **norm})


def fingerprint(
    session: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange | None = None
) -> str:
    """``count:sum1:sum2:sum3:sum4`` of the table (or of a key range of it); ``native:count:sum`` when
    ``shape.native``."""
    where, params = (key_range or KeyRange()).where(session, shape.key, shape.row_filter)
    sql = _statement(session, shape, "table", table=session.dialect.qualified(schema, table), where=where)
    return str(_run(session, shape, sql, params)[0][0])


def both(source: Session, target: Session, func: Callable[..., T], *args: Any) -> tuple[T, T]:
    """``func(source, *args)`` and ``func(target, *args)``, at the same time when the source's connection
    may be used from another thread (the target always runs here)."""
    if not source.dialect.threads_share_connections:
        return func(source, *args), func(target, *args)
    with ThreadPoolExecutor(1, thread_name_prefix="fingerprint-source") as pool:
        pending = pool.submit(func, source, *args)
        tgt = func(target, *args)
        return pending.result(), tgt


def compare_table(
    source: Session,
    target: Session,
    schema: str,
    table: str,
    *,
    locate: bool = True,
    max_keys: int = MAX_KEYS,
    normalisation: Normalisation | None = None,
    row_filter: Any = None,
    known: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
) -> Comparison:
    """Fingerprint ``table`` on both sides; if they differ and it has a primary key, find the keys.

    :param row_filter: a ``filters.RowFilter``: only the rows it keeps, on both sides.
    :param known: both sides' column types, already read (see :func:`table_shape`).
    """
    shape = table_shape(source, target, schema, table, normalisation, known)
    shape.row_filter = row_filter
    src_fp, tgt_fp = both(source, target, fingerprint, schema, table, shape)
    result = Comparison(table, src_fp, tgt_fp, key=list(shape.key) or None)
    if result.equal:
        return result
    if not shape.key:
        result.detail = NO_KEY
    elif locate:
        keys: list[tuple[Any, ...]] = []
        rows = int(src_fp.removeprefix("native:").split(":")[0])
        _bisect(source, target, schema, table, shape, KeyRange(), keys, max_keys, rows)
        result.differing_keys = sorted(keys, key=repr)[:max_keys]
        result.keys_truncated = len(keys) > max_keys
    return result


def _bisect(
    source: Session,
    target: Session,
    schema: str,
    table: str,
    shape: TableShape,
    key_range: KeyRange,
    found: list[tuple[Any, ...]],
    max_keys: int,
    rows: int | None = None,
) -> None:
    """Split ``key_range`` at source keys, fingerprint the segments on both sides in one scan each, and
    go on into those that differ; ``rows``: the range's source rows, when the caller knows them."""
    if len(found) > max_keys:
        return
    where, params = key_range.where(source, shape.key, shape.row_filter)
    qualified = source.dialect.qualified(schema, table)
    if rows is None:
        rows = source.fetchall(
            render(source, "fingerprint/count_range", table=qualified, where=where), params
        )[0][0]
    if rows <= LEAF_ROWS:
        found.extend(_differing_rows(source, target, schema, table, shape, key_range))
        return
    keys = ", ".join(source.dialect.quote(k) for k in shape.key)
    split_sql = render(source, "fingerprint/split_points", keys=keys, table=qualified, where=where)
    points = [tuple(row) for row in source.fetchall(split_sql, {**params, "parts": SPLIT})][1:]
    src, tgt = both(source, target, _segment_fingerprints, schema, table, shape, key_range, points)
    edges = [key_range.lo, *points, key_range.hi]
    for i in range(len(points) + 1):
        if src.get(i) != tgt.get(i):
            _bisect(source, target, schema, table, shape, KeyRange(edges[i], edges[i + 1]), found, max_keys)


def _segment_fingerprints(
    session: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange, points: list[Any]
) -> dict[int, str]:
    """Fingerprint of each segment ``[points[i-1], points[i])`` of ``key_range``, in one scan."""
    where, params = key_range.where(session, shape.key, shape.row_filter)
    cases = []
    for i, point in enumerate(points):
        clause, more = key_compare(session, shape.key, point, "<", f"split_{i}")
        cases.append(f"WHEN {clause} THEN {i}")
        params.update(more)
    segment = f"CASE {' '.join(cases)} ELSE {len(points)} END" if points else "0"
    sql = _statement(
        session,
        shape,
        "segments",
        segment=segment,
        table=session.dialect.qualified(schema, table),
        where=where,
    )
    return {int(seg): str(value) for seg, value in _run(session, shape, sql, params)}


def _differing_rows(
    source: Session, target: Session, schema: str, table: str, shape: TableShape, key_range: KeyRange
) -> list[tuple[Any, ...]]:
    def hashes(session: Session) -> dict[tuple[Any, ...], str]:
        where, params = key_range.where(session, shape.key, shape.row_filter)
        keys = ", ".join(session.dialect.quote(k) for k in shape.key)
        sql = _statement(
            session,
            shape,
            "row_hashes",
            key=keys,
            table=session.dialect.qualified(schema, table),
            where=where,
        )
        return {tuple(row[:-1]): str(row[-1]) for row in _run(session, shape, sql, params)}

    src, tgt = both(source, target, hashes)
    return [key for key in src.keys() | tgt.keys() if src.get(key) != tgt.get(key)]


__all__: Sequence[str] = [
    "NO_KEY",
    "Comparison",
    "FingerprintUnsupported",
    "KeyRange",
    "Normalisation",
    "TableShape",
    "both",
    "classify",
    "compare_table",
    "fingerprint",
    "key_compare",
    "render",
    "row_expression",
    "same_engine",
    "table_shape",
]
