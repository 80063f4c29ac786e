"""Run reports: sections on inline frames, files from a store (SQLite and PostgreSQL), the
flow writing them with artifacts, the `report` command, and hostile strings escaped."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from builders import resident_id, uscc_for
from icp_migrate import plan as plan_module
from icp_migrate.cli import app
from icp_migrate.errors import PlanValidationError, TargetError, UsageError
from icp_migrate.masking import mask
from icp_migrate.plan import Plan
from icp_migrate.reports import sections as sec
from icp_migrate.reports.artifacts import MARKDOWN_KEY, TABLE_KEY, summary_markdown
from icp_migrate.reports.build import write_report
from icp_migrate.reports.data import ReportData, latest_run_id
from icp_migrate.reports.html import render_report
from icp_migrate.store.load import fail_run, load_plan, start_run
from icp_migrate.store.target import open_target
from icp_migrate.store.validations import read_validations, save_validations
from test_flow import sources

T0 = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'
USCC = uscc_for(11)
RIC = resident_id(22)
OTHER_USCC = uscc_for(33)
CERTS = (USCC, RIC, OTHER_USCC, "33010619900101123X")
W1, W2 = "浙ICP备12345678号-1", "浙ICP备12345678号-2"
W3, W4 = "京ICP备87654321号-1", "沪ICP备11112222号-1"


def _frame(rows: list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows give the leading columns; later columns of the contract start empty."""
    width = len(rows[0]) if rows else len(columns)
    frame = pd.DataFrame(rows, columns=list(columns[:width])).reindex(columns=list(columns))
    frame = frame.astype(object).where(frame.notna(), None)
    if "filed_on" in frame:
        frame["filed_on"] = pd.to_datetime(frame["filed_on"])
    return frame


def report_plan() -> Plan:
    """Three entities: E1 (hostile name) from members m1 and m2, E2 an individual sharing
    member m1, E3 with resources; quarantine reasons quoting certificate numbers."""
    entities = [
        ("E1", "enterprise", HOSTILE_SCRIPT, "uscc", USCC, "浙江省", "浙ICP备12345678号",
         True, True),
        ("E2", "individual", HOSTILE_ATTR, "resident_id", RIC, "北京市", "京ICP备87654321号",
         False, False),
        ("E3", "enterprise", "上海<b>某</b>公司", "uscc", OTHER_USCC, "上海市", None, True, False),
    ]
    accounts = [("A1", "E1", "filing", False), ("A1R", "E1", "resources", True),
                ("A2", "E2", "filing", False), ("A3", "E3", "filing_and_resources", True)]
    websites = [(W1, "A1", "E1", "domain", HOSTILE_ATTR, None, "2015-03-02", "m1"),
                (W2, "A1", "E1", "domain", "站二", None, "2016-03-02", "m2"),
                (W3, "A2", "E2", "winport_shop", "店", None, "2017-03-02", "m1"),
                (W4, "A3", "E3", "enterprise_website", "官网", None, "2014-03-02", "m3")]
    domains = [("a.example.cn", "a.example.cn", W1), ("xn--fiqs8s.cn", "中国.cn", W1),
               ("b.example.cn", "b.example.cn", W2), ("shop.example.cn", None, W3),
               ("c.example.cn", "c.example.cn", W4)]
    dispositions = [
        (1, "a.csv", "line 2", "m1", "loaded", None, None, "E1", W1),
        (2, "a.csv", "line 3", "m2", "loaded", None, None, "E1", W2),
        (3, "a.csv", "line 4", "m1", "loaded", None, None, "E2", W3),
        (4, "b.jsonl", "line 1", "m1", "duplicate", "same website seen earlier in this run "
         "(row 3); domains merged", None, "E2", W3),
        (5, "b.jsonl", "line 2", "m3", "loaded", None,
         f"no valid certificate (invalid uscc {CERTS[3]}); joined its entity by shared "
         "filing number", "E3", W4),
        (6, "b.jsonl", "line 3", "m4", "quarantined",
         f"invalid resident_id {CERTS[3]} (check digit); no filing number or name links it",
         None, None, None),
        (7, "b.jsonl", HOSTILE_ATTR, HOSTILE_SCRIPT, "quarantined",
         f"record_readable: broken CSV row: {HOSTILE_SCRIPT}", None, None, None),
        (8, "a.csv", "line 5", "m6", "needs_review",
         f"website filing number claimed by several entities {HOSTILE_ATTR}", None, None,
         "浙ICP备99999999号-1"),
        (9, "a.csv", "line 6", "m7", "out_of_scope", "product not migrated: 邮箱", None, None,
         None),
        (10, "a.csv", "line 7", "m8", "out_of_scope",
         "filed on 2019-04-21, on or after the cut-off 2019-01-01", None, None, None),
    ]
    return Plan(
        entities=_frame(entities, plan_module.ENTITY_COLUMNS),
        accounts=_frame(accounts, plan_module.ACCOUNT_COLUMNS),
        website_filings=_frame(websites, plan_module.WEBSITE_COLUMNS),
        domains=_frame(domains, plan_module.DOMAIN_COLUMNS),
        dispositions=_frame(dispositions, plan_module.DISPOSITION_COLUMNS),
        links=_frame([], plan_module.LINK_COLUMNS),
        input_count=len(dispositions),
    )


