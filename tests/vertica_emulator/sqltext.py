"""Small, strict helpers for the statements sqlglot's Vertica dialect cannot parse.

``split`` cuts a query string into statements; ``tokens`` turns one statement into words, quoted
identifiers, string literals, numbers and punctuation. The parsers here accept only the documented
forms of ``CONNECT TO VERTICA``, ``DISCONNECT``, ``COPY ... FROM STDIN``, ``COPY ... FROM VERTICA``,
``LOCK TABLE`` and a few session statements; anything else raises :class:`SyntaxProblem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class SyntaxProblem(Exception):
    """A statement Vertica's grammar would refuse (reported as ERROR 4856, SQLSTATE 42601)."""

    def __init__(self, near: str) -> None:
        super().__init__(f'Syntax error at or near "{near}"')
        self.near = near


def split(text: str) -> list[str]:
    """Statements of ``text`` (split on ``;`` outside quotes and comments), blank ones dropped."""
    out, buf, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            buf.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            buf.append(" ")
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            buf.append(" ")
            i = j
        elif c == ";":
            out.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(c)
            i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if s.strip()]


@dataclass(frozen=True)
class Tok:
    kind: str  # word, ident (quoted), string, number, punct
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


_TOKEN = re.compile(
    r"""\s*(?:(?P<string>'(?:[^']|'')*')|(?P<ident>"(?:[^"]|"")*")|(?P<number>\d+)"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<punct>[(),.=*;]))""",
)


def tokens(text: str) -> list[Tok]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SyntaxProblem(text[pos:].strip()[:20])
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "string":
            value = raw[1:-1].replace("''", "'")
        elif kind == "ident":
            value = raw[1:-1].replace('""', '"')
        else:
            value = raw
        out.append(Tok(kind, value))
        pos = m.end()
    return out


class Cursor:
    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> Tok | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def near(self) -> str:
        t = self.peek()
        return t.text if t else "end of statement"

    def at(self, *words: str) -> bool:
        for k, w in enumerate(words):
            t = self.peek(k)
            if t is None or t.upper != w:
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise SyntaxProblem(self.near())

    def punct(self, p: str) -> bool:
        t = self.peek()
        if t is not None and t.kind == "punct" and t.text == p:
            self.i += 1
            return True
        return False

    def name(self) -> str:
        t = self.peek()
        if t is None or t.kind not in ("word", "ident"):
            raise SyntaxProblem(self.near())
        self.i += 1
        return t.text

    def string(self) -> str:
        t = self.peek()
        if t is None or t.kind != "string":
            raise SyntaxProblem(self.near())
        self.i += 1
        return t.text

    def number(self) -> int:
        t = self.peek()
        if t is None or t.kind != "number":
            raise SyntaxProblem(self.near())
        self.i += 1
        return int(t.text)

    def qualified(self, parts: int = 2) -> list[str]:
        names = [self.name()]
        while len(names) < parts and self.punct("."):
            names.append(self.name())
        return names

    def columns(self) -> list[str] | None:
        if not self.punct("("):
            return None
        cols = [self.name()]
        while self.punct(","):
            cols.append(self.name())
        if not self.punct(")"):
            raise SyntaxProblem(self.near())
        return cols

    def end(self) -> None:
        if self.peek() is not None:
            raise SyntaxProblem(self.near())


# -- statements -------------------------------------------------------------------------------------
@dataclass
class Connect:
    database: str
    user: str
    password: str
    host: str
    port: int


def parse_connect(text: str) -> Connect:
    """``CONNECT TO VERTICA db USER u PASSWORD 'p' ON 'host', port`` (Vertica's CONNECT TO VERTICA)."""
    c = Cursor(text)
    c.expect("CONNECT", "TO", "VERTICA")
    database = c.name()
    c.expect("USER")
    user = c.name()
    c.expect("PASSWORD")
    password = c.string()
    c.expect("ON")
    host = c.string()
    if not c.punct(","):
        raise SyntaxProblem(c.near())
    port = c.number()
    c.end()
    return Connect(database, user, password, host, port)


def parse_disconnect(text: str) -> str:
    c = Cursor(text)
    c.expect("DISCONNECT")
    database = c.name()
    c.end()
    return database


@dataclass
class CopyStdin:
    table: list[str]
    columns: list[str] | None
    delimiter: str = "|"
    enclosed_by: str | None = None
    escape: str | None = "\\"
    null: str = ""
    record_terminator: str = "\n"
    skip: int = 0
    abort_on_error: bool = False
    enforce_length: bool = False
    no_commit: bool = False
    rejectmax: int | None = None


@dataclass
class CopyVertica:
    table: list[str]
    columns: list[str] | None
    database: str
    source: list[str]
    source_columns: list[str] | None
    no_commit: bool = False


@dataclass
class Lock:
    tables: list[list[str]]
    mode: str
    nowait: bool = False


