"""What a plan would change in the target, compared with what the target holds: the preview
an analyst reads before a batch is loaded (`icp-migrate run --dry-run`), and the record of
what a loaded run changed.

One row per change, in a fixed order of kinds (PREVIEW_KINDS); `key` is the id a person
types next (an entity or account id, a website filing number, a conflict id), never
personal data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..masking import mask_email
from ..plan import Plan
from .history import ACCOUNT_KIND_FIELDS

PREVIEW_COLUMNS = ("change", "key", "entity_id", "account_id", "detail")
PREVIEW_KINDS = (
    "new entity",
    "new account",
    "website added to an existing account",
    "website in a new account",
    "website moved to another account",
    "conflict opened",
    "conflict joined",
    "account kind changed",
    "stored value replaced",
)


def _rows(change: str, key: pd.Series, entity: pd.Series | None = None,
          account: pd.Series | None = None, detail: pd.Series | None = None) -> pd.DataFrame:
    out = pd.DataFrame({"change": change, "key": key.to_numpy()}, dtype=object)
    for column, values in (("entity_id", entity), ("account_id", account),
                           ("detail", detail)):
        out[column] = None if values is None else values.to_numpy()
    return out


def _websites(planned: Plan, known: Plan) -> list[pd.DataFrame]:
    sites = planned.website_filings[["website_filing_number", "account_id", "entity_id",
                                     "website_name"]]
    stored = known.website_filings.set_index("website_filing_number")["account_id"]
    was = sites["website_filing_number"].map(stored)
    new = sites[was.isna()]
    existing = new["account_id"].isin(known.accounts["account_id"])
    moved = sites[was.notna() & (was != sites["account_id"])]
    moved_from = moved["website_filing_number"].map(stored)
    return [
        _rows(PREVIEW_KINDS[2], new.loc[existing, "website_filing_number"],
              new.loc[existing, "entity_id"], new.loc[existing, "account_id"],
              new.loc[existing, "website_name"]),
        _rows(PREVIEW_KINDS[3], new.loc[~existing, "website_filing_number"],
              new.loc[~existing, "entity_id"], new.loc[~existing, "account_id"],
              new.loc[~existing, "website_name"]),
        _rows(PREVIEW_KINDS[4], moved["website_filing_number"], moved["entity_id"],
              moved["account_id"], "from " + moved_from.astype(str)),
    ]


def _conflicts(planned: Plan, known: Plan) -> list[pd.DataFrame]:
    held = planned.conflicts.groupby("conflict_key", sort=True).agg(
        kind=("kind", "first"), claimants=("entity_id", "nunique")).reset_index()
    stored = known.ledger
    open_ids = stored.loc[stored["decision"].isna(), "conflict_id"]
    joined = held["conflict_key"].isin(open_ids)
    detail = held["kind"].astype(str) + ", " + held["claimants"].astype(str) + " claimants"
    return [_rows(PREVIEW_KINDS[5], held.loc[~joined, "conflict_key"],
                  detail=detail[~joined]),
            _rows(PREVIEW_KINDS[6], held.loc[joined, "conflict_key"], detail=detail[joined])]


def _history(changes: pd.DataFrame) -> list[pd.DataFrame]:
    kind = (changes["subject"] == "account") & changes["field"].isin(ACCOUNT_KIND_FIELDS)
    kinds, values = changes[kind], changes[~kind]

    def told(frame: pd.DataFrame) -> pd.Series:
        email = frame["field"].eq("admin_email")  # personal: its local part masked

        def shown(column: str) -> pd.Series:
            value = frame[column].astype(object)
            value = value.where(~email, value.map(mask_email))
            return value.fillna("—").astype(str)

        return (frame["subject"].astype(str) + " " + frame["field"].astype(str) + ": "
                + shown("old_value") + " → " + shown("new_value"))

    return [_rows(PREVIEW_KINDS[7], kinds["subject_key"], account=kinds["subject_key"],
                  detail=told(kinds)),
            _rows(PREVIEW_KINDS[8], values["subject_key"], detail=told(values))]


def preview(planned: Plan, known: Plan) -> pd.DataFrame:
    """Every change `planned` makes to a target holding `known` (PREVIEW_COLUMNS), kinds in
    the order of PREVIEW_KINDS."""
    return in_order([rows_changed(planned, known)], planned.changes)


def rows_changed(planned: Plan, known: Plan) -> pd.DataFrame:
    """The changes `planned`'s rows make (new entities, accounts, websites; conflicts
    opened and joined), not its history: what one part of a run (rules/parts.py) adds to
    the run's preview (`in_order`)."""
    entities = planned.entities[~planned.entities["entity_id"].isin(
        known.entities["entity_id"])]
    accounts = planned.accounts[~planned.accounts["account_id"].isin(
        known.accounts["account_id"])]
    parts = [
        _rows(PREVIEW_KINDS[0], entities["entity_id"], entities["entity_id"],
              detail=entities["entity_type"].astype(str) + " " + entities["name"].astype(str)),
        _rows(PREVIEW_KINDS[1], accounts["account_id"], accounts["entity_id"],
              accounts["account_id"], accounts["account_kind"]),
        *_websites(planned, known),
        *_conflicts(planned, known),
    ]
    return _joined(parts)


def in_order(changed: list[pd.DataFrame], history: pd.DataFrame) -> pd.DataFrame:
    """The run's preview from the `rows_changed` of its parts and its whole history (the
    `changes` rows, numbered): kinds in PREVIEW_KINDS order, each kind by key (the order
    of the plan's tables, whose keys are unique), then the history in its own order."""
    rows = _joined(changed)
    if len(changed) > 1 and len(rows):
        rank = rows["change"].map({kind: n for n, kind in enumerate(PREVIEW_KINDS)})
        keys = pa.table({"rank": pa.array(rank.to_numpy(dtype=np.int64)),
                         "key": pa.array(rows["key"].to_numpy(dtype=object),
                                         type=pa.large_string())})
        order = pc.sort_indices(keys, sort_keys=[("rank", "ascending"),
                                                 ("key", "ascending")]).to_numpy()
        rows = rows.take(order).reset_index(drop=True)
    return _joined([rows, *_history(history)])


def history_rows(changes: pd.DataFrame) -> pd.DataFrame:
    """The preview's rows of a run's history (`changes` rows): account kinds changed and
    stored values replaced."""
    return _joined(_history(changes))


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat([p for p in parts if len(p)] or [parts[0]], ignore_index=True)
    return out[list(PREVIEW_COLUMNS)].astype(object)


def preview_counts(changes: pd.DataFrame) -> dict[str, int]:
    """How many changes of each kind (every kind named, zeros too)."""
    counts = changes["change"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in PREVIEW_KINDS}
