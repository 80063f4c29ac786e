"""Faults never lose, double or corrupt a record: `icp-migrate run` SIGKILLed during extract,
validation and load; the PostgreSQL connection dropped during the load; a full disk; a
read-only target. After each: the target holds exactly its previous state, the ledger tells
what happened, and the next run completes with the tables a clean run produces."""

from __future__ import annotations

import fcntl
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import test_hostile
from icp_migrate.samples import generate
from icp_migrate.store.load import INTERRUPTED
from icp_migrate.store.target import open_target
from test_cli import CLI
from test_flow import RUN_ORDER, SAMPLES

pytestmark = pytest.mark.slow
cli_env = test_hostile.cli_env  # the fixture: CLI runs on the session's Prefect test API

BIG_ENTITIES = 20_000  # about 60,000 records: each stage lasts long enough to be hit
DATA_TABLES = ("entities", "accounts", "website_filings", "domains")
# What a run adds besides the data tables (a failed run's report may add its validations).
RUN_TABLES = ("record_dispositions", "entity_links", "run_conflicts")
WAIT = 900  # seconds a stage may take on a busy two-core machine


# ---------------------------------------------------------------- inputs and the API
@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def shared(tmp_path_factory, worker_id) -> Path:
    """A folder of this session every xdist worker sees: costly inputs are made once."""
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / "faults-shared"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def big_input(shared) -> list[str]:
    folder = shared / "big-input"
    with exclusive(shared / "big-input.lock"):
        if not (folder / "done").exists():
            generate(folder, entities=BIG_ENTITIES, seed=2026)
            (folder / "done").touch()
    return [str(folder / name) for name in RUN_ORDER]


