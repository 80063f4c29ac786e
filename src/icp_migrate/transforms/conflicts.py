"""Disputed websites and domains, duplicates, and which website keeps each domain."""

from __future__ import annotations

import pandas as pd


def _claimants(pairs: pd.DataFrame, key: str) -> pd.Series:
    """key -> sorted entity ids, for the keys claimed by several entities."""
    pairs = pairs.dropna().drop_duplicates()
    counts = pairs.groupby(key)["entity_id"].nunique()
    several = pairs[pairs[key].isin(counts[counts > 1].index)]
    return several.groupby(key)["entity_id"].agg(lambda e: ";".join(sorted(set(e))))


def _decided(decisions: pd.DataFrame | None) -> dict[str, tuple[str, str | None]]:
    if decisions is None or decisions.empty:
        return {}
    return {k: (d, e) for k, d, e in decisions[["conflict_key", "decision", "entity_id"]]
            .itertuples(index=False)}


def settle(
    attached: pd.DataFrame,
    record_domains: pd.DataFrame,
    known_websites: pd.DataFrame,
    known_domains: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steps 5-7 for records joined to an entity.

    `attached`: row_id, entity_id, website_filing_number (in input order).
    `known_*`: the store's websites (website_filing_number, entity_id) and domains
    (domain, website_filing_number). `decisions`: review decisions by conflict key
    (`website:<number>`, `domain:<domain>`): assign keeps the chosen entity's records and
    quarantines the others' (a domain goes to the chosen entity, the other websites migrate
    without it); reject quarantines every record of the conflict.
    Returns (row_id, disposition, reasons, warnings, conflict_key, candidates) and the
    domains to plan (domain, unicode_domain, website_filing_number).
    """
    decided = _decided(decisions)
    sites = attached[["row_id", "entity_id", "website_filing_number"]]
    out = pd.DataFrame({"row_id": sites["row_id"], "disposition": "loaded", "reasons": None,
                        "warnings": None, "conflict_key": None, "candidates": None},
                       index=sites.index)
    site_claims = _claimants(pd.concat([sites, known_websites])[
        ["website_filing_number", "entity_id"]], "website_filing_number")
    listed = record_domains.merge(sites, on="row_id")
    stored = known_domains.merge(known_websites, on="website_filing_number")
    domain_claims = _claimants(pd.concat([listed, stored])[["domain", "entity_id"]], "domain")

    # only the few disputed keys are walked one by one, through prebuilt group indexes
    disputed_listings = listed[listed["domain"].isin(domain_claims.index)]
    listings_of = disputed_listings.groupby("domain").groups
    numbers = set(disputed_listings["website_filing_number"]) | set(site_claims.index)
    rows_of = sites[sites["website_filing_number"].isin(numbers)].groupby(
        "website_filing_number").groups
    no_rows = pd.Index([])

    dropped = pd.Series(False, index=listed.index)
    for domain, candidates in domain_claims.items():
        key = f"domain:{domain}"
        listing = disputed_listings.loc[listings_of.get(domain, no_rows)]
        decision, chosen = decided.get(key, (None, None))
        rows = pd.Index([r for n in listing["website_filing_number"].unique()
                         for r in rows_of.get(n, no_rows)])
        if decision == "assign" and chosen in candidates.split(";"):
            others = listing[listing["entity_id"] != chosen]
            dropped[others.index] = True
            out.loc[out["row_id"].isin(others["row_id"]), "warnings"] = (
                f"review: domain {domain} assigned to {chosen}")
        elif decision == "reject":
            _hold(out, rows, "quarantined", f"review: conflict {key} rejected", key, candidates)
        else:
            _hold(out, rows, "needs_review",
                  f"domain listed by websites of several entities: {domain}", key, candidates)
    for number, candidates in site_claims.items():
        key = f"website:{number}"
        rows = pd.Index(rows_of.get(number, no_rows))
        decision, chosen = decided.get(key, (None, None))
        if decision == "assign" and chosen in candidates.split(";"):
            losers = rows[sites.loc[rows, "entity_id"] != chosen]
            _hold(out, losers, "quarantined", f"review: website assigned to {chosen}", key,
                  candidates)
        elif decision == "reject":
            _hold(out, rows, "quarantined", f"review: conflict {key} rejected", key, candidates)
        else:
            _hold(out, rows, "needs_review", "website filing number claimed by several "
                  "entities", key, candidates)

    live = out["disposition"].eq("loaded")
    order = sites[live].sort_values("row_id")
    repeat = order.duplicated(["entity_id", "website_filing_number"])
    first_row = order.drop_duplicates(["entity_id", "website_filing_number"]).set_index(
        "website_filing_number")["row_id"]
    out.loc[repeat[repeat].index, "disposition"] = "duplicate"
    out.loc[repeat[repeat].index, "reasons"] = (
        "same website seen earlier in this run (row " + order.loc[repeat[repeat].index,
        "website_filing_number"].map(first_row).astype(str) + "); domains merged")

    kept_rows = out.loc[live, "row_id"]
    listed = listed[~dropped]
    planned, warnings = _assign_domains(listed[listed["row_id"].isin(kept_rows)],
                                        known_domains)
    extra = out["row_id"].map(warnings)
    out["warnings"] = out["warnings"].where(extra.isna(), extra.where(
        out["warnings"].isna(), out["warnings"].astype("str") + "; " + extra.astype("str")))
    return out, planned


def _hold(out: pd.DataFrame, rows: pd.Index, disposition: str, reason: str, key: str,
          candidates: str) -> None:
    """Hold records back for a conflict; a record in two conflicts keeps the first's key."""
    if len(rows) == 0:
        return
    out.loc[rows, "disposition"] = disposition
    out.loc[rows, "reasons"] = reason
    fresh = rows[out.loc[rows, "conflict_key"].isna()]
    out.loc[fresh, "conflict_key"] = key
    out.loc[fresh, "candidates"] = candidates


def _assign_domains(listed: pd.DataFrame, known_domains: pd.DataFrame):
    """One website per domain: the store's, else the first record's; warn the others."""
    listed = listed.sort_values("row_id")
    first = listed.drop_duplicates("domain").set_index("domain")["website_filing_number"]
    owner = known_domains.set_index("domain")["website_filing_number"].combine_first(first)
    elsewhere = listed["website_filing_number"].ne(listed["domain"].map(owner))
    warnings = ("domain " + listed.loc[elsewhere, "domain"].astype("str") + " stays with website "
                + listed.loc[elsewhere, "domain"].map(owner).astype("str")).groupby(
        listed.loc[elsewhere, "row_id"]).agg("; ".join)
    planned = listed[~elsewhere].drop_duplicates("domain")
    return planned[["domain", "unicode_domain", "website_filing_number"]], warnings
