"""`records export`: every record of a disposition in a run, reasons masked, CSV."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.cli import app
from icp_migrate.masking import mask, mask_text
from icp_migrate.store.exports import RECORD_COLUMNS
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.target import open_target
from test_flow import SAMPLES, sources
from test_reports import CERTS, HOSTILE_ATTR, HOSTILE_SCRIPT, T0, W3, report_plan


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(RECORD_COLUMNS)
    return list(csv.DictReader(io.StringIO(text)))


def _cli(*args: str):
    return CliRunner().invoke(app, ["records", "export", *args])


def test_records_of_a_run_by_disposition(target_url, tmp_path):
    engine = open_target(target_url)
    try:
        plan = report_plan()
        start_run(engine, "r1", T0, ["a.csv", "b.jsonl"])
        load_plan(engine, "r1", plan, {"records_in": plan.input_count})
        later = report_plan()  # a later run brings W3's record again, as a duplicate
        later.dispositions = later.dispositions.iloc[:1].assign(
            member_id="m9", disposition="duplicate", website_filing_number=W3)
        later.input_count = 1
        start_run(engine, "r2", T0 + timedelta(hours=1), ["c.csv"])
        load_plan(engine, "r2", later, {"records_in": 1})
    finally:
        engine.dispose()

    out = tmp_path / "quarantined.csv"
    result = _cli("--disposition", "quarantined", "--run", "r1", "--out", str(out),
                  "--target", target_url)
    assert result.exit_code == 0, result.output
    assert "2 quarantined records of run r1" in result.output
    data = out.read_bytes()
    rows = _rows(data)
    assert [(r["source"], r["locator"], r["member_id"]) for r in rows] == [
        ("b.jsonl", "line 3", "m4"), ("b.jsonl", HOSTILE_ATTR, HOSTILE_SCRIPT)]
    assert rows[0]["reasons"] == (f"invalid resident_id {mask(CERTS[3])} (check digit); "
                                  "no filing number or name links it")
    assert {r["disposition"] for r in rows} == {"quarantined"}
    assert (rows[0]["warnings"], rows[0]["entity_id"], rows[0]["conflict_key"]) == ("", "", "")
    assert CERTS[3] not in data.decode("utf-8-sig")

    loaded = _rows(_cli("--disposition", "loaded", "--run", "r1", "--target",
                        target_url).stdout_bytes)  # no --out: stdout
    assert [(r["locator"], r["entity_id"]) for r in loaded] == [
        ("line 2", "E1"), ("line 3", "E1"), ("line 4", "E2"), ("line 2", "E3")]
    assert loaded[3]["warnings"] == mask_text(report_plan().dispositions["warnings"][4])
    assert CERTS[3] not in loaded[3]["warnings"]
    review = _rows(_cli("--disposition", "needs_review", "--run", "r1", "--out", "-",
                        "--target", target_url).stdout_bytes)
    assert [(r["locator"], r["website_filing_number"]) for r in review] == [
        ("line 5", "浙ICP备99999999号-1")]

    # default: the latest run (r2) holds one duplicate and nothing quarantined
    latest = _rows(_cli("--disposition", "duplicate", "--target", target_url).stdout_bytes)
    assert [(r["member_id"], r["website_filing_number"]) for r in latest] == [("m9", W3)]
    assert _rows(_cli("--disposition", "quarantined", "--target", target_url).stdout_bytes) == []

    unknown = _cli("--disposition", "loaded", "--run", "r9", "--target", target_url)
    assert unknown.exit_code == 2 and "no run 'r9' in" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1


def test_unknown_disposition_is_a_usage_error_listing_the_valid_ones(tmp_path):
    result = _cli("--disposition", "lost", "--target", f"sqlite:///{tmp_path / 't.db'}")
    assert result.exit_code == 2
    assert f"--disposition must be one of {'|'.join(DISPOSITIONS)}, not 'lost'" in result.output
    assert not (tmp_path / "t.db").exists()


def test_a_target_without_runs_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    open_target(url).dispose()
    result = _cli("--disposition", "loaded", "--target", url)
    assert result.exit_code == 1 and "no run recorded in" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_every_record_of_a_sample_run_once(target_url, tmp_path):
    from icp_migrate.flows.migrate import migrate

    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    migrate(sources=sources(samples), target=target_url, reports_dir=str(tmp_path / "reports"))
    engine = sa.create_engine(target_url)
    try:
        stored = pd.read_sql(sa.text("SELECT source, locator, disposition, reasons, warnings "
                                     "FROM record_dispositions"), engine)
    finally:
        engine.dispose()
    exported = {}
    for disposition in DISPOSITIONS:
        out = tmp_path / f"{disposition}.csv"
        result = _cli("--disposition", disposition, "--out", str(out), "--target", target_url)
        assert result.exit_code == 0, result.output
        exported[disposition] = _rows(out.read_bytes())
    assert sum(len(rows) for rows in exported.values()) == len(stored) == 150
    for disposition, rows in exported.items():
        mine = stored[stored["disposition"] == disposition]
        assert sorted((r["source"], r["locator"]) for r in rows) == sorted(
            zip(mine["source"], mine["locator"], strict=True))
        for column in ("reasons", "warnings"):  # missing is blank, never "nan"
            assert sorted(r[column] for r in rows) == sorted(
                mask_text(v) if isinstance(v, str) else "" for v in mine[column])
    assert exported["quarantined"] and all(r["reasons"] for r in exported["quarantined"])
    assert all(r["locator"].startswith("line ") for r in exported["quarantined"]
               if r["source"].endswith((".csv", ".jsonl")))
