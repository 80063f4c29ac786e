"""The tasks of the `migrate` flow: each calls pure transforms or the store, nothing more.

No task caches or persists its result: the frames hold certificate numbers (personal
data) and must never land in PREFECT_HOME.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from ..mapping import resolve_mapping
from ..plan import Plan
from ..readers import read_source
from ..transforms.accounts import plan_accounts
from ..transforms.dispositions import decide
from ..transforms.mapping_apply import to_canonical
from ..transforms.records import normalize_records
from ..transforms.screen import scope_flags, screen

log = logging.getLogger("icp_migrate")


def stage(name: str):  # noqa: ANN201 - prefect's decorator type
    """A pipeline task: never cached, never persisted (its frames hold personal data)."""
    return task(name=name, cache_policy=NO_CACHE, persist_result=False)


def timed(name: str, seconds: dict[str, float], started: float) -> None:
    seconds[name] = seconds.get(name, 0.0) + round(time.perf_counter() - started, 3)


@stage("extract")
def extract(source: str, mapping: str | None) -> pd.DataFrame:
    """One source's records as canonical text."""
    forced = resolve_mapping(mapping) if mapping else None
    frame, chosen = read_source(source, forced)
    canonical = to_canonical(frame, chosen)
    broken = int(canonical["read_error"].notna().sum())
    log.info("extract %s: %d records as %s (%d unreadable)", frame["source"].iat[0]
             if len(frame) else source, len(canonical), chosen.name, broken)
    return canonical


@stage("normalize")
def normalize(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    canonical = pd.concat(frames, ignore_index=True)
    canonical.insert(0, "row_id", range(len(canonical)))
    records, domains = normalize_records(canonical)
    log.info("normalize: %d records, %d domains", len(records), len(domains))
    return records, domains


@stage("validate-records")
def validate_records(records: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Record-level expectations (steps 1-3), then the scope rules: the screened records."""
    from ..validation.record_suite import validate_records as run_suite

    check = run_suite(scope_flags(records, cutoff))
    screened = screen(records, check.failures, cutoff)
    log.info("validate records: %d failed record-level expectations", len(check.failures))
    return screened, check.result


@stage("group")
def group(records: pd.DataFrame, domains: pd.DataFrame, screened: pd.DataFrame,
          snapshot: Plan):
    decision = decide(records, domains, screened, snapshot)
    log.info("group: %d records joined to %d entities", len(decision.kept),
             decision.kept["entity_id"].nunique())
    return decision


@stage("plan")
def plan(decision, snapshot: Plan, input_count: int) -> Plan:
    planned = plan_accounts(decision.kept, decision.domains, snapshot)
    planned.dispositions = decision.dispositions
    planned.links = decision.links
    planned.conflicts = decision.conflicts
    planned.input_count = input_count
    log.info("plan: %d entities, %d accounts, %d websites", len(planned.entities),
             len(planned.accounts), len(planned.website_filings))
    return planned


@stage("validate-plan")
def validate_plan(planned: Plan):
    from ..validation.plan_suite import validate_plan as run_suite

    check = run_suite(planned)
    log.info("validate plan: %s", "passed" if check.success else "FAILED")
    return check


@stage("report")
def report(engine, run_id: str, validations: dict[str, dict], reports_dir: str) -> Path:
    """Store the run's GX results, write its report files, publish the summary artifacts."""
    from ..reports.artifacts import publish_artifacts
    from ..reports.build import write_report
    from ..store.validations import save_validations

    save_validations(engine, run_id, validations)
    files = write_report(engine, reports_dir, run_id)
    publish_artifacts(files.content, files.index)
    log.info("report: %s", files.index)
    return files.index