@pytest.fixture(scope="session")
def small_input(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("small-input")
    for name in RUN_ORDER:
        shutil.copy(SAMPLES / name, folder / name)
    return [str(folder / name) for name in RUN_ORDER]


# ---------------------------------------------------------------- a CLI run we can watch
class Run:
    """`icp-migrate run` in the background; its stderr progress lines read as they come."""

    def __init__(self, sources: list[str], target: str, cwd: Path, env: dict[str, str],
                 prefix: list[str] | None = None) -> None:
        self.lines: list[str] = []
        self.stdout = cwd / f"stdout-{uuid.uuid4().hex[:6]}.txt"
        with open(self.stdout, "w") as out:
            self.proc = subprocess.Popen(
                [*(prefix or CLI), "run", *sources, "--target", target], cwd=cwd, env=env,
                stdout=out, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def saw(self, stage: str) -> bool:
        """A progress line `<seconds>s <stage>` was printed (each stage's line ends it)."""
        return any(line.lstrip().split(" ", 1)[-1].startswith(stage) for line in self.lines)

    def wait_for(self, stage: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not self.saw(stage):
            assert self.proc.poll() is None, f"run ended before {stage!r}:\n" + self.text()
            assert time.monotonic() < deadline, f"no {stage!r} line in {timeout} s"
            time.sleep(0.02)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()
        assert self.proc.returncode == -signal.SIGKILL

    def finish(self, timeout: float = WAIT) -> int:
        self.proc.wait(timeout)
        self.reader.join(30)
        return self.proc.returncode

    def text(self) -> str:
        return "\n".join(self.lines)

    def error_lines(self) -> list[str]:
        return [line for line in self.lines if line.startswith("error:")]


def completed(sources: list[str], target: str, cwd: Path, env: dict[str, str]) -> Run:
    run = Run(sources, target, cwd, env)
    assert run.finish() == 0, run.text()
    return run


# ---------------------------------------------------------------- what the target holds
def dump(url: str) -> dict[str, Any]:
    """Every data table in key order (typed alike on both backends), the runs ledger, and
    how many rows each run left in each run-scoped table."""
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            out: dict[str, Any] = {}
            for name in DATA_TABLES:
                table = metadata.tables[name]
                rows = connection.execute(sa.select(table).order_by(
                    *table.primary_key.columns)).all()
                out[name] = [_plain(row) for row in rows]
            runs = metadata.tables["runs"]
            out["runs"] = [tuple(r) for r in connection.execute(sa.select(
                runs.c.run_id, runs.c.status, runs.c.error).order_by(runs.c.started_at))]
            for table in (metadata.tables[n] for n in RUN_TABLES if n in metadata.tables):
                out[f"{table.name} per run"] = dict(connection.execute(
                    sa.select(table.c.run_id, sa.func.count()).group_by(table.c.run_id)).all())
            return out
    finally:
        engine.dispose()


def _plain(row: sa.Row) -> tuple:
    """SQLite gives booleans as 0/1 and dates as text through reflection: compare as text."""
    return tuple(None if v is None else str(int(v)) if isinstance(v, bool) else str(v)
                 for v in row)


def run_rows(url: str, run_id: str, table: str = "record_dispositions") -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                f"SELECT * FROM {table} WHERE run_id = :r ORDER BY row_id"), {"r": run_id})
            names = list(rows.keys())
            return [_plain(tuple(v for k, v in zip(names, row, strict=True) if k != "run_id"))
                    for row in rows]
    finally:
        engine.dispose()


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Nothing of a killed or failed run: data tables and run-scoped rows as before."""
    for key, value in before.items():
        if key != "runs":
            assert after[key] == value, f"{key} changed"


def newest_running(state: dict[str, Any]) -> str | None:
    running = [run_id for run_id, status, _ in state["runs"] if status == "running"]
    return running[-1] if running else None


def status_of(state: dict[str, Any], run_id: str) -> tuple[str, str | None]:
    return next((status, error) for rid, status, error in state["runs"] if rid == run_id)


# ---------------------------------------------------------------- where the run is
def running_runs(url: str) -> int | None:
    """Runs the ledger lists as running (None while a writer holds SQLite's lock)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT COUNT(*) FROM runs WHERE status = 'running'")).scalar_one()
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def wait_until(condition, run: Run, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.proc.poll() is None, "run ended first:\n" + run.text()
        assert time.monotonic() < deadline, run.text()
        time.sleep(0.02)


def load_started(url: str, target_file: Path | None, app: str | None) -> int | None:
    """Evidence the load's transaction is writing: SQLite's rollback journal exists, or a
    PostgreSQL backend of this run is inserting (its pid)."""
    if target_file is not None:
        return 0 if Path(f"{target_file}-journal").exists() else None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :app "
                "AND state = 'active' AND (query ILIKE 'INSERT%' OR query ILIKE 'COPY%')"),
                {"app": app}).scalar()
    finally:
        engine.dispose()


def wait_for_load(run: Run, url: str, target_file: Path | None, app: str | None) -> int:
    run.wait_for("validate records")  # the load's transaction opens before decide's first
    # part and writes each part as it is decided (pipeline/part_load.py)
    found: list[int] = []

    def started() -> bool:
        assert not run.saw("load:"), "the load ended before it was seen"
        pid = load_started(url, target_file, app)
        found.extend([] if pid is None else [pid])
        return bool(found)

    wait_until(started, run)
    return found[0]


@pytest.fixture
def backend(request, tmp_path) -> tuple[str, Path | None, str | None]:
    """(target URL, SQLite file or None, PostgreSQL application_name or None)."""
    if request.param == "sqlite":
        path = tmp_path / "target.db"
        return f"sqlite:///{path}", path, None
    app = f"icp-fault-{uuid.uuid4().hex[:8]}"
    url = sa.make_url(request.getfixturevalue("pg_url")).update_query_dict(
        {"application_name": app})
    return url.render_as_string(hide_password=False), None, app


@pytest.fixture(scope="session")
def reference(shared, small_input, big_input, cli_env) -> dict[str, Any]:
    """The tables of a clean run of the small input, then of the big one (SQLite)."""
    folder = shared / "reference"
    url = f"sqlite:///{folder / 'reference.db'}"
    with exclusive(shared / "reference.lock"):
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            completed(small_input, url, folder, cli_env)
            completed(big_input, url, folder, cli_env)
            (folder / "done").touch()
    state = dump(url)
    last = state["runs"][-1][0]
    state["last run"] = {t: run_rows(url, last, t) for t in ("record_dispositions",
                                                                "entity_links")}
    return state


# ---------------------------------------------------------------- the tests
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)],
                         indirect=True)
