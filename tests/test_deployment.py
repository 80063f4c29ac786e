"""prefect.yaml as an operator uses it: a real Prefect server, a process work pool,
`prefect deploy --all` from the repository, `prefect deployment run`, and a worker; and the
packaging behind its entrypoint (the top-level flows/ and mappings/ installed as
icp_migrate.flows and icp_migrate.mappings)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from icp_migrate.pipeline.serving import wait_for_server

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "icp-pool"
DEPLOYMENT = "migrate-inbox/icp-migrate-inbox"
EXPORTS = ["hichina_beian.csv", "hichina_beian_utf8.csv", "winport_shops.jsonl",
           "hichina_legacy.db"]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def test_the_top_level_flows_and_mappings_are_the_installed_packages():
    """Editable install: icp_migrate.flows is flows/, icp_migrate.mappings is mappings/. A
    leftover src/icp_migrate/flows/ (say, only its __pycache__ after a merge) would be
    imported instead, as an empty namespace package."""
    import icp_migrate
    import icp_migrate.flows
    import icp_migrate.mappings
    from icp_migrate.mapping import MAPPINGS_DIR

    for stale in ("flows", "mappings"):
        assert not (SRC / "icp_migrate" / stale).exists(), (
            f"remove the stale folder src/icp_migrate/{stale}/ (it shadows {stale}/)")
    if Path(icp_migrate.__file__).is_relative_to(SRC):  # this checkout, installed editable
        assert Path(icp_migrate.flows.__file__) == REPO / "flows" / "__init__.py"
        assert Path(icp_migrate.mappings.__file__) == REPO / "mappings" / "__init__.py"
        assert MAPPINGS_DIR == REPO / "mappings"
    module, _, name = "icp_migrate.flows.inbox:migrate_inbox".partition(":")
    assert f"entrypoint: {module}:{name}" in (REPO / "prefect.yaml").read_text("utf-8")
    flow = getattr(__import__(module, fromlist=[name]), name)
    assert flow.name == "migrate-inbox"


def test_the_package_list_names_every_package_where_it_lives():
    """The wheel holds what pyproject.toml lists (find cannot map flows/ into the package):
    every folder of Python files under src/icp_migrate, flows/ and mappings/."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed, folders = config["packages"], config["package-dir"]
    assert folders == {"": "src", "icp_migrate.flows": "flows",
                       "icp_migrate.mappings": "mappings"}
    on_disk = {".".join(p.parent.relative_to(SRC).parts)
               for p in (SRC / "icp_migrate").rglob("*.py") if "__pycache__" not in p.parts}
    assert sorted(listed) == sorted(on_disk | {"icp_migrate.flows", "icp_migrate.mappings"})
    for package in listed:
        folder = REPO / folders.get(package, "src/" + package.replace(".", "/"))
        assert folder.is_dir() and any(folder.glob("*.py")), package
    assert config["package-data"]["icp_migrate.mappings"] == ["*.yaml"]


def test_the_flows_are_wiring_only():
    """No environment, no timing, no lock, no SQL in flows/: the library holds those."""
    for path in sorted((REPO / "flows").glob("*.py")):
        text = path.read_text("utf-8")
        for word in ("os.environ", "getenv", "perf_counter", "target_lock", "target_engine",
                     "sqlalchemy import text", "select(", "execute("):
            assert word not in text, f"flows/{path.name}: {word}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, with what it started, while it is ours."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def prefect(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180) -> str:
    """The venv's `prefect` CLI, which must exit 0; its process group dies on timeout."""
    process = subprocess.Popen([PREFECT, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"prefect {' '.join(args)}: no exit within {timeout} s")
    finally:
        _stop(process)
    assert process.returncode == 0, f"prefect {' '.join(args)}:\n{output}"
    return output


@pytest.fixture
def server(tmp_path) -> Iterator[dict[str, str]]:
    """A Prefect server on a free port with a PREFECT_HOME of its own; yields the CLI's env."""
    url = f"http://127.0.0.1:{_free_port()}/api"
    # Creating a work pool makes the server ask GitHub for the list of worker types (it falls
    # back to its bundled copy): outbound requests go to a bound, never listening local port.
    dead_end = socket.socket()
    dead_end.bind(("127.0.0.1", 0))
    proxy = f"http://127.0.0.1:{dead_end.getsockname()[1]}"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "False", "PREFECT_UI_ENABLED": "false",
           "PREFECT_CLI_PROMPT": "false"}
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = proxy
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    for name in ("ICP_MIGRATE_HOME", "ICP_MIGRATE_TARGET"):
        env.pop(name, None)
    log = tmp_path / "server.log"
    with log.open("w") as handle:
        process = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1",
                                    "--port", url.split(":")[2].split("/")[0]],
                                   env=env, cwd=tmp_path, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not wait_for_server(url, process, 120):
            pytest.fail(f"no Prefect server at {url}:\n{log.read_text()[-3000:]}")
        yield env
    finally:
        _stop(process)
        dead_end.close()


