"""SQLite's fingerprint functions, one Python call per row.

SQLite has neither ``MD5`` nor ``TO_CHAR``, so its fingerprint needs Python functions registered on
the connection. The first version registered one function per canonical form and let the portable
row expression call it twice per value (``COALESCE(LENGTH(v) || ':' || v, 'N')``) plus an aggregate
per row: for the demo's five columns that is five Python calls and two canonicalisations of every
non-text value per row. Here the whole row is handed to **one** call:

* :class:`RowFingerprint` (``ma_fingerprint_row``) is the aggregate, called once per row with a
  *spec* and the row's values; it renders the canonical row, hashes it and adds it to the sums.
* ``ma_row_md5`` is the same rendering as a scalar, for ``row_hashes_fast.sql`` (bisection leaves).
* ``ma_row_text`` renders a group of columns; :func:`row_arguments` nests it only for tables wider
  than one call can take (SQLite allows :data:`MAX_FUNCTION_ARGS` arguments per call).

The spec is one letter per value (:data:`SPEC_LETTERS`). Values whose canonical text SQLite itself
computes (int, bool, binary, text: the dialect's ``fingerprint/canon_<class>.sql``) arrive already
rendered (``t``); numbers, timestamps and dates arrive raw and are rendered here, each once.

The result is exactly the fingerprint the per-value functions give: the same canonical text, the
same ``<length>:<text>`` fields (the length in characters up to the first NUL, as SQLite's
``LENGTH`` counts), ``N`` for NULL, ``|`` between fields, the same MD5 slices and sums.
``tests/integration/test_sqlite_fast_paths.py`` checks that on every column class.

SQL: ``include/sql/sqlite/fingerprint/{table,segments,row_hashes}_fast.sql``, whose ``{row}`` slot
takes :func:`row_arguments` instead of the portable row expression.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_audit_provider.dialects.session import Session

MAX_FUNCTION_ARGS = 127
"""Arguments SQLite accepts per function call (``SQLITE_MAX_FUNCTION_ARG``, 127 before 3.48)."""
GROUP_SIZE = 100
"""Columns rendered per ``ma_row_text`` call when a table is too wide for one call."""
EMPTY = "0:0:0:0:0"
"""The fingerprint of no rows."""

_QUAD = struct.Struct(">4I")


# -- canonical forms of the values SQLite cannot render itself ---------------------------------------
def canon_number(value: Any) -> str | None:
    """The value with trailing fractional zeros removed (``1.50`` -> ``1.5``); text that is no number
    as it is."""
    if value is None:
        return None
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        text = repr(value)
        if "e" not in text and "n" not in text:  # no exponent, not inf/nan: repr's digits are exact
            return text.rstrip("0").rstrip(".")
    try:
        number = Decimal(repr(value) if kind is float else str(value))
    except InvalidOperation:
        return str(value)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def canon_float(value: Any, digits: int = 15) -> str | None:
    """The value rounded to ``digits`` significant digits, the way ``fingerprint/canon_float.sql`` does it
    on PostgreSQL: to 15 digits (its double -> numeric cast), then half away from zero at the exponent of
    ``floor(log10(|x|))``; then as :func:`canon_number`."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return canon_number(value)
    exponent = math.floor(math.log10(abs(x)))
    number = Decimal(format(x, ".15g")).quantize(Decimal(1).scaleb(exponent - digits + 1), ROUND_HALF_UP)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _wall_clock(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` of the moment as written (its offset, if any, dropped)."""
    if moment.year < 1000:  # strftime's %Y does not pad years < 1000 everywhere; keep its output
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def canon_timestamp(value: Any) -> str | None:
    moment = _moment(value)
    return None if moment is None else _wall_clock(moment)


def canon_timestamptz(value: Any) -> str | None:
    moment = _moment(value)
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return _wall_clock(moment)


def canon_date(value: Any) -> str | None:
    if value is None:
        return None
    return date.fromisoformat(str(value)[:10]).isoformat()


# -- one field, one row ------------------------------------------------------------------------------
def field(text: str | None) -> str:
    """``<length>:<text>``, or ``N`` for NULL; the length as SQLite's ``LENGTH`` counts it (characters
    before the first NUL)."""
    if text is None:
        return "N"
    nul = text.find("\x00")
    return f"{len(text) if nul < 0 else nul}:{text}"


def _rendered(value: Any) -> str:
    return value


RENDERERS: dict[str, Callable[[Any], str]] = {
    "t": field,  # canonical text computed by SQLite (int, bool, binary, text)
    "n": lambda v: field(canon_number(v)),
    "s": lambda v: field(canon_timestamp(v)),
    "z": lambda v: field(canon_timestamptz(v)),
    "d": lambda v: field(canon_date(v)),
    "r": _rendered,  # a group of fields already rendered by ma_row_text
}
SPEC_LETTERS: dict[str, str] = {
    "numeric": "n",
    "float": "f",
    "timestamp": "s",
    "timestamptz": "z",
    "date": "d",
}
"""Canonical class -> spec letter for the classes rendered in Python; every other class is ``t``."""


@functools.lru_cache(maxsize=256)
def _renderers(spec: str) -> tuple[Callable[[Any], str], ...]:
    """The renderers of a spec: ``[<float digits>,<timestamp length>;]<letters>`` (the tolerances of
    ``fingerprint.Normalisation``; without a header, 15 digits and microseconds)."""
    digits, ts_len = 15, 26
    if ";" in spec:
        header, spec = spec.split(";", 1)
        digits, ts_len = (int(part) for part in header.split(","))
    tolerant: dict[str, Callable[[Any], str]] = {
        "f": lambda v: field(canon_float(v, digits)),
        "s": lambda v: field(_cut(canon_timestamp(v), ts_len)),
        "z": lambda v: field(_cut(canon_timestamptz(v), ts_len)),
    }
    return tuple(tolerant.get(letter) or RENDERERS[letter] for letter in spec)


def _cut(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]


def row_text(spec: str, *values: Any) -> str:
    """The canonical text of one row (or of a group of its columns)."""
    return "|".join([render(v) for render, v in zip(_renderers(spec), values, strict=True)])


def row_md5(spec: str, *values: Any) -> str:
    return hashlib.md5(row_text(spec, *values).encode("utf-8")).hexdigest()  # noqa: S324 - not security


class RowFingerprint:
    """Aggregate ``ma_fingerprint_row(spec, v1, ...)``: ``count:sum1:sum2:sum3:sum4`` of the rows' MD5s
    (sums of the four big-endian 32-bit slices of each digest)."""

    def __init__(self) -> None:
        self.count = 0
        self.s1 = self.s2 = self.s3 = self.s4 = 0

    def step(self, spec: str, *values: Any) -> None:
        text = "|".join([render(v) for render, v in zip(_renderers(spec), values, strict=True)])
        a, b, c, d = _QUAD.unpack(hashlib.md5(text.encode("utf-8")).digest())  # noqa: S324
        self.count += 1
        self.s1 += a
        self.s2 += b
        self.s3 += c
        self.s4 += d

    def finalize(self) -> str:
        return f"{self.count}:{self.s1}:{self.s2}:{self.s3}:{self.s4}"


def native_hash(*values: Any) -> int:
    """A 63-bit BLAKE2b of the row's values as Python sees them (``repr``): the same in every process,
    unlike ``hash()`` of a string."""
    digest = hashlib.blake2b(repr(values).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class NativeFingerprint:
    """Aggregate ``ma_native_fingerprint(v1, ...)``: ``native:<count>:<sum of native_hash>`` (same engine)."""

    def __init__(self) -> None:
        self.count = self.total = 0

    def step(self, *values: Any) -> None:
        self.count += 1
        self.total += (
            int.from_bytes(hashlib.blake2b(repr(values).encode("utf-8"), digest_size=8).digest(), "big") >> 1
        )

    def finalize(self) -> str:
        return f"native:{self.count}:{self.total}"


def register(conn: Any) -> None:
    """Give a sqlite3 connection ``ma_fingerprint_row``, ``ma_row_md5``, ``ma_row_text`` and the native
    ``ma_native_fingerprint`` / ``ma_native_hash`` (idempotent)."""
    conn.create_aggregate("ma_fingerprint_row", -1, RowFingerprint)
    conn.create_aggregate("ma_native_fingerprint", -1, NativeFingerprint)
    conn.create_function("ma_native_hash", -1, native_hash, deterministic=True)
    conn.create_function("ma_row_md5", -1, row_md5, deterministic=True)
    conn.create_function("ma_row_text", -1, row_text, deterministic=True)


# -- the SQL side --------------------------------------------------------------------------------------
def row_arguments(session: Session, shape: Any) -> str:
    """The ``{row}`` slot of the ``*_fast.sql`` statements: a spec literal, then one value per column.

    A drop-in for ``fingerprint.row_expression(session, shape)``.

    :param shape: the table's ``fingerprint.TableShape``: ``columns`` (shared, in name order) and
        ``classes`` (each column's canonical class).

    The spec holds only letters from :data:`RENDERERS`; the values are dialect-quoted columns, wrapped
    in the dialect's ``fingerprint/canon_<class>.sql`` where SQLite renders the class itself.
    """
    columns: Sequence[str] = shape.columns
    classes: dict[str, str] = shape.classes
    values, spec = [], []
    for column in columns:
        quoted = session.dialect.quote(column)
        letter = SPEC_LETTERS.get(classes[column], "t")
        if letter == "t":
            quoted = session.statement(f"fingerprint/canon_{classes[column]}").strip().format(col=quoted)
        values.append(quoted)
        spec.append(letter)
    norm = getattr(shape, "normalisation", None)
    header = f"{int(norm.float_digits)},{int(norm.timestamp_length)};" if norm is not None else ""
    if len(values) + 1 > MAX_FUNCTION_ARGS:  # too wide for one call: render groups, pass them on
        groups = range(0, len(values), GROUP_SIZE)
        values = [
            f"ma_row_text('{header}{''.join(spec[i : i + GROUP_SIZE])}', "
            f"{', '.join(values[i : i + GROUP_SIZE])})"
            for i in groups
        ]
        spec = ["r"] * len(values)
    return ", ".join([f"'{header}{''.join(spec)}'", *values])
