"""`icp-migrate serve`: the inbox flow served as a Prefect deployment with a schedule (the
server, the parameters and the stop: `icp_migrate.pipeline.serving`).

Stopping: SIGTERM or SIGINT stops `serve` within about a second, idle or between ticks: the
Prefect runner is told to stop, then every process `serve` started (the local Prefect
server, a tick's run process) is ended, and `serve` returns (exit code 0). A tick in progress
is not waited for: its run process is ended with the rest, so its run never commits (the
load is one transaction), nothing of it is recorded as seen, and its files stay in the inbox
for the next `serve` to take."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from icp_migrate.pipeline.serving import (
    StopEvent,
    child_pids,
    deployment_name,
    end_children,
    inbox_parameters,
    serving_api,
    stop_requested,
)

if TYPE_CHECKING:
    from icp_migrate.run_settings import RunOptions

STOP_GRACE_SECONDS = 0.3  # the runner's own stop, before its processes are ended


def serve_inbox(inbox: Path, options: RunOptions, cron: str | None, interval: float | None,
                settle: float | None = None) -> str:
    """Serve the inbox deployment until SIGTERM or SIGINT, every tick with the options'
    target, reports folder, cut-off and mapping and `settle` (seconds) as the flow's
    parameters (and the schedule, for the tick's line to tell the next tick's time).
    Returns the name of the signal that stopped it."""
    parameters = inbox_parameters(inbox, options, settle)
    parameters.update({"interval": interval} if interval is not None else {"cron": cron})
    before = child_pids()  # not ours to end (a caller's own processes)
    with stop_requested() as stop, serving_api(stop):
        try:
            _serve(parameters, cron, interval, stop)
        finally:  # before the server's own end: everything ends at once
            end_children(spared=before)
    return stop.signal_name


def _serve(parameters: dict, cron: str | None, interval: float | None,
           stop: StopEvent) -> None:
    """The runner on a thread of its own (the main thread waits for a signal)."""
    if stop.is_set():  # a signal while the server was starting
        return
    from prefect.runner import Runner

    from .inbox import migrate_inbox

    # limit=1: a tick never starts while the previous one still runs
    name = deployment_name(parameters)
    runner = Runner(name=name, limit=1)
    runner.add_flow(migrate_inbox, name=name, cron=cron, interval=interval,
                    parameters=parameters)
    loop: dict[str, Any] = {}
    failed: list[BaseException] = []

    def run() -> None:
        async def start() -> None:
            loop["loop"] = asyncio.get_running_loop()
            await runner.start()
        try:
            asyncio.run(start())
        except BaseException as exc:  # noqa: BLE001 - told to the main thread
            failed.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=run, name="icp-migrate-serve", daemon=True)
    thread.start()
    stop.wait()
    if thread.is_alive() and "loop" in loop:
        try:
            asyncio.run_coroutine_threadsafe(runner.astop(), loop["loop"])
        except RuntimeError:  # its loop has just ended
            pass
        thread.join(STOP_GRACE_SECONDS)
    if failed and not isinstance(failed[0], asyncio.CancelledError | KeyboardInterrupt):
        raise failed[0]
