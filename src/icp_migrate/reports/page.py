"""The HTML shell and tables the report pages share: self-contained, every value escaped.

The Content-Security-Policy forbids scripts and any fetch: even a value that escaped
escaping could not run, and a page that tried to load something would say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

# fonts with Chinese glyphs by name (Linux, Adobe, macOS, Windows) before the generic one,
# so names, provinces and filing numbers never show as empty boxes
FONTS = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
         "sans-serif")
MAX_ROWS = 1000  # rows a table shows: a page stays readable on a million-record run
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")
STYLE = """
body{font-family:""" + FONTS.replace("'", '"') + """;margin:0 auto;max-width:1200px;
padding:0 16px 40px;color:#222}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;border-bottom:1px solid #ccc;
padding-bottom:4px;margin-top:28px}h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}
.status{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;
background:#2e7d32}.status.failed{background:#c62828}.status.running{background:#777}
.status.preview{background:#1565c0}
.charts{display:flex;flex-wrap:wrap;gap:12px 32px}.chart{max-width:100%;height:auto}
figure{margin:8px 0}figcaption{font-size:13px;font-weight:bold;margin-bottom:4px}
nav a{margin-right:12px;font-size:13px}dl{display:grid;grid-template-columns:max-content auto;
gap:2px 12px;font-size:13px}dt{color:#666}dd{margin:0}p.note{color:#555;font-size:13px}
"""


def page(title: str, body: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body) + "\n</body></html>\n"
    )


def cell(value: object) -> str:
    """One value as escaped HTML: lists one item a line, booleans as ✓/✗."""
    if isinstance(value, bool):
        return '<span class="ok">✓</span>' if value else '<span class="bad">✗</span>'
    if isinstance(value, list | tuple):
        return "<br>".join(escape(str(v)) for v in value)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def table(frame: pd.DataFrame, headers: Mapping[str, str], empty: str = "none",
          table_id: str | None = None) -> str:
    """`frame`'s `headers` columns as a table; numbers right-aligned; MAX_ROWS at most."""
    if frame.empty:
        return f'<p class="note">{escape(empty)}</p>'
    cut = ""
    if len(frame) > MAX_ROWS:
        cut = note(f"The first {MAX_ROWS:,} of {len(frame):,} rows.")
        frame = frame.head(MAX_ROWS)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers.values())
    rows = []
    for record in frame[list(headers)].itertuples(index=False):
        cells = []
        for value in record:
            value = value.item() if hasattr(value, "item") else value  # numpy scalars
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(f'<td class="n">{cell(value)}</td>' if numeric
                         else f"<td>{cell(value)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return (f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            + cut)


def section(anchor: str, title: str, parts: Sequence[str]) -> str:
    return (f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>'
            + "".join(parts) + "</section>")


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'
