"""A self-contained SVG/HTML chart of daily cost per provider (no plotting dependency).

Why not matplotlib: it would add ~40 MB (numpy, pillow, fonttools) to an install whose Lambda
layer must stay small, to draw a few lines. An inline SVG opens in any browser, diffs as text and
needs nothing at runtime.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html import escape

from tollgate.money import format_usd

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 80, 170, 40, 60
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")

Series = dict[str, dict[date, Decimal]]  # provider → day → cost


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def render_svg(series: Series, first: date, last: date, title: str) -> str:
    days = _days(first, last)
    peak = max((v for points in series.values() for v in points.values()), default=Decimal(0))
    top = peak if peak > 0 else Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / max(1, len(days) - 1))

    def y(value: Decimal) -> float:
        return TOP + plot_h - float(value / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
    ]
    for tick in range(5):
        value = top * tick / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">${escape(format_usd(value))[:10]}</text>'
        )
        parts.append(f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" y2="{y(value):.1f}" stroke="#eee"/>')
    step = max(1, len(days) // 10)
    for i in range(0, len(days), step):
        parts.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{days[i]:%m-%d}</text>')
    for n, (provider, points) in enumerate(sorted(series.items())):
        colour = PALETTE[n % len(PALETTE)]
        coords = " ".join(f"{x(i):.1f},{y(points.get(day, Decimal(0))):.1f}" for i, day in enumerate(days))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        legend_y = TOP + 18 * n
        parts.append(f'<rect x="{WIDTH - RIGHT + 15}" y="{legend_y}" width="12" height="12" fill="{colour}"/>')
        total = format_usd(sum(points.values(), Decimal(0)))
        parts.append(f'<text x="{WIDTH - RIGHT + 32}" y="{legend_y + 10}">{escape(provider)} ${total}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(series: Series, first: date, last: date, title: str) -> str:
    rows = "".join(
        f"<tr><td>{day}</td>"
        + "".join(f"<td>{format_usd(series[p].get(day, Decimal(0)))}</td>" for p in sorted(series))
        + "</tr>"
        for day in _days(first, last)
    )
    header = "".join(f"<th>{escape(p)} (USD)</th>" for p in sorted(series))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>"
        f"{render_svg(series, first, last, title)}"
        f"<table><thead><tr><th>day (UTC)</th>{header}</tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>\n"
    )
