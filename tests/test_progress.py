"""Progress bars of `icp-migrate run` (icp_migrate.progress): on a terminal's stderr only,
stage by stage to 100%, gone when the run ends, and nothing else about the run changes."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import threading
import time

import pytest
from rich.console import Console

from icp_migrate import progress
from icp_migrate.pipeline.run import StageClock
from test_cli import CLI, cli
from test_flow import RUN_ORDER, SAMPLES

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR_CHARS = "━⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓"


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=100, soft_wrap=True), buffer


def test_without_a_run_showing_bars_every_call_is_a_no_op():
    clock = StageClock()
    with clock.stage("extract", "a.csv"):
        progress.expect("load", 10, "rows")
        progress.advance("load", 10)
    assert set(clock.seconds) == {"extract"}
    console, buffer = terminal()
    with progress.shown(console, enabled=False) as bars, clock.stage("load"):
        assert bars is None
    assert buffer.getvalue() == ""


def test_stages_reach_100_percent_and_log_lines_print_above_the_bars():
    console, buffer = terminal()
    clock = StageClock()
    with progress.shown(console) as bars:
        assert bars is not None
        with clock.stage("extract", "/some/folder/hichina_beian.csv"):
            console.print("extract hichina_beian.csv: 10 records")
        with clock.stage("load"):
            progress.expect("load", 120_000, "rows")
            for _ in range(3):  # per chunk
                progress.advance("load", 40_000)
                time.sleep(0.05)
        with clock.stage("extract", "b.csv"):  # a stage again: its row again
            pass
        rows = {t.description.split()[0]: t for t in bars.bars.tasks}
        assert set(rows) == {"extract", "load"}
        assert all(t.finished for t in rows.values()) and rows["load"].completed == 120_000
    assert progress._current is None
    text = ESCAPES.sub("", buffer.getvalue())
    assert "extract hichina_beian.csv: 10 records\n" in text
    assert re.search(r"✓ load 120,000 rows\s+━+\s+100%", text), text
    assert re.search(r"✓ extract b\.csv\s+━+\s+100%", text), text
    assert set(clock.seconds) == {"extract", "load"}


def test_a_failing_stage_is_marked_and_the_refresh_thread_stops_on_ctrl_c():
    console, buffer = terminal()
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt), progress.shown(console) as bars:
        assert threading.active_count() == before + 1  # rich's refresh thread
        with progress.stage("report"):
            raise KeyboardInterrupt
    assert threading.active_count() == before and progress._current is None
    [row] = bars.bars.tasks
    assert "failed" in row.description and not row.finished
    assert buffer.getvalue().endswith("\x1b[2K")  # transient: the bars cleared


def test_bars_only_on_a_terminal_and_never_on_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not progress.wanted(Console(file=io.StringIO(), force_terminal=True))
    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            on_tty = Console(file=tty)
            assert progress.wanted(on_tty)
            assert not progress.wanted(on_tty, allowed=False)
            monkeypatch.setenv("CI", "true")
            assert not progress.wanted(on_tty)
            monkeypatch.setenv("CI", "false")
            assert progress.wanted(on_tty)
    finally:
        os.close(master)
        os.close(slave)


def _store(db) -> dict[str, list]:
    """What a run left in the store, without what differs between runs (ids, times)."""
    with sqlite3.connect(db) as connection:
        counts = connection.execute(
            "SELECT records_in, loaded, duplicate, out_of_scope, quarantined, needs_review, "
            "entities, accounts, websites, domains, status FROM runs").fetchall()
        tables = {t: connection.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                  for t in ("entities", "accounts", "website_filings", "domains")}
    return {"runs": counts, **tables}


def _counts(summary: str) -> list[str]:
    """The summary's counts table and its line of changes (no run id, target or seconds)."""
    lines = summary.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    last = next(i for i, line in enumerate(lines) if line.startswith("the target changed"))
    return lines[first:last + 1]


def _run_on_a_pty(args: list[str], cwd, env: dict[str, str]) -> tuple[int, str, str]:
    """The CLI with its stderr on a terminal (100 columns), its stdout a pipe."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:  # the terminal's buffer is small: read as the bars are drawn
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child and its terminal closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.run([*CLI, *args], cwd=cwd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=slave, timeout=300,
                                 env=env)
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)
    return (process.returncode, process.stdout.decode(),
            b"".join(chunks).decode(errors="replace"))


@pytest.mark.slow  # three CLI runs
def test_a_run_on_a_terminal_shows_its_stages_and_loads_the_same(tmp_path):
    sources = [str(SAMPLES / n) for n in RUN_ORDER]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm-256color"
    # the same run, stderr a pipe: nothing but the log lines there
    piped = cli("run", *sources, "--target", str(tmp_path / "piped.db"), "--reports", "rep",
                cwd=tmp_path, env={"CI": ""})
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stderr and not set(BAR_CHARS) & set(piped.stderr)

    code, stdout, screen = _run_on_a_pty(
        ["run", *sources, "--target", str(tmp_path / "tty.db"), "--reports", "rep"],
        tmp_path, env)
    assert code == 0, screen
    text = ESCAPES.sub("", screen)
    for name in ("start", "extract", "normalize", "snapshot", "validate", "decide", "load",
                 "report"):
        assert re.search(rf"✓ {name}\b[^\n]*━+ 100%", text), (name, text)
    assert re.search(r"✓ load [\d,]+ rows", text), text
    # the source in its row, with its place among the run's sources
    assert f"extract 1/{len(sources)} hichina_beian.csv" in text, text
    assert re.search(rf"normalize {len(sources)}/{len(sources)}\b", text), text
    assert "\x1b[?25h" in screen  # the cursor shown again: the bars stopped
    # the log lines are all there, in full, as in the piped run
    logged = [re.sub(r"^\s*[\d.]+s ", "", line) for line in piped.stderr.splitlines()]
    for line in logged:
        if "run 2" not in line and "report: " not in line:  # run ids differ
            assert line in text, line
    # and the run's result is the same: its counts, what it changed, what it stored
    assert _counts(stdout) == _counts(piped.stdout)
    assert _store(tmp_path / "tty.db") == _store(tmp_path / "piped.db")

    # --no-progress: the terminal gets the log lines only
    code, _, screen = _run_on_a_pty(
        ["run", *sources, "--target", str(tmp_path / "off.db"), "--no-progress",
         "--dry-run"], tmp_path, env)
    assert code == 0, screen
    assert not set(BAR_CHARS) & set(screen) and "\x1b[?25l" not in screen
