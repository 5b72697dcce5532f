"""Reading sizes from the command line and printing results: number formats, Markdown tables.

The tables are GitHub-flavoured Markdown, so a script's output can be pasted into a results file as
is; every script ends with one ``SUMMARY`` line (:func:`last_line` finds it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def parse_sizes(text: str) -> list[int]:
    """``"10000,100_000,1e6"`` -> ``[10000, 100000, 1000000]``."""
    return [int(float(part.replace("_", ""))) for part in text.split(",") if part.strip()]


def fmt_seconds(value: float) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def fmt_int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def fmt_mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}"


def fmt_ratio(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.1f}x"


def fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> None:
    """A GitHub-flavoured Markdown table (so the output can be pasted into BENCHMARKS.md as is)."""
    widths = [
        max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(cells: Sequence[str]) -> str:
        out = []
        for cell, width, a in zip(cells, widths, align, strict=True):
            out.append(str(cell).ljust(width) if a == "l" else str(cell).rjust(width))
        return "| " + " | ".join(out) + " |"

    print(line(headers))
    print(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
            for w, a in zip(widths, align, strict=True)
        )
        + "|"
    )
    for row in rows:
        print(line(row))
    sys.stdout.flush()


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
