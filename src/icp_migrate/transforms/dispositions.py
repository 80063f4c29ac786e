"""Every record's one disposition, and the evidence of which key joined it to its entity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..plan import DISPOSITION_COLUMNS, LINK_COLUMNS, Plan
from .conflicts import settle
from .grouping import resolve_entities
from .known import known_rows
from .review import conflict_table
from .text import join_texts


@dataclass
class Decision:
    dispositions: pd.DataFrame  # DISPOSITION_COLUMNS, one row per record
    links: pd.DataFrame  # LINK_COLUMNS for loaded and duplicate records
    conflicts: pd.DataFrame  # CONFLICT_COLUMNS: open conflicts and their competing entities
    kept: pd.DataFrame  # normalized records (loaded, duplicate) with entity_id
    domains: pd.DataFrame  # domain, unicode_domain, website_filing_number to plan


# What resolve_entities reads of a record.
GROUPING_COLUMNS = ("row_id", "cert_valid", "cert_key", "cert_type", "cert_upgraded",
                    "cert_problem", "is_person", "name_key", "entity_filing_number",
                    "website_entity_number", "website_filing_number")


def _with_screening(records: pd.DataFrame, screened: pd.DataFrame) -> pd.DataFrame:
    """records.merge(screened, on="row_id", how="left"), without copying every column of
    the records when `screened` lists the same rows in the same order (as screen() does)."""
    same_rows = len(screened) == len(records) and np.array_equal(
        screened["row_id"].to_numpy(), records["row_id"].to_numpy())
    if not same_rows or screened.columns.intersection(records.columns).difference(["row_id"]
                                                                                 ).size:
        return records.merge(screened, on="row_id", how="left")
    state = records.reset_index(drop=True)
    for column in screened.columns.drop("row_id"):
        state[column] = screened[column].to_numpy()
    return state


def decide(records: pd.DataFrame, record_domains: pd.DataFrame, screened: pd.DataFrame,
           snapshot: Plan) -> Decision:
    """Steps 4-7 on the records steps 1-3 left undecided; `screened` holds steps 1-3."""
    state = _with_screening(records, screened)
    for column in ("entity_id", "link_kind", "link_key", "conflict_key", "candidates"):
        state[column] = pd.Series([None] * len(state), index=state.index, dtype=object)
    cand = state.loc[state["disposition"].isna(), list(GROUPING_COLUMNS)]
    known = known_rows(snapshot)
    resolved = resolve_entities(cand, known, snapshot.decisions)
    state = state.set_index("row_id")
    resolved = resolved.set_index("row_id")
    decided = resolved["disposition"].notna()
    state.loc[resolved.index[decided], ["disposition", "reasons"]] = (
        resolved.loc[decided, ["disposition", "reasons"]])
    state.loc[resolved.index, ["entity_id", "link_kind", "link_key", "conflict_key",
                               "candidates"]] = resolved[["entity_id", "link_kind", "link_key",
                                                          "conflict_key", "candidates"]]

    attached = state.loc[resolved.index[~decided], ["entity_id", "website_filing_number"]
                         ].reset_index()
    settled, domains = settle(attached, record_domains,
                              snapshot.website_filings[["website_filing_number", "entity_id"]],
                              snapshot.domains[["domain", "website_filing_number"]],
                              snapshot.decisions)
    settled = settled.set_index("row_id")
    state.loc[settled.index, ["disposition", "reasons", "conflict_key", "candidates"]] = (
        settled[["disposition", "reasons", "conflict_key", "candidates"]])
    loose = state["link_kind"].isin(["shared_filing_number", "name_fallback",
                                     "review_decision"])
    joined = state.loc[loose, ["cert_problem", "link_kind", "link_key"]]
    how = joined["link_kind"].astype("str").str.replace("_", " ")
    join_note = ("no valid certificate (" + joined["cert_problem"].fillna("?").astype(str)
                 + "); joined its entity by " + how + " " + joined["link_key"].astype(str))
    state["warnings"] = join_texts([state["warnings"], join_note,
                                    settled["warnings"].reindex(state.index)], state.index)
    held = ~state["disposition"].isin(["loaded", "duplicate"])
    state.loc[held, "entity_id"] = None  # disputed or rejected: no entity

    state = state.reset_index()
    kept_mask = state["disposition"].isin(["loaded", "duplicate"])
    return Decision(
        dispositions=state[list(DISPOSITION_COLUMNS)].astype(object),
        links=state.loc[kept_mask, list(LINK_COLUMNS)].astype(object).reset_index(drop=True),
        kept=state[kept_mask].reset_index(drop=True),
        conflicts=conflict_table(state, snapshot.entities),
        domains=domains.reset_index(drop=True),
    )
