from __future__ import annotations

import pytest

from migration_audit_provider.dialects import dialect_for
from migration_audit_provider.dialects.postgres import PostgresAuditDialect
from migration_audit_provider.dialects.sqlite import SqliteAuditDialect
from migration_audit_provider.dialects.vertica import VerticaAuditDialect
from migration_audit_provider.exceptions import AuditInputError


class FakeHook:  # dialects only keep the hook; nothing here connects
    pass


def make(cls):
    obj = cls.__new__(cls)
    obj.hook = FakeHook()
    return obj


@pytest.mark.parametrize("cls", [PostgresAuditDialect, SqliteAuditDialect, VerticaAuditDialect])
def test_quote_doubles_quotes_and_keeps_case(cls):
    d = make(cls)
    assert d.quote('Sales "EU"') == '"Sales ""EU"""'
    assert d.qualified("s;x", "T") == '"s;x"."T"'


def test_identifier_limits():
    pg, vertica = make(PostgresAuditDialect), make(VerticaAuditDialect)
    pg.check_identifier("a" * 63)
    with pytest.raises(AuditInputError, match="at most 63"):
        pg.check_identifier("a" * 64)
    vertica.check_identifier("é" * 64)  # 128 bytes
    with pytest.raises(AuditInputError, match="at most 128"):
        vertica.check_identifier("é" * 65)
    for control in ("\x00", "\x1f", "\x7f", "\x85", "\x9f"):  # C0, DEL, C1: Unicode category Cc
        with pytest.raises(AuditInputError, match="control characters"):
            pg.check_identifier(f"a{control}b")
    pg.check_identifier("a\xa0b \u200b\u2028")  # spaces and format characters are names' business
    with pytest.raises(AuditInputError):
        pg.check_identifier(None)


def test_postgres_param_conversion_leaves_casts_and_percent_alone():
    d = make(PostgresAuditDialect)
    assert d.convert_params("SELECT :a, x::int FROM t WHERE y LIKE '5%'") == (
        "SELECT %(a)s, x::int FROM t WHERE y LIKE '5%%'"
    )


def test_unknown_connection_type_is_refused():
    with pytest.raises(AuditInputError, match="no migration-audit dialect"):
        dialect_for(FakeHook(), "mysql")


def test_sqlite_schema_cannot_escape_its_folder(tmp_path):
    d = make(SqliteAuditDialect)
    for bad in ("../etc", "main", "a/b", ".hidden"):
        with pytest.raises(AuditInputError):
            d.schema_file(tmp_path, bad)
    assert d.schema_file(tmp_path, "sales") == tmp_path / "sales.db"
