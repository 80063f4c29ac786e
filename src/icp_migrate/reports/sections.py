"""The report's tables, computed from a run's frames: pure pandas, masked where personal.

Every reason and warning goes through `mask_text` and every certificate through `mask`
here, so the renderers (HTML, JSON, artifacts) never see a whole certificate number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from icp_migrate.canonical import ACCOUNT_KINDS, DISPOSITIONS
from icp_migrate.masking import mask_text
from icp_migrate.reports.data import ReportData

SAMPLES_PER_REASON = 3
NO_REASON = "(none)"
_PREFIX = re.compile(r"[:;(（]")
_DOMAIN = re.compile(r"(?<![\w.-])((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![\w.-])")
_NUMBERS = re.compile(r"[0-9A-Za-z]*\d[\w\-/.]*")  # any token holding a digit


@dataclass
class Sections:
    """Each section of the report as a small frame (or dict of counts)."""

    reconciliation: pd.DataFrame  # source, records_in, one column per disposition, balanced
    by_reason: pd.DataFrame  # disposition, reason, records
    entities_by_type: dict[str, int]
    entities_by_province: dict[str, int]
    accounts_by_kind: dict[str, int]
    accounts_by_real_name: dict[str, int]
    members_split: pd.DataFrame  # member_id, entities, accounts, entity_names
    entities_merged: pd.DataFrame  # entity_id, name, members, member_ids
    multi_domain: pd.DataFrame  # website_filing_number, website_name, entity_name, domains
    conflicts: pd.DataFrame  # source, locator, member_id, website_filing_number, reasons
    quarantine: pd.DataFrame  # reason, records, samples (list of dicts)
    warnings: int


def reason_group(reason: object) -> str:
    """The rule behind a reason: its text before ':' ';' or '(', tokens with digits as '#'.

    `website_filing_number_usable: ICP filing number with 9 digits: …` ->
    `website_filing_number_usable`; `filed on 2019-04-21, on or after the cut-off …` ->
    `filed on #, on or after the cut-off #`.
    """
    if reason is None or (isinstance(reason, float) and reason != reason) or not str(reason):
        return NO_REASON
    head = _PREFIX.split(str(reason), maxsplit=1)[0].strip()
    return mask_text(_NUMBERS.sub("#", head)) or NO_REASON


def build_sections(data: ReportData) -> Sections:
    d = data.dispositions
    real_name = data.accounts["real_name_verification_required"].fillna(False).astype(bool)
    return Sections(
        reconciliation=reconciliation(d),
        by_reason=by_reason(d),
        entities_by_type=_counts(data.entities["entity_type"]),
        entities_by_province=_counts(data.entities["province"]),
        accounts_by_kind={k: int((data.accounts["account_kind"] == k).sum())
                          for k in ACCOUNT_KINDS},
        accounts_by_real_name={"required": int(real_name.sum()),
                               "not required": int((~real_name).sum())},
        members_split=members_split(d, data.entities, data.accounts),
        entities_merged=entities_merged(d, data.entities),
        multi_domain=multi_domain(data.websites, data.domains, data.entities),
        conflicts=conflicts(d, data.decisions),
        quarantine=quarantine(d),
        warnings=int(d["warnings"].notna().sum()),
    )


def reconciliation(dispositions: pd.DataFrame) -> pd.DataFrame:
    """Per source: records in, each disposition, and whether they add up; a total row last."""
    columns = ["source", "records_in", *DISPOSITIONS, "balanced"]
    if dispositions.empty:
        return pd.DataFrame(columns=columns)
    table = pd.crosstab(dispositions["source"].fillna("(unknown)"), dispositions["disposition"])
    table = table.reindex(columns=list(DISPOSITIONS), fill_value=0)
    table.insert(0, "records_in", dispositions.groupby(
        dispositions["source"].fillna("(unknown)")).size())
    table = table.sort_index()
    table.loc["total"] = table.sum()
    table["balanced"] = table["records_in"] == table[list(DISPOSITIONS)].sum(axis=1)
    out = table.reset_index(names="source")
    out[["records_in", *DISPOSITIONS]] = out[["records_in", *DISPOSITIONS]].astype("int64")
    return out[columns]


def by_reason(dispositions: pd.DataFrame) -> pd.DataFrame:
    """Records per disposition and reason group, largest first within each disposition."""
    if dispositions.empty:
        return pd.DataFrame(columns=["disposition", "reason", "records"])
    frame = pd.DataFrame({
        "disposition": dispositions["disposition"],
        "reason": _groups(dispositions["reasons"]),
    })
    counts = frame.groupby(["disposition", "reason"]).size().rename("records").reset_index()
    counts["order"] = counts["disposition"].map({k: i for i, k in enumerate(DISPOSITIONS)})
    counts = counts.sort_values(["order", "records", "reason"], ascending=[True, False, True])
    return counts.drop(columns="order").reset_index(drop=True)


def members_split(dispositions: pd.DataFrame, entities: pd.DataFrame,
                  accounts: pd.DataFrame) -> pd.DataFrame:
    """Legacy members whose records went to several entities, hence several accounts."""
    pairs = _several(_kept(dispositions), "member_id", "entity_id")
    pairs["name"] = pairs["entity_id"].map(_names(entities)).fillna("")
    pairs["accounts"] = pairs["entity_id"].map(accounts.groupby("entity_id").size()).fillna(0)
    members, names = _runs(pairs["member_id"], pairs["name"])
    frame = pd.DataFrame({
        "member_id": members,
        "entities": [len(n) for n in names],
        "accounts": pairs.groupby("member_id")["accounts"].sum().reindex(members)
        .astype("int64").to_numpy(),
        "entity_names": names,
    })
    return frame.sort_values(["entities", "member_id"], ascending=[False, True],
                             ignore_index=True)


def entities_merged(dispositions: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """Entities whose records came from several legacy members: one account gathers them."""
    pairs = _several(_kept(dispositions), "entity_id", "member_id")
    ids, members = _runs(pairs["entity_id"], pairs["member_id"])
    frame = pd.DataFrame({
        "entity_id": ids,
        "name": pd.Series(ids, dtype=object).map(_names(entities)).fillna("").to_numpy(),
        "members": [len(m) for m in members],
        "member_ids": members,
    })
    return frame.sort_values(["members", "entity_id"], ascending=[False, True],
                             ignore_index=True)


def _several(frame: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
    """Distinct (key, value) pairs of the keys that have several values, sorted."""
    pairs = frame[[key, value]].dropna().astype(str).drop_duplicates()
    many = pairs[key].map(pairs[key].value_counts()) > 1
    return pairs[many].sort_values([key, value], ignore_index=True)


def _runs(keys: pd.Series, values: pd.Series) -> tuple[list[str], list[list[str]]]:
    """The distinct keys of a sorted frame and, for each, its values as a list."""
    k = keys.to_numpy(dtype=object)
    if not len(k):
        return [], []
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    chunks = np.split(values.to_numpy(dtype=object), starts[1:])
    return list(k[starts]), [list(c) for c in chunks]


def _names(entities: pd.DataFrame) -> pd.Series:
    return entities.set_index("entity_id")["name"].map(_text)


def multi_domain(websites: pd.DataFrame, domains: pd.DataFrame,
                 entities: pd.DataFrame) -> pd.DataFrame:
    """Websites listing several domains: migrated as they are, followed up by hand."""
    columns = ["website_filing_number", "website_name", "entity_name", "domains"]
    shown = domains["unicode_domain"].where(
        domains["unicode_domain"].notna() & domains["unicode_domain"].ne(domains["domain"]))
    labels = domains["domain"].where(shown.isna(), domains["domain"] + " (" + shown + ")")
    listed = pd.DataFrame({"number": domains["website_filing_number"].to_numpy(dtype=object),
                           "label": labels.to_numpy(dtype=object)}).dropna(subset=["number"])
    listed = listed[listed["number"].map(listed["number"].value_counts()) > 1]
    if listed.empty:
        return pd.DataFrame(columns=columns)
    # sorted by website, then label: one lookup per column, not one per website
    ordered = listed.sort_values(["number", "label"])
    numbers, lists = _runs(ordered["number"], ordered["label"])
    keyed = pd.Series(numbers, dtype=object)
    sites = websites.set_index("website_filing_number")
    names = keyed.map(sites["entity_id"]).map(entities.set_index("entity_id")["name"])
    return pd.DataFrame({
        "website_filing_number": numbers,
        "website_name": [_text(v) for v in keyed.map(sites["website_name"])],
        "entity_name": [_text(v) for v in names],
        "domains": lists,
    }, columns=columns)


def conflicts(dispositions: pd.DataFrame, decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Records held for review, with their conflict, whether a person has decided it since
    (`icp-migrate review apply`; the next run loads accordingly) and the masked reasons."""
    review = dispositions[dispositions["disposition"].eq("needs_review")]
    decided = {} if decisions is None or decisions.empty else {
        k: f"decided: {d}{':' + e if isinstance(e, str) else ''} by {who}"
        for k, d, e, who in decisions[["conflict_key", "decision", "entity_id", "decided_by"]]
        .itertuples(index=False)}
    keys = review["conflict_key"] if "conflict_key" in review else pd.Series(
        None, index=review.index, dtype=object)
    return pd.DataFrame({
        "conflict": keys,
        "review": keys.map(lambda k: decided.get(k, "open")),
        "source": review["source"],
        "locator": review["locator"],
        "member_id": review["member_id"],
        "website_filing_number": review["website_filing_number"],
        "reasons": review["reasons"].map(_masked),
    }).reset_index(drop=True).astype(object)


