"""Schema drift: each table's columns on both sides, compared on every refresh.

The catalog is read once per schema per side (``list_schema_columns.sql`` of each database). Each
column is reduced to a :class:`Column`: its name, a type **family** (``int``, ``numeric``, ``float``,
``text``, ``bool``, ``date``, ``time``, ``timetz``, ``timestamp``, ``timestamptz``, ``binary``,
``interval``, ``uuid``, or the declared name for anything else), a size where it changes what fits
(text/binary length, numeric precision and scale, int/float byte width from the database object's
``type_widths``) and nullability. Names are matched with the database's case rules: where either side
folds case (Vertica), case-blind; otherwise as stored.

A difference is one of:

* **drift** (the table gets status ``drift``; a rerun copy would fail or lose data, so it needs a DDL
  fix): a column on one side only, another family, a narrower size on the target, a target column
  that is ``NOT NULL`` where the source's is nullable;
* **widened** (allowed, recorded in the history, status unaffected): the same family with a target
  that holds every source value - a longer ``VARCHAR``, a wider integer or float, a numeric with at
  least as many integer and fraction digits, an unbounded type for a bounded one, a nullable target
  column for a ``NOT NULL`` source one. A size the catalog cannot say (SQLite's integers) is not
  compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_DETAIL_CHARS = 4000
"""The store's ``schema_diff`` / history ``detail`` column size."""
_SIZED_BY_WIDTH = ("int", "float")
"""Families whose size is a byte width; unknown (``None``) on either side means "not compared"."""
_TYPE = re.compile(r"^\s*([a-z][a-z0-9 _]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*([a-z ]*))?$")


@dataclass(frozen=True)
class Column:
    name: str
    declared: str
    family: str
    size: int | None = None
    scale: int | None = None
    nullable: bool = True
    catalog_type: str = field(default="", compare=False)
    """The type exactly as the catalog spelt it (what a fingerprint classifies); not compared."""

    def describe(self) -> str:
        return f"{self.declared}{'' if self.nullable else ' NOT NULL'}"


