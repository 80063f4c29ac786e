"""A killed run leaves no process behind (issue 11): the Prefect API server a process starts
ends with it, even when the process is SIGKILLed (pipeline/prefect_api.py)."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from icp_migrate.pipeline import prefect_api
from test_flow import SAMPLES

CLI = [sys.executable, "-m", "icp_migrate.cli"]
STARTUP = 240  # the ephemeral API server up, on 2 shared cores
GONE_WITHIN = 15  # seconds a server gets to end once its parent has died (a loaded CI
# machine saw a SIGKILLed serve's server still shutting down after 5 s)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux only")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _left_over(processes: list[psutil.Process], seconds: float) -> list[str]:
    """Those still running after up to `seconds` (same pid and start time)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = [p for p in processes if _alive(p)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    left = []
    for process in alive:
        try:
            left.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def _in_group(pgid: int) -> list[psutil.Process]:
    """Every live process of process group `pgid`."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and _alive(process):
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- the mechanism, on plain processes (about a second) ---

@linux_only
def test_a_spawned_process_outlives_the_thread_that_asked_for_it():
    """PDEATHSIG watches the forking thread: spawn forks on a thread that never ends."""
    spawned: list[subprocess.Popen] = []
    thread = threading.Thread(target=lambda: spawned.append(prefect_api.spawn(["sleep", "30"])))
    thread.start()
    thread.join()
    try:
        time.sleep(0.5)
        assert spawned[0].poll() is None, "ended with the short-lived thread that started it"
    finally:
        spawned[0].kill()
        spawned[0].wait()


@linux_only
def test_a_spawned_process_ends_when_its_parent_is_sigkilled():
    code = textwrap.dedent("""
        import sys, time
        from icp_migrate.pipeline.prefect_api import spawn
        print(spawn(["sleep", "60"]).pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        assert _alive(child)
        parent.kill()
        parent.wait()
        assert not _left_over([child], GONE_WITHIN)
    finally:
        _kill_group(parent.pid)


@linux_only
def test_the_prelude_execs_the_command_unless_the_parent_is_already_gone():
    def prelude(parent: int, *command: str) -> int:
        return subprocess.run([sys.executable, "-I", "-S", "-c", prefect_api._END_WITH_PARENT,
                               str(parent), "15", *command], timeout=30).returncode

    assert prelude(os.getpid(), "sh", "-c", "exit 7") == 7  # exec'd: the command's own code
    assert prelude(1, "sh", "-c", "exit 7") == 1  # "parent" 1 is not its parent: not run


def test_prefect_clients_start_our_server_with_prefects_command(monkeypatch):
    """The guard on Prefect's internals we rely on: the singleton its clients create is ours,
    start() runs `_run_uvicorn_command`, and our command is Prefect's, behind the prelude.
    If this fails after a Prefect upgrade, bring BoundSubprocessASGIServer up to date."""
    from prefect.server.api.server import SubprocessASGIServer

    assert "self._run_uvicorn_command()" in inspect.getsource(SubprocessASGIServer.start)
    before = SubprocessASGIServer._instances.get(None)
    SubprocessASGIServer._instances.pop(None, None)
    try:
        ours = prefect_api.ephemeral_server()
        assert SubprocessASGIServer() is ours
        assert type(ours).__mro__[1] is SubprocessASGIServer
        assert prefect_api.ephemeral_server() is ours

        calls: list[tuple[tuple, dict]] = []
        monkeypatch.setattr(subprocess, "Popen", lambda *a, **kw: calls.append((a, kw)))
        ours.port = 8123
        ours._run_uvicorn_command()
        SubprocessASGIServer._run_uvicorn_command(ours)  # Prefect's own
    finally:
        SubprocessASGIServer._instances.pop(None, None)
        if before is not None:
            SubprocessASGIServer._instances[None] = before
    ours_call, theirs_call = [{**kwargs, "args": args[0] if args else kwargs["args"]}
                              for args, kwargs in calls]
    if sys.platform.startswith("linux"):  # the command, run by the death-signal prelude
        prelude = [sys.executable, "-I", "-S", "-c", prefect_api._END_WITH_PARENT,
                   str(os.getpid()), str(int(signal.SIGTERM))]
        assert ours_call["args"][:len(prelude)] == prelude
        ours_call["args"] = ours_call["args"][len(prelude):]
    assert ours_call == theirs_call


def test_our_server_takes_a_port_the_kernel_picks():
    """Prefect draws the ephemeral server's port from 8000-8999 (two servers started at once
    could draw the same one); ours asks the kernel, which never hands out a port in use.
    Relies on start() asking find_available_port(), as Prefect 3's does."""
    from prefect.server.api.server import SubprocessASGIServer

    assert "self.find_available_port()" in inspect.getsource(SubprocessASGIServer.start)
    bound = prefect_api._bound_server_class()
    assert bound.find_available_port is not SubprocessASGIServer.find_available_port
    ports = {bound.find_available_port(None) for _ in range(20)}  # type: ignore[arg-type]
    assert all(SubprocessASGIServer.is_port_available(p) for p in ports)
    assert len(ports) > 1  # spread over the kernel's ephemeral range, not one fixed port
    assert not ports <= set(SubprocessASGIServer._port_range)


# --- icp-migrate run, killed (about 10 s each; a whole run about 30 s) ---

class Run:
    """`icp-migrate run` on the samples (or `serve`) in a process group of its own, with a
    PREFECT_HOME and a SQLite target of its own; its descendants noted while it runs."""

    def __init__(self, tmp_path: Path, command: str = "run") -> None:
        env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
        env.pop("PREFECT_API_URL", None)
        target = f"sqlite:///{tmp_path / 'target.db'}"
        if command == "run":
            args = ["run", str(SAMPLES / "hichina_beian.csv"), str(SAMPLES / "winport_shops.jsonl"),
                    "--target", target, "--reports", str(tmp_path / "reports")]
        else:
            (tmp_path / "inbox").mkdir()
            args = ["serve", "--inbox", str(tmp_path / "inbox"), "--interval", "1", "--target",
                    target]
        self.process = subprocess.Popen(
            [*CLI, *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.seen: dict[int, psutil.Process] = {}

    def _note_descendants(self) -> list[psutil.Process]:
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in children:
            self.seen.setdefault(child.pid, child)
        return children

    def wait_for_api_server(self) -> psutil.Process:
        """The API server child (uvicorn: Prefect's ephemeral server; `prefect server
        start`: serve's), once it listens."""
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[1][-2000:]
            for child in self._note_descendants():
                try:
                    if {"uvicorn", "server"} & set(child.cmdline()) and any(
                            c.status == psutil.CONN_LISTEN for c in child.net_connections("tcp")):
                        return child
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"no API server child listening within {STARTUP}s")


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_a_killed_run_leaves_no_process_behind(tmp_path, how):
    run = Run(tmp_path)
    try:
        server = run.wait_for_api_server()
        os.kill(run.process.pid, how)  # the run process only, not its group
        run.process.wait(timeout=30)
        assert not _left_over([server, *run.seen.values()], GONE_WITHIN)
        assert not _in_group(run.process.pid)
    finally:
        _kill_group(run.process.pid)


@pytest.mark.slow
def test_a_run_that_ends_leaves_no_process_behind(tmp_path):
    run = Run(tmp_path)
    try:
        server = run.wait_for_api_server()
        _, stderr = run.process.communicate(timeout=STARTUP)
        assert run.process.returncode == 0, stderr[-2000:]
        assert not _left_over([server, *run.seen.values()], GONE_WITHIN)
        assert not _in_group(run.process.pid)
    finally:
        _kill_group(run.process.pid)


@linux_only
@pytest.mark.slow
def test_a_sigkilled_serve_leaves_no_server_behind(tmp_path):
    serve = Run(tmp_path, "serve")
    server = None
    try:
        server = serve.wait_for_api_server()  # `prefect server start`, in a session of its own
        os.kill(serve.process.pid, signal.SIGKILL)
        serve.process.wait(timeout=30)
        assert not _left_over([server, *serve.seen.values()], GONE_WITHIN)
    finally:
        _kill_group(serve.process.pid)
        if server is not None and _alive(server):  # the same process, not a reused pid
            _kill_group(server.pid)
