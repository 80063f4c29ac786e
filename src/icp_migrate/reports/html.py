"""The run report as one self-contained HTML page with inline SVG charts: the page's frame
(header, navigation, footer) around each section of SECTIONS, in order."""

from __future__ import annotations

import json
from html import escape

from icp_migrate.masking import mask_text
from icp_migrate.reports.data import PREVIEW, ReportData
from icp_migrate.reports.page import note, page
from icp_migrate.reports.sections import SECTIONS
from icp_migrate.reports.sections.validation import GX_PAGE
from icp_migrate.store.target import display_url

__all__ = ["GX_PAGE", "render_report"]


def render_report(data: ReportData) -> str:
    run = data.run
    title = f"ICP migration run {run['run_id']}"
    body = [
        f"<header><h1>{escape(title)}</h1>{_status(str(run['status']))}{_preview(data)}"
        f"{_run_facts(data)}</header>",
        "<nav>" + "".join(f'<a href="#{s.anchor}">{escape(s.nav)}</a>' for s in SECTIONS)
        + "</nav>",
        *(s.html(data.parts[s.name], data.facts) for s in SECTIONS),
        "<footer>" + note("Certificate numbers are masked; names are shown as found in the "
                          "legacy data. Built from the target store by icp-migrate.")
        + "</footer>",
    ]
    return page(title, body)


def _status(status: str) -> str:
    return f' <span class="status {escape(status)}">{escape(status)}</span>'


def _preview(data: ReportData) -> str:
    if data.run["status"] != PREVIEW:
        return ""
    return note("Preview (a dry run): nothing was loaded. This is the report the run would "
                "have if it were loaded into the target as it stands now; the changes it "
                "would make are listed one per row in preview.csv beside this page.")


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
