"""Disputed websites and domains, duplicates, and which website keeps each domain."""

from __future__ import annotations

import pandas as pd


def _claimants(pairs: pd.DataFrame, key: str) -> pd.Series:
    """key -> sorted entity ids, for the keys claimed by several entities."""
    pairs = pairs.dropna().drop_duplicates()
    counts = pairs[key].value_counts()  # the pairs are distinct: entities per key
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

    dropped, events = _domain_conflicts(listed, sites, domain_claims, decided, out)
    events.append(_website_conflicts(sites, site_claims, decided))
    _hold(out, pd.concat(events, ignore_index=True))

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


def _modes(claims: pd.Series, prefix: str, decided: dict) -> pd.DataFrame:
    """Per disputed key, in key order: its conflict key, candidates, decision and choice.

    mode is `assign` (a decision naming one of the candidates), `reject`, or `review`.
    """
    frame = pd.DataFrame({"key": prefix + claims.index.astype(object),
                          "candidates": claims.to_numpy(dtype=object),
                          "position": range(len(claims))}, index=claims.index)
    picked = [decided.get(k, (None, None)) for k in frame["key"]]
    frame["chosen"] = [chosen for _, chosen in picked]
    frame["mode"] = [
        "assign" if d == "assign" and c in cands.split(";") else "reject" if d == "reject"
        else "review" for (d, c), cands in zip(picked, frame["candidates"], strict=True)]
    return frame


def _domain_conflicts(listed: pd.DataFrame, sites: pd.DataFrame, claims: pd.Series,
                      decided: dict, out: pd.DataFrame) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Disputed domains: listings dropped (assigned elsewhere) and hold events, in key order.

    An assigned domain stays with the chosen entity: the others' websites migrate without
    it, with a warning (the last such domain's, in key order); an open or rejected one holds
    every record of every website listing it.
    """
    dropped = pd.Series(False, index=listed.index)
    modes = _modes(claims, "domain:", decided)
    disputed = listed[listed["domain"].isin(claims.index)].join(modes, on="domain")
    assigned = disputed[disputed["mode"].eq("assign")
                        & disputed["entity_id"].ne(disputed["chosen"])]
    dropped[assigned.index] = True
    if len(assigned):
        notes = assigned.sort_values("position", kind="stable").drop_duplicates(
            "row_id", keep="last")
        notes = pd.Series(("review: domain " + notes["domain"].astype(object) + " assigned to "
                           + notes["chosen"].astype(object)).to_numpy(), index=notes["row_id"])
        hit = out["row_id"].isin(notes.index)
        out.loc[hit, "warnings"] = out.loc[hit, "row_id"].map(notes)
    held = disputed[~disputed["mode"].eq("assign")]
    held = held[["domain", "website_filing_number"]].drop_duplicates().merge(
        sites[["website_filing_number"]].reset_index(names="site"), on="website_filing_number")
    held = held.join(modes, on="domain")
    rejected = held["mode"].eq("reject")
    held["disposition"] = rejected.map({True: "quarantined", False: "needs_review"})
    held["reason"] = ("review: conflict " + held["key"].astype(object) + " rejected").where(
        rejected, "domain listed by websites of several entities: " + held["domain"].astype(object))
    held["phase"] = 0
    return dropped, [held]


def _website_conflicts(sites: pd.DataFrame, claims: pd.Series, decided: dict) -> pd.DataFrame:
    """Hold events of disputed website numbers: all their records, or an assignment's losers."""
    modes = _modes(claims, "website:", decided)
    held = sites[sites["website_filing_number"].isin(claims.index)].reset_index(names="site")
    held = held.join(modes, on="website_filing_number")
    mode = held["mode"]
    held = held[~mode.eq("assign") | held["entity_id"].ne(held["chosen"])]
    mode = held["mode"]
    held = held.assign(disposition=mode.map({"assign": "quarantined", "reject": "quarantined",
                                             "review": "needs_review"}))
    held["reason"] = "website filing number claimed by several entities"
    if len(held):
        held.loc[mode.eq("reject"), "reason"] = ("review: conflict " + held["key"].astype(object)
                                                 + " rejected")
        held.loc[mode.eq("assign"), "reason"] = ("review: website assigned to "
                                                 + held["chosen"].astype(object))
    held["phase"] = 1
    return held


def _hold(out: pd.DataFrame, events: pd.DataFrame) -> None:
    """Hold records back for conflicts, applied in key order (domains first, then
    websites): a record's disposition and reason are its last conflict's, its conflict key
    and candidates its first's."""
    if events.empty:
        return
    events = events.sort_values(["phase", "position"], kind="stable")
    last = events.drop_duplicates("site", keep="last").set_index("site")
    first = events.drop_duplicates("site", keep="first").set_index("site")
    out.loc[last.index, "disposition"] = last["disposition"].astype(object)
    out.loc[last.index, "reasons"] = last["reason"].astype(object)
    out.loc[first.index, "conflict_key"] = first["key"].astype(object)
    out.loc[first.index, "candidates"] = first["candidates"].astype(object)


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
