"""The command line as a user runs it: exit codes, one-line errors, the summary."""

from __future__ import annotations

import csv
import json
import os
import re
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


def test_a_bad_records_per_part_setting_is_a_usage_error_before_anything_runs(tmp_path):
    result = cli("run", str(SAMPLES / "hichina_beian.csv"), "--target", "out.db", cwd=tmp_path,
                 env={"ICP_MIGRATE_RECORDS_PER_PART": "lots"})
    assert result.returncode == 2
    assert one_line_error(result) == ("error: $ICP_MIGRATE_RECORDS_PER_PART must be a whole "
                                      "number of records, at least 1; it is 'lots'")
    assert not (tmp_path / "out.db").exists()


def test_samples_command_writes_every_layout_and_the_ground_truth(tmp_path):
    result = cli("samples", "--out", str(tmp_path / "s"), "--entities", "5", "--seed", "3",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (tmp_path / "s").iterdir()}
    assert set(RUN_ORDER) | {"ground_truth.csv", "ground_truth_accounts.csv"} <= names
    with open(tmp_path / "s" / "ground_truth.csv", encoding="utf-8") as f:
        records = sum(1 for _ in csv.DictReader(f))
    # one sentence: what was written, how much of it, where
    assert result.stdout.strip() == (
        f"wrote {records} records of 5 entities to {tmp_path / 's'}: hichina_beian.csv, "
        "hichina_beian_utf8.csv, winport_shops.jsonl, hichina_legacy.db, ground_truth.csv "
        "and ground_truth_accounts.csv (seed 3)")
    one = cli("samples", "--out", str(tmp_path / "one"), "--entities", "1", cwd=tmp_path)
    assert re.match(r"wrote \d+ records? of 1 entity to ", one.stdout), one.stdout


def test_counts_are_printed_with_their_plural_and_flags_as_true_false():
    import numpy as np

    from icp_migrate.cli.tables import cell_text
    from icp_migrate.wording import names, plural

    assert [plural(n, "record") for n in (0, 1, 2, 1500)] == [
        "0 records", "1 record", "2 records", "1,500 records"]
    assert [plural(n, "entity", "entities") for n in (1, 40)] == ["1 entity", "40 entities"]
    assert names(["a"]) == "a" and names(["a", "b", "c"]) == "a, b and c"
    assert names([str(i) for i in range(9)], limit=3) == "0, 1 and 7 more"
    assert [cell_text(v) for v in (True, False, np.bool_(True), None, float("nan"), 0, "x")] == [
        "true", "false", "true", "", "", "0", "x"]


def test_run_prints_the_summary_then_show_lists_the_store(tmp_path):
    env = {"ICP_MIGRATE_TARGET": str(tmp_path / "out.db")}
    result = cli("run", *[str(SAMPLES / n) for n in RUN_ORDER], "--reports", "rep",
                 "--json-summary", "summary.json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    where_the_time_went(json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")))
    assert re.search(r"extract \S+: \d+ records as ", result.stderr), result.stderr
    assert not re.search(r"\b1 (records|entities|accounts|websites|domains)\b",
                         result.stderr), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for word in ("records in", "loaded", "needs_review", "accounts: filing", "websites"):
        assert word in result.stdout
    assert "extract" in result.stderr and "load:" in result.stderr  # progress lines
    assert (tmp_path / "out.db").exists() and not (tmp_path / "icp_migration.db").exists()
    shown = cli("show", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "website_filings" in shown.stdout and "latest runs" in shown.stdout
    # the accounts' real-name flag (a Boolean column, 0/1 in SQLite) reads true/false
    kinds = r"│ (?:filing|resources|filing_and_resources)\s+│ "
    assert re.search(kinds + r"(?:true|false)\s+│", shown.stdout), shown.stdout
    assert not re.search(kinds + r"(?:[01]|True|False)\s+│", shown.stdout), shown.stdout
    every_id_printed_can_be_pasted_into_the_next_command(tmp_path, env, result, shown)


def where_the_time_went(summary: dict) -> None:
    """--json-summary: the flow's wall time is its stages, Prefect's share (measured around
    the flow's and the tasks' functions) and ours between the stages."""
    process = summary["process_seconds"]
    stages = sum(summary["seconds"].values())
    assert 0 < process["prefect_overhead"] < process["flow"]
    assert process["untimed"] > -0.05  # the stages' seconds are rounded to the millisecond
    assert stages + process["prefect_overhead"] + process["untimed"] == pytest.approx(
        process["flow"], abs=0.01)
    assert process["before_flow"] > 0 and summary["dispositions"]


def _ids(pattern: str, text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(pattern, text)))


