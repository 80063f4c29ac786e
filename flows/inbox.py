"""The scheduled inbox flow: migrate every new export dropped into a folder, each file once
(which files are taken, staged, hashed and set aside: `icp_migrate.pipeline.inbox`). The
deployment entrypoint of prefect.yaml and of `icp-migrate serve`."""

from __future__ import annotations

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
                  settle: float = SETTLE_SECONDS) -> dict[str, int]:
    """One tick: new settled files are migrated together (with `cutoff`, and `mapping` forced
    when given); a copy of a file seen before (same content, any name) is set aside in
    skipped/; a file that cannot be read goes to failed/ with its reason and is never
    retried; a file whose size or mtime changed within `settle` seconds is left in place.

    The run's options are checked once, here (an empty `target`: $ICP_MIGRATE_TARGET or the
    default file; a bad cut-off or mapping fails the tick), and the target is opened once
    for the whole tick: the scan, the run and the ledger."""
    options = RunOptions.from_user(target=target, cutoff=cutoff, mapping=mapping,
                                   reports_dir=reports_dir)
    forced = options.forced_mapping()
    with inbox_tick(inbox, options.target) as tick:
        taken, waiting, seen = scan_inbox(inbox, tick.engine, float(settle), str(tick.staging))
        files = sort_files(inbox, taken, waiting, seen, forced)
        if files.fresh:
            try:  # the parameters' URLs as SecretStr: Prefect stores subflow parameters
                summary = migrate(**options.with_sources(files.staged).flow_parameters())
            except IcpMigrateError as exc:
                files.failed(exc)
            else:
                files.loaded(summary.run_id)
        tick.record(files)
        return files.counts
