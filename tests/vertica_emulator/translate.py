"""Vertica SQL -> PostgreSQL SQL, through sqlglot's Vertica plugin plus the emulator's rewrites.

A statement the plugin refuses is a Vertica syntax error. Rewrites done here (each documented in
docs/vertica.md): identifiers folded to lower case (Vertica compares them case-insensitively, quoted
or not); ``IDENTITY``/``AUTO_INCREMENT`` columns; Vertica's types (``VARBINARY`` -> ``bytea``,
``VARCHAR`` without length = ``VARCHAR(80)``, ``NUMERIC`` without precision = ``NUMERIC(37,15)``);
``PRIMARY KEY`` declared but not enforced (Vertica's default); ``HASH``, ``TO_HEX``,
``GET_NUM_ACCEPTED_ROWS``; local temporary tables default to ``ON COMMIT DELETE ROWS``.
Functions PostgreSQL has and Vertica does not (``pg_*``, advisory locks, ...) are unknown functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from vertica_emulator.sqltext import SyntaxProblem

PG_ONLY_FUNCTIONS = re.compile(
    r"^(pg_.*|txid_.*|generate_series|string_to_array|array_agg|jsonb?_.*|set_config|current_setting"
    r"|nextval_pg|lo_.*|dblink.*)$",
    re.I,
)


class UnknownFunction(Exception):
    def __init__(self, name: str, nargs: int) -> None:
        sig = f"{name}({', '.join(['int'] * nargs)})" if nargs else f"{name}()"
        super().__init__(f"Function {sig} does not exist, or permission is denied for {sig}")


class Unsupported(Exception):
    """Valid Vertica, but outside what the emulator implements (SQLSTATE 0A000)."""


@dataclass
class Translated:
    sql: str
    kind: str  # ddl | truncate | dml | select | other
    tag: str
    # catalog side effects, applied in the same transaction after the statement succeeds
    names: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    primary_keys: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    drop_schemas: list[str] = field(default_factory=list)
    drop_tables: list[tuple[str, str]] = field(default_factory=list)
    temp_table: bool = False


_BARE_AUTO_INCREMENT = re.compile(r'([(,]\s*(?:"(?:[^"]|"")+"|\w+))\s+AUTO_INCREMENT\b', re.I)


def parse(sql: str) -> exp.Expression:
    try:
        trees = sqlglot.parse(sql, read="vertica")
    except (ParseError, TokenError) as err:
        # Vertica's grammar takes `col AUTO_INCREMENT` without a type (like `col IDENTITY`).
        if re.match(r"\s*CREATE\b", sql, re.I) and _BARE_AUTO_INCREMENT.search(sql):
            return parse(_BARE_AUTO_INCREMENT.sub(r"\1 IDENTITY", sql))
        near = _near(err, sql)
        raise SyntaxProblem(near) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise SyntaxProblem(sql[:20])
    tree = trees[0]
    if isinstance(tree, exp.Command) or (isinstance(tree, exp.Column) and not isinstance(tree, exp.Select)):
        raise SyntaxProblem(sql.split()[0] if sql.split() else sql)
    return tree


def _near(err: Exception, sql: str) -> str:
    errors = getattr(err, "errors", None) or []
    for e in errors:
        token = e.get("highlight") or ""
        if token:
            return token
    return sql.split()[0] if sql.split() else sql


def _ident_name(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Identifier):
        return node.this
    return node.name


def translate(sql: str, accepted_rows: int | None = 0) -> Translated:
    tree = parse(sql)
    first = sql.split(None, 1)[0].upper()
    kind = {"CREATE": "ddl", "ALTER": "ddl", "DROP": "ddl", "GRANT": "ddl", "REVOKE": "ddl",
            "COMMENT": "ddl", "TRUNCATE": "truncate"}.get(first)  # fmt: skip
    if kind is None:
        if isinstance(tree, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
            kind = "dml"
        elif isinstance(tree, exp.Query):
            kind = "select"
        else:
            raise Unsupported(f"{first} is not supported by the Vertica emulator")
    out = Translated(sql="", kind=kind, tag=_tag(tree, first))

    for func in list(tree.find_all(exp.Anonymous)):
        name = func.name
        if PG_ONLY_FUNCTIONS.match(name):
            raise UnknownFunction(name, len(func.expressions))
        if name.upper() == "GET_NUM_ACCEPTED_ROWS":
            if func.expressions:
                raise UnknownFunction(name, len(func.expressions))
            func.replace(exp.cast(exp.Literal.number(accepted_rows or 0), "BIGINT"))
        elif name.upper() == "HASH":
            parts = [
                exp.Case(
                    ifs=[exp.If(this=exp.Is(this=a.copy(), expression=exp.Null()), true=exp.Null())],
                    default=exp.DPipe(
                        this=exp.cast(exp.Anonymous(this="pg_typeof", expressions=[a.copy()]), "TEXT"),
                        expression=exp.DPipe(
                            this=exp.Literal.string(":"), expression=exp.cast(a.copy(), "TEXT")
                        ),
                    ),
                )
                for a in func.expressions
            ]
            func.replace(
                exp.Anonymous(this="v_emulator.vertica_hash", expressions=[exp.Array(expressions=parts)])
            )
    for node in list(tree.find_all(exp.Hex)):
        node.replace(exp.Anonymous(this="to_hex", expressions=[node.this]))

    if isinstance(tree, exp.Create):
        _create(tree, out)
    elif type(tree).__name__ in ("DropSchemas", "DropTables") or isinstance(tree, exp.Drop):
        _drop(tree, out)
    elif isinstance(tree, exp.Alter):
        _alter(tree, out)

    for dt in list(tree.find_all(exp.DataType)):
        _datatype(dt)
    for ident in tree.find_all(exp.Identifier):
        ident.set("this", ident.this.lower())
    if type(tree).__name__ in ("DropSchemas", "DropTables"):
        objs = [tree.this, *(tree.args.get("expressions") or [])]
        out.sql = " ".join(
            part for part in (
                f"DROP {tree.args.get('kind')}", "IF EXISTS" if tree.args.get("exists") else "",
                ", ".join(o.sql(dialect="postgres") for o in objs),
                "CASCADE" if tree.args.get("cascade") else "",
            ) if part
        )  # fmt: skip
    else:
        out.sql = tree.sql(dialect="postgres")
    return out


def _tag(tree: exp.Expression, first: str) -> str:
    if isinstance(tree, exp.Query):
        return "SELECT"
    if first in ("CREATE", "ALTER", "DROP"):
        kind = tree.args.get("kind")
        return f"{first} {kind}" if isinstance(kind, str) else first
    return first


def _schema_table(table: exp.Table, temp: bool = False) -> tuple[str, str]:
    schema = "v_temp_schema" if temp else (_ident_name(table.args.get("db")) or "public")
    return schema, _ident_name(table.args.get("this"))


def _create(tree: exp.Create, out: Translated) -> None:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "SCHEMA":
        spelling = _ident_name(tree.this.args.get("db")) or tree.this.name
        out.names.append((spelling.lower(), "", "", spelling, None))
        return
    if kind != "TABLE":
        return
    props = tree.args.get("properties")
    prop_list = props.expressions if props else []
    temp = any(isinstance(p, exp.TemporaryProperty) for p in prop_list)
    out.temp_table = temp
    if temp and not any(isinstance(p, exp.OnCommitProperty) for p in prop_list):
        # Vertica's default for temporary tables is ON COMMIT DELETE ROWS.
        props.append("expressions", exp.OnCommitProperty(delete=True))
    target = tree.this
    if not isinstance(target, exp.Schema):
        table = target if isinstance(target, exp.Table) else target.find(exp.Table)
        schema, name = _schema_table(table, temp)
        out.names.append((schema.lower(), name.lower(), "", name, None))
        return
    schema, name = _schema_table(target.this, temp)
    skey, tkey = schema.lower(), name.lower()
    out.names.append((skey, tkey, "", name, None))
    pk_cols: list[str] = []
    pk_name = "C_PRIMARY"
    for item in list(target.expressions):
        if isinstance(item, exp.ColumnDef):
            col = item.this.this
            out.names.append((skey, tkey, col.lower(), col, _binary_type(item.args.get("kind"))))
            _identity(item)
            for cons in list(item.args.get("constraints") or []):
                if isinstance(cons.args.get("kind"), exp.PrimaryKeyColumnConstraint):
                    pk_cols.append(col)
                    cons.pop()
        elif isinstance(item, (exp.Constraint, exp.PrimaryKey)):
            pk = item if isinstance(item, exp.PrimaryKey) else item.find(exp.PrimaryKey)
            if pk is not None:
                if isinstance(item, exp.Constraint):
                    pk_name = item.this.this
                pk_cols.extend(_ident_name(e) for e in pk.expressions)
                item.pop()
    for pos, col in enumerate(pk_cols, 1):
        out.primary_keys.append((skey, tkey, pk_name, col.lower(), pos))
        # Vertica makes primary key columns NOT NULL; the key itself is not enforced.
        for item in target.expressions:
            if isinstance(item, exp.ColumnDef) and item.this.this.lower() == col.lower():
                if not any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
                           for c in item.args.get("constraints") or []):  # fmt: skip
                    item.append("constraints", exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))


def _identity(coldef: exp.ColumnDef) -> None:
    kind = coldef.args.get("kind")
    start, step = 1, 1
    found = False
    if isinstance(kind, exp.DataType) and kind.this == exp.DataType.Type.USERDEFINED:
        if _ident_name(kind.args.get("kind")).upper() in ("IDENTITY", "AUTO_INCREMENT"):
            found = True
            params = [p.this.this if isinstance(p.this, exp.Literal) else p.name for p in kind.expressions]
            if len(params) >= 2:
                start, step = int(params[0]), int(params[1])
            coldef.set("kind", exp.DataType.build("BIGINT"))
    for cons in list(coldef.args.get("constraints") or []):
        if type(cons.args.get("kind")).__name__ == "VerticaIdentityColumnConstraint":
            found = True
            ck = cons.args["kind"]
            args = [a for a in ck.args.values() if isinstance(a, exp.Literal)]
            if len(args) >= 2:
                start, step = int(args[0].this), int(args[1].this)
            cons.pop()
    if found:
        # Vertica: values are generated by the database and cannot be loaded or changed.
        coldef.append(
            "constraints",
            exp.ColumnConstraint(
                kind=exp.GeneratedAsIdentityColumnConstraint(
                    this=True, start=exp.Literal.number(start), increment=exp.Literal.number(step)
                )
            ),
        )


def _binary_type(kind: exp.Expression | None) -> str | None:
    if not isinstance(kind, exp.DataType):
        return None
    t = kind.this
    names = {exp.DataType.Type.VARBINARY: "varbinary", exp.DataType.Type.BINARY: "binary"}
    if t in names:
        default = "80" if t == exp.DataType.Type.VARBINARY else "1"
        size = kind.expressions[0].name if kind.expressions else default
        return f"{names[t]}({size})"
    if t in (exp.DataType.Type.BLOB, exp.DataType.Type.LONGBLOB):
        size = kind.expressions[0].name if kind.expressions else "1048576"
        return f"long varbinary({size})"
    return None


def _datatype(dt: exp.DataType) -> None:
    t = dt.this
    T = exp.DataType.Type
    if t in (T.VARBINARY, T.BINARY, T.BLOB, T.LONGBLOB):
        dt.replace(exp.DataType.build("BYTEA"))
    elif t == T.VARCHAR and not dt.expressions:
        dt.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(80))])
    elif t == T.CHAR and not dt.expressions:
        dt.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(1))])
    elif t == T.DECIMAL and not dt.expressions:
        dt.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(37)),
                               exp.DataTypeParam(this=exp.Literal.number(15))])  # fmt: skip


def _drop(tree: exp.Expression, out: Translated) -> None:
    kind = (tree.args.get("kind") or "").upper()
    tables = [tree.this, *(tree.args.get("expressions") or [])]
    for t in tables:
        if not isinstance(t, exp.Table):
            continue
        if kind == "SCHEMA":
            out.drop_schemas.append((_ident_name(t.args.get("db")) or t.name).lower())
        elif kind == "TABLE":
            s, n = _schema_table(t)
            out.drop_tables.append((s.lower(), n.lower()))


def _alter(tree: exp.Alter, out: Translated) -> None:
    table = tree.this
    s, n = _schema_table(table)
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            col = action.this.this
            out.names.append((s.lower(), n.lower(), col.lower(), col, _binary_type(action.args.get("kind"))))
