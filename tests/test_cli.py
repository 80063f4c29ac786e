"""The command line as a user runs it: exit codes, one-line errors, the summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_flow import HEADER, RUN_ORDER, SAMPLES

CLI = [sys.executable, "-m", "icp_migrate.cli"]


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300):
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("setup, args, code, message", [
    (None, ["run", "missing.csv"], 1, "missing.csv: no such file"),
    ("empty", ["run", "empty.csv"], 1, "empty.csv: empty file"),
    ("header", ["run", "header.csv"], 1, "header only"),
    ("unknown", ["run", "unknown.csv"], 1, "unknown layout"),
    (None, ["run", "postgresql://u:secret@127.0.0.1:1/legacy"], 1, "cannot connect"),
    (None, ["run", str(SAMPLES / "hichina_beian.csv"), "--target",
            "postgresql://u:secret@127.0.0.1:1/t"], 1, "unreachable"),
    ("unknown", ["run", "unknown.csv", "--cutoff", "2019-13-40"], 2, "--cutoff"),
    ("unknown", ["run", "unknown.csv", "--mapping", "nope"], 2, "unknown mapping"),
    ("unknown", ["run", "unknown.csv", "--mapping", "hichina_beian_csv"], 2,
     "fields.member_id: column '会员ID' is not in the header"),
])
def test_errors_are_one_line_with_their_exit_code(tmp_path, setup, args, code, message):
    files = {"empty": ("empty.csv", b""),
             "header": ("header.csv", (",".join(HEADER) + "\n").encode("gb18030")),
             "unknown": ("unknown.csv", b"a,b\n1,2\n")}
    if setup:
        name, content = files[setup]
        (tmp_path / name).write_bytes(content)
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    line = one_line_error(result)
    assert message in line and "secret" not in line


def test_usage_errors_exit_2(tmp_path):
    assert cli(cwd=tmp_path).returncode in (0, 2)  # help
    assert cli("run", cwd=tmp_path).returncode == 2
    assert cli("bogus", cwd=tmp_path).returncode == 2


def test_samples_command_writes_every_layout_and_the_ground_truth(tmp_path):
    result = cli("samples", "--out", str(tmp_path / "s"), "--entities", "5", "--seed", "3",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (tmp_path / "s").iterdir()}
    assert set(RUN_ORDER) | {"ground_truth.csv", "ground_truth_accounts.csv"} <= names


def test_run_prints_the_summary_then_show_lists_the_store(tmp_path):
    env = {"ICP_MIGRATE_TARGET": str(tmp_path / "out.db")}
    result = cli("run", *[str(SAMPLES / n) for n in RUN_ORDER], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for word in ("records in", "loaded", "needs_review", "accounts: filing", "websites"):
        assert word in result.stdout
    assert "extract" in result.stderr and "load:" in result.stderr  # progress lines
    assert (tmp_path / "out.db").exists() and not (tmp_path / "icp_migration.db").exists()
    shown = cli("show", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "website_filings" in shown.stdout and "latest runs" in shown.stdout


def test_progress_lines_keep_counts_and_mask_text_arguments():
    import logging

    from icp_migrate.cli import _masked_message

    record = logging.LogRecord("icp_migrate", logging.INFO, __file__, 1,
                               "extract %s: %d records (%d unreadable)",
                               ("/in/330106199001011234.csv", 1234567, 0), None)
    assert _masked_message(record) == ("extract /in/3301**********1234.csv: 1234567 records "
                                       "(0 unreadable)")
    formatted = logging.LogRecord("icp_migrate", logging.INFO, __file__, 1,
                                  "holder 330106199001011234", (), None)
    assert _masked_message(formatted) == "holder 3301**********1234"
