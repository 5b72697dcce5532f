"""Every statement file renders for every dialect and parses; Vertica's through sqlglot's Vertica plugin.

PostgreSQL and SQLite statements are also executed for real by the integration tests; Vertica cannot
run here, so parsing is its check.
"""

from __future__ import annotations

import collections
import re
import string

import pytest
import sqlglot
from sql_catalog import statement_names
from sqlglot.errors import ErrorLevel, ParseError

from migration_audit_provider.dialects.base import NAMED_PARAM
from migration_audit_provider.sql import load_statement, split_statements

IDENTIFIERS = {
    "schema": '"migration"',
    "audit": '"migration"."audit"',
    "history": '"migration"."audit_history"',
    "history_name": '"audit_history"',
    "stage": '"pg_temp"."migration_audit_stage"',
    "stage_name": '"migration_audit_stage"',
    "runs": '"migration"."audit_runs"',
}
ALL_NAMES = sorted({name for names in statement_names().values() for name in names})


def _dialect_slots(dialect: str) -> dict[str, str]:
    """The slots the database object fills (``create_stage.sql``), from the class itself."""
    from migration_audit_provider.dialects.postgres import PostgresAuditDialect
    from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
    from migration_audit_provider.dialects.vertica import VerticaAuditDialect

    cls = {"postgres": PostgresAuditDialect, "sqlite": SqliteAuditDialect, "vertica": VerticaAuditDialect}
    found = cls[dialect]
    return {"create_temporary": found.temporary_table, "on_commit_delete": found.on_commit_delete}


def rendered(name: str, dialect: str) -> list[str]:
    """The statements as the server sees them: vertica-python binds ``:name`` client-side, as literals."""
    # Slots other than the store's names (a column, a row expression, a WHERE clause) get a column.
    slots = collections.defaultdict(lambda: '"x"', {**IDENTIFIERS, **_dialect_slots(dialect)})
    text = string.Formatter().vformat(load_statement(name, dialect), (), slots)
    return [NAMED_PARAM.sub("1", stmt) for stmt in split_statements(text)]


def test_every_dialect_folder_is_known():
    assert set(statement_names()) == {"", "postgres", "sqlite", "vertica"}
    assert "decide_status" in statement_names()[""]  # the status rules are portable: one file


# sqlglot's Vertica plugin has no LOCK TABLE: that statement gets a strict grammar of its own here (and
# runs on the Vertica-protocol test server, whose own parser takes only Vertica's documented modes).
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_LOCK = re.compile(
    rf"LOCK\s+(?:TABLE\s+)?{_IDENT}(?:\.{_IDENT})?\s+IN\s+"
    r"(?:SHARE|INSERT|INSERT\s+VALIDATE|SHARE\s+INSERT|EXCLUSIVE|NOT\s+DELETE|USAGE|OWNER)\s+MODE(?:\s+NOWAIT)?",
    re.IGNORECASE,
)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_vertica_statement_parses(name):
    for statement in rendered(name, "vertica"):
        body = "\n".join(
            line for line in statement.splitlines() if not line.lstrip().startswith("--")
        ).strip()
        if body.upper().startswith("LOCK"):
            assert _LOCK.fullmatch(body), body
            continue
        sqlglot.parse_one(statement, read="vertica", error_level=ErrorLevel.RAISE)


@pytest.mark.parametrize(
    "statement",
    ["LOCK TABLE x IN EXCLUSIVE", "LOCK TABLE x IN ROW EXCLUSIVE MODE", "LOCK TABLE x; DROP TABLE y"],
)
def test_the_lock_grammar_rejects_what_vertica_refuses(statement):
    assert not _LOCK.fullmatch(statement)


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_other_dialects_parse(name, dialect):
    for statement in rendered(name, dialect):
        sqlglot.parse_one(statement, read=dialect, error_level=ErrorLevel.RAISE)


def test_the_parser_rejects_broken_sql():
    """The checks above can fail: a broken statement does not parse."""
    with pytest.raises(ParseError):
        sqlglot.parse_one("UPDATE SET x = WHERE", read="vertica", error_level=ErrorLevel.RAISE)


def test_statements_ship_inside_the_wheel(tmp_path):
    """An installed provider works outside the repo: include/sql ships as migration_audit_provider/sql."""
    import shutil
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    uv = shutil.which("uv")
    cmd = [uv] if uv else [sys.executable, "-m", "uv"]
    subprocess.run(
        [*cmd, "build", "--wheel", "--quiet", "-o", str(tmp_path), str(repo)], check=True, timeout=300
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for dialect, statements in statement_names().items():
        for name in statements:
            path = "/".join(p for p in ("migration_audit_provider/sql", dialect, f"{name}.sql") if p)
            assert path in names, f"{path} missing from {wheel.name}"
