"""The run report as one self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import json
from html import escape

import pandas as pd

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.masking import mask_text
from icp_migrate.reports import data as report_data
from icp_migrate.reports.charts import (
    DISPOSITION_COLORS,
    bar_chart,
    history_chart,
    stacked_bars,
)
from icp_migrate.reports.data import ReportData
from icp_migrate.reports.expectations import expectation_rows, suite_rows
from icp_migrate.reports.page import note, page, section, table
from icp_migrate.reports.sections import Capped, Sections
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
        _members(sections),
        _follow_up(sections),
        _possible_matches(sections),
        _conflicts(sections),
        _quarantine(sections),
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


def _members(s: Sections) -> str:
    split = s.members_split.rows.assign(entity_names=[
        _more(names, n) for names, n in zip(s.members_split.rows["entity_names"],
                                            s.members_split.rows["entities"], strict=True)])
    merged = s.entities_merged.rows.assign(member_ids=[
        _more(ids, n) for ids, n in zip(s.entities_merged.rows["member_ids"],
                                        s.entities_merged.rows["members"], strict=True)])
    return section("members", "One account per entity: legacy members split and merged", [
        f"<h3>Legacy members split into several accounts ({s.members_split.total:,})</h3>",
        _shown(s.members_split, "members", "most entities first"),
        table(split, {"member_id": "member id", "entities": "entities",
                      "accounts": "accounts", "entity_names": "entities' names"},
              empty="No legacy member held filings of several entities."),
        f"<h3>Entities merged from several legacy members ({s.entities_merged.total:,})</h3>",
        _shown(s.entities_merged, "entities", "most members first"),
        table(merged, {"entity_id": "entity id", "name": "name",
                       "members": "members", "member_ids": "member ids"},
              empty="No entity's filings came from several legacy members."),
    ])


def _follow_up(s: Sections) -> str:
    rows = s.multi_domain.rows.assign(domains=[
        _more(domains, n) for domains, n in zip(s.multi_domain.rows["domains"],
                                                s.multi_domain.rows["domain_count"],
                                                strict=True)])
    return section("follow-up", "Websites listing several domains (follow-up, "
                   f"{s.multi_domain.total:,})", [
        note("Since April 2019 a filing lists one domain per website; these legacy websites "
             "are migrated as they are and need a follow-up."),
        _shown(s.multi_domain, "websites", "by website filing number"),
        table(rows, {"website_filing_number": "website filing number",
                     "website_name": "website", "entity_name": "entity",
                     "domains": "domains"}, empty="No website lists several domains."),
    ])


def _possible_matches(s: Sections) -> str:
    return section("possible-matches", "Possible matches (not merged, "
                   f"{s.possible_matches.total:,})", [
        note("Organizations with valid certificates whose names are one or two edits apart "
             "in one province, one of them at least an entity of this run. A near name is "
             "never a merge: each stays its own entity, with its own account."),
        _shown(s.possible_matches, "pairs", "by province, then entity id"),
        table(s.possible_matches.rows, {"entity_id_a": "entity id", "name_a": "name",
                                        "entity_id_b": "entity id", "name_b": "name",
                                        "province": "province", "distance": "edits"},
              empty="No two organizations have near names."),
    ])


def _conflicts(s: Sections) -> str:
    total = s.conflicts.total
    rows = s.open_conflicts.rows
    opened = rows.assign(
        competitor_ids=[_more(ids, n) for ids, n in zip(rows["competitor_ids"],
                                                        rows["competitors"], strict=True)],
        held_in_run=["yes" if held else "no" for held in rows["held_in_run"]])
    return section("conflicts", f"Conflicts awaiting review ({total:,})", [
        f"<p>Records held for review: <b>{total:,}</b>; their conflict still open: "
        f"<b>{s.conflicts_open:,}</b>, decided since: <b>{total - s.conflicts_open:,}</b>.</p>"
        if total else "",
        f"<h3>Open conflicts of the target, from any run ({s.open_conflicts.total:,})</h3>",
        note("Every open conflict of the target, with its candidates: icp-migrate review "
             "export. Age: runs started since the run that opened it.")
        if s.open_conflicts.total or total else "",
        _shown(s.open_conflicts, "conflicts", "oldest first, then by id"),
        table(opened, {"conflict_id": "conflict", "kind": "kind",
                       "opened_in_run": "opened in run", "age_runs": "age (runs)",
                       "competitors": "competitors", "competitor_ids": "competitor ids",
                       "held_in_run": "held records of this run"},
              empty="No conflict of the target awaits review."),
        f"<h3>Records of this run held for review ({total:,})</h3>",
        _shown(s.conflicts, "records", "in input order"),
        table(s.conflicts.rows, {"conflict": "conflict", "review": "open or decided",
                                 "source": "source", "locator": "where",
                                 "member_id": "member id",
                                 "website_filing_number": "website filing number",
                                 "reasons": "reasons"}, empty="No record awaits review."),
    ])


def _quarantine(s: Sections) -> str:
    parts = [note(f"{s.quarantined:,} records quarantined, for "
                  f"{s.quarantine.total:,} reasons; up to {report_data.SAMPLES_PER_REASON} masked "
                  "samples each.")] if s.quarantined else []
    parts.append(_shown(s.quarantine, "reasons", "largest first"))
    for row in s.quarantine.rows.itertuples(index=False):
        samples = pd.DataFrame(row.samples, columns=["source", "locator", "member_id",
                                                     "reasons", "warnings"])
        parts.append(f"<h3>{escape(str(row.reason))} ({int(row.records):,})</h3>"
                     + table(samples, {"source": "source", "locator": "where",
                                       "member_id": "member id", "reasons": "reasons",
                                       "warnings": "warnings"}))
    return section("quarantine", "Quarantine reasons, with masked samples",
                   [p for p in parts if p] or [note("No record was quarantined.")])


def _shown(part: Capped, what: str, order: str) -> str:
    """`Showing 200 of 12,345 members (most entities first).` when the list is cut."""
    if part.total <= len(part.rows):
        return ""
    return note(f"Showing {len(part.rows):,} of {part.total:,} {what} ({order}).")


def _more(items: list, count: int) -> list:
    """A cell's list, with how many more there are when the row lists only the first."""
    rest = int(count) - len(items)
    return [*items, f"… and {rest:,} more"] if rest > 0 else list(items)


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
