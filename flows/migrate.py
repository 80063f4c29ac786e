"""The `migrate` flow: extract each source, normalize, validate, then decide and load in
parts (group, plan, load each part; validate the whole plan), report.

The wiring only: the run's lifecycle (its id, the target opened once and locked, the run
ledger, stage seconds, the report of a failed run) is `icp_migrate.pipeline.run`, each
task's work `icp_migrate.pipeline.stages`.
"""

from __future__ import annotations

import pandas as pd
from prefect import flow
from pydantic import SecretStr

from icp_migrate.pipeline.masked_errors import masked_errors
from icp_migrate.pipeline.prefect_share import PREFECT
from icp_migrate.pipeline.run import MigrateRun
from icp_migrate.pipeline.stages import prepare_sources
from icp_migrate.pipeline.summary import RunSummary
from icp_migrate.run_settings import RunOptions
from icp_migrate.settings import DEFAULT_CUTOFF

from . import tasks


@flow(name="migrate", log_prints=False, validate_parameters=False)
@PREFECT.flow_function  # Prefect's share: the flow run's time outside it
@masked_errors  # Prefect stores the flow's exception: masked, as the tasks'
def migrate(sources: list[str | SecretStr], target: str | SecretStr, mapping: str | None = None,
            cutoff: str = DEFAULT_CUTOFF, dry_run: bool = False,
            reports_dir: str = "reports", distributed: bool = False,
            init: bool = False) -> RunSummary:
    """Migrate legacy sources into the target; returns the run's summary.

    Raises SourceError/MappingError/TargetError before anything is written, and
    PlanValidationError (the run is recorded as failed, nothing loaded) when a plan-level
    expectation fails. Every recorded run, failed too, gets `<reports_dir>/<run_id>/`.
    URLs may come as SecretStr: Prefect stores a flow run's parameters, those masked
    (`RunOptions.flow_parameters` gives them so).
    `distributed`: the per-source work goes to the flow's task runner (e.g. Dask, see
    `icp-migrate run --dask`); grouping, planning and loading stay in this process.
    `init`: create our tables in a target that holds other tables (`--init`).
    """
    options = RunOptions.from_flow(sources, target, mapping, cutoff, dry_run, reports_dir,
                                   init)
    run = MigrateRun(options.target, dry_run=dry_run, reports_dir=reports_dir,
                     report=tasks.report, sources=options.shown_sources(), init=init)
    clock, cutoff_ts = run.clock, pd.Timestamp(options.cutoff)
    if distributed:  # each source extracted, normalized and checked on a worker
        with clock.stage("sources"):
            futures = [tasks.prepare_source.submit(source, mapping, cutoff_ts)
                       for source in options.sources]
            parts = [future.result() for future in futures]
    else:
        records, domains = prepare_sources(list(options.sources), mapping, clock, tasks.read)
    # The run's settings, recorded with it so it can be re-run as it was (`review apply
    # --now`): absolute paths, the mapping's and each source file's sha256 (a dry run
    # records no run and skips it).
    with clock.stage("settings"):
        recorded = None if dry_run else options.recorded()
    with run:  # leaving on an error: the run is recorded failed and reported
        with clock.stage("snapshot"):
            known = tasks.snapshot(run.open_target())  # the engine, then the run lock
        run.record_start(recorded)
        if distributed:
            with clock.stage("combine"):
                records, domains, failures, run.validations["records"] = tasks.combine(parts)
                del parts
        else:
            with clock.stage("validate"):
                failures, run.validations["records"] = tasks.validate_records(records,
                                                                              cutoff_ts)
        # Decided part by part, each part loaded as it comes, in one transaction; the plan
        # suite checks the whole run before it commits (PlanValidationError: nothing
        # loaded). A dry run loads and reports too, into its scratch target: its report is
        # the run's report marked preview, and nothing of it stays in the target.
        with run.loading() as engine:
            summary = tasks.decide_and_load(run, engine, records, domains, failures, known,
                                            cutoff_ts)
            del records, domains, failures  # a million rows each: the report reads the store
            with clock.stage("report"):
                tasks.report(engine, run.run_id, run.validations, reports_dir,
                             run.shown_target if dry_run else None)
        if dry_run:
            run.write_preview()
        return summary
