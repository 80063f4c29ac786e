"""Every record's one disposition, and the evidence of which key joined it to its entity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import frames
from ..plan import DISPOSITION_COLUMNS, LINK_COLUMNS, Plan
from ..transforms.text import join_texts
from .accounts import KEPT_COLUMNS, plan_accounts
from .certificate_pairs import certificate_pairs
from .conflict_table import conflict_table
from .conflicts import settle
from .grouping import NameChoices, resolve_entities
from .history import finish_plan
from .known import known_rows


@dataclass
class Decision:
    dispositions: pd.DataFrame  # DISPOSITION_COLUMNS, one row per record
    links: pd.DataFrame  # LINK_COLUMNS for loaded and duplicate records
    conflicts: pd.DataFrame  # CONFLICT_COLUMNS: held conflicts and their claimants
    kept: pd.DataFrame  # KEPT_COLUMNS of the loaded and duplicate records, with entity_id
    domains: pd.DataFrame  # domain, unicode_domain, website_filing_number to plan
    # website number or domain -> the decision that moved or replaced it
    causes: dict[str, str] = field(default_factory=dict)
    removed_domains: list[str] = field(default_factory=list)


# What resolve_entities reads of a record.
GROUPING_COLUMNS = ("row_id", "cert_valid", "cert_key", "cert_type", "cert_number",
                    "cert_upgraded", "cert_problem", "is_person", "name_key",
                    "entity_filing_number", "website_entity_number", "website_filing_number")
# What settle reads of an attached record.
SETTLE_COLUMNS = ("entity_id", "website_filing_number", "source", "locator", "website_name",
                  "filed_on", "member_id")


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


def decide_records(records: pd.DataFrame, record_domains: pd.DataFrame, screened: pd.DataFrame,
                   snapshot: Plan, near_names: NameChoices | None = None,
                   ) -> Decision:
    """Steps 4-7 on the records steps 1-3 left undecided; `screened` holds steps 1-3.
    What the target holds (`snapshot`: its rows and its conflict ledger) binds the run.
    `near_names`: see grouping.resolve_entities (given when `records` are one part of a
    run, rules/parts.py)."""
    state = _with_screening(records, screened)
    for column in ("entity_id", "link_kind", "link_key", "conflict_key", "candidates",
                   "claimant"):
        state[column] = pd.Series([None] * len(state), index=state.index, dtype=object)
    cand = state.loc[state["disposition"].isna(), list(GROUPING_COLUMNS)]
    known = known_rows(snapshot)
    valid = cand[cand["cert_valid"]]
    pairs = certificate_pairs(valid, snapshot.entities, snapshot.ledger)
    resolved = resolve_entities(cand, known, pairs, snapshot.ledger, near_names)
    state["preferred"] = False
    state.loc[pairs.index, "preferred"] = pairs["preferred"].astype(bool)
    state = state.set_index("row_id")
    resolved = resolved.set_index("row_id")
    decided = resolved["disposition"].notna()
    state.loc[resolved.index[decided], ["disposition", "reasons"]] = (
        resolved.loc[decided, ["disposition", "reasons"]])
    state.loc[resolved.index, ["entity_id", "link_kind", "link_key", "conflict_key",
                               "candidates", "claimant"]] = resolved[
        ["entity_id", "link_kind", "link_key", "conflict_key", "candidates", "claimant"]]

    attached = state.loc[resolved.index[~decided], list(SETTLE_COLUMNS)].reset_index()
    stored_sites = snapshot.website_filings[["website_filing_number", "entity_id",
                                             "website_name", "filed_on", "member_id"]]
    settlement = settle(attached, record_domains, stored_sites,
                        snapshot.domains[["domain", "website_filing_number"]], snapshot.ledger)
    settled = settlement.settled.set_index("row_id")
    state.loc[settled.index, ["disposition", "reasons", "conflict_key", "candidates"]] = (
        settled[["disposition", "reasons", "conflict_key", "candidates"]])
    state.loc[settled.index, "claimant"] = state.loc[settled.index, "entity_id"]
    loose = state["link_kind"].isin(["shared_filing_number", "name_fallback",
                                     "review_decision"]) & ~state["cert_valid"].astype(bool)
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
    conflicts = conflict_table(state, record_domains, snapshot, settlement.versions)
    return Decision(
        dispositions=frames.conform(state[list(DISPOSITION_COLUMNS)], frames.DISPOSITIONS),
        links=frames.conform(state.loc[kept_mask, list(LINK_COLUMNS)].reset_index(drop=True),
                             frames.LINKS),
        kept=state.loc[kept_mask, list(KEPT_COLUMNS)].reset_index(drop=True),
        conflicts=frames.conform(conflicts, frames.CONFLICTS),
        domains=frames.conform(settlement.domains.reset_index(drop=True), frames.DOMAINS),
        causes=settlement.causes,
        removed_domains=settlement.removed_domains,
    )


def plan_decision(decision: Decision, snapshot: Plan, input_count: int) -> Plan:
    """The Plan a run loads: accounts of the kept records, their dispositions, links and
    conflicts, and the history of what it replaces in the store."""
    planned = plan_accounts(decision.kept, decision.domains, snapshot)
    planned = finish_plan(planned, snapshot, decision.causes, decision.removed_domains)
    # the declared dtypes (frames.py) at the plan's boundary
    planned.entities = frames.conform(planned.entities, frames.ENTITIES)
    planned.accounts = frames.conform(planned.accounts, frames.ACCOUNTS)
    planned.website_filings = frames.conform(planned.website_filings, frames.WEBSITE_FILINGS)
    planned.domains = frames.conform(planned.domains, frames.DOMAINS)
    planned.changes = frames.conform(planned.changes, frames.CHANGES)
    planned.dispositions = decision.dispositions
    planned.links = decision.links
    planned.conflicts = decision.conflicts
    planned.input_count = input_count
    return planned
