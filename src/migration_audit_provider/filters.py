"""Row filters: count and fingerprint only a slice of a table that is still being written.

A filter comes only from the settings file (``filters:`` in ``migration_audit.yaml``, trusted like DAG
code), never from the trigger form. It is parsed with sqlglot when the DAG file is parsed and refused
unless it is **one boolean predicate over the table's own columns**: comparisons, ``AND``/``OR``/``NOT``,
``IS [NOT] NULL``, ``IN (literal, …)``, ``BETWEEN``, ``LIKE``, literals, casts and a few plain functions
(:data:`ALLOWED_FUNCTIONS`). No subquery, no ``;``, no qualified or star column, no bind parameter, no
function that reads the clock or the session. At run time the filter is rendered in each side's SQL
dialect (the database object's ``sqlglot_dialect``) and its columns are checked against the table's
catalog columns.

.. code-block:: yaml

    schemas:
      sales:
        filters:
          "*": "created_at < '2026-11-01'"   # every table that has all the columns it names
          orders: "id < 1000000"             # this table: replaces "*"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from migration_audit_provider.exceptions import AuditInputError

ALL_TABLES = "*"
"""The key of the filter that applies to every table naming a table of its own."""
MAX_FILTER_CHARS = 2000
FILTERED_COUNT_METHOD = "count(*) where"
"""``count_method`` of a count taken under a row filter (audit row, run log)."""

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    {"Abs", "Coalesce", "Length", "Lower", "Upper", "Substring", "Trim", "Round", "Floor", "Ceil"}
)
"""sqlglot function classes a filter may call: deterministic, per row, present in all three databases."""

_PREDICATES = (
    "And", "Or", "Not", "Paren", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is", "In", "Between",
    "Like", "ILike", "Boolean",
)  # fmt: skip
_VALUES = (
    "Column", "Identifier", "Literal", "Null", "Boolean", "Cast", "DataType", "DataTypeParam", "Neg",
    "Add", "Sub", "Mul", "Div", "Mod", "Tuple", "Paren", "Var",
)  # fmt: skip
_BIND_LIKE = re.compile(r":[A-Za-z_]")
_ROOTS = frozenset(_PREDICATES) - {"Paren", "Boolean"}


@dataclass(frozen=True)
class RowFilter:
    """One validated filter: the text as written, and the columns it names."""

    text: str
    columns: frozenset[str] = field(default_factory=frozenset)
    """Column names as written (quoted ones keep their case; unquoted ones are compared case-blind)."""

    @cached_property
    def expression(self) -> Any:
        return _parse(self.text)

    def sql(self, dialect: str) -> str:
        """The predicate in sqlglot dialect ``dialect``, parenthesised, ready for a ``WHERE``."""
        return "(" + self.expression.sql(dialect=dialect) + ")"

    def missing_columns(self, table_columns: Iterable[str]) -> list[str]:
        """The filter's columns that ``table_columns`` (the catalog's names) lacks."""
        exact = set(table_columns)
        folded = {c.casefold() for c in exact}
        return sorted(c for c in self.columns if c not in exact and c.casefold() not in folded)


def parse_filter(text: Any, where: str = "filter") -> RowFilter:
    """Validate ``text``; raise :class:`AuditInputError` naming ``where`` and the reason if it is refused."""
    if not isinstance(text, str) or not text.strip():
        raise AuditInputError(f"{where}: a row filter must be a non-empty string, got {text!r}")
    if len(text) > MAX_FILTER_CHARS:
        raise AuditInputError(f"{where}: a row filter is at most {MAX_FILTER_CHARS} characters")
    if ";" in text:
        raise AuditInputError(f"{where}: a row filter is one boolean expression; ';' is not allowed")
    if any(ch in text for ch in ("{{", "{%", "--", "/*")):
        raise AuditInputError(f"{where}: a row filter may not hold template markers or comments")
    try:
        root = _parse(text)
    except AuditInputError as err:
        raise AuditInputError(f"{where}: {err}") from None
    problem = _problem(root)
    if problem:
        raise AuditInputError(f"{where}: row filter {text!r} is refused: {problem}")
    columns = frozenset(c.name for c in root.find_all(_exp().Column))
    return RowFilter(text, columns)


def parse_filters(raw: Any, where: str = "filters") -> dict[str, RowFilter]:
    """``{table or "*": filter text}`` from the settings file, each one validated."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise AuditInputError(f"{where}: expected a mapping of table (or '*') to a filter")
    out = {}
    for table, text in raw.items():
        if not isinstance(table, str) or not table:
            raise AuditInputError(f"{where}: table names must be non-empty strings, got {table!r}")
        out[table] = parse_filter(text, f"{where}[{table!r}]")
    return out


def filter_for(filters: Mapping[str, RowFilter], table: str, columns: Iterable[str]) -> RowFilter | None:
    """The filter that applies to ``table`` with catalog ``columns``, or ``None``.

    A table's own filter must name only its columns (else :class:`AuditInputError`); the ``"*"``
    filter applies to the tables that have every column it names and leaves the others unfiltered.
    """
    own = filters.get(table)
    if own is not None:
        missing = own.missing_columns(columns)
        if missing:
            raise AuditInputError(f"row filter of table {table!r} names columns it lacks: {missing}")
        return own
    shared = filters.get(ALL_TABLES)
    if shared is not None and not shared.missing_columns(columns):
        return shared
    return None


def _exp() -> Any:
    from sqlglot import exp

    return exp


def _parse(text: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = sqlglot.parse(text, read="postgres")
    except (ParseError, TokenError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AuditInputError(f"row filter {text!r} does not parse: {first}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise AuditInputError(f"row filter {text!r} is not one expression")
    return statements[0]


def _problem(root: Any) -> str | None:
    """Why ``root`` is not an allowed filter, or ``None``."""
    exp = _exp()
    if type(root).__name__ not in _ROOTS and not _boolean_paren(root):
        return f'it is not a boolean expression (a {type(root).__name__}); write e.g. "id < 1000"'
    allowed = set(_PREDICATES) | set(_VALUES) | ALLOWED_FUNCTIONS
    for node in root.walk():
        name = type(node).__name__
        if isinstance(node, (exp.Subquery, exp.Select, exp.Query)):
            return "subqueries are not allowed"
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            return "bind parameters are not allowed"
        if isinstance(node, exp.Column) and (node.table or isinstance(node.this, exp.Star)):
            return f"column {node.sql()!r}: use the table's own column names only (no qualifier, no *)"
        if isinstance(node, exp.Star):
            return "'*' is not allowed"
        if isinstance(node, exp.Literal) and node.is_string and _BIND_LIKE.search(node.this):
            return f"literal {node.sql()!r} holds ':name', which the drivers would read as a bind parameter"
        if name not in allowed:
            if isinstance(node, exp.Func):
                return f"function {node.sql()!r} is not allowed (allowed: {sorted(ALLOWED_FUNCTIONS)})"
            return f"{name} ({node.sql()!r}) is not allowed"
    return None


def _boolean_paren(node: Any) -> bool:
    while type(node).__name__ == "Paren":
        node = node.this
    return type(node).__name__ in _ROOTS


__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALL_TABLES",
    "FILTERED_COUNT_METHOD",
    "RowFilter",
    "filter_for",
    "parse_filter",
    "parse_filters",
]
