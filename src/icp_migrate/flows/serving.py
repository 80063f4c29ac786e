"""`icp-migrate serve`: the inbox flow as a Prefect deployment with a schedule.

Scheduling needs a Prefect server (the ephemeral API has no scheduler). With
PREFECT_API_URL set, that server is used; otherwise a private one is started on
127.0.0.1 for as long as `serve` runs.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .. import settings
from ..errors import IcpMigrateError

if TYPE_CHECKING:
    from ..run_settings import RunOptions

STARTUP_SECONDS = 120
DEPLOYMENT = "icp-migrate-inbox"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_server(url: str, process: subprocess.Popen, seconds: float) -> bool:
    """Whether the Prefect API at `url` answers its health check within `seconds` (False as
    soon as its server `process` has ended)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.5)


@contextmanager
def local_prefect_server() -> Iterator[str]:
    """A Prefect server subprocess with a quick scheduler; yields its API URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = settings.prefect_server_environment()
    prefect = Path(sys.executable).with_name("prefect")
    process = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        if not wait_for_server(url, process, STARTUP_SECONDS):
            raise IcpMigrateError("could not start a local Prefect server for serve "
                                  "(set PREFECT_API_URL to use a running one)")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def serve_inbox(inbox: Path, options: RunOptions, cron: str | None, interval: float | None,
                settle: float | None = None) -> None:
    """Serve the inbox deployment until interrupted; the options' target, reports folder,
    cut-off and mapping (checked by the caller: a built-in name or a mapping file's full
    path) and `settle` (seconds) go into every tick's run as the flow's parameters."""
    if not inbox.is_dir():
        raise IcpMigrateError(f"inbox {inbox}: no such folder")
    parameters: dict = {"inbox": str(inbox.resolve()), "target": options.target,
                        "reports_dir": options.reports_dir,
                        "cutoff": options.cutoff.isoformat()}
    if options.mapping:
        parameters["mapping"] = options.mapping
    if settle is not None:
        parameters["settle"] = settle
    if settings.prefect_api_url():
        _serve(parameters, cron, interval)
        return
    with local_prefect_server() as url:
        settings.use_prefect_api(url)
        _serve(parameters, cron, interval)


def _serve(parameters: dict, cron: str | None, interval: float | None) -> None:
    from .inbox import migrate_inbox

    # limit=1: a tick never starts while the previous one still runs
    migrate_inbox.serve(name=DEPLOYMENT, cron=cron, interval=interval, parameters=parameters,
                        print_starting_message=False, limit=1)
