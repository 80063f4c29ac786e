"""The account plan export: one entry per account, masked, stable to the byte."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from icp_migrate.cli import app
from icp_migrate.masking import mask
from icp_migrate.reports.plan_export import COLUMNS, export_plan, plan_entries, to_csv, to_json
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.target import open_target
from test_flow import SAMPLES, sources
from test_reports import HOSTILE_ATTR, RIC, T0, USCC, W1, W2, W3, W4, _frame, report_plan

ACCOUNTS = ("account_id", "account_kind", "real_name_verification_required", "entity_id",
            "entity_type", "entity_name", "cert_type", "cert_number", "province",
            "entity_filing_number")


def test_entries_on_inline_frames():
    accounts = _frame([
        ("A2", "resources", True, "E1", "enterprise", "=HYPERLINK(\"x\")", "uscc", USCC, "浙江省",
         None),
        ("A1", "filing", False, "E1", "enterprise", "=HYPERLINK(\"x\")", "uscc", USCC, "浙江省",
         None),
        ("A0", "filing", False, "E0", "individual", "王伟", "resident_id", RIC, None, None),
    ], ACCOUNTS)
    websites = pd.DataFrame({"website_filing_number": [W2, W1, W3],
                             "account_id": ["A1", "A1", "A0"]})
    domains = pd.DataFrame({"domain": ["b.cn", "a.cn", "a.cn"], "account_id": ["A1", "A1", "A1"]})
    members = pd.DataFrame({"entity_id": ["E1", "E1", "E0", "E1"],
                            "member_id": ["m2", "m1", "m9", "m1"]})
    entries = plan_entries(accounts, websites, domains, members)
    assert list(entries.columns) == list(COLUMNS)
    assert entries["account_id"].tolist() == ["A0", "A1", "A2"]  # entity, then kind
    a1 = entries.set_index("account_id").loc["A1"]
    assert a1["website_filing_numbers"] == [W1, W2] and a1["domains"] == ["a.cn", "b.cn"]
    assert a1["member_ids"] == ["m1", "m2"] and a1["cert_number_masked"] == mask(USCC)
    # a resources account holds no filings: nothing to import, no member to log in with
    a2 = entries.set_index("account_id").loc["A2"]
    assert a2["website_filing_numbers"] == [] and a2["member_ids"] == []
    assert a2["real_name_verification_required"] is True

    data = to_csv(entries)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1]["website_filing_numbers"] == f"{W1};{W2}"
    assert rows[1]["entity_name"] == "'=HYPERLINK(\"x\")"  # never a formula in Excel
    assert rows[0]["real_name_verification_required"] == "false"
    decoded = json.loads(to_json(entries))
    assert decoded[1]["entity_name"] == "=HYPERLINK(\"x\")" and decoded[1]["domains"] == [
        "a.cn", "b.cn"]
    for blob in (data.decode("utf-8-sig"), to_json(entries).decode()):
        assert USCC not in blob and RIC not in blob


def test_export_from_the_store_gathers_members_of_every_run(target_url, tmp_path):
    engine = open_target(target_url)
    try:
        plan = report_plan()
        start_run(engine, "r1", T0, ["a.csv"])
        load_plan(engine, "r1", plan, {"records_in": plan.input_count})
        # a later run brings W1 again from another member, as a duplicate
        later = report_plan()
        later.dispositions = later.dispositions.iloc[:1].assign(member_id="m9",
                                                                disposition="duplicate")
        later.input_count = 1
        start_run(engine, "r2", T0 + timedelta(hours=1), ["c.csv"])
        load_plan(engine, "r2", later, {"records_in": 1})
        path, count = export_plan(engine, tmp_path, "json")
    finally:
        engine.dispose()
    assert path == tmp_path / "account_plan.json" and count == 4
    entries = {e["account_id"]: e for e in json.loads(path.read_text(encoding="utf-8"))}
    assert entries["A1"]["member_ids"] == ["m1", "m2", "m9"]
    assert entries["A1"]["website_filing_numbers"] == [W1, W2]
    assert entries["A1"]["domains"] == ["a.example.cn", "b.example.cn", "xn--fiqs8s.cn"]
    assert entries["A1R"]["website_filing_numbers"] == []
    assert entries["A2"]["entity_name"] == HOSTILE_ATTR and entries["A2"]["member_ids"] == ["m1"]
    assert entries["A3"]["website_filing_numbers"] == [W4]
    assert entries["A3"]["real_name_verification_required"] is True
    assert USCC not in path.read_text(encoding="utf-8")


def _export_both(url: str, out: Path) -> dict[str, bytes]:
    runner = CliRunner()
    found = {}
    for fmt in ("csv", "json"):
        result = runner.invoke(app, ["plan", "export", "--format", fmt, "--out", str(out),
                                     "--target", url])
        assert result.exit_code == 0, result.output
        found[fmt] = (out / f"account_plan.{fmt}").read_bytes()
    return found


@pytest.mark.usefixtures("prefect_harness")
def test_reexport_after_an_unchanged_rerun_is_byte_identical(target_url, tmp_path):
    from icp_migrate.flows.migrate import migrate

    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    reports = str(tmp_path / "reports")
    migrate(sources=sources(samples), target=target_url, reports_dir=reports)
    first = _export_both(target_url, tmp_path / "first")
    migrate(sources=sources(samples), target=target_url, reports_dir=reports)
    second = _export_both(target_url, tmp_path / "second")
    assert first == second

    engine = sa.create_engine(target_url)
    try:
        with engine.connect() as connection:
            accounts = connection.execute(sa.text("SELECT COUNT(*) FROM accounts")).scalar_one()
            sites = connection.execute(sa.text(
                "SELECT website_filing_number FROM website_filings")).scalars().all()
    finally:
        engine.dispose()
    entries = json.loads(second["json"])
    assert len(entries) == accounts
    listed = [w for e in entries for w in e["website_filing_numbers"]]
    assert sorted(listed) == sorted(sites)  # every website once, in exactly one account
    assert all(e["member_ids"] for e in entries if e["website_filing_numbers"])
    assert len(list(csv.reader(io.StringIO(second["csv"].decode("utf-8-sig"))))) == accounts + 1


def test_bad_format_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["plan", "export", "--format", "xml", "--target",
                                      f"sqlite:///{tmp_path / 't.db'}"])
    assert result.exit_code == 2 and "--format must be one of csv, json" in result.output
