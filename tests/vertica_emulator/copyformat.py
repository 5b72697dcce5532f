"""Vertica's delimited COPY input format (DELIMITER, ENCLOSED BY, ESCAPE AS, NULL, RECORD TERMINATOR).

A field is ``(text, enclosed)``. With the default ``ESCAPE AS '\\'`` the escape character makes the
next character literal (the delimiter, the enclosing quote, the record terminator or itself); inside
an enclosed field a doubled enclosing character is one literal character. NULL is an unenclosed field
equal to the NULL string (empty by default); an enclosed empty field is an empty string.
"""

from __future__ import annotations

from collections.abc import Iterator


def records(data: str, delimiter: str, enclosed_by: str | None, escape: str | None,
            terminator: str) -> Iterator[list[tuple[str, bool]]]:  # fmt: skip
    fields: list[tuple[str, bool]] = []
    cur: list[str] = []
    enclosed = in_enc = started = False
    i, n = 0, len(data)
    while i < n:
        ch = data[i]
        if in_enc:
            if escape and ch == escape and i + 1 < n:
                cur.append(data[i + 1])
                i += 2
            elif ch == enclosed_by:
                if i + 1 < n and data[i + 1] == enclosed_by:
                    cur.append(ch)
                    i += 2
                else:
                    in_enc = False
                    i += 1
            else:
                cur.append(ch)
                i += 1
            continue
        if escape and ch == escape and i + 1 < n:
            cur.append(data[i + 1])
            started = True
            i += 2
        elif enclosed_by and ch == enclosed_by and not started:
            in_enc = enclosed = started = True
            i += 1
        elif data.startswith(delimiter, i):
            fields.append(("".join(cur), enclosed))
            cur, enclosed, started = [], False, False
            i += len(delimiter)
        elif data.startswith(terminator, i):
            fields.append(("".join(cur), enclosed))
            yield fields
            fields, cur, enclosed, started = [], [], False, False
            i += len(terminator)
        else:
            cur.append(ch)
            started = True
            i += 1
    if fields or started:
        fields.append(("".join(cur), enclosed))
        yield fields


def truncate_bytes(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")
