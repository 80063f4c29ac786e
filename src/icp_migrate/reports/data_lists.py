"""The report's lists, read from the store: members split into several accounts, entities
merged from several members, websites with several domains, possible matches, records held
for review, open conflicts and quarantine reasons with samples. Each is Capped: its first
LIST_ROWS rows in the report's order, and how many it has (`data.py` gathers them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from icp_migrate.reports.reasons import NO_REASON, reason_group
from icp_migrate.store.report_queries import ReportQueries
from icp_migrate.transforms.near_names import PAIR_COLUMNS, near_name_pairs

LIST_ROWS = 200  # rows of each list section (members split, conflicts, …); totals count all
ITEMS_PER_ROW = 20  # names, member ids or domains listed in one row; its count says all
SAMPLES_PER_REASON = 3  # masked sample records per quarantine reason

MEMBERS_SPLIT_COLUMNS = ["member_id", "entities", "accounts", "entity_names"]
ENTITIES_MERGED_COLUMNS = ["entity_id", "name", "members", "member_ids"]
MULTI_DOMAIN_COLUMNS = ["website_filing_number", "website_name", "entity_name", "domain_count",
                        "domains"]
CONFLICT_COLUMNS = ["conflict_key", "decision", "decided_entity", "decided_by", "source",
                    "locator", "member_id", "website_filing_number", "reasons"]
OPEN_CONFLICT_COLUMNS = ["conflict_id", "kind", "opened_run_id", "age_runs", "competitors",
                         "competitor_ids", "in_run"]
POSSIBLE_MATCH_COLUMNS = PAIR_COLUMNS  # entity ids and names, province, edit distance
QUARANTINE_COLUMNS = ["reason", "records", "samples"]
SAMPLE_FIELDS = ("source", "locator", "member_id", "reasons", "warnings")


@dataclass
class Capped:
    """The first LIST_ROWS rows of a list, in the report's order, and how many it has."""

    rows: pd.DataFrame
    total: int


def members_split(q: ReportQueries) -> Capped:
    top, total = q.split_members()
    if top.empty:
        return Capped(pd.DataFrame(columns=MEMBERS_SPLIT_COLUMNS), total)
    members = top["k"].tolist()
    # each member's entities (the first ITEMS_PER_ROW named) and the accounts of all
    ranked = q.member_entities(members)
    names = _lists(ranked, "k", "name")
    accounts = dict(zip(ranked["k"], ranked["accounts"], strict=True))
    return Capped(pd.DataFrame({
        "member_id": members,
        "entities": top["n"].to_numpy(),
        "accounts": np.array([int(accounts.get(m, 0)) for m in members], dtype="int64"),
        "entity_names": [names.get(m, []) for m in members],
    }, columns=MEMBERS_SPLIT_COLUMNS), total)


def entities_merged(q: ReportQueries) -> Capped:
    top, total = q.merged_entities()
    if top.empty:
        return Capped(pd.DataFrame(columns=ENTITIES_MERGED_COLUMNS), total)
    ids = top["k"].tolist()
    names = q.names(ids)
    firsts = _lists(q.first_members(ids), "k", "v")
    return Capped(pd.DataFrame({
        "entity_id": ids,
        "name": [names.get(e) for e in ids],
        "members": top["n"].astype("int64").to_numpy(),
        "member_ids": [firsts.get(e, []) for e in ids],
    }, columns=ENTITIES_MERGED_COLUMNS), total)


def multi_domain(q: ReportQueries) -> Capped:
    top, total = q.multi_domain()
    if top.empty:
        return Capped(pd.DataFrame(columns=MULTI_DOMAIN_COLUMNS), total)
    numbers = top["k"].tolist()
    sites = q.websites(numbers).set_index("k")
    listed = q.first_domains(numbers)
    listed["pair"] = list(zip(listed["domain"], listed["unicode_domain"], strict=True))
    domains = _lists(listed, "k", "pair")
    return Capped(pd.DataFrame({
        "website_filing_number": numbers,
        "website_name": sites["website_name"].reindex(numbers).to_numpy(dtype=object),
        "entity_name": sites["name"].reindex(numbers).to_numpy(dtype=object),
        "domain_count": top["n"].astype("int64").to_numpy(),
        "domains": [domains.get(n, []) for n in numbers],
    }, columns=MULTI_DOMAIN_COLUMNS), total)


