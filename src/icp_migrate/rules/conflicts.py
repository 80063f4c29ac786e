"""Steps 5-7 against the ledger: disputed websites and domains, changed websites,
duplicates, and which website keeps each domain."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..transforms.text import is_in
from .changed import hold_changed
from .ledger import arbitrate, outcome

SETTLED_COLUMNS = ("row_id", "disposition", "reasons", "warnings", "conflict_key",
                   "candidates")


@dataclass
class Settlement:
    settled: pd.DataFrame  # SETTLED_COLUMNS, one row per attached record
    domains: pd.DataFrame  # domain, unicode_domain, website_filing_number to plan
    # subject key (website number or domain) -> the decision that moved or replaced it
    causes: dict[str, str] = field(default_factory=dict)
    removed_domains: list[str] = field(default_factory=list)  # stored domains to delete
    # versions in `changed:` conflicts: claimant, owner, role, detail
    versions: pd.DataFrame = field(default_factory=pd.DataFrame)


def settle(attached: pd.DataFrame, record_domains: pd.DataFrame, known_websites: pd.DataFrame,
           known_domains: pd.DataFrame, ledger: pd.DataFrame) -> Settlement:
    """Steps 5-7 for records joined to an entity.

    `attached`: row_id, entity_id, website_filing_number, website_name, filed_on, member_id
    (input order). `known_*`: the store's websites (website_filing_number, entity_id,
    website_name, filed_on, member_id) and domains (domain, website_filing_number).
    `ledger`: the target's conflicts with their decisions (see rules/ledger.py).
    """
    sites = attached.reset_index(drop=True)
    out = pd.DataFrame({"row_id": sites["row_id"], "disposition": "loaded", "reasons": None,
                        "warnings": None, "conflict_key": None, "candidates": None},
                       index=sites.index, dtype=object)
    stored_holder = known_websites.set_index("website_filing_number")["entity_id"]
    causes: dict[str, str] = {}
    free_domains = known_domains

    site_seen, holder = _websites(sites, stored_holder, ledger, causes)
    free_domains = free_domains[~is_in(free_domains["website_filing_number"], causes)]
    listed = record_domains.merge(sites[["row_id", "entity_id", "website_filing_number"]],
                                  on="row_id")
    listed = listed[~listed["row_id"].isin(sites.loc[site_seen["loses"], "row_id"])]
    domain_held, domain_lost, won = _domains(listed, sites, free_domains, holder, ledger,
                                             causes)
    free_domains = free_domains[~is_in(free_domains["domain"], won)]

    # holds in order: domains first, then websites (a record's conflict is its first one,
    # its disposition its last one's)
    for events in (domain_held, domain_lost, _website_events(sites, site_seen)):
        _apply(out, events)

    live = out["disposition"].eq("loaded")
    order = sites[live]
    repeat = order.duplicated(["entity_id", "website_filing_number"])
    first = order.drop_duplicates(["entity_id", "website_filing_number"])
    firsts = first.set_index("website_filing_number")
    again = repeat[repeat].index
    number = order.loc[again, "website_filing_number"]
    # the first record by its line, and by its file's name too when it is another file's
    first_source = number.map(firsts["source"]).astype(str)
    other_file = first_source != order.loc[again, "source"].astype(str)
    where = number.map(firsts["locator"]).astype(str).where(
        ~other_file, first_source.map(_file_name) + " " + number.map(firsts["locator"])
        .astype(str))
    out.loc[again, "disposition"] = "duplicate"
    out.loc[again, "reasons"] = ("same website seen earlier in this run (" + where
                                 + "); domains merged")

    kept_rows = out.loc[live, "row_id"]  # a record that lost a domain is not among them
    planned, warnings = _assign_domains(listed[listed["row_id"].isin(kept_rows)], free_domains)
    extra = out["row_id"].map(warnings)
    out["warnings"] = out["warnings"].where(extra.isna(), extra.where(
        out["warnings"].isna(), out["warnings"].astype("str") + "; " + extra.astype("str")))

    versions = hold_changed(sites, out, first, planned, known_websites, known_domains, causes,
                            ledger)
    kept = out["disposition"].isin(["loaded", "duplicate"])
    held_sites = sites.loc[~kept & ~is_in(sites["website_filing_number"],
                                          sites.loc[kept, "website_filing_number"]),
                           "website_filing_number"]
    planned = planned[~is_in(planned["website_filing_number"], held_sites)]
    websites = set(sites["website_filing_number"])
    replaced = [w for w in causes if w in websites]
    stale = known_domains[is_in(known_domains["website_filing_number"], replaced)]
    stale = stale[~is_in(stale["domain"], planned["domain"])]
    return Settlement(settled=out, domains=planned.reset_index(drop=True), causes=causes,
                      removed_domains=sorted(stale["domain"]), versions=versions)


def _websites(sites: pd.DataFrame, stored_holder: pd.Series, ledger: pd.DataFrame,
              causes: dict[str, str]) -> tuple[pd.DataFrame, pd.Series]:
    """Each record's outcome for its website number, and each stored website's holder
    once the decisions are applied."""
    touched = sites["website_filing_number"].drop_duplicates()
    stored = stored_holder.reindex(touched.to_numpy()).dropna()
    claims = pd.concat([
        pd.DataFrame({"key": "website:" + sites["website_filing_number"].astype(object),
                      "claimant": sites["entity_id"]}),
        pd.DataFrame({"key": "website:" + stored.index.astype(object),
                      "claimant": stored.to_numpy(dtype=object)})], ignore_index=True)
    verdicts = arbitrate(claims, ledger)
    keys = "website:" + sites["website_filing_number"].astype(object)
    seen = outcome(verdicts, keys, sites["entity_id"])
    seen["competitors"] = verdicts["competitors"].reindex(keys.to_numpy()).to_numpy()
    seen["chosen"] = verdicts["chosen"].reindex(keys.to_numpy()).to_numpy()
    holder = stored_holder.copy()
    assigned = verdicts[verdicts["mode"].eq("assign")]
    present = set(sites.loc[seen["wins"], "entity_id"] + "|" + sites.loc[
        seen["wins"], "website_filing_number"])
    for key, verdict in assigned.iterrows():
        website = key.split(":", 1)[1]
        if f"{verdict['chosen']}|{website}" not in present:
            continue  # the chosen entity's record is not in this run: nothing moves yet
        if website in holder.index and holder[website] != verdict["chosen"]:
            causes[website] = verdict["conflict_id"]
        holder[website] = verdict["chosen"]
    return seen, holder


def _website_events(sites: pd.DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    held, lost = seen["held"], seen["loses"]
    reason = pd.Series("website filing number claimed by several entities", index=sites.index)
    reason[lost & seen["mode"].eq("reject")] = "review: conflict " + seen["conflict_id"].astype(
        str) + " rejected"
    assign = lost & seen["mode"].eq("assign")
    reason[assign] = ("review: website assigned to " + seen["chosen"].astype(str)
                      + " (conflict " + seen["conflict_id"].astype(str) + ")")
    events = pd.DataFrame({
        "site": sites.index, "disposition": np.where(held, "needs_review", "quarantined"),
        "reason": reason, "key": seen["conflict_id"], "candidates": seen["competitors"]})
    return events[held | lost]


def _domains(listed: pd.DataFrame, sites: pd.DataFrame, known_domains: pd.DataFrame,
             holder: pd.Series,
             ledger: pd.DataFrame, causes: dict[str, str],
             ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Hold events of open domain conflicts (every record of every website listing the
    domain), lose events of decided ones (the losers' records listing it), and the domains
    a decision moves to the chosen entity."""
    stored = known_domains[is_in(known_domains["domain"], listed["domain"])]
    stored = stored.assign(entity_id=stored["website_filing_number"].map(holder))
    claims = pd.concat([listed[["domain", "entity_id"]], stored[["domain", "entity_id"]]],
                       ignore_index=True)
    claims = pd.DataFrame({"key": "domain:" + claims["domain"].astype(object),
                           "claimant": claims["entity_id"]})
    verdicts = arbitrate(claims, ledger)
    empty = pd.DataFrame(columns=["site", "row_id", "domain", "disposition", "reason", "key",
                                  "candidates"])
    if verdicts.empty:
        return empty, empty, []
    keys = "domain:" + listed["domain"].astype(object)
    seen = outcome(verdicts, keys, listed["entity_id"])
    found = verdicts.reindex(keys.to_numpy()).set_axis(listed.index)
    mask = seen["held"]
    held = listed[mask].assign(key=found.loc[mask, "conflict_id"],
                               candidates=found.loc[mask, "competitors"])
    held = held.drop_duplicates(["domain", "website_filing_number"])
    held_events = held[["domain", "website_filing_number", "key", "candidates"]].merge(
        sites[["row_id", "website_filing_number"]], on="website_filing_number")
    held_events = held_events.assign(
        disposition="needs_review",
        reason="domain listed by websites of several entities: " + held_events["domain"])
    mask = seen["loses"]
    lost = listed[mask].assign(key=found.loc[mask, "conflict_id"],
                               candidates=found.loc[mask, "competitors"],
                               mode=seen.loc[mask, "mode"], chosen=found.loc[mask, "chosen"])
    lost = lost.assign(disposition="quarantined", reason=np.where(
        lost["mode"].eq("reject"), "review: conflict " + lost["key"].astype(str) + " rejected",
        "review: domain " + lost["domain"].astype(str) + " assigned to "
        + lost["chosen"].astype(str) + " (conflict " + lost["key"].astype(str) + ")"))
    won = listed[seen["wins"]]
    moved = stored[stored["domain"].isin(won["domain"])]
    for domain, key in zip(moved["domain"], ("domain:" + moved["domain"]).map(
            verdicts["conflict_id"]), strict=True):
        causes[domain] = key
    columns = ["row_id", "domain", "disposition", "reason", "key", "candidates"]
    return held_events[columns], lost[columns], sorted(set(won["domain"]))


def _apply(out: pd.DataFrame, events: pd.DataFrame) -> None:
    """Hold or quarantine records: the disposition and reason of the last event, the
    conflict key and candidates of the first."""
    if events.empty:
        return
    if "site" not in events.columns:
        events = events.assign(site=out.reset_index().set_index("row_id").loc[
            events["row_id"], "index"].to_numpy())
    last = events.drop_duplicates("site", keep="last").set_index("site")
    out.loc[last.index, "disposition"] = last["disposition"].astype(object)
    out.loc[last.index, "reasons"] = last["reason"].astype(object)
    fresh = out.loc[last.index, "conflict_key"].isna()
    first = events.drop_duplicates("site", keep="first").set_index("site").loc[
        fresh[fresh].index]
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


def _file_name(source: str) -> str:
    """A source as a person names it: a file's name (a URL as it is)."""
    return source if "://" in source else source.replace("\\", "/").rsplit("/", 1)[-1]