def gx_results() -> dict[str, dict]:
    """GX-shaped results: the record suite flags rows 6 and 7; a plan rule failed on values
    that hold a certificate number and markup."""
    def item(name, kind, success, result, **kwargs):
        return {"success": success, "result": result, "exception_info": {},
                "expectation_config": {"type": kind, "kwargs": kwargs, "meta": {"name": name}}}

    records = item("record_readable", "expect_column_values_to_be_null", False,
                   {"element_count": 10, "unexpected_count": 2, "unexpected_percent": 20.0,
                    "unexpected_index_list": [{"row_id": [6, 7]}]}, column="read_error")
    accounts = item("one filing account per entity", "expect_column_values_to_be_unique",
                    False, {"element_count": 4, "unexpected_count": 1,
                            "partial_unexpected_list": [f"{USCC} {HOSTILE_SCRIPT}"]},
                    column="entity_id", row_condition={
                        "type": "comparison", "column": {"name": "account_kind"},
                        "operator": "IN", "parameter": ["filing", "filing_and_resources"]})
    count = item("row count equals input count", "expect_table_row_count_to_equal", True,
                 {"observed_value": 10}, value=10)
    return {
        "records": {"success": False, "results": [records], "statistics": {
            "evaluated_expectations": 1, "successful_expectations": 0,
            "unsuccessful_expectations": 1}},
        "plan_accounts": {"success": False, "results": [accounts, count], "statistics": {
            "evaluated_expectations": 2, "successful_expectations": 1,
            "unsuccessful_expectations": 1}},
    }


def in_memory_data(run_id: str = "20250101T080000Z-aaaa0001") -> ReportData:
    """The report's frames without a store (what read_report_data returns for report_plan)."""
    plan = report_plan()
    history = pd.DataFrame({
        "run_id": ["20241201T080000Z-old00001", "20241215T080000Z-old00002", run_id],
        "started_at": ["2024-12-01T08:00:00Z", "2024-12-15T08:00:00Z", "2025-01-01T08:00:00Z"],
        "status": ["completed", "failed", "completed"],
        "records_in": [12, None, 10], "loaded": [8, None, 4], "duplicate": [1, None, 1],
        "out_of_scope": [1, None, 2], "quarantined": [2, None, 2],
        "needs_review": [0, None, 1]}).astype(object)
    history = history.where(history.notna(), None)
    return ReportData(
        run={"run_id": run_id, "started_at": "2025-01-01T08:00:00Z",
             "finished_at": "2025-01-01T08:01:00Z", "status": "completed", "error": None,
             "sources": json.dumps(["a.csv", "postgresql://u:secret@db/legacy"]),
             "records_in": 10},
        target="sqlite:///t.db",
        dispositions=plan.dispositions.astype(object),
        entities=plan.entities[["entity_id", "entity_type", "name", "cert_type", "cert_number",
                                "province"]],
        accounts=plan.accounts,
        websites=plan.website_filings[["website_filing_number", "entity_id", "account_id",
                                       "website_name", "member_id"]],
        domains=plan.domains,
        history=history,
        validations=gx_results(),
    )


# -- sections: pure, on inline frames ------------------------------------------------------

@pytest.mark.parametrize("reason, group", [
    ("website_filing_number_usable: ICP filing number with 9 digits: 浙ICP备273166386号-1",
     "website_filing_number_usable"),
    ("filed on 2019-04-21, on or after the cut-off 2019-01-01",
     "filed on #, on or after the cut-off #"),
    ("same website seen earlier in this run (row 54); domains merged",
     "same website seen earlier in this run"),
    ("invalid uscc (check digit, length or format); no filing number", "invalid uscc"),
    ("certificate number missing; its filing number points to several entities",
     "certificate number missing"),
    ("product not migrated: 邮箱", "product not migrated"),
    (None, sec.NO_REASON),
    ("", sec.NO_REASON),
])
def test_reasons_group_by_their_rule(reason, group):
    assert sec.reason_group(reason) == group


