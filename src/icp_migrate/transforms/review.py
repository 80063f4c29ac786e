"""Open conflicts as a person sees them: each competing entity with what identifies it."""

from __future__ import annotations

import pandas as pd

from ..identity import entity_ids
from ..plan import CONFLICT_COLUMNS, empty_frame
from .text import join_groups


def conflict_table(state: pd.DataFrame, stored_entities: pd.DataFrame) -> pd.DataFrame:
    """One row per (conflict, competing entity) for the records held in needs_review.

    `state`: every record of the run with disposition, conflict_key, candidates and the
    normalized certificate columns. Entities are described from this run's records of
    them, else from the store.
    """
    held = state[state["disposition"].eq("needs_review") & state["conflict_key"].notna()]
    if held.empty:
        return empty_frame(CONFLICT_COLUMNS)
    pairs = (held[["conflict_key", "candidates"]].assign(
        entity_id=held["candidates"].fillna("").str.split(";")).explode("entity_id"))
    pairs = pairs[pairs["entity_id"].astype(bool)].drop_duplicates(["conflict_key",
                                                                     "entity_id"])
    valid = state[state["cert_valid"]].assign(entity_id=lambda f: entity_ids(f["cert_key"]))
    valid = valid[valid["entity_id"].isin(pairs["entity_id"])]
    rank = valid["cert_type"].map({"uscc": 0, "resident_id": 0}).fillna(1)
    best = valid.assign(rank=rank).sort_values(["rank", "row_id"]).drop_duplicates("entity_id")
    described = best.set_index("entity_id")[["cert_type", "cert_number", "entity_name"]]
    described = described.rename(columns={"entity_name": "name"})
    stored = stored_entities.set_index("entity_id")[["cert_type", "cert_number", "name"]]
    described = described.combine_first(stored)
    members = _joined(valid["entity_id"], valid["member_id"])
    websites = _joined(valid["entity_id"], valid["website_filing_number"])
    out = pairs.join(described, on="entity_id")
    out["kind"] = out["conflict_key"].str.split(":", n=1).str[0]
    out["member_ids"] = out["entity_id"].map(members)
    out["websites"] = out["entity_id"].map(websites)
    return out[list(CONFLICT_COLUMNS)].sort_values(["conflict_key", "entity_id"]).reset_index(
        drop=True).astype(object)


def _joined(keys: pd.Series, values: pd.Series) -> pd.Series:
    """key -> ';'.join(sorted({str(v) for v in its non-null values})), "" when it has none."""
    present = values.notna()
    pairs = pd.DataFrame({"key": keys[present].to_numpy(dtype=object),
                          "value": values[present].map(str).to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates().sort_values(["key", "value"], kind="stable")
    joined = join_groups(pairs["key"], pairs["value"], ";")
    return joined.reindex(pd.Index(keys.dropna().unique(), dtype=object), fill_value="")
