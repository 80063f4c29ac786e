"""The run report as one self-contained HTML page with inline SVG charts: the page's frame
(header, navigation, footer) and its counted sections; `html_lists.py` renders the lists."""

from __future__ import annotations

import json
from html import escape

import pandas as pd

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.masking import mask_text
from icp_migrate.reports import html_lists as lists
from icp_migrate.reports.charts import (
    DISPOSITION_COLORS,
    bar_chart,
    history_chart,
    stacked_bars,
)
from icp_migrate.reports.data import ReportData
from icp_migrate.reports.expectations import expectation_rows, suite_rows
from icp_migrate.reports.page import note, page, section, table
from icp_migrate.reports.sections import Sections
from icp_migrate.store.target import display_url

GX_PAGE = "gx/index.html"
_NAV = [("reconciliation", "Reconciliation"), ("reasons", "Reasons"),
        ("entities", "Entities"), ("accounts", "Accounts"), ("members", "Members"),
        ("follow-up", "Several domains"), ("possible-matches", "Possible matches"),
        ("conflicts", "Conflicts"),
        ("quarantine", "Quarantine"), ("validation", "Expectations"), ("history", "History")]


def render_report(data: ReportData, sections: Sections) -> str:
    run = data.run
    title = f"ICP migration run {run['run_id']}"
    body = [
        f"<header><h1>{escape(title)}</h1>{_status(str(run['status']))}{_run_facts(data)}"
        "</header>",
        "<nav>" + "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in _NAV) + "</nav>",
        _reconciliation(data, sections),
        _reasons(sections),
        _entities(sections),
        _accounts(sections),
        lists.members(sections),
        lists.follow_up(sections),
        lists.possible_matches(sections),
        lists.conflicts(sections),
        lists.quarantine(sections),
        _validation(data),
        _history(data),
        "<footer>" + note("Certificate numbers are masked; names are shown as found in the "
                          "legacy data. Built from the target store by icp-migrate.")
        + "</footer>",
    ]
    return page(title, body)


def _status(status: str) -> str:
    return f' <span class="status {escape(status)}">{escape(status)}</span>'


def _run_facts(data: ReportData) -> str:
    run = data.run
    sources = json.loads(run["sources"]) if run.get("sources") else []
    facts = [("target", data.target), ("started", run["started_at"]),
             ("finished", run["finished_at"] or "—"),
             ("sources", "\n".join(display_url(s) if "://" in s else s for s in sources))]
    if run.get("error"):
        facts.append(("error", mask_text(str(run["error"]))))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v)).replace(chr(10), '<br>')}</dd>"
                    for k, v in facts)
    return f"<dl>{items}</dl>"


def _reconciliation(data: ReportData, s: Sections) -> str:
    table_ = s.reconciliation
    recorded = data.run.get("records_in")
    total = int(table_["records_in"].iloc[-1]) if len(table_) else 0
    if data.dispositions.empty:
        check = note("No record dispositions were stored for this run"
                     + (" (it failed: nothing was loaded)." if data.run["status"] == "failed"
                        else "."))
    else:
        ok = recorded is None or int(recorded) == total
        check = (f'<p>Records in: <b>{total:,}</b> = sum of dispositions '
                 f'<b>{int(table_[list(DISPOSITIONS)].iloc[-1].sum()):,}</b> '
                 f'{"<span class=ok>✓</span>" if ok else "<span class=bad>✗</span>"}'
                 + (f" (runs table: {int(recorded):,})" if recorded is not None else "")
                 + "</p>")
    headers = {"source": "source", "records_in": "records in",
               **{d: d.replace("_", " ") for d in DISPOSITIONS}, "balanced": "adds up"}
    per_source = table_[table_["source"] != "total"]
    chart = stacked_bars(
        "Dispositions by source",
        [(_short_source(str(r["source"])), {d: int(r[d]) for d in DISPOSITIONS})
         for _, r in per_source.iterrows()],
        DISPOSITIONS, DISPOSITION_COLORS)
    return section("reconciliation", "Reconciliation: records in = dispositions, per source",
                   [check, table(table_, headers, table_id="reconciliation-table"),
                    f'<div class="charts">{chart}</div>'])


def _short_source(source: str) -> str:
    """A file's name, or a database URL's last part: chart labels are short."""
    return source.rstrip("/").rsplit("/", 1)[-1] or source


def _reasons(s: Sections) -> str:
    shown = s.by_reason[s.by_reason["disposition"] != "loaded"]
    shown = shown.head(25)
    chart = bar_chart("Records by reason (all but loaded)",
                      [(f"{r.disposition}: {r.reason}", int(r.records))
                       for r in shown.itertuples(index=False)],
                      colors=[DISPOSITION_COLORS[d] for d in shown["disposition"]])
    return section("reasons", "Dispositions by reason", [
        note("Reasons are grouped by their rule: the text before ':', ';' or '(', numbers "
             "as #."),
        f'<div class="charts">{chart}</div>',
        table(s.by_reason, {"disposition": "disposition", "reason": "reason",
                            "records": "records"}),
    ])


def _entities(s: Sections) -> str:
    return section("entities", "Entities by type and province", [
        note("Entities of this run's loaded and duplicate records."),
        '<div class="charts">'
        + bar_chart("Entities by type", list(s.entities_by_type.items()))
        + bar_chart("Entities by province", list(s.entities_by_province.items()))
        + "</div>",
    ])


def _accounts(s: Sections) -> str:
    return section("accounts", "Accounts by kind and real-name requirement", [
        '<div class="charts">'
        + bar_chart("Accounts by kind", list(s.accounts_by_kind.items()))
        + bar_chart("Real-name verification", list(s.accounts_by_real_name.items()))
        + "</div>",
    ])


def _validation(data: ReportData) -> str:
    suites = suite_rows(data.validations)
    rows = expectation_rows(data.validations)
    failed = rows[rows["success"].eq(False)]
    return section("validation", "Great Expectations results", [
        f'<p><a href="{GX_PAGE}">Data Docs of this run (every expectation, its arguments '
        "and counts)</a></p>",
        table(suites, {"suite": "suite", "success": "passed", "evaluated": "expectations",
                       "successful": "succeeded", "unsuccessful": "failed"},
              empty="No validation results were stored for this run."),
        table(rows, {"suite": "suite", "rule": "rule", "column": "column",
                     "success": "passed", "element_count": "rows",
                     "unexpected_count": "unexpected"}, empty="", table_id="expectations"),
        note(f"{len(failed):,} failed expectation(s).") if len(rows) else "",
    ])


def _history(data: ReportData) -> str:
    h = data.history
    runs = [(str(r["run_id"]), str(r["status"]),
             {d: 0 if pd.isna(r[d]) else int(r[d]) for d in DISPOSITIONS})
            for _, r in h.iterrows()]
    chart = history_chart("Dispositions per run", runs, DISPOSITIONS, DISPOSITION_COLORS,
                          current=str(data.run["run_id"]))
    return section("history", "History of runs", [
        f'<div class="charts">{chart}</div>',
        table(h, {"run_id": "run", "started_at": "started", "status": "status",
                  "records_in": "records in", **{d: d.replace("_", " ") for d in DISPOSITIONS}}),
    ])
