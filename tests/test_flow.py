"""The real `migrate` flow (Prefect test API, real GX) on the samples: SQLite and PostgreSQL."""

from __future__ import annotations

import atexit
import csv
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from icp_migrate.errors import PlanValidationError
from truth import disposition_mismatches, expected_accounts

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
RUN_ORDER = ["hichina_beian.csv", "hichina_beian_utf8.csv", "winport_shops.jsonl",
             "hichina_legacy.db"]
TABLES = ("entities", "accounts", "website_filings", "domains")
KEYS = {"entities": "entity_id", "accounts": "account_id",
        "website_filings": "website_filing_number", "domains": "domain", "runs": "started_at",
        "record_dispositions": "run_id, row_id", "entity_links": "run_id, row_id"}


def sources(folder: Path) -> list[str]:
    return [str(folder / name) for name in RUN_ORDER]


def dump(url: str) -> dict[str, pd.DataFrame]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: pd.read_sql(sa.text(f"SELECT * FROM {t} ORDER BY {KEYS[t]}"), conn)
                    for t in TABLES + ("runs", "record_dispositions", "entity_links")}
    finally:
        engine.dispose()


def migrate(*args, **kwargs):
    """The real flow; its reports go to a temporary folder, never into the checkout."""
    from icp_migrate.flows.migrate import migrate as flow

    if "reports_dir" not in kwargs:
        kwargs["reports_dir"] = tempfile.mkdtemp(prefix="icp-reports-")
        atexit.register(shutil.rmtree, kwargs["reports_dir"], True)  # when the tests end
    return flow(*args, **kwargs)


@pytest.mark.usefixtures("prefect_harness")
def test_samples_end_to_end_then_rerun_then_a_later_batch(samples, target_url, tmp_path):
    summary = migrate(sources=sources(samples), target=target_url)
    assert summary.status == "completed"
    tables = dump(target_url)
    run_id = summary.run_id
    dispositions = tables["record_dispositions"]
    assert (dispositions["run_id"] == run_id).all()

    # every record, exactly the disposition and entity the ground truth says
    mismatches = disposition_mismatches(dispositions, samples)
    assert mismatches.empty, mismatches.to_string()
    truth_rows = sum(1 for _ in open(samples / "ground_truth.csv", encoding="utf-8")) - 1
    assert summary.records_in == len(dispositions) == truth_rows
    assert sum(summary.dispositions.values()) == summary.records_in
    got = {(e, k, bool(r)) for e, k, r in tables["accounts"][
        ["entity_id", "account_kind", "real_name_verification_required"]].itertuples(
        index=False)}
    assert got == expected_accounts(samples)
    assert set(tables["entity_links"]["link_kind"]) >= {
        "same_certificate", "org_code_in_uscc", "upgraded_15_digit_id",
        "shared_filing_number", "name_fallback"}
    assert tables["runs"].set_index("run_id").loc[run_id, "status"] == "completed"
    assert tables["domains"]["domain"].str.startswith("xn--").any()

    # the same input again changes no table
    again = migrate(sources=sources(samples), target=target_url)
    after = dump(target_url)
    for table in TABLES:
        pd.testing.assert_frame_equal(tables[table], after[table], check_dtype=False)
    assert again.dispositions == summary.dispositions
    assert len(after["runs"]) == 2

    # a later batch: new websites of known entities, under an old code or a 15-digit ID
    batch, expected = _later_batch(tables, tmp_path)
    later = migrate(sources=[str(batch)], target=target_url)
    final = dump(target_url)
    assert later.dispositions["loaded"] == len(expected)
    sites = final["website_filings"].set_index("website_filing_number")
    for number, entity_id in expected.items():
        assert sites.loc[number, "entity_id"] == entity_id
    pd.testing.assert_frame_equal(tables["accounts"], final["accounts"], check_dtype=False)
    kept = final["entities"].set_index("entity_id").loc[list(expected.values())]
    before = tables["entities"].set_index("entity_id").loc[list(expected.values())]
    assert kept["cert_number"].tolist() == before["cert_number"].tolist()


