"""Websites listing several domains: migrated as they are, followed up by hand."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import Capped, capped, capped_json, lists, more, shown_note, text
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

COLUMNS = ["website_filing_number", "website_name", "entity_name", "domain_count", "domains"]


def read(q: ReportQueries) -> Capped:
    """COLUMNS by filing number; domains: the first ITEMS_PER_ROW (domain, unicode_domain)."""
    found = q.follow_up()
    top, total = found["top"]
    if top.empty:
        return Capped(pd.DataFrame(columns=COLUMNS), total)
    numbers = top["k"].tolist()
    sites = found["websites"].set_index("k")
    listed = found["domains"]
    listed["pair"] = list(zip(listed["domain"], listed["unicode_domain"], strict=True))
    domains = lists(listed, "k", "pair")
    return Capped(pd.DataFrame({
        "website_filing_number": numbers,
        "website_name": sites["website_name"].reindex(numbers).to_numpy(dtype=object),
        "entity_name": sites["name"].reindex(numbers).to_numpy(dtype=object),
        "domain_count": top["n"].astype("int64").to_numpy(),
        "domains": [domains.get(n, []) for n in numbers],
    }, columns=COLUMNS), total)


def domain_label(domain: object, unicode_domain: object) -> str:
    """`xn--fiqs8s.cn (中国.cn)`: the A-label, and the Unicode form when it differs."""
    shown = text(unicode_domain)
    return text(domain) + (f" ({shown})" if shown and shown != text(domain) else "")


def _shape(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "website_filing_number": rows["website_filing_number"].map(text),
        "website_name": rows["website_name"].map(text),
        "entity_name": rows["entity_name"].map(text),
        "domain_count": rows["domain_count"].astype("int64"),
        "domains": [[domain_label(a, u) for a, u in pairs] for pairs in rows["domains"]],
    })


def html(data: Capped, run: Run) -> str:
    sites = capped(data, _shape)
    rows = sites.rows.assign(domains=[
        more(domains, n) for domains, n in zip(sites.rows["domains"],
                                               sites.rows["domain_count"], strict=True)])
    return section("follow-up", f"Websites listing several domains (follow-up, "
                   f"{sites.total:,})", [
        note("Since April 2019 a filing lists one domain per website; these legacy websites "
             "are migrated as they are and need a follow-up."),
        shown_note(sites, "websites", "by website filing number"),
        table(rows, {"website_filing_number": "website filing number",
                     "website_name": "website", "entity_name": "entity",
                     "domains": "domains"}, empty="No website lists several domains."),
    ])


def json(data: Capped, run: Run) -> dict[str, Any]:
    return {"multi_domain_websites": capped_json(capped(data, _shape))}


def markdown(summary: dict[str, Any]) -> list[str]:
    return ["Websites with several domains (follow-up): "
            f"**{summary['multi_domain_websites']['total']:,}**.", ""]


SECTION = Section("follow_up", "Several domains", read, html, json, markdown)