def test_sections_reconcile_split_merge_and_mask():
    s = sec.build_sections(in_memory_data())
    rec = s.reconciliation.set_index("source")
    assert rec.loc["total", "records_in"] == 10 and rec["balanced"].all()
    assert rec.loc["a.csv"].to_dict() == {"records_in": 6, "loaded": 3, "duplicate": 0,
                                          "out_of_scope": 2, "quarantined": 0,
                                          "needs_review": 1, "balanced": True}
    assert s.members_split.to_dict("records") == [
        {"member_id": "m1", "entities": 2, "accounts": 3,
         "entity_names": [HOSTILE_SCRIPT, HOSTILE_ATTR]}]
    assert s.entities_merged[["entity_id", "member_ids"]].to_dict("records") == [
        {"entity_id": "E1", "member_ids": ["m1", "m2"]}]
    assert s.multi_domain["domains"].tolist() == [["a.example.cn", "xn--fiqs8s.cn (中国.cn)"]]
    assert s.accounts_by_kind == {"filing": 2, "resources": 1, "filing_and_resources": 1}
    assert s.accounts_by_real_name == {"required": 2, "not required": 2}
    assert s.entities_by_type == {"enterprise": 2, "individual": 1}
    assert s.conflicts["website_filing_number"].tolist() == ["浙ICP备99999999号-1"]
    quarantine = s.quarantine.set_index("reason")
    assert set(quarantine.index) == {"invalid resident_id #", "record_readable"}
    shown = json.dumps(s.quarantine["samples"].tolist(), ensure_ascii=False)
    assert CERTS[3] not in shown and "3301**********123X" in shown
    assert s.warnings == 1


# -- files from a store --------------------------------------------------------------------

@pytest.fixture
def engine(target_url):
    engine = open_target(target_url)
    yield engine
    engine.dispose()


def _store_two_runs(engine) -> tuple[str, str]:
    """r1 completed with report_plan and its GX results; r2, a day later, failed."""
    start_run(engine, "r1", T0, ["a.csv", "b.jsonl"])
    load_plan(engine, "r1", report_plan(), {"records_in": 10, "loaded": 4, "duplicate": 1,
                                            "out_of_scope": 2, "quarantined": 2,
                                            "needs_review": 1})
    save_validations(engine, "r1", gx_results())
    start_run(engine, "r2", T0 + timedelta(days=1), ["c.csv"])
    fail_run(engine, "r2", f"plan-level expectations failed for {USCC}")
    return "r1", "r2"


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
                     if p.is_file())


def test_report_files_from_the_store(engine, tmp_path):
    r1, r2 = _store_two_runs(engine)
    assert latest_run_id(engine) == r2
    assert set(read_validations(engine, r1)) == {"records", "plan_accounts"}

    files = write_report(engine, tmp_path / "reports", r1)
    assert files.index == tmp_path / "reports" / r1 / "index.html"
    assert files.gx.is_file() and files.summary.is_file()
    summary = json.loads(files.summary.read_text(encoding="utf-8"))
    assert summary == files.content
    assert summary["run"]["status"] == "completed"
    assert summary["reconciliation"]["records_in"] == 10 == summary["reconciliation"][
        "runs_records_in"] and summary["reconciliation"]["balanced"]
    assert sum(summary["dispositions"].values()) == 10
    assert [m["member_id"] for m in summary["members_split"]] == ["m1"]
    assert [e["entity_id"] for e in summary["entities_merged"]] == ["E1"]
    assert [w["website_filing_number"] for w in summary["multi_domain_websites"]] == [W1]
    assert len(summary["conflicts"]) == 1
    assert summary["validations"]["failed_expectations"] == [
        "records: record_readable", "plan_accounts: one filing account per entity"]
    assert [h["run_id"] for h in summary["history"]] == [r1]  # runs up to this one

    text = _all_text(tmp_path / "reports")
    for cert in CERTS:
        assert cert not in text
    assert mask(USCC) in text  # masked forms stand in for them
    assert 'href="gx/index.html"' in files.index.read_text(encoding="utf-8")

    # the latest run: failed, nothing loaded, still a report with its error and history
    latest = write_report(engine, tmp_path / "reports")
    assert latest.run_id == r2 and latest.content["run"]["status"] == "failed"
    assert USCC not in latest.content["run"]["error"]
    assert [h["run_id"] for h in latest.content["history"]] == [r1, r2]
    assert latest.content["reconciliation"]["by_source"] == []

    # a rebuild of the same run from the same store: the same bytes
    before = {p: p.read_bytes() for p in (files.index, files.summary, files.gx)}
    write_report(engine, tmp_path / "reports", r1)
    assert {p: p.read_bytes() for p in before} == before