def quarantine(dispositions: pd.DataFrame) -> pd.DataFrame:
    """Quarantine reason groups, largest first, each with a few masked sample records."""
    q = dispositions[dispositions["disposition"].eq("quarantined")]
    columns = ["reason", "records", "samples"]
    if q.empty:
        return pd.DataFrame(columns=columns)
    groups = q.assign(reason=_groups(q["reasons"])).groupby("reason", sort=True)
    rows = [
        {
            "reason": reason,
            "records": len(group),
            "samples": [
                {"source": _text(r.source), "locator": _text(r.locator),
                 "member_id": _text(r.member_id), "reasons": _masked(r.reasons),
                 "warnings": _masked(r.warnings)}
                for r in group.head(SAMPLES_PER_REASON).itertuples(index=False)
            ],
        }
        for reason, group in groups
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["records", "reason"], ascending=[False, True], ignore_index=True)


def _groups(reasons: pd.Series) -> pd.Series:
    """reason_group once per distinct reason (a million rows repeat a few thousand texts)."""
    table = {r: reason_group(r) for r in reasons.dropna().unique()}
    return reasons.map(table).fillna(NO_REASON)


def _kept(dispositions: pd.DataFrame) -> pd.DataFrame:
    kept = dispositions[dispositions["disposition"].isin(["loaded", "duplicate"])]
    return kept.dropna(subset=["entity_id"])


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.fillna("(unknown)").astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {k: int(v) for k, v in ordered}


def mask_reason(text: str) -> str:
    """`mask_text` outside domain names: a domain is public and is what a conflict is about,
    and a certificate number never holds a dot."""
    parts = _DOMAIN.split(text)
    return "".join(part if i % 2 else mask_text(part) for i, part in enumerate(parts))


def _masked(value: object) -> str:
    text = _text(value)
    return mask_reason(text) if text else ""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
