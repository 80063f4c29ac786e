"""What `icp-migrate serve` needs besides the flow: the inbox deployment's parameters and a
Prefect server to serve it from.

Scheduling needs a Prefect server (the ephemeral API has no scheduler). With
PREFECT_API_URL set, that server is used; otherwise a private one is started on
127.0.0.1 for as long as `serve` runs (in a session of its own, ended with all its
processes; started by `prefect_api.spawn`, so it ends even with a SIGKILLed `serve`).
SIGTERM and SIGINT only set an event (`stop_requested`) that the serve loop waits on;
`end_children` then ends whatever process `serve` started.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import IcpMigrateError
from .prefect_api import spawn

if TYPE_CHECKING:
    from ..run_settings import RunOptions

STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


END_SECONDS = 0.7  # a process asked to end gets this long before it is killed


class StopEvent(threading.Event):
    """Set by SIGTERM or SIGINT; `signal_name` tells which (empty until then)."""

    signal_name = ""


def wait_for_server(url: str, process: subprocess.Popen, seconds: float,
                    stop: threading.Event | None = None) -> bool:
    """Whether the Prefect API at `url` answers its health check within `seconds` (False as
    soon as its server `process` has ended or `stop` is set)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        if stop is not None and stop.wait(0.25):
            return False
        if stop is None:
            time.sleep(0.25)


@contextmanager
def stop_requested() -> Iterator[StopEvent]:
    """An event set by SIGTERM or SIGINT (their handlers restored after the block)."""
    stop = StopEvent()

    def handle(signum: int, _frame: object) -> None:
        stop.signal_name = stop.signal_name or signal.Signals(signum).name
        stop.set()
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_QUIET_END = threading.Event()


def end_quietly_on_exit() -> None:
    """In a tick's run process (Prefect runs each tick in a process of its own): once the
    process starts to exit, SIGTERM ends it at once, as by default. `serve`'s stop ends
    every process it started with SIGTERM (`end_children`); one that has just finished its
    tick is then still draining Prefect's log and event services, under Prefect's SIGTERM
    handler, which raises there and prints a traceback on serve's stderr. The reset runs
    first at exit: threading's exit callbacks (where Prefect's services drain) are called
    last registered first, and this is registered from the flow, after they started."""
    if _QUIET_END.is_set():
        return
    _QUIET_END.set()

    def default_sigterm() -> None:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except ValueError:  # not the main thread: nothing to reset from here
            pass
    # threading's exit callbacks (CPython 3.9+) run before threads are joined, and
    # before atexit's, which takes the reset too where they are missing
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(default_sigterm)
        except RuntimeError:  # the interpreter is already exiting
            pass
    atexit.register(default_sigterm)


def child_pids() -> set[int]:
    """The processes this one has started (and theirs), running now."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)}


def end_children(spared: set[int] | frozenset[int] = frozenset()) -> None:
    """End every process this one started (and theirs) but the `spared` ones, all at once:
    SIGTERM, then SIGKILL after END_SECONDS for any still running."""
    import psutil

    children = [p for p in psutil.Process().children(recursive=True) if p.pid not in spared]
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=END_SECONDS)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=END_SECONDS)


def _end_session(process: subprocess.Popen) -> None:
    """End the server and every process of its session (uvicorn and its workers)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=END_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def local_prefect_server(stop: threading.Event | None = None) -> Iterator[str]:
    """A Prefect server subprocess with a quick scheduler, in a session of its own (a
    terminal's Ctrl-C reaches `serve`, which ends it); yields its API URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = settings.prefect_server_environment()
    prefect = Path(sys.executable).with_name("prefect")
    # spawned to end with `serve`, even a SIGKILLed one (prefect_api.spawn)
    process = spawn([str(prefect), "server", "start", "--host", "127.0.0.1", "--port",
                     str(port)], env=env, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_for_server(url, process, STARTUP_SECONDS, stop):
            if stop is not None and stop.is_set():
                yield url  # stopping: the caller sees `stop` set and serves nothing
                return
            raise IcpMigrateError("could not start a local Prefect server for serve "
                                  "(set PREFECT_API_URL to use a running one)")
        yield url
    finally:
        _end_session(process)


@contextmanager
def serving_api(stop: threading.Event | None = None) -> Iterator[None]:
    """A Prefect server to serve from: $PREFECT_API_URL's, else a private one, started for
    the block and used by this process's client (its start given up when `stop` is set)."""
    if settings.prefect_api_url():
        yield
        return
    with local_prefect_server(stop) as url:
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


def deployment_name(parameters: dict[str, Any]) -> str:
    """The deployment a `serve` serves: `icp-migrate-inbox-` and 8 hex digits of its inbox
    and target, so two `serve`s on one Prefect server (or one PREFECT_HOME's database) with
    other inboxes or targets never run each other's ticks. The same inbox and target give
    the same name, so a restarted `serve` takes over its deployment."""
    key = f"{parameters['inbox']}\0{parameters['target'] or ''}".encode()
    return f"icp-migrate-inbox-{hashlib.sha256(key).hexdigest()[:8]}"
