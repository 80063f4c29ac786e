"""`icp-migrate serve`: the inbox flow served as a Prefect deployment with a schedule (the
server and the parameters: `icp_migrate.pipeline.serving`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from icp_migrate.pipeline.serving import inbox_parameters, serving_api

if TYPE_CHECKING:
    from icp_migrate.run_settings import RunOptions

DEPLOYMENT = "icp-migrate-inbox"


def serve_inbox(inbox: Path, options: RunOptions, cron: str | None, interval: float | None,
                settle: float | None = None) -> None:
    """Serve the inbox deployment until interrupted, every tick with the options' target,
    reports folder, cut-off and mapping and `settle` (seconds) as the flow's parameters."""
    parameters = inbox_parameters(inbox, options, settle)
    with serving_api():
        _serve(parameters, cron, interval)


def _serve(parameters: dict, cron: str | None, interval: float | None) -> None:
    from .inbox import migrate_inbox

    # limit=1: a tick never starts while the previous one still runs
    migrate_inbox.serve(name=DEPLOYMENT, cron=cron, interval=interval, parameters=parameters,
                        print_starting_message=False, limit=1)
