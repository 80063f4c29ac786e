"""The `migrate` flow: extract each source, normalize, validate, group, plan, validate, load."""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import AbstractContextManager, ExitStack, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow
from pydantic import SecretStr
from sqlalchemy import Engine

from ..errors import PlanValidationError
from ..pipeline.summary import RunSummary, summarize
from ..plan import Plan
from ..run_settings import RunOptions
from ..settings import DEFAULT_CUTOFF
from ..store.load import fail_run, load_plan, start_run
from ..store.lock import target_lock
from ..store.snapshot import read_snapshot
from ..store.target import display_url, target_engine
from . import tasks
from .tasks import masked_errors, stage

log = logging.getLogger("icp_migrate")


def new_run_id(now: datetime) -> str:
    """Sortable by time, unique across machines."""
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _open(target: str, dry_run: bool) -> AbstractContextManager[Engine | None]:
    """The store's engine for the run (the one an inbox tick holds open, if it does); None
    for a dry run on a SQLite file that does not exist."""
    if dry_run and target.startswith("sqlite:///") and not Path(
            target[len("sqlite:///"):]).exists():
        return nullcontext(None)
    return target_engine(target)


@stage("snapshot")
def snapshot(engine) -> Plan:
    """What the store holds (read under the run lock, so no other run moves it meanwhile)."""
    return Plan() if engine is None else read_snapshot(engine)


@stage("load")
def load(engine, run_id: str, planned: Plan, summary: RunSummary) -> None:
    load_plan(engine, run_id, planned, summary.counts())
    log.info("load: %d entities, %d websites, %d dispositions", len(planned.entities),
             len(planned.website_filings), len(planned.dispositions))


def _prepare_here(urls: list[str], mapping: str | None, seconds: dict[str, float],
                  ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Each source extracted and normalized in turn (only one raw source in memory at a
    time); records numbered across the sources in their order."""
    records, domains, labels = [], [], []
    first_row_id = 0
    for source in urls:
        t = time.perf_counter()
        frame = tasks.extract(source, mapping)
        tasks.timed("extract", seconds, t)
        if len(frame):
            labels.append(str(frame["source"].iat[0]))
        t = time.perf_counter()
        part, part_domains = tasks.normalize([frame], first_row_id)
        first_row_id += len(frame)
        del frame
        records.append(part)
        domains.append(part_domains)
        tasks.timed("normalize", seconds, t)
    if len(records) == 1:
        return records[0], domains[0], labels
    return (pd.concat(records, ignore_index=True), pd.concat(domains, ignore_index=True),
            labels)


@flow(name="migrate", log_prints=False, validate_parameters=False)
@masked_errors  # Prefect stores the flow's exception: masked, as the tasks'
def migrate(sources: list[str | SecretStr], target: str | SecretStr, mapping: str | None = None,
            cutoff: str = DEFAULT_CUTOFF, dry_run: bool = False,
            reports_dir: str = "reports", distributed: bool = False) -> RunSummary:
    """Migrate legacy sources into the target; returns the run's summary.

    Raises SourceError/MappingError/TargetError before anything is written, and
    PlanValidationError (the run is recorded as failed, nothing loaded) when a plan-level
    expectation fails. Every recorded run, failed too, gets `<reports_dir>/<run_id>/`.
    URLs may come as SecretStr: Prefect stores a flow run's parameters, those masked
    (`RunOptions.flow_parameters` gives them so).
    `distributed`: the per-source work goes to the flow's task runner (e.g. Dask, see
    `icp-migrate run --dask`); grouping, planning and loading stay in this process.
    """
    options = RunOptions.from_flow(sources, target, mapping, cutoff, dry_run, reports_dir)
    urls, target_url = list(options.sources), options.target
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    seconds: dict[str, float] = {}
    cutoff_ts = pd.Timestamp(options.cutoff)

    if distributed:  # each source extracted, normalized and checked on a worker
        t = time.perf_counter()
        futures = [tasks.prepare_source.submit(source, mapping, cutoff_ts) for source in urls]
        parts = [future.result() for future in futures]
        tasks.timed("sources", seconds, t)
    else:
        records, domains, _labels = _prepare_here(urls, mapping, seconds)
    # The run's settings, recorded with it so it can be re-run as it was (`review apply
    # --now`): absolute paths, the mapping's and each source file's sha256. Hashing reads
    # every source file once more, streaming (about a second per GB, small next to
    # extracting it); a dry run records no run and skips it.
    recorded = None if dry_run else options.recorded()
    t = time.perf_counter()
    held = ExitStack()  # the engine, then the run lock: released in reverse order
    engine = held.enter_context(_open(target_url, dry_run))
    if engine is not None and not dry_run:
        try:
            held.enter_context(target_lock(engine))
        except Exception:
            held.close()
            raise
        log.info("lock: this run is the only one writing to the target")
    validations: dict[str, dict] = {}  # suite name -> GX result, stored with the report
    try:
        known = snapshot(engine)
        tasks.timed("snapshot", seconds, t)
        if engine is not None and recorded is not None:
            start_run(engine, run_id, started, recorded.sources, recorded)
        t = time.perf_counter()
        if distributed:
            records, domains, failures, validations["records"] = tasks.combine(parts)
            del parts
            tasks.timed("combine", seconds, t)
        else:
            failures, validations["records"] = tasks.validate_records(records, cutoff_ts)
            tasks.timed("validate", seconds, t)
        planned, decide_seconds = tasks.decide(records, domains, failures, known, cutoff_ts)
        seconds.update(decide_seconds)
        del records, domains, failures  # a million rows each: let them go as soon as done
        t = time.perf_counter()
        check = tasks.validate_plan(planned)
        tasks.timed("validate", seconds, t)
        validations.update({f"plan_{table}": r for table, r in check.results.items()})
        status = "dry_run" if dry_run else "completed"
        summary = summarize(run_id, display_url(target_url), planned, status)
        summary.seconds = seconds
        if not check.success:
            summary.status = "failed"
            summary.failed_expectations = list(check.failed)
            raise PlanValidationError("plan-level expectations failed, nothing loaded: "
                                      + "; ".join(check.failed))
        if not dry_run:
            t = time.perf_counter()
            load(engine, run_id, planned, summary)
            del planned  # the report reads the store
            tasks.timed("load", seconds, t)
            t = time.perf_counter()
            tasks.report(engine, run_id, validations, reports_dir)
            tasks.timed("report", seconds, t)
        return summary
    except Exception as exc:
        if engine is not None and not dry_run:
            try:  # a read-only or vanished target fails these too: report the first error
                fail_run(engine, run_id, str(exc).splitlines()[0][:500] if str(exc) else
                         exc.__class__.__name__)
                tasks.report(engine, run_id, validations, reports_dir)
            except Exception as report_exc:  # noqa: BLE001 - the run's own error matters more
                log.warning("failed run %s not recorded or reported: %s", run_id, report_exc)
        raise
    finally:
        held.close()
