"""Scheduled operation: the inbox flow, the one-writer lock, and `serve` ticking."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from icp_migrate.errors import TargetError
from icp_migrate.store.lock import target_lock
from icp_migrate.store.target import open_target
from test_flow import SAMPLES

CLI = [sys.executable, "-m", "icp_migrate.cli"]


def _ledger(url: str) -> list[tuple[str, str]]:
    engine = open_target(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(
                "SELECT file_name, status FROM inbox_files ORDER BY file_name"))]
    finally:
        engine.dispose()


@pytest.mark.usefixtures("prefect_harness")
def test_inbox_takes_each_file_once_and_sets_broken_ones_aside(tmp_path, target_url):
    from icp_migrate.flows.inbox import migrate_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "a.csv")
    (inbox / "broken.csv").write_bytes(b"not,a,known\nlayout,at,all\n")
    first = migrate_inbox(str(inbox), target_url, reports_dir=str(tmp_path / "reports"))
    assert first == {"new": 1, "failed": 1, "skipped": 0}
    assert [p.name.split("-", 1)[1] for p in (inbox / "done").iterdir()] == ["a.csv"]
    reasons = list((inbox / "failed").glob("*.reason.txt"))
    assert len(reasons) == 1 and "unknown layout" in reasons[0].read_text()

    shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "renamed-copy.csv")
    (inbox / "broken-again.csv").write_bytes(b"not,a,known\nlayout,at,all\n")
    second = migrate_inbox(str(inbox), target_url, reports_dir=str(tmp_path / "reports"))
    assert second == {"new": 0, "failed": 0, "skipped": 2}  # same content, other names
    assert migrate_inbox(str(inbox), target_url) == {"new": 0, "failed": 0, "skipped": 0}
    assert _ledger(target_url) == [("a.csv", "loaded"), ("broken.csv", "failed")]
    engine = open_target(target_url)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar() == 1
    engine.dispose()


def test_a_second_writer_waits_then_gives_up_clearly(target_url, tmp_path):
    engine = open_target(target_url)
    try:
        with target_lock(engine, wait_seconds=5):
            started = time.monotonic()
            with pytest.raises(TargetError, match="another run is writing"):
                with target_lock(open_target(target_url), wait_seconds=1):
                    pass
            assert time.monotonic() - started >= 1
            result = subprocess.run(
                [*CLI, "run", str(SAMPLES / "hichina_beian.csv"), "--target", target_url],
                capture_output=True, text=True, timeout=300, cwd=tmp_path,
                env={**os.environ, "ICP_MIGRATE_LOCK_WAIT": "2"})
        assert result.returncode == 1
        assert "another run is writing" in result.stderr and "Traceback" not in result.stderr
        with target_lock(engine, wait_seconds=0):
            pass  # released with the holder
    finally:
        engine.dispose()


def test_two_runs_started_together_both_complete_one_after_the_other(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    args = [*CLI, "run", *[str(SAMPLES / n) for n in ("hichina_beian.csv",
                                                      "winport_shops.jsonl")], "--target", url]
    runs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    engine = open_target(url)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT run_id, status, started_at, finished_at FROM runs "
                                 "ORDER BY started_at")).all()
        per_run = dict(c.execute(sa.text(
            "SELECT run_id, COUNT(*) FROM record_dispositions GROUP BY run_id")).all())
    engine.dispose()
    # interleaved, the later run's start would have marked the earlier one failed, and that
    # one's load would then have been refused: both completed means one after the other
    assert [r.status for r in rows] == ["completed", "completed"]
    assert len(set(per_run.values())) == 1


@pytest.mark.slow
def test_serve_ticks_on_its_interval(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "winport_shops.jsonl", inbox / "shops.jsonl")
    url = f"sqlite:///{tmp_path / 'served.db'}"
    serve = subprocess.Popen([*CLI, "serve", "--inbox", str(inbox), "--interval", "5",
                              "--target", url], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    ticks = inbox / ".icp-migrate-ticks"
    try:
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline:
            done = inbox / "done"
            if (ticks.exists() and len(ticks.read_text().splitlines()) >= 2 and done.exists()
                    and any(done.iterdir())):
                break
            assert serve.poll() is None, serve.communicate()
            time.sleep(2)
        lines = ticks.read_text().splitlines() if ticks.exists() else []
        assert len(lines) >= 2, lines
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
    assert [p.name.split("-", 1)[1] for p in (inbox / "done").iterdir()] == ["shops.jsonl"]
    assert _ledger(url) == [("shops.jsonl", "loaded")]
