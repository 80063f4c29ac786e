"""Scheduled operation: the inbox flow, the one-writer lock, and `serve` ticking."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import re
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
    first = migrate_inbox(str(inbox), target_url, reports_dir=str(tmp_path / "reports"),
                          settle=0)
    assert first == {"new": 1, "failed": 1, "skipped": 0, "waiting": 0}
    assert [p.name.split("-", 1)[1] for p in (inbox / "done").iterdir()] == ["a.csv"]
    reasons = list((inbox / "failed").glob("*.reason.txt"))
    assert len(reasons) == 1 and "unknown layout" in reasons[0].read_text()

    shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "renamed-copy.csv")
    (inbox / "broken-again.csv").write_bytes(b"not,a,known\nlayout,at,all\n")
    second = migrate_inbox(str(inbox), target_url, reports_dir=str(tmp_path / "reports"),
                           settle=0)
    assert second == {"new": 0, "failed": 0, "skipped": 2, "waiting": 0}  # other names
    assert migrate_inbox(str(inbox), target_url, settle=0) == {
        "new": 0, "failed": 0, "skipped": 0, "waiting": 0}
    assert _ledger(target_url) == [("a.csv", "loaded"), ("broken.csv", "failed")]
    engine = open_target(target_url)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar() == 1
    engine.dispose()


def _tick(inbox, url: str, tmp_path, settle: float) -> dict[str, int]:
    from icp_migrate.flows.inbox import migrate_inbox

    return migrate_inbox(str(inbox), url, reports_dir=str(tmp_path / "reports"),
                         settle=settle)


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_still_being_written_waits_and_is_then_taken_whole(tmp_path, samples):
    """Case 6: a file written slowly was read after 9 of its 26 lines, its partial hash
    recorded as seen, and 17 records never migrated."""
    url = f"sqlite:///{tmp_path / 'target.db'}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lines = (samples / "winport_shops.jsonl").read_bytes().splitlines(keepends=True)[:26]
    assert len(lines) == 26
    slow = inbox / "shops.jsonl"
    slow.write_bytes(b"".join(lines[:9]))  # the producer is still writing

    assert _tick(inbox, url, tmp_path, settle=30) == {
        "new": 0, "failed": 0, "skipped": 0, "waiting": 1}
    assert slow.read_bytes() == b"".join(lines[:9])  # left in place, untouched
    assert _ledger(url) == []
    assert not (inbox / "done").exists()

    with slow.open("ab") as handle:  # the rest arrives, then the file stands still
        handle.write(b"".join(lines[9:]))
    old = time.time() - 120
    os.utime(slow, (old, old))
    assert _tick(inbox, url, tmp_path, settle=30) == {
        "new": 1, "failed": 0, "skipped": 0, "waiting": 0}
    assert not slow.exists()
    (done,) = (inbox / "done").iterdir()
    assert done.read_bytes() == b"".join(lines)
    engine = open_target(url)
    with engine.connect() as c:
        (digest, status, run_id), = c.execute(sa.text(
            "SELECT content_hash, status, run_id FROM inbox_files")).all()
        migrated = c.execute(sa.text("SELECT COUNT(*) FROM record_dispositions "
                                     "WHERE run_id = :r"), {"r": run_id}).scalar()
    engine.dispose()
    assert status == "loaded"
    assert digest == hashlib.sha256(b"".join(lines)).hexdigest()
    assert migrated == 26  # every line's record, not the first 9
    assert not any((inbox / ".icp-migrate-staging").iterdir())  # staged copies removed


@pytest.mark.usefixtures("prefect_harness")
def test_part_tmp_and_dot_names_are_never_taken(tmp_path, samples):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = [".x.csv", "x.csv.part", "x.csv.tmp", "y.CSV.PART", "y.csv.Tmp"]
    for name in names:
        shutil.copy(samples / "hichina_beian.csv", inbox / name)
    assert _tick(inbox, url, tmp_path, settle=0) == {
        "new": 0, "failed": 0, "skipped": 0, "waiting": 0}
    assert sorted(p.name for p in inbox.iterdir() if p.is_file() and p.name in names) == \
        sorted(names)
    assert _ledger(url) == []
    (inbox / "x.csv.part").rename(inbox / "x.csv")  # the producer's rename when complete
    assert _tick(inbox, url, tmp_path, settle=0)["new"] == 1
    assert _ledger(url) == [("x.csv", "loaded")]


def test_serve_takes_cutoff_mapping_and_settle_and_checks_them(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from icp_migrate import cli, settings
    from icp_migrate.flows import serving
    from icp_migrate.mapping import MAPPINGS_DIR

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "m.yaml").write_text(
        (MAPPINGS_DIR / "winport_shops_jsonl.yaml").read_text(encoding="utf-8"),
        encoding="utf-8")
    served: list[dict] = []
    monkeypatch.setattr(serving, "_serve", lambda parameters, cron, interval, stop:
                        served.append(parameters))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # no server started
    monkeypatch.chdir(tmp_path)
    for key, value in settings.QUIET_DEFAULTS.items():  # serve sets these: undone after
        monkeypatch.setenv(key, os.environ.get(key, value))
    logger = logging.getLogger("icp_migrate")  # serve's progress lines to stderr: undone
    for attribute in ("handlers", "propagate", "level"):
        monkeypatch.setattr(logger, attribute, copy.copy(getattr(logger, attribute)))
    url = f"sqlite:///{tmp_path / 'target.db'}"
    runner = CliRunner()
    base = ["serve", "--inbox", str(inbox), "--interval", "5", "--target", url]

    result = runner.invoke(cli.app, [*base, "--cutoff", "2020-06-30", "--mapping", "m.yaml",
                                     "--settle", "5"])
    assert result.exit_code == 0, result.output
    assert served[-1] == {"inbox": str(inbox.resolve()), "target": url,
                          "reports_dir": "reports", "cutoff": "2020-06-30",
                          "mapping": str(tmp_path / "m.yaml"), "settle": 5.0,
                          "interval": 5.0}
    result = runner.invoke(cli.app, [*base, "--mapping", "hichina_beian_csv"])
    assert result.exit_code == 0, result.output
    assert served[-1]["mapping"] == "hichina_beian_csv"
    assert served[-1]["settle"] == 60.0 and served[-1]["cutoff"] == "2019-01-01"

    for bad in (["--cutoff", "2020-13-01"], ["--mapping", "no-such-layout"],
                ["--settle", "-1"]):
        result = runner.invoke(cli.app, [*base, *bad])
        assert result.exit_code == 2, (bad, result.output)
    assert len(served) == 2
    result = runner.invoke(cli.app, [*base, "--cutoff", "June"])
    assert "--cutoff must be a date YYYY-MM-DD" in result.output


def test_each_inbox_and_target_is_served_as_a_deployment_of_its_own(tmp_path):
    """Two `serve`s sharing a Prefect server (or PREFECT_HOME's database) must not run each
    other's ticks: a Prefect runner runs every scheduled run of its deployment's name, so the
    name is per inbox and target, and the same for a restarted `serve` of the same pair."""
    from icp_migrate.pipeline.serving import deployment_name

    def name(inbox: str, target: str) -> str:
        return deployment_name({"inbox": inbox, "target": target, "cutoff": "2019-01-01"})

    one = name("/srv/a/inbox", "sqlite:////srv/a/t.db")
    assert one == name("/srv/a/inbox", "sqlite:////srv/a/t.db")
    assert re.fullmatch(r"icp-migrate-inbox-[0-9a-f]{8}", one)
    others = {name("/srv/b/inbox", "sqlite:////srv/a/t.db"),
              name("/srv/a/inbox", "sqlite:////srv/b/t.db"), one}
    assert len(others) == 3


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
                              "--target", url, "--settle", "0"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
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


def test_a_killed_ticks_staging_folder_is_removed_by_the_next_tick(tmp_path):
    """Staged copies hold personal data: a tick that was killed leaves its folder, and the
    next tick removes it, but never the folder of a tick still running (its lock held)."""
    import fcntl

    from icp_migrate.pipeline.inbox import STAGING, inbox_tick, remove_abandoned_staging

    root = tmp_path / STAGING
    killed, running, starting, old = (root / name for name in ("a", "b", "c", "d"))
    for folder in (killed, running, starting, old):
        folder.mkdir(parents=True)
        (folder / "beian.csv").write_text("copy")
    for folder in (killed, running):
        (folder / ".held").touch()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    holder = os.open(running / ".held", os.O_RDWR)  # as the running tick's process holds it
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        assert remove_abandoned_staging(root) == ["a", "d"]
        assert sorted(p.name for p in root.iterdir()) == ["b", "c"]
    finally:
        os.close(holder)
    with inbox_tick(str(tmp_path), f"sqlite:///{tmp_path / 't.db'}") as tick:
        assert tick.staging.parent == root and (tick.staging / ".held").exists()
        # no longer held: "b" goes with the next tick; the fresh "c" stays
        assert sorted(p.name for p in root.iterdir()) == sorted(["c", tick.staging.name])
        assert remove_abandoned_staging(root) == []  # this tick's own folder is held
    assert [p.name for p in root.iterdir()] == ["c"]