def test_killed_runs_leave_the_previous_state_and_the_next_run_completes(
        backend, small_input, big_input, reference, cli_env, tmp_path):
    url, target_file, app = backend
    completed(small_input, url, tmp_path, cli_env)
    before = dump(url)
    assert before["entities"] and len(before["runs"]) == 1

    # 1. killed while extracting: nothing was written, not even a ledger row
    run = Run(big_input, url, tmp_path, cli_env)
    run.wait_for("extract")
    assert not run.saw("lock:")
    run.kill()
    state = dump(url)
    assert state == before

    # 2. killed while validating the records: its ledger row says running, nothing else
    run = Run(big_input, url, tmp_path, cli_env)
    run.wait_for("lock:")
    wait_until(lambda: running_runs(url) == 1, run)
    assert not run.saw("validate records")
    run.kill()
    state = dump(url)
    unchanged(before, state)
    killed = newest_running(state)
    assert killed is not None and state["runs"][:1] == before["runs"] and len(state["runs"]) == 2

    # 3. killed inside the load's transaction: the next start marks the previous one failed
    run = Run(big_input, url, tmp_path, cli_env)
    wait_for_load(run, url, target_file, app)
    run.kill()
    assert not run.saw("load:")
    state = dump(url)
    unchanged(before, state)
    assert status_of(state, killed) == ("failed", INTERRUPTED)
    killed = newest_running(state)
    assert killed is not None and len(state["runs"]) == 3

    if app is not None:
        # 4. PostgreSQL: the load's connection terminated by the server
        run = Run(big_input, url, tmp_path, cli_env)
        pid = wait_for_load(run, url, None, app)
        admin = sa.create_engine(url)
        try:
            with admin.connect() as connection:
                assert connection.execute(sa.text("SELECT pg_terminate_backend(:p)"),
                                          {"p": pid}).scalar()
        finally:
            admin.dispose()
        assert run.finish() == 1, run.text()
        assert one_error_line(run).startswith("error: loading run"), run.text()
        state = dump(url)
        unchanged(before, state)
        assert status_of(state, killed) == ("failed", INTERRUPTED)
        dropped = state["runs"][-1]
        assert dropped[1] == "failed" and "loading run" in str(dropped[2])

    # the next run completes with exactly the tables of a clean run
    completed(big_input, url, tmp_path, cli_env)
    final = dump(url)
    assert status_of(final, killed) == ("failed", INTERRUPTED)
    assert [status for _, status, _ in final["runs"]].count("completed") == 2
    for table in DATA_TABLES:
        assert final[table] == reference[table], table
    last = final["runs"][-1][0]
    for table, rows in reference["last run"].items():
        assert run_rows(url, last, table) == rows, table
    kept = {run_id for run_id, status, _ in final["runs"] if status == "completed"}
    assert set(final["record_dispositions per run"]) == kept


def one_error_line(run: Run) -> str:
    errors = run.error_lines()
    assert len(errors) == 1 and "Traceback" not in run.text(), run.text()
    assert not any("internal error" in line for line in run.lines), run.text()
    return errors[0]


def test_a_read_only_target_is_one_clear_error(small_input, cli_env, tmp_path):
    path = tmp_path / "target.db"
    completed(small_input[:1], f"sqlite:///{path}", tmp_path, cli_env)
    before = dump(f"sqlite:///{path}")
    run = Run(small_input, f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path, cli_env)
    assert run.finish() == 1
    line = one_error_line(run)  # the first failure, not a later "recording the failure"
    assert line.startswith("error: starting run") and "readonly database" in line, line
    assert dump(f"sqlite:///{path}") == before


FULL_DISK = """
import sys
import icp_migrate.store.backend as backend
pages, real = int(sys.argv[1]), backend._sqlite_on_connect
def full_disk(dbapi_connection, record):
    real(dbapi_connection, record)
    dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")
backend._sqlite_on_connect = full_disk
from icp_migrate.cli import main
sys.argv = ["icp-migrate", *sys.argv[2:]]
main()
"""


def test_a_full_disk_is_one_clear_error_and_loads_nothing(small_input, cli_env, tmp_path):
    """SQLite's max_page_count, set on every connection of the CLI, stands in for a disk with
    a few pages left: the load cannot fit."""
    path = tmp_path / "target.db"
    open_target(f"sqlite:///{path}").dispose()
    before = dump(f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one() + 3
    engine.dispose()
    (tmp_path / "full_disk.py").write_text(FULL_DISK)
    prefix = [CLI[0], str(tmp_path / "full_disk.py"), str(pages)]
    run = Run(small_input, f"sqlite:///{path}", tmp_path, cli_env, prefix=prefix)
    assert run.finish() == 1
    assert "database or disk is full" in one_error_line(run)
    after = dump(f"sqlite:///{path}")
    unchanged(before, after)
    assert [status for _, status, _ in after["runs"]] in ([], ["failed"])
    # with room again, the same input loads
    completed(small_input, f"sqlite:///{path}", tmp_path, cli_env)
    assert dump(f"sqlite:///{path}")["entities"]
