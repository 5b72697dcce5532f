"""Inline SVG drawn on the server: the status-over-time chart. No script, no external asset.

Every text that reaches the SVG is escaped with :func:`html.escape` (valid for XML too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from migration_audit_provider.plugins.queries import TimelinePoint, ordered_statuses, status_color


def nice_step(top: int, ticks: int = 5) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving at most ``ticks`` steps up to ``top``."""
    if top <= ticks:
        return 1
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def stacked_bars(
    points: Sequence[TimelinePoint],
    *,
    title: str,
    width: int = 760,
    height: int = 240,
) -> str:
    """One stacked bar of tables per status for each point, oldest left; a ``<title>`` per bar."""
    left, right, top, bottom = 48, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" data-points="{len(points)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" class="muted">'
            "No audit runs in the history yet</text></svg>"
        )
        return "".join(parts)

    statuses = ordered_statuses({s for p in points for s in p.counts})
    y_max = max(1, max(sum(p.counts.values()) for p in points))
    step = nice_step(y_max)
    y_top = math.ceil(y_max / step) * step

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_top

    for tick in range(0, y_top + 1, step):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="axis">{tick:,}</text>'
        )

    slot = plot_w / len(points)
    bar_w = max(2.0, min(40.0, slot * 0.7))
    label_every = max(1, math.ceil(len(points) / 8))
    for i, point in enumerate(points):
        x = left + slot * i + (slot - bar_w) / 2
        tip = "\n".join(
            [point.label + (f"  {point.run_id}" if point.run_id else "")]
            + [f"{s}: {point.counts[s]:,}" for s in statuses if point.counts.get(s)]
        )
        parts.append(f'<g class="bar" data-label="{escape(point.label)}"><title>{escape(tip)}</title>')
        base = 0
        for status in statuses:
            n = point.counts.get(status, 0)
            if not n:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y(base + n):.1f}" width="{bar_w:.1f}" '
                f'height="{y(base) - y(base + n):.1f}" fill="{status_color(status)}" '
                f'data-status="{escape(status)}" data-count="{n}"/>'
            )
            base += n
        parts.append("</g>")
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'class="axis">{escape(point.label[5:] if len(point.label) > 10 else point.label)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="baseline"/>')
    legend_x = left
    for status in statuses:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{status_color(status)}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" class="axis">{escape(status)}</text>'
        )
        legend_x += 24 + 7 * len(status)
    parts.append("</svg>")
    return "".join(parts)
