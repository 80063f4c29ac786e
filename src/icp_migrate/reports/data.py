"""What a run's report is made of, counted in the store (`store/report_queries.py` runs
the GROUP BY queries and reads the first LIST_ROWS of each list; `data_lists.py` makes the
list sections of them; no rendering here).

`tests/report_oracle.py` computes the same ReportData in pandas from whole frames: the
reference the tests hold the store's SQL to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine

from icp_migrate.errors import TargetError, UsageError
from icp_migrate.reports import data_lists as lists
from icp_migrate.reports.data_lists import (
    CONFLICT_COLUMNS,
    ENTITIES_MERGED_COLUMNS,
    ITEMS_PER_ROW,
    LIST_ROWS,
    MEMBERS_SPLIT_COLUMNS,
    MULTI_DOMAIN_COLUMNS,
    OPEN_CONFLICT_COLUMNS,
    POSSIBLE_MATCH_COLUMNS,
    QUARANTINE_COLUMNS,
    SAMPLE_FIELDS,
    SAMPLES_PER_REASON,
    Capped,
)
from icp_migrate.reports.reasons import group_reasons
from icp_migrate.store import runs
from icp_migrate.store.report_queries import ReportQueries, report_queries
from icp_migrate.store.target import display_url

# the lists' limits, columns and Capped live in data_lists.py; named here too
__all__ = [
    "CONFLICT_COLUMNS", "ENTITIES_MERGED_COLUMNS", "HISTORY_RUNS", "ITEMS_PER_ROW", "LIST_ROWS",
    "MEMBERS_SPLIT_COLUMNS", "MULTI_DOMAIN_COLUMNS", "OPEN_CONFLICT_COLUMNS",
    "POSSIBLE_MATCH_COLUMNS", "QUARANTINE_COLUMNS", "SAMPLE_FIELDS", "SAMPLES_PER_REASON",
    "Capped", "ReportData", "latest_run_id", "read_report_data", "utc_text",
]

HISTORY_RUNS = 30  # runs shown in the history chart, this one and those before it


@dataclass
class ReportData:
    """One run as the store holds it: its row, its counts, and the head of each list.

    Values are as stored (certificate numbers whole, names unescaped): `sections` masks.
    """

    run: dict
    target: str  # display form, password hidden
    dispositions: pd.DataFrame  # source, disposition, records, with_warnings (one per pair)
    reasons: pd.DataFrame  # disposition, reason (its group), records
    entities: pd.DataFrame  # entity_type, province, entities (of loaded and duplicate records)
    accounts: pd.DataFrame  # account_kind, real_name ('required' or 'not required'), accounts
    members_split: Capped  # MEMBERS_SPLIT_COLUMNS; entity_names: the first ITEMS_PER_ROW
    entities_merged: Capped  # ENTITIES_MERGED_COLUMNS; member_ids: the first ITEMS_PER_ROW
    multi_domain: Capped  # MULTI_DOMAIN_COLUMNS; domains: (domain, unicode_domain) pairs
    possible_matches: Capped  # POSSIBLE_MATCH_COLUMNS: see possible_matches
    conflicts: Capped  # CONFLICT_COLUMNS: needs_review records by row id, with any decision
    conflicts_decided: int  # of conflicts.total, records whose conflict a person decided
    # OPEN_CONFLICT_COLUMNS: every open conflict of the target's ledger (from any run), the
    # oldest first: age_runs counts the runs started after the one that opened it;
    # competitor_ids: the first ITEMS_PER_ROW claimants (entity ids, `v:` versions);
    # in_run: 1 when this run held records in it
    open_conflicts: Capped
    quarantine: Capped  # reason, records, samples (dicts of SAMPLE_FIELDS), largest first
    history: pd.DataFrame  # runs up to this one, oldest first
    validations: dict[str, dict] = field(default_factory=dict)


def latest_run_id(engine: Engine) -> str:
    """The run started last, whatever its status; TargetError when the store has none."""
    run_id = runs.latest_run_id(engine)
    if run_id is None:
        raise TargetError(f"no run recorded in {display_url(engine.url)}")
    return run_id


def read_report_data(engine: Engine, run_id: str) -> ReportData:
    """Every part of the run's report, counted by the database in one connection."""
    with report_queries(engine, run_id, LIST_ROWS, ITEMS_PER_ROW) as q:
        run = _run(q, engine)
        dispositions = q.dispositions()
        # one row per distinct reason text, grouped by rule in pandas (reason_group); the
        # records without a reason are the rest of their disposition's count
        texts = q.reason_texts()
        sums = dispositions.groupby("disposition")[["records", "with_reasons"]].sum()
        reasons = group_reasons(texts, unreasoned=(sums["records"] - sums["with_reasons"]))
        # the run's entities found once, counted by type and province, and their accounts
        parts = q.entity_parts()
        data = ReportData(
            run=run,
            target=display_url(engine.url),
            dispositions=dispositions[["source", "disposition", "records", "with_warnings"]],
            reasons=reasons,
            entities=parts.loc[parts["part"] == "entities", ["a", "b", "n"]].set_axis(
                ["entity_type", "province", "entities"], axis=1).reset_index(drop=True),
            accounts=parts.loc[parts["part"] == "accounts", ["a", "b", "n"]].set_axis(
                ["account_kind", "real_name", "accounts"], axis=1).reset_index(drop=True),
            members_split=lists.members_split(q),
            entities_merged=lists.entities_merged(q),
            multi_domain=lists.multi_domain(q),
            possible_matches=lists.possible_matches(q.organizations()),
            conflicts=lists.conflicts(q, int(sums["records"].get("needs_review", 0))),
            conflicts_decided=q.decided(),
            open_conflicts=lists.open_conflicts(q),
            quarantine=lists.quarantine(q, reasons, texts),
            history=_history(q.history(HISTORY_RUNS)),
            validations=q.validations(),
        )
    return data


def _history(frame: pd.DataFrame) -> pd.DataFrame:
    history = frame.iloc[::-1].reset_index(drop=True)
    history["started_at"] = history["started_at"].map(utc_text)
    for column in history.columns[3:]:  # counts; NULL for a failed run
        history[column] = pd.Series([None if pd.isna(v) else int(v) for v in history[column]],
                                    dtype=object)
    return history


def _run(q: ReportQueries, engine: Engine) -> dict:
    run = q.run()
    if run is None:
        raise UsageError(f"no run {q.run_id!r} in {display_url(engine.url)}")
    run["started_at"] = utc_text(run["started_at"])
    run["finished_at"] = utc_text(run["finished_at"])
    return run


def utc_text(value: object) -> str | None:
    """A stored time as `2025-01-01T08:00:00Z`; SQLite hands back naive UTC, PostgreSQL aware."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
