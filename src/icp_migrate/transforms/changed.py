"""Known websites brought again with other content: a `changed:` conflict, never a silent
overwrite. A website's version is its name, filing date, member and domains."""

from __future__ import annotations

import hashlib

import pandas as pd

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


def _joined_domains(domains: pd.DataFrame) -> pd.Series:
    """website -> ';'-joined sorted domains."""
    if domains.empty:
        return pd.Series(dtype=object)
    return domains.sort_values("domain").groupby("website_filing_number")["domain"].agg(
        ";".join)


def hold_changed(sites: pd.DataFrame, out: pd.DataFrame, first: pd.DataFrame,
             planned: pd.DataFrame, known_websites: pd.DataFrame, known_domains: pd.DataFrame,
             causes: dict[str, str], ledger: pd.DataFrame) -> pd.DataFrame:
    """Known websites (same number, same entity) brought again with other content: an
    open `changed:` conflict holds every record of the website; `keep` quarantines them,
    `replace` loads the new version. Returns the versions in play (for the review list)."""
    same = first.merge(known_websites, on=["website_filing_number", "entity_id"],
                       suffixes=("", "_stored"))
    same = same[~same["website_filing_number"].isin(list(causes))]
    columns = ["claimant", "owner", "role", "detail", "key"]
    if same.empty:
        return pd.DataFrame(columns=columns)
    new = version_of(same["website_name"], same["filed_on"], same["member_id"],
                     same["website_filing_number"].map(_joined_domains(planned)))
    old = version_of(same["website_name_stored"], same["filed_on_stored"],
                     same["member_id_stored"],
                     same["website_filing_number"].map(_joined_domains(known_domains)))
    differs = new["claimant"].ne(old["claimant"])
    if not differs.any():
        return pd.DataFrame(columns=columns)
    same, new, old = same[differs], new[differs], old[differs]
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
