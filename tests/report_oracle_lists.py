"""The oracle's checks of the list sections (`report_oracle.py` holds the rest and
ORACLE): members, websites with several domains, entity links, possible matches,
conflicts and quarantine, each computed in pandas from whole frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from icp_migrate.reports.parts import ITEMS_PER_ROW, LIST_ROWS, SAMPLES_PER_REASON, Capped
from icp_migrate.reports.reasons import reason_group
from icp_migrate.reports.sections import (
    conflicts,
    follow_up,
    links,
    members,
    possible_matches,
    quarantine,
)
from icp_migrate.store.report_lists import NO_VALID_CERTIFICATE
from icp_migrate.transforms.text import compact

if TYPE_CHECKING:
    from report_oracle import Frames


def sizes(frame: pd.DataFrame, keys: list[str], name: str, also: tuple[str, ...] = (),
           ) -> pd.DataFrame:
    """Rows per distinct `keys` (NULL a key of its own), as GROUP BY counts them; `also`:
    boolean columns summed."""
    columns = [*keys, name, *also]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(keys, dropna=False, sort=False)
    out = grouped.size().rename(name).reset_index()
    for column in also:
        out[column] = grouped[column].sum().to_numpy().astype("int64")
    out = out.astype({k: object for k in keys})
    return out.where(out.notna(), None)[columns]



def _names(f: Frames) -> dict:
    return dict(zip(f.entities["entity_id"], f.entities["name"], strict=True))


def _several(kept: pd.DataFrame, key: str, value: str) -> tuple[list, list[int], list[list]]:
    """Keys with several distinct values, most first then by key: (keys, counts, the
    values of each, sorted)."""
    pairs = kept[[key, value]].dropna().drop_duplicates()
    pairs = pairs.sort_values([key, value], ignore_index=True)
    counts = pairs[key].value_counts()
    many = counts[counts > 1]
    order = sorted(many.items(), key=lambda kv: (-kv[1], kv[0]))
    values = pairs[pairs[key].isin(many.index)].groupby(key, sort=False)[value].agg(list)
    return ([k for k, _ in order], [int(n) for _, n in order],
            [values[k] for k, _ in order])


def members_check(f: Frames) -> tuple[Capped, Capped]:
    kept, names = f.kept.dropna(subset=["member_id"]), _names(f)
    shown = slice(0, LIST_ROWS)
    ids, counts, entity_ids = _several(kept, "member_id", "entity_id")
    per_entity = f.accounts.groupby("entity_id").size().to_dict()
    split = Capped(pd.DataFrame({
        "member_id": ids[shown],
        "entities": np.array(counts[shown], dtype="int64"),
        "accounts": [sum(int(per_entity.get(e, 0)) for e in e_ids)
                     for e_ids in entity_ids[shown]],
        "entity_names": [[names.get(e) for e in e_ids[:ITEMS_PER_ROW]]
                         for e_ids in entity_ids[shown]],
    }, columns=members.SPLIT_COLUMNS), len(ids))
    ids, counts, member_ids = _several(kept, "entity_id", "member_id")
    return split, Capped(pd.DataFrame({
        "entity_id": ids[shown],
        "name": [names.get(e) for e in ids[shown]],
        "members": np.array(counts[shown], dtype="int64"),
        "member_ids": [m[:ITEMS_PER_ROW] for m in member_ids[shown]],
    }, columns=members.MERGED_COLUMNS), len(ids))


def follow_up_check(f: Frames) -> Capped:
    run_sites = set(f.recs.loc[f.recs["disposition"].eq("loaded"),
                               "website_filing_number"].dropna())
    listed = f.domains[f.domains["website_filing_number"].isin(run_sites)].sort_values(
        ["website_filing_number", "domain"])
    counts = listed["website_filing_number"].value_counts()
    numbers = sorted(counts[counts > 1].index)
    shown = numbers[:LIST_ROWS]
    pairs = listed[listed["website_filing_number"].isin(shown)]
    found: dict[str, list] = {}
    for number, domain, shown_as in zip(pairs["website_filing_number"], pairs["domain"],
                                        pairs["unicode_domain"], strict=True):
        found.setdefault(number, []).append((domain, None if pd.isna(shown_as) else shown_as))
    sites, names = f.websites.set_index("website_filing_number"), _names(f)
    return Capped(pd.DataFrame({
        "website_filing_number": shown,
        "website_name": [sites["website_name"].get(n) for n in shown],
        "entity_name": [names.get(sites["entity_id"].get(n)) for n in shown],
        "domain_count": np.array([counts[n] for n in shown], dtype="int64"),
        "domains": [found[n][:ITEMS_PER_ROW] for n in shown],
    }, columns=follow_up.COLUMNS), len(numbers))


def links_check(f: Frames) -> tuple[pd.DataFrame, Capped]:
    """Every link with its record; the risky: loaded, joined by name fallback or shared
    filing number, or by a decision on a record without a valid certificate."""
    joined = f.links.drop(columns=["source", "locator"], errors="ignore").merge(
        f.recs, on="row_id", suffixes=("", "_record")).sort_values("row_id")
    kinds = sizes(joined, ["link_kind", "disposition"], "records")
    warned = joined["warnings"].map(lambda w: str(w).startswith(NO_VALID_CERTIFICATE)
                                    if w is not None else False)
    risky = joined[joined["disposition"].eq("loaded") & (
        joined["link_kind"].isin(["name_fallback", "shared_filing_number"])
        | (joined["link_kind"].eq("review_decision") & warned))]
    rows = risky.reindex(columns=links.RISKY_COLUMNS).astype(object)
    return kinds, Capped(rows.head(LIST_ROWS).reset_index(drop=True), len(rows))


def possible_matches_check(f: Frames) -> Capped:
    """Every two organizations with a certificate of one province compared (no blocking):
    the pairs 1 or 2 edits apart of which one at least is an entity of the run."""
    run_entities, ents = f.run_entities, f.entities
    orgs = ents[ents["entity_type"].ne("individual") & ents["cert_number"].notna()
                & ents["name"].notna() & ents["province"].notna()]
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
                         columns=possible_matches.COLUMNS)
    frame = frame.astype({c: object for c in possible_matches.COLUMNS[:-1]})
    frame["distance"] = frame["distance"].astype("int64")
    return Capped(frame.head(LIST_ROWS).reset_index(drop=True), len(frame))


def conflicts_check(f: Frames) -> conflicts.Conflicts:
    review = f.recs[f.recs["disposition"].eq("needs_review")]
    decided = {k: (dec, e, who) for k, dec, e, who in f.decisions[
        ["conflict_key", "decision", "entity_id", "decided_by"]].itertuples(index=False)}
    none = (None, None, None)
    found = [decided.get(k, none) if k is not None else none for k in review["conflict_key"]]
    held = pd.DataFrame({
        "conflict_key": review["conflict_key"].to_numpy(dtype=object),
        "decision": [d[0] for d in found],
        "decided_entity": [d[1] for d in found],
        "decided_by": [d[2] for d in found],
        **{c: review[c].to_numpy(dtype=object)
           for c in ("source", "locator", "member_id", "website_filing_number", "reasons")},
    }, columns=conflicts.HELD_COLUMNS)
    held = held.astype(object).where(held.notna(), None)
    return conflicts.Conflicts(Capped(held.head(LIST_ROWS).reset_index(drop=True), len(held)),
                               int(held["decision"].notna().sum()), _open_conflicts(f))


def _open_conflicts(f: Frames) -> Capped:
    """The ledger's conflicts no decision names; age: the runs started after the opening
    run; the oldest first, then by id (code point order)."""
    if f.ledger is None or f.ledger.empty:
        return Capped(pd.DataFrame(columns=conflicts.OPEN_COLUMNS), 0)
    assert f.runs is not None and f.competitors is not None
    started = dict(zip(f.runs["run_id"], pd.to_datetime(f.runs["started_at"], utc=True),
                       strict=True))
    decided = set(f.decisions["conflict_key"])
    held = set(f.recs.loc[f.recs["disposition"].eq("needs_review"), "conflict_key"].dropna())
    claimants: dict[str, list] = {}
    for conflict_id, claimant in zip(f.competitors["conflict_id"], f.competitors["claimant"],
                                     strict=True):
        claimants.setdefault(conflict_id, []).append(claimant)
    rows = []
    for conflict_id, kind, opened in zip(f.ledger["conflict_id"], f.ledger["kind"],
                                         f.ledger["opened_run_id"], strict=True):
        if conflict_id in decided:
            continue
        ids = sorted(claimants.get(conflict_id, []))
        rows.append({"conflict_id": conflict_id, "kind": kind, "opened_run_id": opened,
                     "age_runs": sum(t > started[opened] for t in started.values()),
                     "competitors": len(ids), "competitor_ids": ids[:ITEMS_PER_ROW],
                     "in_run": int(conflict_id in held)})
    rows.sort(key=lambda r: (-r["age_runs"], r["conflict_id"]))
    frame = pd.DataFrame(rows[:LIST_ROWS], columns=conflicts.OPEN_COLUMNS)
    frame = frame.astype({c: "int64" for c in ("age_runs", "competitors", "in_run")})
    return Capped(frame, len(rows))


def quarantine_check(f: Frames) -> quarantine.Quarantine:
    held = f.recs[f.recs["disposition"].eq("quarantined")]
    warnings = int(f.recs["warnings"].notna().sum())
    if held.empty:
        return quarantine.Quarantine(Capped(pd.DataFrame(columns=quarantine.COLUMNS), 0), 0,
                                     warnings)
    table = {r: reason_group(r) for r in held["reasons"].dropna().unique()}
    grouped = held.assign(reason=held["reasons"].map(table).fillna(reason_group(None)))
    rows = [{"reason": reason, "records": len(group),
             "samples": [{k: getattr(r, k) for k in quarantine.SAMPLE_FIELDS}
                         for r in group.head(SAMPLES_PER_REASON).itertuples(index=False)]}
            for reason, group in grouped.groupby("reason", sort=True)]
    frame = pd.DataFrame(rows, columns=quarantine.COLUMNS)
    frame["records"] = frame["records"].astype("int64")
    frame = frame.sort_values(["records", "reason"], ascending=[False, True], ignore_index=True)
    return quarantine.Quarantine(Capped(frame.head(LIST_ROWS).reset_index(drop=True),
                                        len(frame)), len(held), warnings)
