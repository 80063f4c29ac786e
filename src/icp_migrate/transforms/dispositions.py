"""Every record's one disposition, and the evidence of which key joined it to its entity."""

from __future__ import annotations

from dataclasses import dataclass

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


def decide(records: pd.DataFrame, record_domains: pd.DataFrame, screened: pd.DataFrame,
           snapshot: Plan) -> Decision:
    """Steps 4-7 on the records steps 1-3 left undecided; `screened` holds steps 1-3."""
    state = records.merge(screened, on="row_id", how="left")
    for column in ("entity_id", "link_kind", "link_key", "conflict_key", "candidates"):
        state[column] = pd.Series([None] * len(state), index=state.index, dtype=object)
    cand = state[state["disposition"].isna()]
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

    attached = state.loc[resolved.index[~decided]].reset_index()
    settled, domains = settle(attached, record_domains,
                              snapshot.website_filings[["website_filing_number", "entity_id"]],
                              snapshot.domains[["domain", "website_filing_number"]],
                              snapshot.decisions)
    settled = settled.set_index("row_id")
    state.loc[settled.index, ["disposition", "reasons", "conflict_key", "candidates"]] = (
        settled[["disposition", "reasons", "conflict_key", "candidates"]])
    loose = state["link_kind"].isin(["shared_filing_number", "name_fallback",
                                     "review_decision"])
    how = state["link_kind"].astype("str").str.replace("_", " ")
    join_note = ("no valid certificate (" + state["cert_problem"].fillna("?").astype(str)
                 + "); joined its entity by " + how + " " + state["link_key"].astype(str))
    state["warnings"] = join_texts([state["warnings"], join_note.where(loose),
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
