"""The report's tables, shaped from a run's counts and list heads: masked where personal.

Every reason and warning goes through `mask_reason` and every certificate through `mask`
here, so the renderers (HTML, JSON, artifacts) never see a whole certificate number.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from icp_migrate.canonical import ACCOUNT_KINDS, DISPOSITIONS
from icp_migrate.reports.data import Capped, ReportData
from icp_migrate.reports.reasons import NO_REASON, mask_reason, reason_group

__all__ = ["NO_REASON", "Capped", "Sections", "build_sections", "mask_reason", "reason_group"]


@dataclass
class Sections:
    """Each section of the report as a small frame (or dict of counts); lists are Capped:
    their first LIST_ROWS rows and their total."""

    reconciliation: pd.DataFrame  # source, records_in, one column per disposition, balanced
    by_reason: pd.DataFrame  # disposition, reason, records
    entities_by_type: dict[str, int]
    entities_by_province: dict[str, int]
    accounts_by_kind: dict[str, int]
    accounts_by_real_name: dict[str, int]
    members_split: Capped  # member_id, entities, accounts, entity_names
    entities_merged: Capped  # entity_id, name, members, member_ids
    multi_domain: Capped  # website_filing_number, website_name, entity_name, domain_count,
    # domains
    possible_matches: Capped  # entity_id_a, name_a, entity_id_b, name_b, province, distance
    conflicts: Capped  # conflict, review, source, locator, member_id, website_filing_number,
    # reasons
    conflicts_open: int  # records whose conflict no one has decided yet
    open_conflicts: Capped  # conflict_id, kind, opened_in_run, age_runs, competitors,
    # competitor_ids, held_in_run: every open conflict of the target, from any run
    quarantine: Capped  # reason, records, samples (list of dicts); total: reason groups
    quarantined: int  # records
    warnings: int


def build_sections(data: ReportData) -> Sections:
    counts = data.dispositions
    quarantined = counts.loc[counts["disposition"].eq("quarantined"), "records"]
    return Sections(
        reconciliation=reconciliation(counts),
        by_reason=by_reason(data.reasons),
        entities_by_type=_counts(data.entities, "entity_type", "entities"),
        entities_by_province=_counts(data.entities, "province", "entities"),
        accounts_by_kind=accounts_by_kind(data.accounts),
        accounts_by_real_name=accounts_by_real_name(data.accounts),
        members_split=_capped(data.members_split, members_split),
        entities_merged=_capped(data.entities_merged, entities_merged),
        multi_domain=_capped(data.multi_domain, multi_domain),
        possible_matches=_capped(data.possible_matches, possible_matches),
        conflicts=_capped(data.conflicts, conflicts),
        conflicts_open=data.conflicts.total - data.conflicts_decided,
        open_conflicts=_capped(data.open_conflicts, open_conflicts),
        quarantine=_capped(data.quarantine, quarantine),
        quarantined=int(quarantined.sum()),
        warnings=int(counts["with_warnings"].sum()) if len(counts) else 0,
    )


def reconciliation(counts: pd.DataFrame) -> pd.DataFrame:
    """Per source: records in, each disposition, and whether they add up; a total row last.

    `counts`: source, disposition, records (one row per pair, as GROUP BY gives them)."""
    columns = ["source", "records_in", *DISPOSITIONS, "balanced"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"source": counts["source"].fillna("(unknown)").astype(str),
                          "disposition": counts["disposition"].astype(str),
                          "records": counts["records"].astype("int64")})
    table = frame.pivot_table(index="source", columns="disposition", values="records",
                              aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(DISPOSITIONS), fill_value=0)
    table.insert(0, "records_in", frame.groupby("source")["records"].sum())
    table = table.sort_index()
    table.loc["total"] = table.sum()
    table["balanced"] = table["records_in"] == table[list(DISPOSITIONS)].sum(axis=1)
    out = table.reset_index(names="source")
    out.columns.name = None
    out[["records_in", *DISPOSITIONS]] = out[["records_in", *DISPOSITIONS]].astype("int64")
    out["source"] = out["source"].astype(object)
    out["balanced"] = out["balanced"].astype(bool)
    return out[columns]


def by_reason(reasons: pd.DataFrame) -> pd.DataFrame:
    """Records per disposition and reason group, largest first within each disposition."""
    columns = ["disposition", "reason", "records"]
    if reasons.empty:
        return pd.DataFrame(columns=columns)
    counts = pd.DataFrame({"disposition": reasons["disposition"].astype(object),
                           "reason": reasons["reason"].astype(object),
                           "records": reasons["records"].astype("int64")})
    counts["order"] = counts["disposition"].map({k: i for i, k in enumerate(DISPOSITIONS)})
    counts = counts.sort_values(["order", "records", "reason"], ascending=[True, False, True])
    return counts[columns].reset_index(drop=True)


def accounts_by_kind(accounts: pd.DataFrame) -> dict[str, int]:
    kinds = accounts.groupby("account_kind")["accounts"].sum() if len(accounts) else {}
    return {k: int(kinds.get(k, 0)) for k in ACCOUNT_KINDS}


def accounts_by_real_name(accounts: pd.DataFrame) -> dict[str, int]:
    counts = accounts.groupby("real_name")["accounts"].sum() if len(accounts) else {}
    return {k: int(counts.get(k, 0)) for k in ("required", "not required")}


def members_split(rows: pd.DataFrame) -> pd.DataFrame:
    """Legacy members whose records went to several entities, hence several accounts."""
    return pd.DataFrame({
        "member_id": rows["member_id"].map(_text),
        "entities": rows["entities"].astype("int64"),
        "accounts": rows["accounts"].astype("int64"),
        "entity_names": [[_text(n) for n in names] for names in rows["entity_names"]],
    })


def entities_merged(rows: pd.DataFrame) -> pd.DataFrame:
    """Entities whose records came from several legacy members: one account gathers them."""
    return pd.DataFrame({
        "entity_id": rows["entity_id"].map(_text),
        "name": rows["name"].map(_text),
        "members": rows["members"].astype("int64"),
        "member_ids": [[_text(m) for m in ids] for ids in rows["member_ids"]],
    })


def multi_domain(rows: pd.DataFrame) -> pd.DataFrame:
    """Websites listing several domains: migrated as they are, followed up by hand."""
    return pd.DataFrame({
        "website_filing_number": rows["website_filing_number"].map(_text),
        "website_name": rows["website_name"].map(_text),
        "entity_name": rows["entity_name"].map(_text),
        "domain_count": rows["domain_count"].astype("int64"),
        "domains": [[domain_label(a, u) for a, u in pairs] for pairs in rows["domains"]],
    })


def possible_matches(rows: pd.DataFrame) -> pd.DataFrame:
    """Organizations with valid certificates whose names are 1 or 2 edits apart: two
    entities, never merged, for a person to look at (no certificate number is shown)."""
    return pd.DataFrame({
        "entity_id_a": rows["entity_id_a"].map(_text),
        "name_a": rows["name_a"].map(_text),
        "entity_id_b": rows["entity_id_b"].map(_text),
        "name_b": rows["name_b"].map(_text),
        "province": rows["province"].map(_text),
        "distance": rows["distance"].astype("int64"),
    }, columns=["entity_id_a", "name_a", "entity_id_b", "name_b", "province", "distance"])


def domain_label(domain: object, unicode_domain: object) -> str:
    """`xn--fiqs8s.cn (中国.cn)`: the A-label, and the Unicode form when it differs."""
    shown = _text(unicode_domain)
    return _text(domain) + (f" ({shown})" if shown and shown != _text(domain) else "")


def conflicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Records held for review, with their conflict, whether a person has decided it since
    (`icp-migrate review apply`; the next run loads accordingly) and the masked reasons."""
    review = [
        f"decided: {d}{':' + e if isinstance(e, str) else ''} by {who}" if _text(d) else "open"
        for d, e, who in zip(rows["decision"], rows["decided_entity"], rows["decided_by"],
                             strict=True)]
    return pd.DataFrame({
        "conflict": rows["conflict_key"].map(_nullable),
        "review": review,
        "source": rows["source"].map(_nullable),
        "locator": rows["locator"].map(_nullable),
        "member_id": rows["member_id"].map(_nullable),
        "website_filing_number": rows["website_filing_number"].map(_nullable),
        "reasons": rows["reasons"].map(_masked),
    }).astype(object)