def test_unknown_run_and_empty_store_are_clear_errors(engine, tmp_path):
    with pytest.raises(TargetError, match="no run recorded"):
        write_report(engine, tmp_path)
    _store_two_runs(engine)
    with pytest.raises(UsageError, match="no run 'nope'"):
        write_report(engine, tmp_path, "nope")


def test_hostile_strings_are_escaped_everywhere():
    data = in_memory_data()
    page = render_report(data, sec.build_sections(data))
    for hostile in (HOSTILE_SCRIPT, HOSTILE_ATTR, "<b>某</b>"):
        assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script") == 0 and "<img" not in page
    assert "secret" not in page  # source URLs shown without their password
    from icp_migrate.reports.gx_docs import render_gx_docs

    docs = render_gx_docs(data.run["run_id"], data.validations)
    assert HOSTILE_SCRIPT not in docs and USCC not in docs and "&lt;script&gt;" in docs
    from icp_migrate.reports.summary_json import summary_dict

    markdown = summary_markdown(summary_dict(data, sec.build_sections(data)), Path("x.html"))
    assert "<script>" not in markdown and "<img" not in markdown


def test_report_command_rebuilds_latest_or_named_run(target_url, tmp_path):
    engine = open_target(target_url)
    try:
        r1, r2 = _store_two_runs(engine)
    finally:
        engine.dispose()
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "--target", target_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / r2 / "index.html").is_file() and (out / r2 / "summary.json").is_file()
    result = runner.invoke(app, ["report", "--target", target_url, "--run", r1, "--out",
                                 str(out)])
    assert result.exit_code == 0 and (out / r1 / "gx" / "index.html").is_file()
    result = runner.invoke(app, ["report", "--target", target_url, "--run", "nope"])
    assert result.exit_code == 2 and "no run 'nope'" in result.output
    assert "Traceback" not in result.output


# -- the flow writes the report, stores GX results, publishes artifacts --------------------

def _artifacts(flow_run_id) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_writes_its_report_and_artifacts(samples, target_url, tmp_path):
    from icp_migrate.flows.migrate import migrate

    reports = tmp_path / "reports"
    state = migrate(sources=sources(samples), target=target_url, reports_dir=str(reports),
                    return_state=True)
    summary = state.result()
    folder = reports / summary.run_id
    content = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert content["run"]["status"] == "completed"
    assert content["dispositions"] == summary.dispositions
    assert content["reconciliation"]["records_in"] == summary.records_in
    assert {r["source"]: r["records_in"] for r in content["reconciliation"]["by_source"]} == \
        summary.records_by_source
    assert content["accounts_by_kind"] == summary.accounts
    assert len(content["multi_domain_websites"]) == summary.multi_domain_websites
    assert len(content["conflicts"]) == summary.dispositions["needs_review"]
    assert content["members_split"] and content["entities_merged"]
    suites = {s["suite"]: s["success"] for s in content["validations"]["suites"]}
    assert suites.keys() == {"records", "plan_accounts", "plan_entities",
                             "plan_website_filings", "plan_domains", "plan_dispositions"}
    assert all(ok for name, ok in suites.items() if name != "records")
    assert "website_filing_number_usable" in (folder / "gx" / "index.html").read_text("utf-8")

    artifacts = _artifacts(state.state_details.flow_run_id)
    assert {MARKDOWN_KEY, TABLE_KEY} <= artifacts.keys()
    assert f"records in: **{summary.records_in:,}**" in str(
        artifacts[MARKDOWN_KEY].data).lower()


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_plan_still_writes_a_failed_report(samples, target_url, tmp_path,
                                                     monkeypatch):
    from icp_migrate.flows import tasks
    from icp_migrate.flows.migrate import migrate

    real = tasks.plan_accounts

    def broken(*args, **kwargs):
        plan = real(*args, **kwargs)
        plan.accounts = pd.concat([plan.accounts, plan.accounts.head(1)], ignore_index=True)
        return plan

    monkeypatch.setattr(tasks, "plan_accounts", broken)
    with pytest.raises(PlanValidationError):
        migrate(sources=[str(samples / "winport_shops.jsonl")], target=target_url,
                reports_dir=str(tmp_path / "reports"))
    (folder,) = (tmp_path / "reports").iterdir()
    content = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert content["run"]["status"] == "failed"
    assert "plan_accounts: account_id is unique" in content["validations"][
        "failed_expectations"]
    assert "failed" in (folder / "index.html").read_text(encoding="utf-8")
