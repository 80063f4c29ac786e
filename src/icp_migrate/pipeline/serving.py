"""What `icp-migrate serve` needs besides the flow: the inbox deployment's parameters and a
Prefect server to serve it from.

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
from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import IcpMigrateError

if TYPE_CHECKING:
    from ..run_settings import RunOptions

STARTUP_SECONDS = 120


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


@contextmanager
def serving_api() -> Iterator[None]:
    """A Prefect server to serve from: $PREFECT_API_URL's, else a private one, started for
    the block and used by this process's client."""
    if settings.prefect_api_url():
        yield
        return
    with local_prefect_server() as url:
        settings.use_prefect_api(url)
        yield


def inbox_parameters(inbox: Path, options: RunOptions, settle: float | None) -> dict[str, Any]:
    """The inbox flow's parameters for every tick: the options' target, reports folder,
    cut-off and mapping (checked by the caller: a built-in name or a mapping file's full
    path) and `settle` (seconds). IcpMigrateError when the inbox is not a folder."""
    if not inbox.is_dir():
        raise IcpMigrateError(f"inbox {inbox}: no such folder")
    parameters: dict[str, Any] = {"inbox": str(inbox.resolve()), "target": options.target,
                                  "reports_dir": options.reports_dir,
                                  "cutoff": options.cutoff.isoformat()}
    if options.mapping:
        parameters["mapping"] = options.mapping
    if settle is not None:
        parameters["settle"] = settle
    return parameters
