"""`icp-migrate serve`: a Prefect deployment migrating an inbox's new files on a schedule."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import settings
from ..errors import UsageError
from .output import err, guarded, progress_to_stderr


def serve(
    inbox: Annotated[Path, typer.Option(help="folder where new exports are dropped")],
    cron: Annotated[str | None, typer.Option(help="cron schedule, e.g. '0 2 * * *'")] = None,
    interval: Annotated[float | None, typer.Option(help="seconds between ticks")] = None,
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    reports_dir: Annotated[str, typer.Option("--reports", help="folder for run reports")]
    = "reports",
    cutoff: Annotated[str, typer.Option(help="filings on or after this date are out of scope")]
    = settings.DEFAULT_CUTOFF,
    mapping: Annotated[str | None, typer.Option(
        metavar="NAME|FILE", help="force a layout: mapping name or YAML")] = None,
    settle: Annotated[float, typer.Option(
        min=0, metavar="SECONDS", help="take a file once its size and modification time "
        "have not changed for this long")] = 60.0,
    init: Annotated[bool, typer.Option("--init", help="create the store's tables in a target "
                                       "that already holds other tables")] = False,
) -> None:
    """Serve a Prefect deployment migrating every new file of the inbox on each tick (one
    line per tick on stderr) until SIGTERM or SIGINT (exit code 0)."""
    def body() -> None:
        if (cron is None) == (interval is None):
            raise UsageError("give exactly one of --cron EXPR or --interval SECONDS")
        from ..run_settings import RunOptions

        # a bad cut-off, name or mapping file fails now, not on every tick
        options = RunOptions.from_user(target=target, cutoff=cutoff, mapping=mapping,
                                       reports_dir=reports_dir, init=init)
        settings.configure_environment()
        progress_to_stderr()
        from ..flows.serving import serve_inbox
        from ..store.target import open_target

        open_target(options.target, init=options.init).dispose()
        how = serve_inbox(inbox, options, cron, interval, settle=settle)
        err.print(f"serve stopped ({how or 'its runner ended'})", highlight=False)
        if how:  # asked to stop: every process it started has ended; skip Prefect's exit
            sys.stdout.flush()  # hooks (they would wait on the server just ended)
            sys.stderr.flush()
            os._exit(0)

    guarded(body)
