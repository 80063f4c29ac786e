"""The tasks of the `migrate` flow: each runs one stage of the library
(`icp_migrate.pipeline.stages`) as a Prefect task, nothing more.

No task caches or persists its result: the frames hold certificate numbers (personal
data) and must never land in PREFECT_HOME. Nor do their messages: an exception leaves a
task (and the flow) masked, since Prefect stores and logs what a task raises.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlalchemy import Engine

from icp_migrate.pipeline import part_load, stages
from icp_migrate.pipeline.masked_errors import masked_errors
from icp_migrate.pipeline.prefect_share import PREFECT, TimedTask
from icp_migrate.pipeline.run import MigrateRun, StageClock, known_state
from icp_migrate.pipeline.stages import SourcePart
from icp_migrate.pipeline.summary import RunSummary
from icp_migrate.plan import Plan


def stage(name: str):  # noqa: ANN201 - prefect's decorator type
    """A pipeline task: never cached, never persisted (its frames hold personal data), and
    what it raises masked (Prefect keeps the message in the task run's state and logs)."""
    def decorate(fn: Callable) -> Any:
        body = PREFECT.task_function(masked_errors(fn))
        return TimedTask(task(name=name, cache_policy=NO_CACHE, persist_result=False)(body))

    return decorate


@stage("read")
def read(source: str, mapping: str | None, first_row_id: int, clock: StageClock,
         of: str) -> stages.Prepared:
    """One source extracted and normalized a chunk at a time (row ids from
    `first_row_id`), and its domains."""
    return stages.read_records(source, mapping, first_row_id, clock, of)


@stage("prepare-source")
def prepare_source(source: str, mapping: str | None, cutoff: pd.Timestamp) -> SourcePart:
    """Extract, normalize and check one source: what a worker does in a distributed run."""
    return stages.prepare_source(source, mapping, cutoff)


@stage("combine")
def combine(parts: list[SourcePart]) -> tuple[stages.Held, stages.Held, pd.DataFrame, dict]:
    """The workers' parts as one run."""
    return stages.combine_parts(parts)


@stage("snapshot")
def snapshot(engine: Engine | None) -> Plan:
    """What the store holds (read under the run lock, so no other run moves it meanwhile)."""
    return known_state(engine)


@stage("validate-records")
def validate_records(records: stages.Held, cutoff: pd.Timestamp,
                     ) -> tuple[pd.DataFrame, dict]:
    """The record-level expectations (steps 1-3): the failed rows and the suite's result."""
    return stages.record_failures(records, cutoff)


@stage("decide-load")
def decide_and_load(run: MigrateRun, engine: Engine, records: stages.Held,
                    domains: stages.Held, failures: pd.DataFrame, known: Plan,
                    cutoff: pd.Timestamp) -> RunSummary:
    """Every record's disposition and the accounts, decided part by part and each part
    loaded as it comes; the whole plan checked before the load commits."""
    return part_load.decide_and_load(run, engine, records, domains, failures, known, cutoff)


@stage("report")
def _report(engine: Engine, run_id: str, validations: dict[str, dict], reports_dir: str,
            preview_of: str | None = None) -> Path:
    return stages.write_run_report(engine, run_id, validations, reports_dir, preview_of)


def report(engine: Engine, run_id: str, validations: dict[str, dict], reports_dir: str,
           preview_of: str | None = None) -> Path:
    """Store the run's GX results, write its report files, publish the summary artifacts
    (`preview_of`: the target a dry run previews; its report is marked so, not published).
    The GX results go quoted: Prefect would visit each of their nested values, twice,
    before the task starts (1.75 s of a 1M-record run)."""
    return _report(engine, run_id, quote(validations), reports_dir, preview_of)