@dataclass
class SchemaDiff:
    """One table's differences: ``drift`` (blocking) and ``widened`` (allowed) entries."""

    drift: list[dict[str, Any]] = field(default_factory=list)
    widened: list[dict[str, Any]] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.drift)

    def detail(self) -> str | None:
        """The JSON recorded in the store (``None`` when the columns agree), at most 4,000 characters."""
        if not self.drift and not self.widened:
            return None
        body: dict[str, Any] = {"drift": self.drift, "widened": self.widened}
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        while len(text) > MAX_DETAIL_CHARS and (body["drift"] or body["widened"]):
            key = "widened" if body["widened"] else "drift"
            body[key] = body[key][: len(body[key]) // 2]
            body["truncated"] = True
            text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        return text


def family_of(declared: str, widths: Mapping[str, int]) -> tuple[str, int | None, int | None]:
    """``(family, size, scale)`` of a declared type as a catalog spells it (``varchar(50)``,
    ``character varying``, ``NUMERIC(10,2)``, ``timestamp with time zone`` ...)."""
    text = (declared or "").strip().lower()
    match = _TYPE.match(text)
    base, n1, n2, tail = match.groups() if match else (text, None, None, "")
    tail = tail or ""
    base = base.strip()
    full = f"{base} {tail}".strip()
    size = int(n1) if n1 is not None else None
    scale = int(n2) if n2 is not None else None
    if "bool" in base:
        return "bool", None, None
    if "interval" in base:
        return "interval", None, None
    zoned = "with time zone" in full or base.endswith("tz")
    if base.startswith("timestamp") or base == "datetime":
        return ("timestamptz" if zoned else "timestamp"), None, None
    if base.startswith("time"):
        return ("timetz" if zoned else "time"), None, None
    if base == "date":
        return "date", None, None
    if base == "uuid":
        return "uuid", None, None
    if any(w in base for w in ("numeric", "decimal", "number", "money")):
        return "numeric", size, scale if size is not None else None
    if "int" in base and "interval" not in base or base == "serial" or base == "bigserial":
        return "int", widths.get(base), None
    if any(w in base for w in ("float", "double", "real")):
        return "float", widths.get(base), None
    if any(w in base for w in ("bytea", "binary", "blob", "raw")):
        return "binary", size, None
    if any(w in base for w in ("char", "text", "clob", "string")) or base == "":
        return "text", size, None
    return base, size, scale


def column(
    row: Mapping[str, Any],
    widths: Mapping[str, int],
    families: dict[str, tuple[str, int | None, int | None]] | None = None,
) -> Column:
    """A :class:`Column` from one ``list_schema_columns`` row (by column name); ``families`` caches
    :func:`family_of` by declared type (a schema has thousands of columns and a handful of types)."""
    declared_type = str(row["data_type"] or "")
    found = families.get(declared_type) if families is not None else None
    if found is None:
        found = family_of(declared_type, widths)
        if families is not None:
            families[declared_type] = found
    family, size, scale = found
    if family in ("text", "binary") and row.get("char_length") is not None:
        size = int(row["char_length"])
    if family == "numeric" and row.get("num_precision") is not None:
        size = int(row["num_precision"])
        scale = int(row["num_scale"] or 0)
    declared = str(row["data_type"] or "")
    if size is not None and "(" not in declared and family in ("text", "binary", "numeric"):
        declared += f"({size}{'' if scale is None else f',{scale}'})"
    nullable = row["nullable"]
    if isinstance(nullable, str):
        nullable = nullable.strip().upper() in ("YES", "Y", "TRUE", "T", "1")
    name = str(row["column_name"])
    return Column(name, declared.lower(), family, size, scale, bool(nullable), declared_type)


_DEFINITION = ("column_name", "data_type", "char_length", "num_precision", "num_scale", "nullable")
"""The catalog fields a :class:`Column` is made from (``list_schema_columns``)."""


def columns_by_table(rows: Iterable[Mapping[str, Any]], widths: Mapping[str, int]) -> dict[str, list[Column]]:
    """Each table's columns. A column defined alike in many tables (``id bigint not null`` in each of
    a thousand) is made once and shared (a :class:`Column` is frozen): a refresh reads every column of
    the schema on both sides, and making each one was a tenth of an unchanged refresh."""
    out: dict[str, list[Column]] = {}
    families: dict[str, tuple[str, int | None, int | None]] = {}
    made: dict[tuple, Column] = {}
    for row in rows:
        definition = tuple(row.get(name) for name in _DEFINITION)
        found = made.get(definition)
        if found is None:
            found = made[definition] = column(row, widths, families)
        out.setdefault(str(row["table_name"]), []).append(found)
    return out


def compare(
    source: Sequence[Column], target: Sequence[Column], *, fold_case: bool, sizes: bool = True
) -> SchemaDiff:
    """The differences between one table's source and target columns.

    :param sizes: compare lengths and precisions; ``False`` when a side's database does not enforce
        the sizes it declares (SQLite): the source's then say nothing of its values, the target's
        refuse nothing.
    """
    if source == target:  # alike column for column, the common case: nothing to report or compare
        return SchemaDiff()
    key = (lambda name: name.casefold()) if fold_case else (lambda name: name)
    src = {key(c.name): c for c in source}
    tgt = {key(c.name): c for c in target}
    diff = SchemaDiff()
    for k, s in src.items():
        t = tgt.get(k)
        if t is None:
            diff.drift.append(_entry(s.name, "missing on target", s, None))
            continue
        _compare_column(s, t, diff, sizes=sizes)
    for k, t in tgt.items():
        if k not in src:
            diff.drift.append(_entry(t.name, "only on target", None, t))
    return diff


def _compare_column(s: Column, t: Column, diff: SchemaDiff, *, sizes: bool = True) -> None:
    if s.family != t.family:
        diff.drift.append(_entry(s.name, "type", s, t))
        return
    sized = _size_change(s, t) if sizes else None
    if sized == "narrower":
        diff.drift.append(_entry(s.name, "narrower on target", s, t))
    elif sized == "wider":
        diff.widened.append(_entry(s.name, "wider on target", s, t))
    elif sized == "bounded":
        diff.widened.append(_entry(s.name, "bounded on target, unbounded in the source", s, t))
    if s.nullable and not t.nullable:
        diff.drift.append(_entry(s.name, "NOT NULL on target only", s, t))
    elif t.nullable and not s.nullable:
        diff.widened.append(_entry(s.name, "nullable on target", s, t))


def _size_change(s: Column, t: Column) -> str | None:
    """``None`` (same or not comparable), ``"wider"``, ``"narrower"`` or ``"bounded"`` (an unbounded
    text/binary source column into a bounded one): does every source value fit?"""
    if s.family in _SIZED_BY_WIDTH:
        if s.size is None or t.size is None or s.size == t.size:
            return None
        return "wider" if t.size > s.size else "narrower"
    if s.family == "numeric":
        if (s.size, s.scale) == (t.size, t.scale):
            return None
        if t.size is None:
            return "wider"
        if s.size is None:
            return "narrower"
        s_scale, t_scale = s.scale or 0, t.scale or 0
        fits = t_scale >= s_scale and t.size - t_scale >= s.size - s_scale
        return "wider" if fits else "narrower"
    if s.size == t.size:
        return None
    if t.size is None:
        return "wider"
    if s.size is None:
        # Unbounded text or binary (PostgreSQL's TEXT) into a bounded column (Vertica has no unbounded
        # VARCHAR): allowed and recorded. A value too long fails the copy (ENFORCELENGTH, ABORT ON
        # ERROR) and the counts show it; refusing every TEXT -> VARCHAR(n) would flag every such table.
        return "bounded"
    return "wider" if t.size > s.size else "narrower"


def _entry(name: str, change: str, s: Column | None, t: Column | None) -> dict[str, Any]:
    return {
        "column": name,
        "change": change,
        "source": s.describe() if s else None,
        "target": t.describe() if t else None,
    }


__all__ = ["Column", "SchemaDiff", "columns_by_table", "compare", "family_of"]
