"""The same ReportData as `data.read_report_data`, computed in pandas from whole frames.

For a run whose records are at hand rather than in a store (tests, a page built from an
inline plan), and the reference the store's GROUP BY queries are checked against: on the
same records both give equal sections. Costs memory and time in proportion to the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from icp_migrate.reports import data as d
from icp_migrate.reports.data import Capped, ReportData
from icp_migrate.reports.reasons import group_reasons, reason_group
from icp_migrate.transforms.text import compact


def report_data_from_frames(
    run: dict,
    target: str,
    dispositions: pd.DataFrame,  # record_dispositions' columns, one row per record
    entities: pd.DataFrame,  # entity_id, entity_type, name, province, cert_number
    accounts: pd.DataFrame,  # account_id, entity_id, account_kind, real_name_...
    websites: pd.DataFrame,  # website_filing_number, entity_id, website_name
    domains: pd.DataFrame,  # domain, unicode_domain, website_filing_number
    history: pd.DataFrame,
    decisions: pd.DataFrame | None = None,  # conflict_key, decision, entity_id, decided_by
    validations: dict[str, dict] | None = None,
    ledger: pd.DataFrame | None = None,  # conflicts: conflict_id, kind, opened_run_id
    competitors: pd.DataFrame | None = None,  # conflict_competitors: conflict_id, claimant
    runs: pd.DataFrame | None = None,  # every run of the target: run_id, started_at
) -> ReportData:
    """`entities`, `accounts`, `websites` and `domains` may hold more than the run's: only
    the entities of its loaded and duplicate records, and the websites it loaded, count.
    `ledger`, `competitors` and `runs` are the target's whole tables (no ledger: no open
    conflict)."""
    recs = dispositions.astype(object).where(dispositions.notna(), None)
    recs = recs.sort_values("row_id", kind="stable", ignore_index=True)
    kept = recs[recs["disposition"].isin(["loaded", "duplicate"]) & recs["entity_id"].notna()]
    run_entities = set(kept["entity_id"])
    possible_matches = _possible_matches(entities, run_entities)
    entities = entities[entities["entity_id"].isin(run_entities)]
    accounts = accounts[accounts["entity_id"].isin(run_entities)]
    loaded = recs[recs["disposition"].eq("loaded")]
    run_sites = set(loaded["website_filing_number"].dropna())
    domains = domains[domains["website_filing_number"].isin(run_sites)]
    names = _by_id(entities, "entity_id", "name")
    decisions = pd.DataFrame(columns=["conflict_key", "decision", "entity_id", "decided_by"]) \
        if decisions is None else decisions
    conflicts = _conflicts(recs, decisions)
    return ReportData(
        run=run,
        target=target,
        dispositions=_sizes(recs.assign(with_warnings=recs["warnings"].notna()),
                            ["source", "disposition"], "records", also="with_warnings"),
        reasons=group_reasons(_sizes(recs, ["disposition", "reasons"], "records")),
        entities=_sizes(entities, ["entity_type", "province"], "entities"),
        accounts=_sizes(accounts.assign(real_name=[
            "required" if v is not None and not pd.isna(v) and bool(v) else "not required"
            for v in accounts["real_name_verification_required"]]),
            ["account_kind", "real_name"], "accounts"),
        members_split=_members_split(kept, names, accounts),
        entities_merged=_entities_merged(kept, names),
        multi_domain=_multi_domain(websites, domains, names),
        possible_matches=possible_matches,
        conflicts=Capped(conflicts.head(d.LIST_ROWS).reset_index(drop=True), len(conflicts)),
        conflicts_decided=int(conflicts["decision"].notna().sum()),
        open_conflicts=_open_conflicts(recs, decisions, ledger, competitors, runs),
        quarantine=_quarantine(recs[recs["disposition"].eq("quarantined")]),
        history=history,
        validations=validations or {},
    )


def _sizes(frame: pd.DataFrame, keys: list[str], name: str, also: str | None = None,
           ) -> pd.DataFrame:
    """Rows per distinct `keys` (NULL a key of its own), as GROUP BY counts them."""
    columns = [*keys, name, *([also] if also else [])]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(keys, dropna=False, sort=False)
    out = grouped.size().rename(name).reset_index()
    if also:
        out[also] = grouped[also].sum().to_numpy().astype("int64")
    out = out.astype({k: object for k in keys})
    return out.where(out.notna(), None)[columns]


def _by_id(frame: pd.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value], strict=True))


def _several(kept: pd.DataFrame, key: str, value: str) -> tuple[list, list[int], list[list]]:
    """Keys with several distinct values, most first then by key: (keys, counts, the first
    ITEMS_PER_ROW values of each, sorted)."""
    pairs = kept[[key, value]].dropna().drop_duplicates()
    pairs = pairs.sort_values([key, value], ignore_index=True)
    counts = pairs[key].value_counts()
    many = counts[counts > 1]
    order = sorted(many.items(), key=lambda kv: (-kv[1], kv[0]))
    values = pairs[pairs[key].isin(many.index)].groupby(key, sort=False)[value].agg(list)
    return ([k for k, _ in order], [int(n) for _, n in order],
            [values[k] for k, _ in order])


def _members_split(kept: pd.DataFrame, names: dict, accounts: pd.DataFrame) -> Capped:
    members, counts, entity_ids = _several(kept.dropna(subset=["member_id"]), "member_id",
                                           "entity_id")
    per_entity = accounts.groupby("entity_id").size().to_dict()
    shown = slice(0, d.LIST_ROWS)
    return Capped(pd.DataFrame({
        "member_id": members[shown],
        "entities": np.array(counts[shown], dtype="int64"),
        "accounts": [sum(int(per_entity.get(e, 0)) for e in ids) for ids in entity_ids[shown]],
        "entity_names": [[names.get(e) for e in ids[:d.ITEMS_PER_ROW]]
                         for ids in entity_ids[shown]],
    }, columns=d.MEMBERS_SPLIT_COLUMNS), len(members))


def _entities_merged(kept: pd.DataFrame, names: dict) -> Capped:
    ids, counts, members = _several(kept.dropna(subset=["member_id"]), "entity_id",
                                    "member_id")
    shown = slice(0, d.LIST_ROWS)
    return Capped(pd.DataFrame({
        "entity_id": ids[shown],
        "name": [names.get(e) for e in ids[shown]],
        "members": np.array(counts[shown], dtype="int64"),
        "member_ids": [m[:d.ITEMS_PER_ROW] for m in members[shown]],
    }, columns=d.ENTITIES_MERGED_COLUMNS), len(ids))


def _multi_domain(websites: pd.DataFrame, domains: pd.DataFrame, names: dict) -> Capped:
    listed = domains.dropna(subset=["website_filing_number"]).sort_values(
        ["website_filing_number", "domain"])
    counts = listed["website_filing_number"].value_counts()
    numbers = sorted(counts[counts > 1].index)
    shown = numbers[:d.LIST_ROWS]
    pairs = listed[listed["website_filing_number"].isin(shown)]
    lists: dict[str, list] = {}
    for number, domain, shown_as in zip(pairs["website_filing_number"], pairs["domain"],
                                        pairs["unicode_domain"], strict=True):
        lists.setdefault(number, []).append((domain, None if pd.isna(shown_as) else shown_as))
    sites = websites.set_index("website_filing_number")
    return Capped(pd.DataFrame({
        "website_filing_number": shown,
        "website_name": [sites["website_name"].get(n) for n in shown],
        "entity_name": [names.get(sites["entity_id"].get(n)) for n in shown],
        "domain_count": np.array([counts[n] for n in shown], dtype="int64"),
        "domains": [lists[n][:d.ITEMS_PER_ROW] for n in shown],
    }, columns=d.MULTI_DOMAIN_COLUMNS), len(numbers))


def _possible_matches(entities: pd.DataFrame, run_entities: set) -> Capped:
    """Every two organizations with a certificate of one province compared (no blocking):
    the pairs 1 or 2 edits apart of which one at least is an entity of the run."""
    orgs = entities[entities["entity_type"].ne("individual") & entities["cert_number"].notna()
                    & entities["name"].notna() & entities["province"].notna()]
    orgs = orgs.assign(key=[compact(n) for n in orgs["name"]])
    orgs = orgs[orgs["key"] != ""]
    rows = []
    for province, group in orgs.groupby("province", sort=False):
        keys = group["key"].tolist()
        distance = process.cdist(keys, keys, scorer=Levenshtein.distance, dtype=np.int32)
        for i, j in zip(*np.nonzero((distance >= 1) & (distance <= 2)), strict=True):
            a, b = group.iloc[i], group.iloc[j]
            if a["entity_id"] < b["entity_id"] and run_entities & {a["entity_id"],
                                                                   b["entity_id"]}:
                rows.append((a["entity_id"], a["name"], b["entity_id"], b["name"], province,
                             int(distance[i, j])))
    frame = pd.DataFrame(sorted(rows, key=lambda r: (r[4], r[0], r[2])),
                         columns=d.POSSIBLE_MATCH_COLUMNS)
    frame = frame.astype({c: object for c in d.POSSIBLE_MATCH_COLUMNS[:-1]})
    frame["distance"] = frame["distance"].astype("int64")
    return Capped(frame.head(d.LIST_ROWS).reset_index(drop=True), len(frame))


def _conflicts(recs: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    review = recs[recs["disposition"].eq("needs_review")]
    decided = {k: (dec, e, who) for k, dec, e, who in decisions[
        ["conflict_key", "decision", "entity_id", "decided_by"]].itertuples(index=False)}
    none = (None, None, None)
    found = [decided.get(k, none) if k is not None else none for k in review["conflict_key"]]
    frame = pd.DataFrame({
        "conflict_key": review["conflict_key"].to_numpy(dtype=object),
        "decision": [f[0] for f in found],
        "decided_entity": [f[1] for f in found],
        "decided_by": [f[2] for f in found],
        **{c: review[c].to_numpy(dtype=object)
           for c in ("source", "locator", "member_id", "website_filing_number", "reasons")},
    }, columns=d.CONFLICT_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)


def _open_conflicts(recs: pd.DataFrame, decisions: pd.DataFrame,
                    ledger: pd.DataFrame | None, competitors: pd.DataFrame | None,
                    runs: pd.DataFrame | None) -> Capped:
    """The ledger's conflicts no decision names; age: the runs started after the opening
    run; the oldest first, then by id (code point order)."""
    if ledger is None or ledger.empty:
        return Capped(pd.DataFrame(columns=d.OPEN_CONFLICT_COLUMNS), 0)
    assert runs is not None and competitors is not None
    started = dict(zip(runs["run_id"], pd.to_datetime(runs["started_at"], utc=True),
                       strict=True))
    decided = set(decisions["conflict_key"])
    held = set(recs.loc[recs["disposition"].eq("needs_review"), "conflict_key"].dropna())
    claimants: dict[str, list] = {}
    for conflict_id, claimant in zip(competitors["conflict_id"], competitors["claimant"],
                                     strict=True):
        claimants.setdefault(conflict_id, []).append(claimant)
    rows = []
    for conflict_id, kind, opened in zip(ledger["conflict_id"], ledger["kind"],
                                         ledger["opened_run_id"], strict=True):
        if conflict_id in decided:
            continue
        ids = sorted(claimants.get(conflict_id, []))
        rows.append({"conflict_id": conflict_id, "kind": kind, "opened_run_id": opened,
                     "age_runs": sum(t > started[opened] for t in started.values()),
                     "competitors": len(ids), "competitor_ids": ids[:d.ITEMS_PER_ROW],
                     "in_run": int(conflict_id in held)})
    rows.sort(key=lambda r: (-r["age_runs"], r["conflict_id"]))
    frame = pd.DataFrame(rows[:d.LIST_ROWS], columns=d.OPEN_CONFLICT_COLUMNS)
    frame = frame.astype({c: "int64" for c in ("age_runs", "competitors", "in_run")})
    return Capped(frame, len(rows))


def _quarantine(held: pd.DataFrame) -> Capped:
    if held.empty:
        return Capped(pd.DataFrame(columns=d.QUARANTINE_COLUMNS), 0)
    table = {r: reason_group(r) for r in held["reasons"].dropna().unique()}
    grouped = held.assign(reason=held["reasons"].map(table).fillna(reason_group(None)))
    rows = [{"reason": reason, "records": len(group),
             "samples": [{k: getattr(r, k) for k in d.SAMPLE_FIELDS}
                         for r in group.head(d.SAMPLES_PER_REASON).itertuples(index=False)]}
            for reason, group in grouped.groupby("reason", sort=True)]
    frame = pd.DataFrame(rows, columns=d.QUARANTINE_COLUMNS)
    frame["records"] = frame["records"].astype("int64")
    frame = frame.sort_values(["records", "reason"], ascending=[False, True], ignore_index=True)
    return Capped(frame.head(d.LIST_ROWS).reset_index(drop=True), len(frame))
