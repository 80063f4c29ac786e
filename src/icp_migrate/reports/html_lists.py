"""The report's list sections as HTML: members split and merged, websites with several
domains, possible matches, conflicts and quarantine; each shows its first rows and says
how many it has (`html.py` frames the page)."""

from __future__ import annotations

from html import escape

import pandas as pd

from icp_migrate.reports import data as report_data
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.sections import Capped, Sections


def members(s: Sections) -> str:
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


def follow_up(s: Sections) -> str:
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


def possible_matches(s: Sections) -> str:
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


def conflicts(s: Sections) -> str:
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


def quarantine(s: Sections) -> str:
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
