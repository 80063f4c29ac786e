"""A run's settings are part of its record, and `review apply --now` re-runs it as it was:
same sources (absolute, by content), cut-off, mapping and reports folder, from any folder."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rich.console import Console

from icp_migrate.cli.tables import print_store
from icp_migrate.errors import IcpMigrateError
from icp_migrate.mapping import MAPPINGS_DIR
from icp_migrate.pipeline.review import export_conflicts, rerun_sources
from icp_migrate.run_settings import file_sha256, record_settings
from icp_migrate.store.load import start_run
from icp_migrate.store.target import open_target
from test_cli import cli, one_line_error
from test_flow import RUN_ORDER, migrate

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _runs(url: str) -> list[dict]:
    engine = open_target(url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT * FROM runs ORDER BY started_at")).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def _decide_one(url: str, folder: Path, decide: bool = True) -> Path:
    """The exported conflicts with the first one decided (or none: `decide=False`), a file
    `review apply` takes."""
    engine = open_target(url)
    try:
        exported = folder / "review.csv"
        assert export_conflicts(engine, exported) > 0 or not decide
    finally:
        engine.dispose()
    text = exported.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    if decide:  # rejected, or kept apart / as stored where the kind takes that
        rows[0]["decision"] = next(v for v in ("reject", "separate", "keep")
                                   if v in rows[0]["allowed"])
    decided = folder / "decided.csv"
    with open(decided, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=next(csv.reader(io.StringIO(text))))
        writer.writeheader()
        writer.writerows(rows)
    return decided


def _decisions(url: str) -> int:
    engine = open_target(url)
    try:
        with engine.connect() as c:
            return c.execute(sa.text("SELECT COUNT(*) FROM review_decisions")).scalar_one()
    finally:
        engine.dispose()


def _apply_now(decided: Path, url: str, cwd: Path):
    return cli("review", "apply", str(decided), "--target", url, "--by", "tester", "--now",
               cwd=cwd, timeout=600)


@pytest.mark.usefixtures("prefect_harness")
def test_now_reruns_with_the_recorded_sources_and_cutoff_from_another_folder(
        samples, target_url, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.chdir(samples)  # the sources as typed there: relative names
    first = migrate(sources=list(RUN_ORDER), target=target_url, cutoff="2017-01-01",
                    reports_dir="../reports")
    monkeypatch.chdir(tmp_path)
    default = migrate(sources=[str(samples / n) for n in RUN_ORDER],
                      target=f"sqlite:///{tmp_path / 'default.db'}")
    # the 2017 and 2018 filings: out of scope at 2017-01-01, in scope at the default
    assert first.dispositions["out_of_scope"] > default.dispositions["out_of_scope"]

    recorded = _runs(target_url)[0]
    assert str(recorded["cutoff"])[:10] == "2017-01-01"
    assert json.loads(recorded["sources"]) == [str(samples / n) for n in RUN_ORDER]
    assert all(os.path.isabs(s) for s in json.loads(recorded["sources"]))
    assert json.loads(recorded["source_hashes"]) == {
        str(samples / n): file_sha256(samples / n) for n in RUN_ORDER}
    assert recorded["mapping_name"] is recorded["mapping_path"] is None
    assert recorded["reports_dir"] == str(reports)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    decided = _decide_one(target_url, elsewhere)
    result = _apply_now(decided, target_url, elsewhere)
    assert result.returncode == 0, result.stderr
    runs = _runs(target_url)
    assert len(runs) == 2 and runs[1]["status"] == "completed"
    rerun = runs[1]
    assert rerun["out_of_scope"] == first.dispositions["out_of_scope"]
    assert str(rerun["cutoff"])[:10] == "2017-01-01"
    assert (rerun["sources"], rerun["source_hashes"], rerun["reports_dir"]) == (
        recorded["sources"], recorded["source_hashes"], recorded["reports_dir"])
    assert (reports / rerun["run_id"] / "index.html").exists()
    assert not (elsewhere / "reports").exists()

    shown = Console(record=True, width=2000)
    print_store(shown, target_url, 1)
    text = shown.export_text()
    row = [line for line in text.splitlines() if rerun["run_id"] in line][-1]
    assert "2017-01-01" in row and "detected" in row and f"/{RUN_ORDER[0]}, " in row

    # a source changed, then gone: one line, exit 1, and no decision recorded
    before = _decisions(target_url)
    decided = _decide_one(target_url, elsewhere, decide=False)  # --now: the latest run
    source = samples / RUN_ORDER[1]
    source.write_bytes(source.read_bytes() + b"\n")
    refused = _apply_now(decided, target_url, elsewhere)
    assert refused.returncode == 1
    # (the CLI masks digit runs and some path parts as it masks every message)
    line = one_line_error(refused)
    assert "cannot re-run run " in line and f"/{source.name} changed since run " in line
    source.unlink()
    refused = _apply_now(decided, target_url, elsewhere)
    assert refused.returncode == 1
    line = one_line_error(refused)
    assert "cannot re-run run " in line and line.endswith(f"/{source.name} no longer exists")
    assert _decisions(target_url) == before
    assert len(_runs(target_url)) == 2


def _english(samples: Path, folder: Path) -> tuple[Path, list[str]]:
    """The HiChina CSV exports with their header renamed, and a mapping file reading them:
    a layout no built-in mapping detects."""
    builtin = yaml.safe_load((MAPPINGS_DIR / "hichina_beian_csv.yaml").read_text("utf-8"))
    header = list(builtin["fields"].values())
    english = {name: f"col{i}" for i, name in enumerate(header)}
    builtin["name"] = "english_hichina_csv"
    builtin["fields"] = {k: english[v] for k, v in builtin["fields"].items()}
    builtin["detect"] = {"columns": [english[c] for c in builtin["detect"]["columns"]]}
    mapping = folder / "english.yaml"
    mapping.write_text(yaml.safe_dump(builtin, allow_unicode=True), encoding="utf-8")
    names = []
    for name in ("hichina_beian.csv", "hichina_beian_utf8.csv"):
        raw = (samples / name).read_bytes()
        first, rest = raw.split(b"\n", 1)
        encoding = "utf-8-sig" if first.startswith(b"\xef\xbb\xbf") else "gb18030"
        line = first.decode(encoding)
        for chinese, renamed in english.items():
            line = line.replace(chinese, renamed)
        assert not any(c in line for c in english)
        (folder / f"english_{name}").write_bytes(line.encode(encoding) + b"\n" + rest)
        names.append(f"english_{name}")
    return mapping, names


@pytest.mark.usefixtures("prefect_harness")
def test_now_reruns_with_the_recorded_mapping_file(samples, target_url, tmp_path, monkeypatch):
    mapping, names = _english(samples, tmp_path)
    monkeypatch.chdir(tmp_path)
    first = migrate(sources=names, target=target_url, mapping="english.yaml")
    assert first.records_in > 0
    recorded = _runs(target_url)[0]
    assert (recorded["mapping_name"], recorded["mapping_path"], recorded["mapping_hash"]) == (
        "english_hichina_csv", str(mapping), file_sha256(mapping))
    assert str(recorded["cutoff"])[:10] == "2019-01-01"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    decided = _decide_one(target_url, elsewhere)
    result = _apply_now(decided, target_url, elsewhere)
    assert result.returncode == 0, result.stderr
    rerun = _runs(target_url)[1]
    assert rerun["status"] == "completed" and rerun["records_in"] == first.records_in
    assert (rerun["mapping_name"], rerun["mapping_path"], rerun["mapping_hash"]) == (
        recorded["mapping_name"], recorded["mapping_path"], recorded["mapping_hash"])

    decided = _decide_one(target_url, elsewhere, decide=False)  # --now: the latest run
    mapping.write_text(mapping.read_text("utf-8") + "\n# edited\n", encoding="utf-8")
    refused = _apply_now(decided, target_url, elsewhere)
    assert refused.returncode == 1
    line = one_line_error(refused)
    assert "cannot re-run run " in line and "/english.yaml changed since run " in line
    mapping.unlink()
    refused = _apply_now(decided, target_url, elsewhere)
    assert refused.returncode == 1
    assert one_line_error(refused).endswith("/english.yaml no longer exists")


def test_settings_are_absolute_hashed_and_without_passwords(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_bytes(b"x\n")
    settings = record_settings(
        ["a.csv", "postgresql://u:secret@db/legacy", "sqlite:///legacy.db"],
        "hichina_beian_csv", date(2017, 1, 1), "reports")
    assert settings.sources == [str(tmp_path / "a.csv"), "postgresql://u:***@db/legacy",
                                f"sqlite:///{tmp_path / 'legacy.db'}"]
    assert settings.source_hashes == {str(tmp_path / "a.csv"): file_sha256(tmp_path / "a.csv"),
                                      "postgresql://u:***@db/legacy": None,
                                      f"sqlite:///{tmp_path / 'legacy.db'}": None}
    assert (settings.mapping_name, settings.mapping_path, settings.mapping) == (
        "hichina_beian_csv", None, "hichina_beian_csv")
    assert settings.mapping_hash == file_sha256(MAPPINGS_DIR / "hichina_beian_csv.yaml")
    assert settings.reports_dir == str(tmp_path / "reports")


def _completed(engine: sa.Engine, run_id: str) -> None:
    with engine.begin() as c:
        c.execute(sa.text("UPDATE runs SET status = 'completed' WHERE run_id = :r"),
                  {"r": run_id})


def test_rerun_refusals(target_url, tmp_path):
    source = tmp_path / "a.csv"
    source.write_bytes(b"x\n")
    engine = open_target(target_url)
    try:
        with pytest.raises(IcpMigrateError, match="no completed run"):
            rerun_sources(engine)
        start_run(engine, "old", T0, ["a.csv"])  # as an older version recorded runs
        _completed(engine, "old")
        with pytest.raises(IcpMigrateError, match="run old: its settings were not recorded"):
            rerun_sources(engine)

        settings = record_settings([str(source)], None, date(2017, 1, 1), tmp_path)
        start_run(engine, "r1", T0.replace(day=2), settings.sources, settings)
        _completed(engine, "r1")
        again = rerun_sources(engine)
        assert again == settings and again.cutoff == date(2017, 1, 1)
        source.write_bytes(b"y\n")
        with pytest.raises(IcpMigrateError,
                           match=re.escape(f"cannot re-run run r1: {source} changed since run r1")):
            rerun_sources(engine)
        source.unlink()
        with pytest.raises(IcpMigrateError,
                           match=re.escape(f"cannot re-run run r1: {source} no longer exists")):
            rerun_sources(engine)

        hidden = record_settings(["postgresql://u:secret@db/x"], None, date(2019, 1, 1),
                                 tmp_path)
        start_run(engine, "r2", T0.replace(day=3), hidden.sources, hidden)
        _completed(engine, "r2")
        with pytest.raises(IcpMigrateError, match="password is not stored"):
            rerun_sources(engine)
    finally:
        engine.dispose()
