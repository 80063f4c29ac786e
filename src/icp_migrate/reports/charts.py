"""Inline SVG charts drawn by hand: no library, no script, nothing fetched.

Every label is HTML-escaped here; callers pass plain text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from icp_migrate.reports.page import FONTS

DISPOSITION_COLORS = {
    "loaded": "#2e7d32",
    "duplicate": "#81c784",
    "out_of_scope": "#9e9e9e",
    "quarantined": "#e65100",
    "needs_review": "#1565c0",
}
BAR_COLOR = "#3f6fb5"
FAILED_COLOR = "#c62828"
_ROW = 22  # px per bar
_LABEL = 290  # px for the labels left of horizontal bars
_BARS = 380  # px for the longest bar
_FONT = f'font-family="{FONTS}" font-size="12"'
_SMALL = f'font-family="{FONTS}" font-size="9"'


def _label(text: str, limit: int = 42) -> str:
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(short)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg></figure>'
    )


def bar_chart(title: str, items: Sequence[tuple[str, int]],
              colors: Sequence[str] | None = None) -> str:
    """Horizontal bars, one per (label, value), value written after each bar."""
    items = list(items) or [("(none)", 0)]
    top = max(value for _, value in items) or 1
    width = _LABEL + _BARS + 60
    height = _ROW * len(items) + 8
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * _ROW
        length = round(_BARS * value / top)
        fill = colors[i] if colors else BAR_COLOR
        body.append(
            f'<g><title>{escape(label)}: {value:,}</title>'
            f'<text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end" {_FONT}>{_label(label)}</text>'
            f'<rect x="{_LABEL}" y="{y + 3}" width="{max(length, 1)}" height="{_ROW - 6}" '
            f'fill="{fill}"/>'
            f'<text x="{_LABEL + length + 4}" y="{y + 15}" {_FONT}>{value:,}</text></g>'
        )
    return _svg(width, height, title, body)


def stacked_bars(title: str, rows: Sequence[tuple[str, Mapping[str, int]]],
                 series: Sequence[str], colors: Mapping[str, str]) -> str:
    """Horizontal stacked bars, one per row label, with a legend of `series` underneath."""
    rows = list(rows) or [("(none)", {})]
    top = max(sum(values.get(s, 0) for s in series) for _, values in rows) or 1
    width = _LABEL + _BARS + 60
    legend_y = _ROW * len(rows) + 12
    height = legend_y + 22
    width = max(width, 8 + _legend_width(series))
    body = []
    for i, (label, values) in enumerate(rows):
        y = 4 + i * _ROW
        x = float(_LABEL)
        parts = []
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            length = _BARS * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(length, 1):.1f}" '
                f'height="{_ROW - 6}" fill="{colors.get(name, BAR_COLOR)}">'
                f"<title>{escape(label)}: {escape(name)} {value:,}</title></rect>"
            )
            x += length
        total = sum(values.get(s, 0) for s in series)
        body.append(
            f'<g><text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end" {_FONT}>'
            f'<title>{escape(label)}</title>{_label(label)}</text>{"".join(parts)}'
            f'<text x="{x + 4:.1f}" y="{y + 15}" {_FONT}>{total:,}</text></g>'
        )
    body.append(_legend(series, colors, 8, legend_y))
    return _svg(width, height, title, body)


def history_chart(title: str, runs: Sequence[tuple[str, str, Mapping[str, int]]],
                  series: Sequence[str], colors: Mapping[str, str], current: str) -> str:
    """One stacked column per run (label, status, counts), oldest left; failed runs in red."""
    runs = list(runs)
    column, gap, plot_h, left, top_pad = 26, 10, 180, 50, 10
    names = [*series, "failed"]
    width = max(left + len(runs) * (column + gap) + 20, left + _legend_width(names) + 10)
    legend_y = top_pad + plot_h + 44
    height = legend_y + 22
    peak = max([sum(c.get(s, 0) for s in series) for _, _, c in runs] + [1])
    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" '
        f'y2="{top_pad + plot_h}" stroke="#666"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" {_FONT}>{peak:,}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" {_FONT}>0</text>',
    ]
    for i, (label, status, counts) in enumerate(runs):
        x = left + 8 + i * (column + gap)
        y = float(top_pad + plot_h)
        parts = []
        if status == "failed" or not sum(counts.get(s, 0) for s in series):
            parts.append(
                f'<rect x="{x}" y="{y - 6}" width="{column}" height="6" '
                f'fill="{FAILED_COLOR if status == "failed" else "#bbb"}"/>'
            )
        for name in series:
            value = counts.get(name, 0)
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{column}" height="{max(h, 1):.1f}" '
                f'fill="{colors.get(name, BAR_COLOR)}"/>'
            )
        weight = ' font-weight="bold"' if label == current else ""
        short = escape(label[:8])  # the run id starts with its date: yyyymmdd
        body.append(
            f'<g><title>{escape(label)} ({escape(status)}): '
            f'{escape(", ".join(f"{s} {counts.get(s, 0):,}" for s in series))}</title>'
            f'{"".join(parts)}<text x="{x + column / 2}" y="{top_pad + plot_h + 14}" '
            f'text-anchor="middle" {_SMALL}{weight}>{short}</text>'
            f'<text x="{x + column / 2}" y="{top_pad + plot_h + 26}" text-anchor="middle" '
            f'{_SMALL}>{escape(label[9:15])}</text></g>'
        )
    body.append(_legend(names, {**colors, "failed": FAILED_COLOR}, left, legend_y))
    return _svg(width, height, title, body)


def _legend_width(series: Sequence[str]) -> int:
    return sum(24 + 7 * len(name) for name in series)


def _legend(series: Sequence[str], colors: Mapping[str, str], x0: int, y: int) -> str:
    parts, x = [], x0
    for name in series:
        parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colors.get(name, BAR_COLOR)}"/>'
            f'<text x="{x + 16}" y="{y + 11}" {_FONT}>{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return f'<g class="legend">{"".join(parts)}</g>'
