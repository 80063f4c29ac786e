"""The tasks of the `migrate` flow: each calls pure transforms or the store, nothing more.

No task caches or persists its result: the frames hold certificate numbers (personal
data) and must never land in PREFECT_HOME. Nor do their messages: an exception leaves a
task (and the flow) masked, since Prefect stores and logs what a task raises.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from .. import rules
from ..mapping import resolve_mapping
from ..masking import mask_text
from ..plan import Plan
from ..readers import read_source
from ..transforms.mapping_apply import to_canonical
from ..transforms.records import normalize_records
from ..validation.record_suite import RecordCheck, combine_checks

log = logging.getLogger("icp_migrate")
F = TypeVar("F", bound=Callable[..., Any])


def stage(name: str):  # noqa: ANN201 - prefect's decorator type
    """A pipeline task: never cached, never persisted (its frames hold personal data), and
    what it raises masked (Prefect keeps the message in the task run's state and logs)."""
    def decorate(fn: Callable) -> Any:
        return task(name=name, cache_policy=NO_CACHE, persist_result=False)(masked_errors(fn))

    return decorate


def masked_errors(fn: F) -> F:
    """`fn`, raising any exception with its message masked (mask_text) and no exception
    chained to it: an exception raised on reading a value may quote the value."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every message may quote input values
            error = masked_exception(exc)
            if error is exc:
                raise
        raise error from None  # outside the handler: the unmasked original is not chained

    wrapper.__prefect_task_source__ = fn  # type: ignore[attr-defined] # Prefect's task key
    return wrapper  # type: ignore[return-value]


def masked_exception(exc: Exception) -> Exception:
    """`exc` itself if its message is masked already and it chains nothing, else one of
    its class (a RuntimeError naming it, where the class takes no lone message) with the
    masked message and the same traceback."""
    text = str(exc)
    masked = mask_text(text)
    chained = exc.__cause__ is not None or (exc.__context__ is not None
                                            and not exc.__suppress_context__)
    if masked == text and not chained and not getattr(exc, "__notes__", None):
        return exc
    try:
        error: Exception = type(exc)(masked)
        if str(error) != masked:
            raise TypeError(type(exc).__name__)
    except Exception:  # noqa: BLE001 - any constructor may refuse a lone message
        error = RuntimeError(f"{type(exc).__name__}: {masked}")
    return error.with_traceback(exc.__traceback__)


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
def normalize(frames: list[pd.DataFrame], first_row_id: int = 0,
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalized records (row ids from `first_row_id`, in frame order) and their domains."""
    canonical = pd.concat(frames, ignore_index=True)
    canonical.insert(0, "row_id", range(first_row_id, first_row_id + len(canonical)))
    records, domains = normalize_records(canonical)
    log.info("normalize: %d records, %d domains", len(records), len(domains))
    return records, domains


@dataclass
class SourcePart:
    """One source's records, normalized and checked on a worker; row ids count from 0."""

    label: str | None
    records: pd.DataFrame
    domains: pd.DataFrame
    check: RecordCheck
    seconds: dict[str, float]


@stage("prepare-source")
def prepare_source(source: str, mapping: str | None, cutoff: pd.Timestamp) -> SourcePart:
    """Extract, normalize and run the record-level expectations on one source: the share of
    a distributed run that a worker does."""
    from ..validation.record_suite import validate_records as run_suite

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frame = extract.fn(source, mapping)
    label = str(frame["source"].iat[0]) if len(frame) else None
    timed("extract", seconds, t)
    t = time.perf_counter()
    records, domains = normalize.fn([frame])
    del frame
    timed("normalize", seconds, t)
    t = time.perf_counter()
    check = run_suite(rules.record_flags(records, cutoff))
    timed("validate", seconds, t)
    return SourcePart(label, records, domains, check, seconds)


@stage("combine")
def combine(parts: list[SourcePart]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The sources' parts as one run: row ids shifted to follow each other in source order
    (as a single-process run numbers them), the record-level checks merged."""
    offsets = np.cumsum([0] + [len(p.records) for p in parts[:-1]]).tolist()
    for part, offset in zip(parts, offsets, strict=True):
        part.records["row_id"] += offset
        part.domains["row_id"] += offset
    records = pd.concat([p.records for p in parts], ignore_index=True)
    domains = pd.concat([p.domains for p in parts], ignore_index=True)
    check = combine_checks([p.check for p in parts], offsets)
    log.info("combine: %d records from %d sources, %d failed record-level expectations",
             len(records), len(parts), len(check.failures))
    return records, domains, check.failures, check.result


@stage("validate-records")
def validate_records(records: pd.DataFrame, cutoff: pd.Timestamp,
                     ) -> tuple[pd.DataFrame, dict]:
    """The record-level expectations (steps 1-3): the failed rows and the suite's result."""
    from ..validation.record_suite import validate_records as run_suite

    check = run_suite(rules.record_flags(records, cutoff))
    log.info("validate records: %d failed record-level expectations", len(check.failures))
    return check.failures, check.result


@stage("decide")
def decide(records: pd.DataFrame, domains: pd.DataFrame, failures: pd.DataFrame,
           known: Plan, cutoff: pd.Timestamp) -> tuple[Plan, dict[str, float]]:
    """Every record's disposition and the accounts to load (rules.decide), and the seconds
    its parts took."""
    seconds: dict[str, float] = {}
    planned = rules.decide(records, domains, known, cutoff, failures, seconds)
    log.info("decide: %d entities, %d accounts, %d websites", len(planned.entities),
             len(planned.accounts), len(planned.website_filings))
    return planned, seconds


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