def conflicts(q: ReportQueries, total: int) -> Capped:
    """The first records held for review by row id; `total`: how many the run holds."""
    if not total:
        return Capped(pd.DataFrame(columns=CONFLICT_COLUMNS), 0)
    return Capped(q.held_for_review()[CONFLICT_COLUMNS], total)


def open_conflicts(q: ReportQueries) -> Capped:
    """The ledger's conflicts no review decision names, oldest first, then by id."""
    top, total = q.open_conflicts()
    if top.empty:
        return Capped(pd.DataFrame(columns=OPEN_CONFLICT_COLUMNS), total)
    ids = top["k"].tolist()
    listed = _lists(q.first_claimants(ids), "k", "v")
    return Capped(pd.DataFrame({
        "conflict_id": ids,
        "kind": top["kind"].to_numpy(dtype=object),
        "opened_run_id": top["opened_run_id"].to_numpy(dtype=object),
        "age_runs": top["age_runs"].astype("int64").to_numpy(),
        "competitors": top["n"].astype("int64").to_numpy(),
        "competitor_ids": [listed.get(k, []) for k in ids],
        "in_run": top["in_run"].astype("int64").to_numpy(),
    }, columns=OPEN_CONFLICT_COLUMNS), total)


def quarantine(q: ReportQueries, reasons: pd.DataFrame, texts: pd.DataFrame) -> Capped:
    """The largest reason groups, each with its first records by row id.

    A group's first SAMPLES_PER_REASON records lie among the first records of the texts
    that start earliest in it (each text's first row is one of the group's), so only
    those texts' first rows are read.
    """
    groups = _largest_first(reasons[reasons["disposition"] == "quarantined"])
    total = len(groups)
    groups = groups.head(LIST_ROWS)
    if groups.empty:
        return Capped(pd.DataFrame(columns=QUARANTINE_COLUMNS), total)
    held = texts[texts["disposition"] == "quarantined"].assign(
        reason=lambda t: t["reasons"].map(reason_group))
    held = held[held["reason"].isin(set(groups["reason"]))]
    earliest = (held.sort_values("first_row").groupby("reason", sort=False)
                .head(SAMPLES_PER_REASON))
    nulls = NO_REASON in set(groups["reason"])  # records without any reason text
    rows = q.quarantine_samples(earliest["reasons"].tolist(), nulls, SAMPLES_PER_REASON)
    rows["reason"] = rows["reasons"].map(reason_group)
    rows = rows.sort_values("row_id", kind="stable")
    samples = {reason: [{k: getattr(r, k) for k in SAMPLE_FIELDS}
                        for r in group.head(SAMPLES_PER_REASON).itertuples(index=False)]
               for reason, group in rows.groupby("reason", sort=False)}
    groups["samples"] = [samples.get(r, []) for r in groups["reason"]]
    return Capped(groups[QUARANTINE_COLUMNS].reset_index(drop=True), total)


def possible_matches(orgs: pd.DataFrame) -> Capped:
    """Organizations with a valid certificate whose names are 1 or 2 edits apart in one
    province, at least one of the two an entity of this run: listed, never merged.

    `orgs`: entity_id, name, province and in_run (1 for the run's entities) of the store's
    organizations with a certificate. By province, then entity ids (near_name_pairs)."""
    in_run = orgs["in_run"].astype(bool)
    provinces = set(orgs.loc[in_run, "province"])  # the only ones a pair can be in
    pairs = near_name_pairs(orgs[orgs["province"].isin(provinces)])
    ours = set(orgs.loc[in_run, "entity_id"])
    pairs = pairs[pairs["entity_id_a"].isin(ours) | pairs["entity_id_b"].isin(ours)]
    return Capped(pairs.head(LIST_ROWS).reset_index(drop=True), len(pairs))


def _largest_first(groups: pd.DataFrame) -> pd.DataFrame:
    """Reason groups by records, largest first, then by reason."""
    return groups.assign(records=groups["records"].astype("int64")).sort_values(
        ["records", "reason"], ascending=[False, True], ignore_index=True)


def _lists(frame: pd.DataFrame, key: str, value: str) -> dict[str, list]:
    """Each key's values as a list, in the frame's order."""
    out: dict[str, list] = {}
    for k, v in zip(frame[key], frame[value], strict=True):
        out.setdefault(k, []).append(v)
    return out
