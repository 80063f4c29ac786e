"""Held conflicts as a person sees them: each claimant with what identifies it."""

from __future__ import annotations

import pandas as pd

from ..identity import entity_ids
from ..plan import CONFLICT_COLUMNS, Plan, empty_frame
from ..transforms.text import join_groups
from .ledger import conflict_kind


def conflict_table(state: pd.DataFrame, record_domains: pd.DataFrame, stored: Plan,
                   versions: pd.DataFrame) -> pd.DataFrame:
    """One row per (conflict, claimant) for the records held in needs_review.

    `state`: every record of the run with disposition, conflict_key (the conflict's id),
    candidates, claimant (the entity a held record would belong to) and the normalized
    certificate columns. Entities are described from this run's records of them, else
    from the store; the versions of a `changed:` conflict by their values (`versions`).
    """
    held = state[state["disposition"].eq("needs_review") & state["conflict_key"].notna()]
    if held.empty:
        return empty_frame(CONFLICT_COLUMNS)
    pairs = (held[["conflict_key", "candidates"]].assign(
        entity_id=held["candidates"].fillna("").str.split(";")).explode("entity_id"))
    pairs = pairs[pairs["entity_id"].astype(bool)].drop_duplicates(["conflict_key",
                                                                     "entity_id"])
    valid = state[state["cert_valid"]].assign(entity_id=lambda f: _claimant_or_own(f))
    valid = valid[valid["entity_id"].isin(pairs["entity_id"])]
    rank = valid["cert_type"].map({"uscc": 0, "resident_id": 0}).fillna(1)
    best = valid.assign(rank=rank).sort_values(["rank", "row_id"]).drop_duplicates("entity_id")
    described = best.set_index("entity_id")[["cert_type", "cert_number", "entity_name"]]
    described = described.rename(columns={"entity_name": "name"})
    entities = stored.entities.set_index("entity_id")[["cert_type", "cert_number", "name"]]
    described = described.combine_first(entities)
    listed = record_domains.merge(valid[["row_id", "entity_id"]], on="row_id")
    # what the store holds of the competitors: their websites, domains and members too
    sites = stored.website_filings[stored.website_filings["entity_id"].isin(pairs["entity_id"])]
    kept = stored.domains.merge(sites[["website_filing_number", "entity_id"]],
                                on="website_filing_number")
    owners = pd.concat([valid["entity_id"], sites["entity_id"]], ignore_index=True)
    out = pairs.join(described, on="entity_id")
    out["kind"] = out["conflict_key"].map(conflict_kind)
    out["member_ids"] = out["entity_id"].map(_joined(owners, pd.concat(
        [valid["member_id"], sites["member_id"]], ignore_index=True)))
    out["websites"] = out["entity_id"].map(_joined(owners, pd.concat(
        [valid["website_filing_number"], sites["website_filing_number"]], ignore_index=True)))
    out["domains"] = out["entity_id"].map(_joined(
        pd.concat([listed["entity_id"], kept["entity_id"]], ignore_index=True),
        pd.concat([listed["domain"], kept["domain"]], ignore_index=True)))
    out["owner"] = out["entity_id"].where(out["entity_id"].str.startswith("ent_"), None)
    out["role"] = None
    out["detail"] = None
    out["records"] = _records(held, out)
    if len(versions):
        table = versions.drop_duplicates("claimant").set_index("claimant")
        is_version = out["entity_id"].isin(table.index)
        for column in ("owner", "role", "detail"):
            out.loc[is_version, column] = out.loc[is_version, "entity_id"].map(table[column])
    return out[list(CONFLICT_COLUMNS)].sort_values(["conflict_key", "entity_id"]).reset_index(
        drop=True).astype(object)


def _records(held: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    """Per (conflict, claimant): 'source:line' of its held records; records that belong
    to no claimant (no valid certificate) are listed on every claimant of their conflict."""
    where = held["source"].astype(str) + ":" + held["locator"].astype(str)
    own = pd.DataFrame({"conflict_key": held["conflict_key"], "claimant": held["claimant"],
                        "where": where})
    versions = out["entity_id"].str.startswith("v:")
    new_version = out[versions].drop_duplicates("conflict_key").set_index("conflict_key")
    by_version = own["conflict_key"].map(new_version["entity_id"]) if len(new_version) else None
    if by_version is not None:  # a changed website's records are its new version's
        own["claimant"] = by_version.where(by_version.notna(), own["claimant"])
    orphans = own[own["claimant"].isna()]
    spread = orphans.drop(columns="claimant").merge(
        out[["conflict_key", "entity_id"]].rename(columns={"entity_id": "claimant"}),
        on="conflict_key")
    every = pd.concat([own.dropna(subset=["claimant"]), spread], ignore_index=True)
    every = every.drop_duplicates().sort_values(["conflict_key", "claimant", "where"])
    joined = join_groups(every["conflict_key"] + "\x00" + every["claimant"], every["where"], "; ")
    return (out["conflict_key"] + "\x00" + out["entity_id"]).map(joined)


def _joined(keys: pd.Series, values: pd.Series) -> pd.Series:
    """key -> ';'.join(sorted({str(v) for v in its non-null values})), "" when it has none."""
    present = values.notna()
    pairs = pd.DataFrame({"key": keys[present].to_numpy(dtype=object),
                          "value": values[present].map(str).to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates().sort_values(["key", "value"], kind="stable")
    joined = join_groups(pairs["key"], pairs["value"], ";")
    return joined.reindex(pd.Index(keys.dropna().unique(), dtype=object), fill_value="")


def _claimant_or_own(valid: pd.DataFrame) -> pd.Series:
    """Each valid record's claimant, else (steps 1-3 decided it) the entity its certificate
    names; ids derived only for those (a digest per key costs ~2 us)."""
    claimant = valid["claimant"].astype(object)
    unnamed = claimant.isna()
    return claimant.where(~unnamed, entity_ids(valid.loc[unnamed, "cert_key"]))