def open_conflicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Every open conflict of the target (from any run), oldest first: its age in runs
    started since the one that opened it, its competitors (entity ids or website versions
    `v:…`, never a certificate number) and whether this run held records in it."""
    return pd.DataFrame({
        "conflict_id": rows["conflict_id"].map(_text),
        "kind": rows["kind"].map(_text),
        "opened_in_run": rows["opened_run_id"].map(_text),
        "age_runs": rows["age_runs"].astype("int64"),
        "competitors": rows["competitors"].astype("int64"),
        "competitor_ids": [[_text(c) for c in ids] for ids in rows["competitor_ids"]],
        "held_in_run": pd.Series([bool(v) for v in rows["in_run"]], index=rows.index,
                                 dtype=object),
    }, columns=["conflict_id", "kind", "opened_in_run", "age_runs", "competitors",
                "competitor_ids", "held_in_run"])


def quarantine(rows: pd.DataFrame) -> pd.DataFrame:
    """Quarantine reason groups, largest first, each with a few masked sample records."""
    return pd.DataFrame({
        "reason": rows["reason"].astype(object),
        "records": rows["records"].astype("int64"),
        "samples": [[{"source": _text(s["source"]), "locator": _text(s["locator"]),
                      "member_id": _text(s["member_id"]), "reasons": _masked(s["reasons"]),
                      "warnings": _masked(s["warnings"])} for s in samples]
                    for samples in rows["samples"]],
    }, columns=["reason", "records", "samples"])


def _capped(part: Capped, shape) -> Capped:  # noqa: ANN001 - a frame -> frame function
    rows = shape(part.rows.reset_index(drop=True))
    return Capped(rows.reset_index(drop=True), int(part.total))


def _counts(frame: pd.DataFrame, column: str, count: str) -> dict[str, int]:
    """Counts per value (NULL as `(unknown)`), largest first, then by value."""
    if frame.empty:
        return {}
    keys = frame[column].map(lambda v: "(unknown)" if _nullable(v) is None else str(v))
    summed = frame.assign(key=keys).groupby("key")[count].sum()
    ordered = sorted(summed.items(), key=lambda kv: (-kv[1], kv[0]))
    return {str(k): int(v) for k, v in ordered}


def _masked(value: object) -> str:
    text = _text(value)
    return mask_reason(text) if text else ""


def _nullable(value: object) -> object:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
