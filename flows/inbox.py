"""The scheduled inbox flow: migrate every new export dropped into a folder, each file once
(which files are taken, staged, hashed and set aside: `icp_migrate.pipeline.inbox`). The
deployment entrypoint of prefect.yaml and of `icp-migrate serve`."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from sqlalchemy import Engine

from icp_migrate.errors import IcpMigrateError
from icp_migrate.pipeline.inbox import (
    SETTLE_SECONDS,
    Taken,
    inbox_tick,
    settled_files,
    sort_files,
)
from icp_migrate.pipeline.serving import end_quietly_on_exit
from icp_migrate.pipeline.tick_line import next_tick, run_outcome, say, tick_line
from icp_migrate.run_settings import RunOptions
from icp_migrate.settings import DEFAULT_CUTOFF
from icp_migrate.store.inbox import seen_files

from .migrate import migrate
from .tasks import stage


@stage("scan-inbox")
def scan_inbox(inbox: str, engine: Engine, settle: float, staging: str,
               ) -> tuple[list[Taken], list[str], dict[str, str]]:
    """Settled files (staged, in name order), the names still settling, and the hashes the
    target has seen before."""
    taken, waiting = settled_files(inbox, settle, staging)
    return taken, waiting, seen_files(engine)


@flow(name="migrate-inbox", log_prints=False, validate_parameters=False)
def migrate_inbox(inbox: str, target: str, reports_dir: str = "reports",
                  cutoff: str = DEFAULT_CUTOFF, mapping: str | None = None,
                  settle: float = SETTLE_SECONDS, interval: float | None = None,
                  cron: str | None = None) -> dict[str, int]:
    """One tick: new settled files are migrated together (with `cutoff`, and `mapping` forced
    when given); a copy of a file seen before (same content, any name) is set aside in
    skipped/; a file that cannot be read goes to failed/ with its reason and is never
    retried; a file whose size or mtime changed within `settle` seconds is left in place.

    The run's options are checked once, here (an empty `target`: $ICP_MIGRATE_TARGET or the
    default file; a bad cut-off or mapping fails the tick), and the target is opened once
    for the whole tick: the scan, the run and the ledger. The tick ends with one line on
    stderr (`pipeline.tick_line`); `interval`/`cron` (serve's schedule) only tell its next
    tick's time there."""
    started = datetime.now(UTC)
    end_quietly_on_exit()  # serve's stop may end this process while it drains
    options = RunOptions.from_user(target=target, cutoff=cutoff, mapping=mapping,
                                   reports_dir=reports_dir)
    forced = options.forced_mapping()
    with inbox_tick(inbox, options.target) as tick:
        taken, waiting, seen = scan_inbox(inbox, tick.engine, float(settle), str(tick.staging))
        files = sort_files(inbox, taken, waiting, seen, forced)
        outcome = None
        if files.fresh:
            try:  # the parameters' URLs as SecretStr: Prefect stores subflow parameters
                summary = migrate(**options.with_sources(files.staged).flow_parameters())
            except IcpMigrateError as exc:
                files.failed(exc)
                outcome = f"run failed: {str(exc).splitlines()[0]} (files in failed/)"
            else:
                files.loaded(summary.run_id)
                outcome = run_outcome(summary.run_id, summary.dispositions)
        tick.record(files)
    due = next_tick(_scheduled(started), interval, cron)
    say(tick_line(started, [item.path.name for item in files.fresh], outcome, files.set_aside,
                  len(waiting), due))
    return files.counts


def _scheduled(started: datetime) -> datetime:
    """When this tick was scheduled (the next one is due an interval after), else `started`."""
    try:
        from prefect.runtime import flow_run

        when = flow_run.scheduled_start_time
        # a plain datetime (Prefect's may be pendulum's, whose arithmetic differs)
        return datetime.fromtimestamp(when.timestamp(), UTC) if when else started
    except Exception:  # noqa: BLE001 - a courtesy for the tick's line only
        return started
