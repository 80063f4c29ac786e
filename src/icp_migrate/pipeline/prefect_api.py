"""The Prefect API a run reports to: up before the run needs it, and never outliving the
process that started it.

With PREFECT_API_URL set (a long-running `prefect server start`, see the README), runs use
that server and this starts nothing. Without it every process starts Prefect's ephemeral API
server, a subprocess that takes seconds to come up; `start_early` starts it in a thread
while the CLI checks the sources and the target, instead of after them.

A server ends with the process that started it, even a SIGKILLed one (issue 11). Prefect
stops its ephemeral server at exit (atexit), which a SIGKILL, or any signal the process does
not handle, skips: the server then ran for ever. Every server our CLI starts (Prefect's
ephemeral one for `run` and `review apply --now`, the private `prefect server start` of
`serve`) is therefore started by `spawn`, which has the kernel end it (Linux only):

- the child first runs a few lines of Python (`_END_WITH_PARENT`, a bare interpreter: no
  site, no import of ours) that ask the kernel for SIGTERM when its parent dies
  (`prctl(PR_SET_PDEATHSIG, SIGTERM)`), exit at once if the parent has already died (the
  parent pid is no longer ours), then exec the server's own command: same pid, same command
  line, and the death signal survives the exec. (Not a `preexec_fn`: Python code between
  fork and exec in a process with threads can deadlock.) A SIGTERMed server shuts down as if
  stopped: uvicorn ends its requests and closes the API's database.
- "Parent" is the *thread* that forked, not the process: a server forked from a thread that
  ends (`start_early`'s, or whatever thread Prefect's client happens to start the server
  from) would be ended with it. So every fork happens on one daemon thread started on first
  use that never returns (`_on_lasting_thread`): it ends only with the process. A polling
  watchdog in the child or a pipe would need code of ours inside Prefect's server process;
  the kernel needs none, and reacts at once.
- The signal reaches the server process only, which is enough: uvicorn serves the API in
  that one process (`prefect server start` too, with its default single worker). Off Linux
  nothing changes: the server ends at an orderly exit only.

Prefect's ephemeral server is the singleton `SubprocessASGIServer()` that its clients create
and start on demand; `ephemeral_server` puts an instance of our subclass in that singleton's
place (Prefect's own test harness does the same), so whichever code starts it, the server is
spawned here. The subclass repeats Prefect's uvicorn command (`_run_uvicorn_command`, private):
tests/test_orphans.py fails if Prefect's command, or the singleton it relies on, changes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import cache
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, TypeVar

from ..settings import process_environment

if TYPE_CHECKING:
    from prefect.server.api.server import SubprocessASGIServer

T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def start_early() -> Callable[[], None]:
    """Start the ephemeral API server in the background if no API is configured; returns a
    function that waits until it is up (a failure surfaces when the flow starts it again)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return _nothing
    server = ephemeral_server()  # the instance Prefect's get_client() starts and reuses

    def start() -> None:
        try:
            server.start()
        except Exception:  # noqa: BLE001 - the flow's own start raises it with context
            pass

    thread = threading.Thread(target=start, name="prefect-api-start", daemon=True)
    thread.start()
    return thread.join


def _nothing() -> None:
    return None


def spawn(args: list[str], **popen: Any) -> subprocess.Popen:
    """`subprocess.Popen(args, **popen)` for a server that must end with this process: SIGTERM
    as soon as this process ends, however it ends (see the module docstring)."""
    if not sys.platform.startswith("linux"):  # elsewhere only an orderly exit ends it
        return subprocess.Popen(args, **popen)
    bound = [sys.executable, "-I", "-S", "-c", _END_WITH_PARENT, str(os.getpid()),
             str(int(signal.SIGTERM)), *args]
    return _on_lasting_thread(lambda: subprocess.Popen(bound, **popen))


# argv: our pid, the signal, the command. prctl's second argument is an unsigned long.
_END_WITH_PARENT = (
    "import ctypes, os, sys\n"
    f"ctypes.CDLL(None).prctl(ctypes.c_int({PR_SET_PDEATHSIG}), ctypes.c_ulong(int(sys.argv[2])))\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)  # the parent died before the prctl: no signal will come\n"
    "os.execvp(sys.argv[3], sys.argv[3:])\n"
)


def ephemeral_server() -> SubprocessASGIServer:
    """Prefect's ephemeral API server singleton, made one that `spawn`s its process (unless
    an instance already runs: Prefect's test harness, say)."""
    from prefect.server.api.server import SubprocessASGIServer

    bound = _bound_server_class()
    current = SubprocessASGIServer._instances.get(None)
    if isinstance(current, bound) or (current is not None and current.running):
        return current
    SubprocessASGIServer._instances.pop(None, None)
    return bound()  # its __new__ stores it as the singleton


@cache
def _bound_server_class() -> type[SubprocessASGIServer]:
    import prefect
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    class BoundSubprocessASGIServer(SubprocessASGIServer):
        """Prefect's ephemeral server, its process started by `spawn`, on a port the
        kernel picks."""

        def find_available_port(self) -> int:
            # Prefect draws a port from 8000-8999 and checks it is free; two servers started
            # at once (parallel runs, serve beside a run) could draw the same one, and the
            # second then failed to bind while its process spoke to the first one's API
            # (seen once in CI: a run's flow run recorded in another test's server). The
            # kernel's choice (bind to port 0) never hands out a port in use and spreads over
            # its whole ephemeral range, so a clash is far less likely (it is still a
            # choice made before uvicorn binds).
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", 0))
                return int(probe.getsockname()[1])

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            # Prefect 3's command and environment, word for word (test_orphans checks it);
            # the settings are read here: the spawning thread has none of the caller's context
            server_env = {
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            }
            return spawn(
                args=[sys.executable, "-m", "uvicorn",
                      "--app-dir", str(prefect.__module_path__.parent),
                      "--factory", "prefect.server.api.server:create_app",
                      "--host", "127.0.0.1", "--port", str(self.port),
                      "--log-level", "error", "--lifespan", "on"],
                env={**process_environment(), **server_env,
                     **get_current_settings().to_environment_variables(exclude_unset=True)},
            )

    return BoundSubprocessASGIServer


_requests: dict[int, SimpleQueue[tuple[Callable[[], Any], Future]]] = {}  # by process id
_requests_lock = threading.Lock()


def _on_lasting_thread(call: Callable[[], T]) -> T:
    """`call()` run on a thread that lives as long as this process (the parent a child's
    PDEATHSIG watches is the thread that forked it); a forked copy of this process starts
    its own."""
    with _requests_lock:
        requests = _requests.get(os.getpid())
        if requests is None:
            requests = _requests[os.getpid()] = SimpleQueue()
            threading.Thread(target=_answer, args=(requests,), name="icp-migrate-spawner",
                             daemon=True).start()
    done: Future[T] = Future()
    requests.put((call, done))
    return done.result()


def _answer(requests: SimpleQueue[tuple[Callable[[], Any], Future]]) -> None:
    while True:  # never returns: its children's PDEATHSIG would fire
        call, done = requests.get()
        try:
            done.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            done.set_exception(exc)
