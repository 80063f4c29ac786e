"""Disputed websites and domains, duplicates, and which website keeps each domain."""

from __future__ import annotations

import pandas as pd


def _claimed_by_several(pairs: pd.DataFrame, key: str) -> pd.Index:
    counts = pairs.dropna().drop_duplicates().groupby(key)["entity_id"].nunique()
    return counts[counts > 1].index


def settle(
    attached: pd.DataFrame,
    record_domains: pd.DataFrame,
    known_websites: pd.DataFrame,
    known_domains: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steps 5-7 for records joined to an entity.

    `attached`: row_id, entity_id, website_filing_number (in input order).
    `known_*`: the store's websites (website_filing_number, entity_id) and domains
    (domain, website_filing_number). Returns (row_id, disposition, reasons, warnings) and
    the domains to plan (domain, unicode_domain, website_filing_number).
    """
    sites = attached[["row_id", "entity_id", "website_filing_number"]]
    site_pairs = pd.concat([sites, known_websites])[["website_filing_number", "entity_id"]]
    disputed_sites = _claimed_by_several(site_pairs, "website_filing_number")

    listed = record_domains.merge(sites, on="row_id")
    stored = known_domains.merge(known_websites, on="website_filing_number")
    domain_pairs = pd.concat([listed, stored])[["domain", "entity_id"]]
    disputed_domains = _claimed_by_several(domain_pairs, "domain")
    sites_of_disputed = listed.loc[listed["domain"].isin(disputed_domains)]

    out = pd.DataFrame({"row_id": sites["row_id"], "disposition": "loaded",
                        "reasons": None, "warnings": None}, index=sites.index)
    by_domain = (sites_of_disputed.groupby("website_filing_number")["domain"]
                 .agg(lambda d: ", ".join(sorted(set(d)))))
    domain_review = sites["website_filing_number"].map(by_domain)
    out.loc[domain_review.notna(), "disposition"] = "needs_review"
    out.loc[domain_review.notna(), "reasons"] = (
        "domain listed by websites of several entities: " + domain_review.dropna().astype("str"))
    site_review = sites["website_filing_number"].isin(disputed_sites)
    out.loc[site_review, "disposition"] = "needs_review"
    out.loc[site_review, "reasons"] = "website filing number claimed by several entities"

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
    planned, warnings = _assign_domains(listed[listed["row_id"].isin(kept_rows)],
                                        known_domains)
    out["warnings"] = out["row_id"].map(warnings)
    return out, planned


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
