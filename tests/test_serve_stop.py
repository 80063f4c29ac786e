"""`icp-migrate serve` as an operator runs it: one line per tick on stderr, and a stop within
2 s of SIGTERM or SIGINT with exit code 0 and no process of its own left behind (the local
Prefect server it started included)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from icp_migrate.pipeline.tick_line import next_tick, run_outcome, tick_line
from icp_migrate.wording import plural
from test_flow import SAMPLES

CLI = [sys.executable, "-m", "icp_migrate.cli"]
STARTUP = 240  # a Prefect server and a first tick on 2 shared cores


class Serve:
    """A `serve` subprocess: its stderr lines collected, its descendants seen so far."""

    def __init__(self, inbox: Path, target: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*CLI, "serve", "--inbox", str(inbox), "--interval", "1", "--settle", "0",
             "--target", target], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        self.lines: list[str] = []
        self.seen: dict[int, psutil.Process] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def watch_until(self, pattern: str, seconds: float) -> str:
        """The first stderr line matching `pattern`, noting every descendant meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._note_descendants()
            found = [line for line in self.lines if re.search(pattern, line)]
            if found:
                return found[0]
            assert self.process.poll() is None, self.lines
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r} in {seconds}s: {self.lines}")

    def _note_descendants(self) -> None:
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def left_over(self) -> list[str]:
        """Descendants seen while it ran that still run (same pid and start time)."""
        alive = []
        for pid, child in self.seen.items():
            try:
                if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(child.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        return alive

    def kill_all(self) -> None:
        for child in [*self.seen.values(), psutil.Process(self.process.pid)]:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.mark.slow  # about 100 s each: a Prefect server, then two ticks
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_says_each_tick_and_stops_within_2s_of_a_signal(tmp_path, how):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    serve = Serve(inbox, f"sqlite:///{tmp_path / 'served.db'}", tmp_path)
    try:
        idle = serve.watch_until(r"^tick ", STARTUP)
        assert re.fullmatch(r"tick \d\d:\d\d:\d\d: no new files; next \d\d:\d\d:\d\d", idle)
        shutil.copy(SAMPLES / "hichina_beian.csv", inbox / "beian.csv")
        took = serve.watch_until(r"took beian\.csv", STARTUP)
        assert re.fullmatch(r"tick \d\d:\d\d:\d\d: took beian\.csv; run \S+: \d+ loaded, "
                            r"\d+ duplicate, \d+ out_of_scope, \d+ quarantined, "
                            r"\d+ needs_review; next \d\d:\d\d:\d\d", took), took
        serve.watch_until(r"took beian\.csv", 1)  # descendants noted once more
        assert serve.seen, "serve started no process (its Prefect server, at least)"

        started = time.monotonic()
        os.kill(serve.process.pid, how)
        code = serve.process.wait(timeout=30)
        took_seconds = time.monotonic() - started
        time.sleep(0.2)  # the stderr reader's last line
        assert code == 0, serve.lines
        assert took_seconds < 2, f"stopped after {took_seconds:.2f}s"
        assert serve.lines[-1] == f"serve stopped ({how.name})"
        assert not serve.left_over(), serve.left_over()
        assert "Traceback" not in "\n".join(serve.lines)
    finally:
        if serve.process.poll() is None:
            serve.kill_all()
    assert [p.name.split("-", 1)[1] for p in (inbox / "done").iterdir()] == ["beian.csv"]


def test_a_tick_line_names_files_run_counts_and_the_next_tick():
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 12, 2, 4, 10, tzinfo=UTC)
    due = next_tick(at, 300, None, now=at + timedelta(seconds=7))
    assert due == at + timedelta(minutes=5)
    assert next_tick(at, 300, None, now=at + timedelta(minutes=11)) == at + timedelta(minutes=15)
    assert next_tick(at, None, "*/5 * * * *", now=at + timedelta(seconds=1)) == due
    assert next_tick(at, None, None) is None
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    line = tick_line(at, ["a.csv", "b.jsonl"], run_outcome("r1", {"loaded": 3, "duplicate": 1}),
                     {"unreadable": ["c.txt"], "seen before": []}, 1, due)
    assert line.endswith(": took a.csv, b.jsonl; run r1: 3 loaded, 1 duplicate; unreadable, "
                         "set aside: c.txt; 1 file still settling; next " +
                         due.astimezone().strftime("%H:%M:%S"))
    assert tick_line(at, [], None, {}, 0, None).endswith(": no new files")
    assert (plural(1, "record"), plural(2, "record"), plural(1, "entity", "entities"),
            plural(1500, "entity", "entities")) == ("1 record", "2 records", "1 entity",
                                                    "1,500 entities")


_DRAINING_CHILD = """
import signal, sys, threading, time
from icp_migrate.pipeline.serving import end_quietly_on_exit

class TerminationSignal(BaseException):
    pass

def prefect_like(signum, frame):  # what Prefect's SIGTERM handler does
    raise TerminationSignal(signum)

def drain():  # a service drained at exit, registered when it started
    print("draining", flush=True)
    time.sleep(20)

signal.signal(signal.SIGTERM, prefect_like)
threading._register_atexit(drain)
if sys.argv[1] == "quiet":
    end_quietly_on_exit()  # as the inbox flow does, after Prefect's services started
"""


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "as-prefect-leaves-it"])
def test_a_tick_process_ended_while_it_drains_at_exit_prints_no_traceback(quiet):
    """serve's stop (SIGTERM) can reach a tick's run process while it drains Prefect's
    services at exit: it then ends at once, silently; without the reset, Prefect's handler
    raises there and its traceback reaches serve's stderr (the second case shows the test
    sees the difference)."""
    child = subprocess.Popen([sys.executable, "-c", _DRAINING_CHILD,
                              "quiet" if quiet else "loud"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "draining"
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
    if quiet:
        assert child.returncode == -signal.SIGTERM
        assert stderr == ""
    else:
        assert "Traceback" in stderr and "TerminationSignal" in stderr