def every_id_printed_can_be_pasted_into_the_next_command(tmp_path, env, run, shown):
    """run -> report --run <printed id>; show -> explain <printed account> -> explain <the
    entity it prints>; review export's conflict and candidate ids -> review apply."""
    printed = run.stdout + run.stderr + shown.stdout
    assert not re.search(r"(ent|acc)_[0-9a-f]*\*|\d{8}T\d{6}Z-[0-9a-f]*\*|ICP备\d*\*", printed)
    [run_id] = _ids(r"run (\d{8}T\d{6}Z-[0-9a-f]{8}):", run.stdout)
    [index] = _ids(r"report: (\S+/index\.html)", run.stderr)
    assert (tmp_path / index).is_file() and run_id in index
    assert index == f"rep/{run_id}/index.html"  # run --reports DIR
    report = cli("report", "--run", run_id, "--out", "again", cwd=tmp_path, env=env)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "again" / run_id / "index.html").is_file()

    accounts = _ids(r"acc_[0-9a-f]{20}", shown.stdout)
    assert len(accounts) >= 10
    by_account = cli("explain", accounts[0], cwd=tmp_path, env=env)
    assert by_account.returncode == 0, by_account.stderr
    [entity] = _ids(r"entity (ent_[0-9a-f]{20})", by_account.stdout)
    by_entity = cli("explain", entity, "--json", cwd=tmp_path, env=env)
    assert by_entity.returncode == 0, by_entity.stderr
    assert accounts[0] in {a["account_id"] for a in json.loads(by_entity.stdout)["accounts"]}

    exported = cli("review", "export", "--out", "review.csv", cwd=tmp_path, env=env)
    assert exported.returncode == 0, exported.stderr
    with open(tmp_path / "review.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # `--out -`: the same CSV on stdout, nothing else there
    piped = cli("review", "export", "--out", "-", cwd=tmp_path, env=env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.lstrip("\ufeff") == (tmp_path / "review.csv").read_text(
        encoding="utf-8-sig")
    website = next(r for r in rows if r["kind"] == "website")
    chosen = website["candidate_ids"].split(";")[0]
    assert chosen in website["candidates"] and website["conflict_id"].startswith("website:")
    for row in rows:
        row["decision"] = f"assign:{chosen}" if row is website else ""
    with open(tmp_path / "review.csv", "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    applied = cli("review", "apply", "review.csv", "--by", "tester", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stderr
    assert "recorded 1 decision\n" in applied.stdout
    decided = json.loads(cli("explain", chosen, "--json", cwd=tmp_path, env=env).stdout)
    [conflict] = [c for c in decided["conflicts"] if c["conflict_id"] == website["conflict_id"]]
    assert (conflict["status"], conflict["decision"], conflict["chosen"],
            conflict["decided_by"]) == ("decided", "assign", chosen, "tester")


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


@pytest.mark.parametrize("text", [
    "report: reports/20261202T024116Z-76a1c2d3/index.html",
    "ent_e67af4db8ab8bea0f918 is not one of the entities competing in website:黔ICP备11119689号-1",
    "acc_0ff25a492fe868c37219 filing", "x.csv: lines decoded as gb18030, not utf-8",
    "ICP filing number with 9 digits: 浙ICP备273166386号-1", "浙ICP备2017570468号-1",
    "same website seen earlier in this run (sites.site_id=10000028); domains merged",
    "/tmp/pytest-of-root/pytest-3/test_x0/samples/hichina_beian_utf8.csv",
    "member hc6993310 tb_4509531 filed 2015-03-02: 1234567 records",
    "extract /data/records-10000000-seed-11/20180101/a.csv: 12,345 records",
    "read data/exports/02945994/hichina_beian.csv (in/G12994189.db, ./H06868882/)",
])
def test_ids_filing_numbers_paths_and_encodings_pass_whole(text):
    from icp_migrate.masking import mask_text

    assert mask_text(text) == text


@pytest.mark.parametrize("personal", [
    "330106199001011234", "33010619900101123X", "9133010012804095XB", "Y1330200271569012P",
    "110108033576009", "12804095-X", "G12994189", "H06868882", "02945994", "13909579709",
    "018-78162750", "0571-88886666",
])
def test_certificate_and_phone_shapes_are_masked_in_free_text(personal):
    from icp_migrate.masking import mask, mask_text

    for text in (f"bad value {personal}", f"({personal});", f"{personal}/{personal} bad"):
        masked = mask_text(text)
        assert personal not in masked and mask(personal) in masked
    assert mask_text("unparseable date beian5687@126.com") == "unparseable date b***@126.com"
    # in a path only an ID number or a mobile phone: the short shapes are also the dates,
    # batch numbers and serials of folders and files, which a user pastes again
    long_shape = len(personal) >= 15 or (personal.isdigit() and len(personal) == 11)
    for path in (f"/in/{personal}.csv", f"in/{personal}/x.jsonl", f"./{personal}"):
        masked = mask_text(f"extract {path}: 3 records")
        assert (personal not in masked) == long_shape, path


def test_version_and_help_without_type_noise(tmp_path):
    from icp_migrate import __version__

    version = cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"icp-migrate {__version__}"
    for command in (["--help"], ["run", "--help"], ["explain", "--help"],
                    ["review", "apply", "--help"]):
        shown = cli(*command, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "Usage:" in shown.stdout
        assert not re.search(r"<(bool|str|path|int|list\[str\])>|\{\w+\}", shown.stdout), command


@pytest.mark.parametrize("args, code, message", [
    (["records", "export", "--disposition", "lost"], 2,
     "--disposition must be one of loaded|duplicate|out_of_scope|quarantined|needs_review, "
     "not 'lost'"),
    (["records", "export", "--disposition", "loaded"], 1, "no run recorded in sqlite:///"),
    (["records", "export", "--disposition", "loaded", "--run", "r9"], 2, "no run 'r9' in"),
    (["plan", "export", "--out", "plan.txt"], 2, "--out plan.txt: a file must end in .csv"),
])
def test_export_errors_are_one_line(tmp_path, args, code, message):
    from icp_migrate.store.target import open_target

    open_target(f"sqlite:///{tmp_path / 't.db'}").dispose()  # a store without runs
    result = cli(*args, "--target", "t.db", cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert message in one_line_error(result)


def test_exports_write_to_stdout_or_a_file(tmp_path):
    from icp_migrate.reports.plan_export import COLUMNS
    from icp_migrate.store.target import open_target

    open_target(f"sqlite:///{tmp_path / 't.db'}").dispose()
    results = [subprocess.run([*CLI, *args, "--target", "t.db"], cwd=tmp_path,
                              capture_output=True, timeout=300)
               for args in (["plan", "export", "--out", "-"],
                            ["plan", "export", "--out", "p.json"])]
    assert [r.returncode for r in results] == [0, 0], results[0].stderr + results[1].stderr
    assert results[0].stdout == ("\ufeff" + ",".join(COLUMNS) + "\r\n").encode()  # the CSV
    assert results[1].stdout.decode().startswith("wrote p.json: 0 accounts, 0 website filings")
    assert json.loads((tmp_path / "p.json").read_bytes()) == []
    shown = cli("records", "export", "--help", cwd=tmp_path)
    assert shown.returncode == 0 and "--disposition" in shown.stdout
    assert not re.search(r"<(bool|str|path|int|list\[str\])>|\{\w+\}", shown.stdout)


@pytest.mark.parametrize("code, status, stderr", [(0, 0, ""), (None, 0, ""), (3, 3, ""),
                                                  ("one line", 1, "one line\n")])
def test_the_quick_exit_keeps_what_a_normal_exit_does(tmp_path, code, status, stderr):
    """The CLI ends with os._exit (skipping the interpreter's teardown), but only after what
    a normal exit does: the threads' exit hooks (Prefect's workers drain there) and the
    atexit handlers run, non-daemon threads end, buffered output is written; the exit
    status is sys.exit's."""
    script = f"""
import atexit, sys, threading, time
from pathlib import Path
from icp_migrate.cli import _exit
out = Path({str(tmp_path)!r})
threading._register_atexit(lambda: (out / "thread-hook").write_text("drained"))
atexit.register(lambda: (out / "atexit").write_text("ran"))
worker = threading.Thread(target=lambda: (time.sleep(0.3), (out / "worker").write_text("ended")))
worker.start()
sys.stdout.write("buffered, no newline")
_exit({code!r})
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert (done.returncode, done.stderr, done.stdout) == (status, stderr,
                                                           "buffered, no newline")
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "thread-hook": "drained", "atexit": "ran", "worker": "ended"}
