"""The same ReportData as `data.read_report_data`, computed in pandas from whole frames:
one check per report section, ORACLE[<section name>], computing what the section's `read`
gathers through its store query (the list sections' in `report_oracle_lists.py`).

For a run whose records are at hand rather than in a store (tests), and the reference the
store's GROUP BY queries are checked against: on the same records both give equal
sections. Costs memory and time in proportion to the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from icp_migrate.reports.data import ReportData
from icp_migrate.reports.reasons import reason_group
from icp_migrate.store.validations import failing_row_ids
from report_oracle_lists import (
    conflicts_check,
    follow_up_check,
    links_check,
    members_check,
    possible_matches_check,
    quarantine_check,
    sizes,
)


@dataclass
class Frames:
    """A run's records and the target's tables, whole."""

    recs: pd.DataFrame  # record_dispositions of the run, by row id, NULL as None
    entities: pd.DataFrame  # every entity of the target
    accounts: pd.DataFrame
    websites: pd.DataFrame
    domains: pd.DataFrame
    history: pd.DataFrame
    decisions: pd.DataFrame  # conflict_key, decision, entity_id, decided_by
    validations: dict[str, dict]
    links: pd.DataFrame  # entity_links of the run: row_id, source, locator, entity_id, …
    ledger: pd.DataFrame | None
    competitors: pd.DataFrame | None
    runs: pd.DataFrame | None

    @property
    def kept(self) -> pd.DataFrame:
        recs = self.recs
        return recs[recs["disposition"].isin(["loaded", "duplicate"])
                    & recs["entity_id"].notna()]

    @property
    def run_entities(self) -> set:
        return set(self.kept["entity_id"])


def report_data_from_frames(
    run: dict,
    target: str,
    dispositions: pd.DataFrame,  # record_dispositions' columns, one row per record
    entities: pd.DataFrame,  # entity_id, entity_type, name, province, cert_number
    accounts: pd.DataFrame,  # account_id, entity_id, account_kind, real_name_...
    websites: pd.DataFrame,  # website_filing_number, entity_id, website_name
    domains: pd.DataFrame,  # domain, unicode_domain, website_filing_number
    history: pd.DataFrame,
    decisions: pd.DataFrame | None = None,  # conflict_key, decision, entity_id, decided_by
    validations: dict[str, dict] | None = None,
    ledger: pd.DataFrame | None = None,  # conflicts: conflict_id, kind, opened_run_id
    competitors: pd.DataFrame | None = None,  # conflict_competitors: conflict_id, claimant
    runs: pd.DataFrame | None = None,  # every run of the target: run_id, started_at
    entity_links: pd.DataFrame | None = None,  # the run's entity_links
) -> ReportData:
    """`entities`, `accounts`, `websites` and `domains` may hold more than the run's: only
    the entities of its loaded and duplicate records, and the websites it loaded, count.
    `ledger`, `competitors` and `runs` are the target's whole tables (no ledger: no open
    conflict)."""
    recs = dispositions.astype(object).where(dispositions.notna(), None)
    frames = Frames(
        recs=recs.sort_values("row_id", kind="stable", ignore_index=True),
        entities=entities, accounts=accounts, websites=websites, domains=domains,
        history=history, validations=validations or {},
        decisions=pd.DataFrame(columns=["conflict_key", "decision", "entity_id", "decided_by"])
        if decisions is None else decisions,
        links=pd.DataFrame(columns=["row_id", "source", "locator", "entity_id", "link_kind",
                                    "link_key"]) if entity_links is None else entity_links,
        ledger=ledger, competitors=competitors, runs=runs)
    return ReportData(run=run, target=target,
                      parts={name: check(frames) for name, check in ORACLE.items()})


def reconciliation(f: Frames) -> pd.DataFrame:
    recs = f.recs.assign(with_reasons=f.recs["reasons"].notna(),
                         with_warnings=f.recs["warnings"].notna())
    return sizes(recs, ["source", "disposition"], "records",
                  also=("with_reasons", "with_warnings"))


def reasons(f: Frames) -> pd.DataFrame:
    """Each record's reason grouped one by one (reason_group: no reason is NO_REASON)."""
    return sizes(f.recs.assign(reason=[reason_group(t) for t in f.recs["reasons"]]),
                 ["disposition", "reason"], "records")


def entities(f: Frames) -> pd.DataFrame:
    return sizes(f.entities[f.entities["entity_id"].isin(f.run_entities)],
                  ["entity_type", "province"], "entities")


def accounts(f: Frames) -> pd.DataFrame:
    mine = f.accounts[f.accounts["entity_id"].isin(f.run_entities)]
    return sizes(mine.assign(real_name=[
        "required" if v is not None and not pd.isna(v) and bool(v) else "not required"
        for v in mine["real_name_verification_required"]]),
        ["account_kind", "real_name"], "accounts")


def validation_check(f: Frames) -> tuple[dict[str, dict], pd.DataFrame]:
    from icp_migrate.reports.expectations import EXAMPLES

    ids = set(failing_row_ids(f.validations, EXAMPLES))
    located = f.recs.loc[f.recs["row_id"].isin(ids), ["row_id", "source", "locator"]]
    return f.validations, located.reset_index(drop=True)


def history_check(f: Frames) -> pd.DataFrame:
    return f.history


# One check per section of SECTIONS, by its name (test_reports checks the two match).
ORACLE: dict[str, Callable[[Frames], Any]] = {
    "reconciliation": reconciliation,
    "reasons": reasons,
    "entities": entities,
    "accounts": accounts,
    "members": members_check,
    "follow_up": follow_up_check,
    "links": links_check,
    "possible_matches": possible_matches_check,
    "conflicts": conflicts_check,
    "quarantine": quarantine_check,
    "validation": validation_check,
    "history": history_check,
}
