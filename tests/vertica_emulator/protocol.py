"""Vertica frontend/backend wire messages, as vertica-python 1.4 reads and writes them.

Layouts follow ``vertica_python/vertica/messages/``: every message is a type byte, a 4-byte length
(counting itself) and a body; the startup message has no type byte. Vertica's RowDescription differs
from PostgreSQL's: a type-mapping pool, 8-byte table OIDs (followed by schema and table names when not
0), and per field ``!BIhHHiH`` (user-defined flag, type OID, size, nullable, identity, typmod, format).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

# Vertica type OIDs (vertica_python.datatypes.VerticaType)
BOOL, INT8, FLOAT8, CHAR, VARCHAR, DATE, TIME, TIMESTAMP, TIMESTAMPTZ = 5, 6, 7, 8, 9, 10, 11, 12, 13
INTERVAL, TIMETZ, NUMERIC, VARBINARY, UUID, LONGVARCHAR = 14, 15, 16, 17, 20, 115

# PostgreSQL type OID -> (Vertica type OID, size)
PG_TO_VERTICA = {
    16: (BOOL, 1), 20: (INT8, 8), 21: (INT8, 8), 23: (INT8, 8), 26: (INT8, 8),
    700: (FLOAT8, 8), 701: (FLOAT8, 8), 1700: (NUMERIC, -1),
    1042: (CHAR, -1), 1043: (VARCHAR, -1), 25: (VARCHAR, -1), 19: (VARCHAR, -1), 705: (VARCHAR, -1),
    1082: (DATE, 8), 1083: (TIME, 8), 1114: (TIMESTAMP, 8), 1184: (TIMESTAMPTZ, 8),
    1186: (INTERVAL, 8), 1266: (TIMETZ, 8), 17: (VARBINARY, -1), 2950: (UUID, 16),
}  # fmt: skip


def _msg(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + struct.pack("!I", len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\x00"


def authentication(code: int, extra: bytes = b"") -> bytes:
    return _msg(b"R", struct.pack("!I", code) + extra)


def parameter_status(name: str, value: str) -> bytes:
    return _msg(b"S", _cstr(name) + _cstr(value))


def backend_key_data(pid: int, key: int) -> bytes:
    return _msg(b"K", struct.pack("!II", pid, key))


def ready_for_query(status: bytes) -> bytes:
    return _msg(b"Z", status)


def command_complete(tag: str) -> bytes:
    return _msg(b"C", _cstr(tag))


def empty_query_response() -> bytes:
    return _msg(b"I", b"")


def copy_in_response() -> bytes:
    return _msg(b"G", struct.pack("!BH", 0, 0))


@dataclass
class Field:
    name: str
    type_oid: int
    size: int = -1
    typmod: int = -1


def row_description(fields: list[Field]) -> bytes:
    body = struct.pack("!HI", len(fields), 0)  # field count, empty type-mapping pool
    for f in fields:
        body += _cstr(f.name) + struct.pack("!Q", 0)  # no table OID -> no schema/table names
        body += struct.pack("!H", 0)  # attribute number
        body += struct.pack("!BIhHHiH", 0, f.type_oid, f.size, 1, 0, f.typmod, 0)
    return _msg(b"T", body)


def data_row(values: list[bytes | None]) -> bytes:
    parts = [struct.pack("!H", len(values))]
    for v in values:
        if v is None:
            parts.append(struct.pack("!i", -1))
        else:
            parts.append(struct.pack("!i", len(v)) + v)
    return _msg(b"D", b"".join(parts))


def error_response(
    message: str, sqlstate: str, code: int, severity: str = "ERROR", routine: str = "", hint: str = ""
) -> bytes:
    """ErrorResponse with the fields vertica-python parses (``_NoticeResponseAttrMixin``)."""
    fields = [
        (b"S", severity), (b"C", sqlstate), (b"M", message), (b"F", "vertica_emulator.py"),
        (b"L", "0"), (b"R", routine or "emulator"), (b"V", str(code)),
    ]  # fmt: skip
    if hint:
        fields.insert(3, (b"H", hint))
    body = b"".join(k + _cstr(v) for k, v in fields) + b"\x00"
    return _msg(b"E", body)


class Reader:
    """Reads frontend messages from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def exact(self, n: int) -> bytes:
        data = self.file.read(n)
        if data is None or len(data) < n:
            raise EOFError("client went away")
        return data

    def message(self) -> tuple[bytes, bytes]:
        type_byte = self.exact(1)
        size = struct.unpack("!I", self.exact(4))[0]
        return type_byte, self.exact(size - 4)