def _one_char(c: Cursor) -> str:
    value = c.string()
    if len(value) != 1:
        raise SyntaxProblem(value)
    return value


def parse_copy(text: str) -> CopyStdin | CopyVertica:
    """The two COPY forms the provider uses; other sources (files, LOCAL, ...) are refused."""
    c = Cursor(text)
    c.expect("COPY")
    table = c.qualified(3)
    columns = c.columns()
    c.expect("FROM")
    if c.accept("VERTICA"):
        database = c.name()
        if not c.punct("."):
            raise SyntaxProblem(c.near())
        source = c.qualified(2)
        src_cols = c.columns()
        stmt = CopyVertica(table, columns, database, source, src_cols)
        while c.peek() is not None:
            if c.accept("NO", "COMMIT"):
                stmt.no_commit = True
            elif c.accept("DIRECT") or c.accept("AUTO") or c.accept("TRICKLE"):
                pass
            elif c.accept("STREAM", "NAME"):
                c.string()
            else:
                raise SyntaxProblem(c.near())
        return stmt
    c.expect("STDIN")
    stmt = CopyStdin(table, columns)
    while c.peek() is not None:
        if c.accept("DELIMITER"):
            c.accept("AS")
            stmt.delimiter = _one_char(c)
        elif c.accept("ENCLOSED"):
            c.accept("BY")
            stmt.enclosed_by = _one_char(c)
        elif c.accept("NO", "ESCAPE"):
            stmt.escape = None
        elif c.accept("ESCAPE"):
            c.accept("AS")
            stmt.escape = _one_char(c)
        elif c.accept("NULL"):
            c.accept("AS")
            stmt.null = c.string()
        elif c.accept("RECORD", "TERMINATOR"):
            stmt.record_terminator = c.string()
        elif c.accept("SKIP"):
            stmt.skip = c.number()
        elif c.accept("ABORT", "ON", "ERROR"):
            stmt.abort_on_error = True
        elif c.accept("ENFORCELENGTH"):
            stmt.enforce_length = True
        elif c.accept("NO", "COMMIT"):
            stmt.no_commit = True
        elif c.accept("REJECTMAX"):
            stmt.rejectmax = c.number()
        elif c.accept("DIRECT") or c.accept("AUTO") or c.accept("TRICKLE"):
            pass
        else:
            raise SyntaxProblem(c.near())
    return stmt


LOCK_MODES = {
    # Vertica lock mode -> PostgreSQL table lock mode with the same conflicts for the statements used
    "SHARE": "SHARE",
    "INSERT": "ROW EXCLUSIVE",
    "INSERT VALIDATE": "ROW EXCLUSIVE",
    "SHARE INSERT": "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE": "EXCLUSIVE",
    "NOT DELETE": "ROW SHARE",
    "USAGE": "ACCESS SHARE",
    "OWNER": "ACCESS EXCLUSIVE",
}


def parse_lock(text: str) -> Lock:
    """``LOCK [TABLE] t [, ...] IN {SHARE | INSERT | ... | OWNER} MODE [NOWAIT]`` (Vertica's LOCK TABLE)."""
    c = Cursor(text)
    c.expect("LOCK")
    c.accept("TABLE")
    tables = [c.qualified(3)]
    while c.punct(","):
        tables.append(c.qualified(3))
    c.expect("IN")
    words = []
    while c.peek() is not None and not c.at("MODE"):
        t = c.peek()
        if t.kind != "word":
            raise SyntaxProblem(t.text)
        words.append(t.upper)
        c.i += 1
    mode = " ".join(words)
    if mode not in LOCK_MODES:
        raise SyntaxProblem(words[0] if words else c.near())
    c.expect("MODE")
    nowait = c.accept("NOWAIT")
    c.end()
    return Lock(tables, mode, nowait)


@dataclass
class Session:
    """``SET SESSION AUTOCOMMIT TO ON|OFF`` or ``ALTER SESSION SET [PARAMETER] LockTimeout = n``."""

    autocommit: bool | None = None
    lock_timeout: int | None = None
    extra: dict = field(default_factory=dict)


def parse_session(text: str) -> Session | None:
    c = Cursor(text)
    if c.accept("SET", "SESSION", "AUTOCOMMIT"):
        if not (c.accept("TO") or c.punct("=")):
            raise SyntaxProblem(c.near())
        if c.accept("ON"):
            value = True
        elif c.accept("OFF"):
            value = False
        else:
            raise SyntaxProblem(c.near())
        c.end()
        return Session(autocommit=value)
    c = Cursor(text)
    if c.accept("ALTER", "SESSION", "SET"):
        c.accept("PARAMETER")
        name = c.name()
        if name.lower() != "locktimeout" or not c.punct("="):
            raise SyntaxProblem(name)
        value = c.number()
        c.end()
        return Session(lock_timeout=value)
    return None