def flow_run_state(env: dict[str, str], flow_run_id: UUID, timeout: float = 60) -> str:
    """The run's final state type, read from the server with the Python client."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
        with get_client(sync_client=True) as client:
            while True:
                state = client.read_flow_run(flow_run_id).state
                kind = state.type.value if state else "NONE"
                if kind in FINAL or time.monotonic() > deadline:
                    return kind
                time.sleep(1)


def run_deployment(env: dict[str, str], cwd: Path, **params: str) -> UUID:
    args = [arg for name, value in params.items() for arg in ("--param", f"{name}={value}")]
    output = prefect("deployment", "run", DEPLOYMENT, *args, env=env, cwd=cwd)
    match = re.search(r"UUID: ([0-9a-f-]{36})", output)
    assert match, output
    return UUID(match.group(1))


def work_once(env: dict[str, str], cwd: Path) -> str:
    return prefect("worker", "start", "--pool", POOL, "--run-once", env=env, cwd=cwd,
                   timeout=300)


@pytest.mark.slow
def test_prefect_yaml_deploys_and_a_worker_runs_the_inbox(server, samples, tmp_path):
    env = server
    inbox, home = tmp_path / "inbox", tmp_path / "home"
    inbox.mkdir()
    home.mkdir()
    for name in EXPORTS:
        shutil.copy(samples / name, inbox / name)
    target = tmp_path / "target.db"
    params = {"inbox": str(inbox), "target": f"sqlite:///{target}", "reports_dir": "reports",
              "settle": "0"}  # the exports are copied in just before: no settle wait

    # the commands at the top of prefect.yaml, from the repository's folder
    prefect("work-pool", "create", POOL, "--type", "process", env=env, cwd=REPO)
    prefect("--no-prompt", "deploy", "--all", env=env, cwd=REPO)

    # a worker without ICP_MIGRATE_HOME: the run stops at the pull step, the inbox untouched
    flow_run_id = run_deployment(env, tmp_path, **params)
    output = work_once(env, tmp_path)
    assert "ICP_MIGRATE_HOME is not a folder" in output, output
    assert flow_run_state(env, flow_run_id) == "CRASHED", output
    assert sorted(p.name for p in inbox.iterdir()) == sorted(EXPORTS)

    # the real run: pull step into ICP_MIGRATE_HOME, the flow loaded by its module path
    flow_run_id = run_deployment(env, tmp_path, **params)
    output = work_once({**env, "ICP_MIGRATE_HOME": str(home)}, tmp_path)
    assert flow_run_state(env, flow_run_id) == "COMPLETED", output

    done = sorted(p.name.split("-", 1)[1] for p in (inbox / "done").iterdir())
    assert done == sorted(EXPORTS)
    assert not [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")]
    with sqlite3.connect(target) as connection:
        ledger = connection.execute(
            "SELECT file_name, status, run_id FROM inbox_files").fetchall()
        assert sorted((name, status) for name, status, _ in ledger) == [
            (name, "loaded") for name in sorted(EXPORTS)]
        run_ids = {run_id for _, _, run_id in ledger}
        assert len(run_ids) == 1
        (run_id,) = run_ids
        dispositions = connection.execute(
            "SELECT COUNT(*) FROM record_dispositions WHERE run_id = ?", (run_id,)).fetchone()[0]
    assert dispositions > 0
    # reports_dir is relative: it lands in ICP_MIGRATE_HOME, where the pull step moved the run
    summary = json.loads((home / "reports" / run_id / "summary.json").read_text())
    assert summary
