"""Statement SQL shipped with the provider (``include/sql/`` in the repo, ``sql/`` in the wheel).

Every statement lives in a file named for the step it performs. A file in a dialect folder
(``sql/<dialect>/<name>.sql``) overrides the portable one (``sql/<name>.sql``): that folder is the
whole list of what differs for that database.

Statements use ``:name`` bind parameters (each dialect converts them to its driver's style) and
``{placeholder}`` slots that are filled only with identifiers quoted by the dialect.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


def sql_root() -> Traversable:
    """The folder of statement files (packaged, or the checkout's ``include/sql``)."""
    packaged = files("migration_audit_provider") / "sql"
    if packaged.is_dir():
        return packaged
    # Editable install from a checkout: the files live in the repository's include/sql.
    return Path(__file__).resolve().parents[2] / "include" / "sql"


@functools.cache
def load_statement(name: str, dialect: str) -> str:
    """Return the text of statement ``name`` for ``dialect``, falling back to the portable file."""
    root = sql_root()
    for candidate in (root / dialect / f"{name}.sql", root / f"{name}.sql"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"No SQL statement named {name!r} for dialect {dialect!r}")


def split_statements(text: str) -> list[str]:
    """Split a file of our own DDL on ``;`` at line ends (the files hold no ``;`` inside literals)."""
    parts = [part.strip() for part in text.split(";\n")]
    return [part.rstrip(";").strip() for part in parts if part and not _only_comments(part)]


def _only_comments(part: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in part.splitlines())
