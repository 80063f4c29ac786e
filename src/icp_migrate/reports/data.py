"""What a run's report is made of, counted in the store (`store/report_queries.py` runs
the GROUP BY queries and reads the first LIST_ROWS of each list; no rendering here).

`tests/report_oracle.py` computes the same ReportData in pandas from whole frames: the
reference the tests hold the store's SQL to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from icp_migrate.errors import TargetError, UsageError
from icp_migrate.reports.reasons import NO_REASON, group_reasons, reason_group
from icp_migrate.store import runs
from icp_migrate.store.report_queries import ReportQueries, report_queries
from icp_migrate.store.target import display_url
from icp_migrate.transforms.near_names import PAIR_COLUMNS, near_name_pairs

HISTORY_RUNS = 30  # runs shown in the history chart, this one and those before it
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


@dataclass
class ReportData:
    """One run as the store holds it: its row, its counts, and the head of each list.

    Values are as stored (certificate numbers whole, names unescaped): `sections` masks.
    """

    run: dict
    target: str  # display form, password hidden
    dispositions: pd.DataFrame  # source, disposition, records, with_warnings (one per pair)
    reasons: pd.DataFrame  # disposition, reason (its group), records
    entities: pd.DataFrame  # entity_type, province, entities (of loaded and duplicate records)
    accounts: pd.DataFrame  # account_kind, real_name ('required' or 'not required'), accounts
    members_split: Capped  # MEMBERS_SPLIT_COLUMNS; entity_names: the first ITEMS_PER_ROW
    entities_merged: Capped  # ENTITIES_MERGED_COLUMNS; member_ids: the first ITEMS_PER_ROW
    multi_domain: Capped  # MULTI_DOMAIN_COLUMNS; domains: (domain, unicode_domain) pairs
    possible_matches: Capped  # POSSIBLE_MATCH_COLUMNS: see possible_matches
    conflicts: Capped  # CONFLICT_COLUMNS: needs_review records by row id, with any decision
    conflicts_decided: int  # of conflicts.total, records whose conflict a person decided
    # OPEN_CONFLICT_COLUMNS: every open conflict of the target's ledger (from any run), the
    # oldest first: age_runs counts the runs started after the one that opened it;
    # competitor_ids: the first ITEMS_PER_ROW claimants (entity ids, `v:` versions);
    # in_run: 1 when this run held records in it
    open_conflicts: Capped
    quarantine: Capped  # reason, records, samples (dicts of SAMPLE_FIELDS), largest first
    history: pd.DataFrame  # runs up to this one, oldest first
    validations: dict[str, dict] = field(default_factory=dict)


def latest_run_id(engine: Engine) -> str:
    """The run started last, whatever its status; TargetError when the store has none."""
    run_id = runs.latest_run_id(engine)
    if run_id is None:
        raise TargetError(f"no run recorded in {display_url(engine.url)}")
    return run_id


def read_report_data(engine: Engine, run_id: str) -> ReportData:
    """Every part of the run's report, counted by the database in one connection."""
    with report_queries(engine, run_id, LIST_ROWS, ITEMS_PER_ROW) as q:
        run = _run(q, engine)
        dispositions = q.dispositions()
        # one row per distinct reason text, grouped by rule in pandas (reason_group); the
        # records without a reason are the rest of their disposition's count
        texts = q.reason_texts()
        sums = dispositions.groupby("disposition")[["records", "with_reasons"]].sum()
        reasons = group_reasons(texts, unreasoned=(sums["records"] - sums["with_reasons"]))
        # the run's entities found once, counted by type and province, and their accounts
        parts = q.entity_parts()
        data = ReportData(
            run=run,
            target=display_url(engine.url),
            dispositions=dispositions[["source", "disposition", "records", "with_warnings"]],
            reasons=reasons,
            entities=parts.loc[parts["part"] == "entities", ["a", "b", "n"]].set_axis(
                ["entity_type", "province", "entities"], axis=1).reset_index(drop=True),
            accounts=parts.loc[parts["part"] == "accounts", ["a", "b", "n"]].set_axis(
                ["account_kind", "real_name", "accounts"], axis=1).reset_index(drop=True),
            members_split=_members_split(q),
            entities_merged=_entities_merged(q),
            multi_domain=_multi_domain(q),
            possible_matches=possible_matches(q.organizations()),
            conflicts=_conflicts(q, int(sums["records"].get("needs_review", 0))),
            conflicts_decided=q.decided(),
            open_conflicts=_open_conflicts(q),
            quarantine=_quarantine(q, reasons, texts),
            history=_history(q.history(HISTORY_RUNS)),
            validations=q.validations(),
        )
    return data


def _members_split(q: ReportQueries) -> Capped:
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


def _entities_merged(q: ReportQueries) -> Capped:
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


def _multi_domain(q: ReportQueries) -> Capped:
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


def _conflicts(q: ReportQueries, total: int) -> Capped:
    """The first records held for review by row id; `total`: how many the run holds."""
    if not total:
        return Capped(pd.DataFrame(columns=CONFLICT_COLUMNS), 0)
    return Capped(q.held_for_review()[CONFLICT_COLUMNS], total)


def _open_conflicts(q: ReportQueries) -> Capped:
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


def _quarantine(q: ReportQueries, reasons: pd.DataFrame, texts: pd.DataFrame) -> Capped:
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


def _history(frame: pd.DataFrame) -> pd.DataFrame:
    history = frame.iloc[::-1].reset_index(drop=True)
    history["started_at"] = history["started_at"].map(utc_text)
    for column in history.columns[3:]:  # counts; NULL for a failed run
        history[column] = pd.Series([None if pd.isna(v) else int(v) for v in history[column]],
                                    dtype=object)
    return history


def _run(q: ReportQueries, engine: Engine) -> dict:
    run = q.run()
    if run is None:
        raise UsageError(f"no run {q.run_id!r} in {display_url(engine.url)}")
    run["started_at"] = utc_text(run["started_at"])
    run["finished_at"] = utc_text(run["finished_at"])
    return run


def utc_text(value: object) -> str | None:
    """A stored time as `2025-01-01T08:00:00Z`; SQLite hands back naive UTC, PostgreSQL aware."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
