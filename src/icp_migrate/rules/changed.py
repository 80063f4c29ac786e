"""Known websites brought again with other content: a `changed:` conflict, never a silent
overwrite. A website's version is its name, filing date, member and domains."""

from __future__ import annotations

import hashlib

import pandas as pd

from ..transforms.text import is_in, join_groups
from .ledger import arbitrate, outcome


def version_of(name: pd.Series, filed_on: pd.Series, member: pd.Series,
               domains: pd.Series) -> pd.DataFrame:
    """A website's content as compared across runs (name, date, member, domains): its
    `v:<hash>` claimant and the readable detail."""
    date = pd.to_datetime(filed_on).dt.strftime("%Y-%m-%d")
    detail = ("name=" + name.fillna("").astype(str) + "; filed_on=" + date.fillna("").astype(str)
              + "; member=" + member.fillna("").astype(str) + "; domains="
              + domains.fillna("").astype(str))
    claimant = "v:" + detail.map(lambda t: hashlib.sha256(t.encode()).hexdigest()[:16])
    return pd.DataFrame({"claimant": claimant, "detail": detail}, index=name.index)


def _joined_domains(domains: pd.DataFrame, websites: pd.Series) -> pd.Series:
    """website -> ';'-joined sorted domains, for the given websites only."""
    mine = domains[is_in(domains["website_filing_number"], websites)]
    if mine.empty:
        return pd.Series(dtype=object)
    mine = mine.sort_values(["website_filing_number", "domain"], kind="stable")
    return join_groups(mine["website_filing_number"], mine["domain"], ";")


def _texts(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def hold_changed(sites: pd.DataFrame, out: pd.DataFrame, first: pd.DataFrame,
             planned: pd.DataFrame, known_websites: pd.DataFrame, known_domains: pd.DataFrame,
             causes: dict[str, str], ledger: pd.DataFrame) -> pd.DataFrame:
    """Known websites (same number, same entity) brought again with other content: an
    open `changed:` conflict holds every record of the website; `keep` quarantines them,
    `replace` loads the new version. Returns the versions in play (for the review list)."""
    same = first.merge(known_websites, on=["website_filing_number", "entity_id"],
                       suffixes=("", "_stored"))
    same = same[~is_in(same["website_filing_number"], causes)]
    columns = ["claimant", "owner", "role", "detail", "key"]
    if same.empty:
        return pd.DataFrame(columns=columns)
    websites = same["website_filing_number"]
    same["domains"] = websites.map(_joined_domains(planned, websites))
    same["domains_stored"] = websites.map(_joined_domains(known_domains, websites))
    dates = [pd.to_datetime(same[c]).dt.strftime("%Y-%m-%d") for c in ("filed_on",
                                                                         "filed_on_stored")]
    differs = (_texts(same["website_name"]).ne(_texts(same["website_name_stored"]))
               | _texts(dates[0]).ne(_texts(dates[1]))
               | _texts(same["member_id"]).ne(_texts(same["member_id_stored"]))
               | _texts(same["domains"]).ne(_texts(same["domains_stored"])))
    if not differs.any():  # compared as columns; only the differing ones are hashed
        return pd.DataFrame(columns=columns)
    same = same[differs]
    new = version_of(same["website_name"], same["filed_on"], same["member_id"],
                     same["domains"])
    old = version_of(same["website_name_stored"], same["filed_on_stored"],
                     same["member_id_stored"], same["domains_stored"])
    keys = "changed:" + same["website_filing_number"].astype(object)
    claims = pd.concat([pd.DataFrame({"key": keys, "claimant": old["claimant"]}),
                        pd.DataFrame({"key": keys, "claimant": new["claimant"]})])
    verdicts = arbitrate(claims, ledger)
    seen = outcome(verdicts, keys, new["claimant"])
    found = verdicts.reindex(keys.to_numpy()).set_axis(same.index)
    rows_of = sites.reset_index().groupby("website_filing_number")["index"].agg(list)
    for i in same.index:
        website = same.at[i, "website_filing_number"]
        conflict = found.at[i, "conflict_id"]
        if seen.at[i, "wins"]:
            causes[website] = conflict
            continue
        index = [j for j in rows_of[website] if sites.at[j, "entity_id"] == same.at[i, "entity_id"]
                 and out.at[j, "disposition"] in ("loaded", "duplicate")]
        if seen.at[i, "held"]:
            out.loc[index, "disposition"] = "needs_review"
            out.loc[index, "reasons"] = ("website already loaded with other content (a person "
                                         "decides keep or replace)")
        elif seen.at[i, "loses"]:
            out.loc[index, "disposition"] = "quarantined"
            out.loc[index, "reasons"] = (f"review: website {website} keeps the version chosen "
                                         f"in conflict {conflict}")
        out.loc[index, "conflict_key"] = conflict
        out.loc[index, "candidates"] = found.at[i, "competitors"]
    owner = same["entity_id"]
    versions = pd.concat([
        pd.DataFrame({"claimant": old["claimant"], "owner": owner, "role": "stored",
                      "detail": old["detail"], "key": found["conflict_id"]}),
        pd.DataFrame({"claimant": new["claimant"], "owner": owner, "role": "new",
                      "detail": new["detail"], "key": found["conflict_id"]})])
    return versions[seen["held"].reindex(versions.index).to_numpy()].reset_index(drop=True)
