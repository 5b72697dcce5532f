"""Schema drift as the dashboard shows it: the ``schema_diff`` JSON of an audit row (or the ``detail``
of a history event) read back into per-column differences, and a one-line summary of them.

The JSON is what :meth:`migration_audit_provider.drift.SchemaDiff.detail` writes (read here, never
changed): ``{"drift": [entry, ...], "widened": [entry, ...]}``, plus ``"truncated": true`` when
entries were left out to fit the column; each entry is ``{"column", "change", "source", "target"}``,
``source``/``target`` the declared type (``numeric(10,2)``, ``text NOT NULL``) or ``null`` when the
column is on one side only. ``drift`` entries block (status ``drift``); ``widened`` ones are allowed.

Nothing here escapes: the values come from database catalogs and go through :func:`html.escape` in
:mod:`~migration_audit_provider.plugins.pages`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = {
    # drift.py's ``change`` -> what kind of difference it is
    "missing on target": "missing on target",
    "only on target": "missing on source",
    "type": "type",
    "narrower on target": "size",
    "wider on target": "size",
    "bounded on target, unbounded in the source": "size",
    "NOT NULL on target only": "nullability",
    "nullable on target": "nullability",
}
"""Each ``change`` that :mod:`migration_audit_provider.drift` writes, and its kind."""
SUMMARY_ENTRIES = 3
"""At most this many differences in a summary line; the rest are counted."""
ARROW = "\u2192"


@dataclass(frozen=True)
class ColumnDifference:
    """One difference of one column: on one side only, or its type, size or nullability."""

    column: str
    change: str
    """As :mod:`~migration_audit_provider.drift` words it (``narrower on target``, ``type`` ...)."""
    kind: str
    """``missing on source``, ``missing on target``, ``type``, ``size``, ``nullability`` (or the change
    itself, for one this version does not know)."""
    source: str | None
    target: str | None
    allowed: bool
    """A widening: recorded, but the table's status is not ``drift`` for it."""

    def short(self) -> str:
        """``amount numeric(10,2) → numeric(8,2)``, or ``note missing on target``."""
        if self.kind.startswith("missing on") or self.source is None or self.target is None:
            return f"{self.column} {self.kind}"
        return f"{self.column} {self.source} {ARROW} {self.target}"


@dataclass(frozen=True)
class SchemaDifference:
    """A table's column differences: blocking (``drift``) and allowed (``widened``) ones."""

    drift: list[ColumnDifference] = field(default_factory=list)
    widened: list[ColumnDifference] = field(default_factory=list)
    truncated: bool = False
    """Entries were left out to fit the store's column (4,000 characters)."""
    unreadable: str | None = None
    """The stored text, when it is not the JSON this version reads (shown as it is)."""

    @property
    def columns(self) -> list[ColumnDifference]:
        return [*self.drift, *self.widened]

    def summary(self) -> str:
        """``2 columns differ: amount numeric(10,2) → numeric(8,2); note missing on target``."""
        if self.unreadable is not None:
            return "columns differ (the recorded difference is not readable by this version)"
        parts = []
        if self.drift:
            names = len({d.column for d in self.drift})
            parts.append(f"{names} column{' differs' if names == 1 else 's differ'}: {_listed(self.drift)}")
        if self.widened:
            n = len(self.widened)
            allowed = f"{n} widening{'' if n == 1 else 's'} allowed"
            parts.append(allowed if self.drift else f"{allowed}: {_listed(self.widened)}")
        if self.truncated:
            parts.append("list truncated")
        return " \u00b7 ".join(parts) or "the columns agree"

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "drift": [asdict(d) for d in self.drift],
            "widened": [asdict(w) for w in self.widened],
            "truncated": self.truncated,
            "unreadable": self.unreadable,
        }


def parse(text: Any, *, strict: bool = True) -> SchemaDifference | None:
    """The difference recorded in ``text`` (``None`` when there is none).

    :param strict: ``True`` for an audit row's ``schema_diff`` (anything there is a schema difference:
        text this version cannot read is kept as :attr:`SchemaDifference.unreadable`); ``False`` for a
        history event's ``detail``, which also holds other details (a mismatch's differing keys): only
        JSON shaped like a schema difference counts.
    """
    if text is None or text == "":
        return None
    try:
        body = json.loads(text)
    except (TypeError, ValueError):
        body = None
    if not isinstance(body, dict) or not ({"drift", "widened"} & body.keys()):
        return SchemaDifference(unreadable=str(text)) if strict else None
    drift = [_entry(e, allowed=False) for e in _list(body.get("drift"))]
    widened = [_entry(e, allowed=True) for e in _list(body.get("widened"))]
    if not drift and not widened and not body.get("truncated"):
        return None
    return SchemaDifference(drift, widened, truncated=bool(body.get("truncated")))


def _listed(differences: list[ColumnDifference]) -> str:
    """The first differences, each once (a narrower ``NOT NULL`` column is two entries, one line)."""
    lines = list(dict.fromkeys(d.short() for d in differences))
    shown = "; ".join(lines[:SUMMARY_ENTRIES])
    more = len(lines) - SUMMARY_ENTRIES
    return shown + (f"; {more} more" if more > 0 else "")


def _list(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _entry(e: dict[str, Any], *, allowed: bool) -> ColumnDifference:
    change = str(e.get("change") or "")
    return ColumnDifference(
        column=str(e.get("column") if e.get("column") is not None else ""),
        change=change,
        kind=KINDS.get(change, change or "other"),
        source=None if e.get("source") is None else str(e["source"]),
        target=None if e.get("target") is None else str(e["target"]),
        allowed=allowed,
    )