HEADER = ["会员ID", "产品类型", "主体性质", "主办单位名称", "证件类型", "证件号码", "主体备案号",
          "网站名称", "网站备案号", "网站域名", "网站首页", "省份", "负责人", "联系电话",
          "电子邮箱", "备案日期", "云资源", "资源管理员邮箱"]


def _later_batch(tables: dict[str, pd.DataFrame], tmp_path: Path):
    """A GB18030 export with one new website for a USCC entity (under its old organization
    code) and one for an individual (under the 15-digit form of the ID)."""
    entities = tables["entities"].dropna(subset=["entity_filing_number"])
    org = entities[entities["cert_type"].eq("uscc")].iloc[0]
    person = entities[entities["cert_type"].eq("resident_id")
                      & entities["cert_number"].str[6:8].eq("19")].iloc[0]
    rows, expected = [], {}
    for n, (entity, cert_type, number, kind) in enumerate([
            (org, "组织机构代码证", org["cert_number"][8:16] + "-" + org["cert_number"][16],
             "企业"),
            (person, "身份证", person["cert_number"][:6] + person["cert_number"][8:17],
             "个人")]):
        site = f"{entity['entity_filing_number']}-9{n}"
        rows.append(["new-member", "域名", kind, entity["name"], cert_type, number,
                     entity["entity_filing_number"], "新网站", site, f"later{n}.example.cn",
                     "", entity["province"] or "", "", "", "", "2018-06-01", "否", ""])
        expected[site] = entity["entity_id"]
    path = tmp_path / "later.csv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path, expected


@pytest.mark.usefixtures("prefect_harness")
def test_dry_run_loads_nothing_and_previews_what_it_would_change(samples, tmp_path):
    url = f"sqlite:///{tmp_path / 'dry.db'}"
    reports = tmp_path / "reports"
    summary = migrate(sources=sources(samples), target=url, dry_run=True,
                      reports_dir=str(reports))
    assert summary.status == "dry_run" and summary.records_in > 0
    assert not (tmp_path / "dry.db").exists()
    # on an empty target every entity, account and website is new
    assert summary.changes["new entity"] == summary.entities
    assert summary.changes["new account"] == sum(summary.accounts.values())
    assert summary.changes["website in a new account"] == summary.websites
    preview = pd.read_csv(reports / summary.run_id / "preview.csv", dtype=str)
    assert preview["change"].value_counts().to_dict() == {
        k: v for k, v in summary.changes.items() if v}
    # loaded for real, the same batch again would change nothing
    loaded = migrate(sources=sources(samples), target=url, reports_dir=str(reports))
    assert loaded.changes == summary.changes
    before = dump(url)
    again = migrate(sources=sources(samples), target=url, dry_run=True,
                    reports_dir=str(reports))
    assert again.changes["new entity"] == again.changes["new account"] == 0
    assert again.changes["website in a new account"] == 0
    assert again.changes["website added to an existing account"] == 0
    after = dump(url)
    assert all(before[name].equals(after[name]) for name in before)  # nothing written


@pytest.mark.usefixtures("prefect_harness")
def test_a_failing_plan_expectation_loads_nothing(samples, tmp_path, monkeypatch):
    from icp_migrate import rules

    real = rules.plan_decision

    def broken(*args, **kwargs):
        plan = real(*args, **kwargs)
        plan.accounts = pd.concat([plan.accounts, plan.accounts.head(1)], ignore_index=True)
        return plan

    monkeypatch.setattr(rules, "plan_decision", broken)
    url = f"sqlite:///{tmp_path / 'fail.db'}"
    with pytest.raises(PlanValidationError, match="nothing loaded"):
        migrate(sources=sources(samples), target=url)
    tables = dump(url)
    assert all(tables[t].empty for t in TABLES) and tables["record_dispositions"].empty
    assert tables["runs"]["status"].tolist() == ["failed"]
