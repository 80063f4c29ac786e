"""The account plan export: one row per website filing under its account (JSON: accounts
with their websites and domains), masked, stable to the byte."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from icp_migrate.cli import app
from icp_migrate.masking import mask
from icp_migrate.reports.plan_export import COLUMNS, export_plan, plan_rows, to_csv, to_json
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.target import open_target
from test_flow import SAMPLES, sources
from test_reports import HOSTILE_ATTR, RIC, T0, USCC, W1, W2, W3, W4, _frame, report_plan

ACCOUNTS = ("account_id", "account_kind", "real_name_verification_required", "entity_id",
            "entity_type", "entity_name", "cert_type", "cert_number", "province",
            "entity_filing_number", "admin_email")
WEBSITES = ("website_filing_number", "account_id", "website_name", "product", "filed_on",
            "member_id")


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_rows_on_inline_frames():
    accounts = _frame([
        ("A2", "resources", True, "E1", "enterprise", "=HYPERLINK(\"x\")", "uscc", USCC, "浙江省",
         None),
        ("A1", "filing", False, "E1", "enterprise", "=HYPERLINK(\"x\")", "uscc", USCC, "浙江省",
         None),
        ("A0", "filing", False, "E0", "individual", "王伟", "resident_id", RIC, None, None),
    ], ACCOUNTS)
    websites = _frame([(W2, "A1", "-站二", "domain", "2016-03-02", "m2"),
                       (W1, "A1", "站一", "domain", "2015-03-02", "m1"),
                       (W3, "A0", "店", "winport_shop", None, "m9")], WEBSITES)
    domains = pd.DataFrame({"domain": ["b.cn", "xn--fiqs8s.cn", "a.cn"],
                            "unicode_domain": ["b.cn", "中国.cn", None],
                            "website_filing_number": [W2, W1, W1]})
    rows = plan_rows(accounts, websites, domains)
    assert list(rows.columns) == list(COLUMNS)
    # entity, then account kind, then website; the resources account once, websites blank
    assert list(zip(rows["account_id"], rows["website_filing_number"], strict=True)) == [
        ("A0", W3), ("A1", W1), ("A1", W2), ("A2", None)]
    assert rows["domains"][1] == [{"domain": "a.cn", "unicode_domain": None},
                                  {"domain": "xn--fiqs8s.cn", "unicode_domain": "中国.cn"}]
    assert rows["domains"][0] == [] and rows["member_id"][2] == "m2"
    assert rows["cert_number_masked"][1] == mask(USCC)

    table = _csv_rows(to_csv(rows))
    assert [r["website_filing_number"] for r in table] == [W3, W1, W2, ""]
    assert table[1]["domains"] == "a.cn;xn--fiqs8s.cn (中国.cn)"
    assert table[2]["domains"] == "b.cn" and table[2]["filed_on"] == "2016-03-02"
    assert table[2]["website_name"] == "'-站二"  # never a formula in Excel
    assert table[1]["entity_name"] == "'=HYPERLINK(\"x\")"
    assert table[0]["real_name_verification_required"] == "false"
    assert table[3]["real_name_verification_required"] == "true"
    assert (table[3]["member_id"], table[3]["domains"], table[3]["product"]) == ("", "", "")

    accounts_json = json.loads(to_json(rows))
    assert [a["account_id"] for a in accounts_json] == ["A0", "A1", "A2"]
    a1 = accounts_json[1]
    assert a1["entity_name"] == "=HYPERLINK(\"x\")" and a1["cert_number_masked"] == mask(USCC)
    assert [w["website_filing_number"] for w in a1["websites"]] == [W1, W2]
    assert a1["websites"][1] == {"website_filing_number": W2, "website_name": "-站二",
                                 "product": "domain", "filed_on": "2016-03-02",
                                 "domains": [{"domain": "b.cn", "unicode_domain": "b.cn"}],
                                 "member_id": "m2"}
    assert accounts_json[2]["websites"] == []
    for blob in (to_csv(rows).decode("utf-8-sig"), to_json(rows).decode()):
        assert USCC not in blob and RIC not in blob


def test_export_from_the_store(target_url, tmp_path):
    engine = open_target(target_url)
    try:
        plan = report_plan()
        start_run(engine, "r1", T0, ["a.csv"])
        load_plan(engine, "r1", plan, {"records_in": plan.input_count})
        path, _, accounts, websites = export_plan(engine, tmp_path / "plan.json")
        csv_path, data, _, _ = export_plan(engine, tmp_path)
    finally:
        engine.dispose()
    assert path == tmp_path / "plan.json" and (accounts, websites) == (4, 4)
    assert csv_path == tmp_path / "account_plan.csv" and csv_path.read_bytes() == data
    entries = {e["account_id"]: e for e in json.loads(path.read_text(encoding="utf-8"))}
    assert list(entries) == ["A1", "A1R", "A2", "A3"]
    a1 = entries["A1"]["websites"]
    assert [(w["website_filing_number"], w["member_id"], w["filed_on"]) for w in a1] == [
        (W1, "m1", "2015-03-02"), (W2, "m2", "2016-03-02")]
    assert a1[0]["domains"] == [{"domain": "a.example.cn", "unicode_domain": "a.example.cn"},
                                {"domain": "xn--fiqs8s.cn", "unicode_domain": "中国.cn"}]
    assert a1[0]["website_name"] == HOSTILE_ATTR
    assert entries["A1R"]["websites"] == [] and entries["A1R"]["account_kind"] == "resources"
    assert entries["A2"]["entity_name"] == HOSTILE_ATTR
    assert entries["A2"]["websites"][0]["domains"] == [
        {"domain": "shop.example.cn", "unicode_domain": None}]
    assert entries["A3"]["real_name_verification_required"] is True
    assert [w["website_filing_number"] for w in entries["A3"]["websites"]] == [W4]
    table = _csv_rows(data)
    assert [(r["account_id"], r["website_filing_number"]) for r in table] == [
        ("A1", W1), ("A1", W2), ("A1R", ""), ("A2", W3), ("A3", W4)]
    assert table[0]["domains"] == "a.example.cn;xn--fiqs8s.cn (中国.cn)"
    assert USCC not in path.read_text(encoding="utf-8") and USCC not in table[0].values()


def _export(url: str, *args: str) -> bytes:
    result = CliRunner().invoke(app, ["plan", "export", *args, "--target", url])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _export_both(url: str, out: Path) -> dict[str, bytes]:
    _export(url, "--out", str(out / "plan.csv"))
    _export(url, "--format", "json", "--out", str(out))  # a folder: account_plan.json
    return {"csv": (out / "plan.csv").read_bytes(),
            "json": (out / "account_plan.json").read_bytes()}


def _store_tables(url: str) -> dict[str, pd.DataFrame]:
    engine = sa.create_engine(url)
    try:
        return {name: pd.read_sql(sa.text(query), engine) for name, query in {
            "accounts": "SELECT account_id FROM accounts",
            "websites": "SELECT website_filing_number, account_id FROM website_filings",
            "domains": "SELECT domain, unicode_domain, website_filing_number FROM domains",
        }.items()}
    finally:
        engine.dispose()


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
    assert _export(target_url, "--out", "-") == second["csv"]  # stdout: the same bytes

    store = _store_tables(target_url)
    accounts = json.loads(second["json"])
    assert sorted(a["account_id"] for a in accounts) == sorted(store["accounts"]["account_id"])
    listed = {w["website_filing_number"]: (a["account_id"], w) for a in accounts
              for w in a["websites"]}
    # every stored website exactly once, under its own account
    assert sum(len(a["websites"]) for a in accounts) == len(store["websites"]) == len(listed)
    assert {n: a for n, (a, _) in listed.items()} == dict(
        zip(store["websites"]["website_filing_number"], store["websites"]["account_id"],
            strict=True))
    # every stored domain exactly once, under its own website, with its Unicode form
    exported = sorted((d["domain"], d["unicode_domain"] or "", number)
                      for number, (_, w) in listed.items() for d in w["domains"])
    stored = store["domains"].fillna("")
    assert exported == sorted(zip(stored["domain"], stored["unicode_domain"],
                                  stored["website_filing_number"], strict=True))
    assert any(d.startswith("xn--") for d, _, _ in exported)  # not a vacuous check
    assert all(w["member_id"] for _, w in listed.values())
    # the accounts' administrator e-mails, their local parts masked by default
    shown = [a["admin_email"] for a in accounts if a["admin_email"]]
    assert shown and all("***@" in e for e in shown)

    table = _csv_rows(second["csv"])
    assert b"NaN" not in second["json"] and "nan" not in {v for r in table for v in r.values()}
    empty = [a for a in accounts if not a["websites"]]
    assert len(table) == len(store["websites"]) + len(empty)  # accounts without websites once
    assert sorted(r["account_id"] for r in table if not r["website_filing_number"]) == sorted(
        a["account_id"] for a in empty)
    for row in table:
        if row["website_filing_number"]:
            _, website = listed[row["website_filing_number"]]
            assert row["domains"] == ";".join(
                d["domain"] if d["unicode_domain"] in (None, d["domain"])
                else f"{d['domain']} ({d['unicode_domain']})" for d in website["domains"])
    assert any(" (" in r["domains"] for r in table)


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "--format must be one of csv, json"),
    (["--out", "plan.xlsx"], "a file must end in .csv or .json"),
    (["--out", "plan.csv", "--format", "json"], "is a .csv file but --format is json"),
])
def test_bad_format_or_out_is_a_usage_error(tmp_path, args, message):
    result = CliRunner().invoke(app, ["plan", "export", *args, "--target",
                                      f"sqlite:///{tmp_path / 't.db'}"])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "t.db").exists()  # refused before the target was opened
