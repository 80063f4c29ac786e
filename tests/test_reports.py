"""Run reports: sections on inline frames, files from a store (SQLite and PostgreSQL), the
flow writing them with artifacts, the `report` command, and hostile strings escaped."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from builders import canonical_frame, record, resident_id, run_rules, uscc_for
from icp_migrate import plan as plan_module
from icp_migrate.cli import app
from icp_migrate.errors import PlanValidationError, TargetError, UsageError
from icp_migrate.masking import mask
from icp_migrate.plan import Plan
from icp_migrate.reports.artifacts import MARKDOWN_KEY, TABLE_KEY, summary_markdown
from icp_migrate.reports.build import write_report
from icp_migrate.reports.data import (
    ITEMS_PER_ROW,
    LIST_ROWS,
    ReportData,
    latest_run_id,
    read_report_data,
)
from icp_migrate.reports.html import render_report
from icp_migrate.reports.reasons import NO_REASON, reason_group, reason_groups, tally_reasons
from icp_migrate.reports.sections import SECTIONS
from icp_migrate.reports.summary_json import summary_dict
from icp_migrate.store.load import fail_run, load_plan, start_run
from icp_migrate.store.report_queries import ReportQueries
from icp_migrate.store.schema import conflict_competitors, review_decisions
from icp_migrate.store.schema import conflicts as ledger_conflicts
from icp_migrate.store.target import open_target
from icp_migrate.store.validations import read_validations, save_validations
from report_oracle import ORACLE, report_data_from_frames
from test_flow import migrate, sources

T0 = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'
USCC = uscc_for(11)
RIC = resident_id(22)
OTHER_USCC = uscc_for(33)
CERTS = (USCC, RIC, OTHER_USCC, "33010619900101123X")
W1, W2 = "浙ICP备12345678号-1", "浙ICP备12345678号-2"
W3, W4 = "京ICP备87654321号-1", "沪ICP备11112222号-1"


def _plan(entities: list, accounts: list, websites: list, domains: list,
          dispositions: list, links: list | None = None) -> Plan:
    """A plan of these rows (tuples in each table's column order)."""
    return Plan(
        entities=_frame(entities, plan_module.ENTITY_COLUMNS),
        accounts=_frame(accounts, plan_module.ACCOUNT_COLUMNS),
        website_filings=_frame(websites, plan_module.WEBSITE_COLUMNS),
        domains=_frame(domains, plan_module.DOMAIN_COLUMNS),
        dispositions=_frame(dispositions, plan_module.DISPOSITION_COLUMNS),
        links=_frame(links or [], plan_module.LINK_COLUMNS),
        input_count=len(dispositions),
    )


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
    links = [(1, "a.csv", "line 2", "E1", "same_certificate", f"ORG:{USCC[8:17]}"),
             (2, "a.csv", "line 3", "E1", "name_fallback", "name:浙江省|某某科技"),
             (3, "a.csv", "line 4", "E2", "same_certificate", f"RID:{RIC}"),
             (4, "b.jsonl", "line 1", "E2", "same_certificate", f"RID:{RIC}"),
             (5, "b.jsonl", "line 2", "E3", "shared_filing_number", "沪ICP备11112222号")]
    return _plan(entities, accounts, websites, domains, dispositions, links)


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
    """The report's data without a store, computed in pandas from report_plan's frames."""
    plan = report_plan()
    history = pd.DataFrame({
        "run_id": ["20241201T080000Z-old00001", "20241215T080000Z-old00002", run_id],
        "started_at": ["2024-12-01T08:00:00Z", "2024-12-15T08:00:00Z", "2025-01-01T08:00:00Z"],
        "status": ["completed", "failed", "completed"],
        "records_in": [12, None, 10], "loaded": [8, None, 4], "duplicate": [1, None, 1],
        "out_of_scope": [1, None, 2], "quarantined": [2, None, 2],
        "needs_review": [0, None, 1]}).astype(object)
    history = history.where(history.notna(), None)
    return report_data_from_frames(
        run={"run_id": run_id, "started_at": "2025-01-01T08:00:00Z",
             "finished_at": "2025-01-01T08:01:00Z", "status": "completed", "error": None,
             "sources": json.dumps(["a.csv", "postgresql://u:secret@db/legacy"]),
             "records_in": 10},
        target="sqlite:///t.db",
        dispositions=plan.dispositions,
        entities=plan.entities,
        accounts=plan.accounts,
        websites=plan.website_filings,
        domains=plan.domains,
        history=history,
        validations=gx_results(),
        entity_links=plan.links,
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
    (None, NO_REASON),
    ("", NO_REASON),
])
def test_reasons_group_by_their_rule(reason, group):
    assert reason_group(reason) == group


_REASON_TEXT = st.lists(st.sampled_from(
    [*"ab 1-9:;(（)\t\x1c\u3000", "浙ICP备", "13812345678", "中"]), max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["quarantined", "out_of_scope"]), _REASON_TEXT,
                          st.integers(1, 5)), max_size=30, unique_by=lambda t: t[:2]),
       st.integers(1, 7))
def test_reasons_tallied_in_batches_are_grouped_as_reason_group_groups_each(rows, size):
    """reason_groups (heads cut in Arrow) gives reason_group of each text, and a tally
    read in batches of any size gives the counts of each text grouped one by one and each
    quarantine group's earliest texts (rows: distinct disposition and text pairs)."""
    texts = pd.DataFrame(rows, columns=["disposition", "reasons", "records"])
    texts["first_row"] = range(len(texts))[::-1]
    assert reason_groups(texts["reasons"]).tolist() == [reason_group(t) for t in texts["reasons"]]
    tally = tally_reasons((texts.iloc[i:i + size] for i in range(0, len(texts), size)), 2)
    expected: dict[tuple[str, str], int] = {}
    for d, t, n in rows:
        expected[d, reason_group(t)] = expected.get((d, reason_group(t)), 0) + n
    assert {(d, r): n for d, r, n in tally.counts.itertuples(index=False)} == expected
    held = texts[texts["disposition"] == "quarantined"].assign(
        reason=lambda f: [reason_group(t) for t in f["reasons"]])
    first = held.sort_values("first_row").groupby("reason").head(2)
    assert sorted(map(tuple, tally.earliest[["reason", "reasons", "first_row"]].values.tolist())
                  ) == sorted(map(tuple, first[["reason", "reasons", "first_row"]].values.tolist()))


def test_sections_reconcile_split_merge_and_mask():
    c = summary_dict(in_memory_data())
    rec = {r["source"]: r for r in c["reconciliation"]["by_source"]}
    assert c["reconciliation"]["records_in"] == 10 and c["reconciliation"]["balanced"]
    assert rec["a.csv"] == {"source": "a.csv", "records_in": 6, "loaded": 3, "duplicate": 0,
                            "out_of_scope": 2, "quarantined": 0, "needs_review": 1,
                            "balanced": True}
    assert c["members_split"] == {"total": 1, "rows": [
        {"member_id": "m1", "entities": 2, "accounts": 3,
         "entity_names": [HOSTILE_SCRIPT, HOSTILE_ATTR]}]}
    assert [(e["entity_id"], e["member_ids"]) for e in c["entities_merged"]["rows"]] == [
        ("E1", ["m1", "m2"])]
    sites = c["multi_domain_websites"]
    assert [(w["domains"], w["domain_count"]) for w in sites["rows"]] == [
        (["a.example.cn", "xn--fiqs8s.cn (中国.cn)"], 2)] and sites["total"] == 1
    assert c["accounts_by_kind"] == {"filing": 2, "resources": 1, "filing_and_resources": 1}
    assert c["accounts_by_real_name"] == {"required": 2, "not required": 2}
    assert c["entities_by_type"] == {"enterprise": 2, "individual": 1}
    assert [r["website_filing_number"] for r in c["conflicts"]["rows"]] == [
        "浙ICP备99999999号-1"]
    assert (c["conflicts"]["total"], c["conflicts"]["open"]) == (1, 1)
    assert {q["reason"] for q in c["quarantine"]["rows"]} == {"invalid resident_id #",
                                                              "record_readable"}
    assert (c["quarantine"]["total"], c["quarantine"]["records"]) == (2, 2)
    shown = json.dumps(c["quarantine"]["rows"], ensure_ascii=False)
    assert CERTS[3] not in shown and "3301**********123X" in shown
    assert c["records_with_warnings"] == 1


def test_loaded_records_by_link_kind_with_the_risky_ones_listed():
    """Every link kind counted; the records joined by name, by a shared filing number or
    with an invalid certificate listed by source and line, their key masked only when it
    is a certificate."""
    data = in_memory_data()
    links = summary_dict(data)["links"]
    assert links["by_kind"] == [
        {"link_kind": "same_certificate", "loaded": 2, "duplicate": 1},
        {"link_kind": "org_code_in_uscc", "loaded": 0, "duplicate": 0},
        {"link_kind": "upgraded_15_digit_id", "loaded": 0, "duplicate": 0},
        {"link_kind": "shared_filing_number", "loaded": 1, "duplicate": 0},
        {"link_kind": "name_fallback", "loaded": 1, "duplicate": 0},
        {"link_kind": "review_decision", "loaded": 0, "duplicate": 0}]
    assert links["risky"] == {"total": 2, "rows": [
        {"source": "a.csv", "locator": "line 3", "website_filing_number": W2,
         "entity_id": "E1", "link_kind": "name_fallback", "risk": "name fallback",
         "link_key": "name:浙江省|某某科技"},
        {"source": "b.jsonl", "locator": "line 2", "website_filing_number": W4,
         "entity_id": "E3", "link_kind": "shared_filing_number",
         "risk": "invalid certificate, linked by number", "link_key": "沪ICP备11112222号"}]}
    page = render_report(data)
    listed = page[page.index('<section id="links">'):]
    listed = listed[:listed.index("</section>")]
    assert 'href="#links"' in page and "Entity links (risky: 2)" in listed
    for shown in ("a.csv", "line 3", W2, "E1", "name fallback", "沪ICP备11112222号",
                  "invalid certificate, linked by number"):
        assert shown in listed, shown
    assert RIC not in page and "RID:" + mask(RIC) not in listed  # safe links are counted only
    from icp_migrate.reports.sections.links import link_key

    assert link_key(f"RID:{RIC}") == "RID:" + mask(RIC) and RIC not in link_key(f"RID:{RIC}")
    assert link_key("ORG:MA2XXXXX1") == "ORG:" + mask("MA2XXXXX1")
    assert link_key("website:浙ICP备27316638号-1") == "website:浙ICP备27316638号-1"


def test_expectations_name_failing_records_by_source_and_line_not_row_id():
    """The record suite flags rows 6 and 7 by row id; the page, the GX page and the
    oracle name them `b.jsonl:line 3` and `b.jsonl:<the hostile locator>`."""
    from icp_migrate.reports.gx_docs import render_gx_docs

    data = in_memory_data()
    page = render_report(data)
    docs = render_gx_docs(data.run["run_id"], *data.parts["validation"])
    for html in (page, docs):
        assert "b.jsonl:line 3" in html
        assert "row_id 6" not in html and "row_id 7" not in html and "row_id" not in html
    # a row the dispositions do not hold keeps its id rather than vanishing
    validations = gx_results()
    validations["records"]["results"][0]["result"]["unexpected_index_list"] = [
        {"row_id": 6}, {"row_id": 99}]
    located = data.parts["validation"][1]
    docs = render_gx_docs("r", validations, located[located["row_id"] == 6])
    assert "b.jsonl:line 3, row_id 99" in docs


def test_sections_are_one_unit_each_with_its_query_and_its_oracle_check():
    """Each section of SECTIONS has its store query (ReportQueries.<name>), its oracle
    check, its anchor in the navigation, and its own keys in summary.json."""
    names = [s.name for s in SECTIONS]
    assert list(ORACLE) == names and len(set(names)) == len(names)
    for name in names:
        assert callable(getattr(ReportQueries, name, None)), name
    data = in_memory_data()
    page = render_report(data)
    keys: list[str] = []
    for section in SECTIONS:
        assert f'<a href="#{section.anchor}">' in page
        assert f'<section id="{section.anchor}">' in section.html(data.parts[section.name],
                                                                  data.facts)
        own = list(section.json(data.parts[section.name], data.facts))
        assert own and not set(own) & set(keys), section.name
        keys += own
    assert list(summary_dict(data)) == ["schema_version", "run", *keys]


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
    assert [m["member_id"] for m in summary["members_split"]["rows"]] == ["m1"]
    assert [e["entity_id"] for e in summary["entities_merged"]["rows"]] == ["E1"]
    assert [w["website_filing_number"] for w in summary["multi_domain_websites"]["rows"]] == [W1]
    assert summary["conflicts"]["total"] == len(summary["conflicts"]["rows"]) == 1
    assert summary["conflicts"]["full_list"] == "icp-migrate review export"
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


# -- counted in the store: equal to the pandas computation, lists capped -----------------

def frames_data(engine, counted: ReportData) -> ReportData:
    """The run of `counted` computed the slow way: every row of the store read into pandas."""
    with engine.connect() as connection:
        def read(sql: str) -> pd.DataFrame:
            return pd.read_sql(sa.text(sql), connection, params={"run": counted.run["run_id"]})

        return report_data_from_frames(
            run=counted.run, target=counted.target,
            dispositions=read("SELECT * FROM record_dispositions WHERE run_id = :run"),
            entities=read("SELECT * FROM entities"), accounts=read("SELECT * FROM accounts"),
            websites=read("SELECT * FROM website_filings"),
            domains=read("SELECT * FROM domains"), history=counted.parts["history"],
            decisions=read("SELECT * FROM review_decisions"),
            validations=counted.parts["validation"][0],
            ledger=read("SELECT * FROM conflicts"),
            competitors=read("SELECT * FROM conflict_competitors"),
            runs=read("SELECT run_id, started_at FROM runs"),
            entity_links=read("SELECT * FROM entity_links WHERE run_id = :run"))


def assert_counted_as_pandas(engine, run_id: str) -> dict:
    """The store's GROUP BY sections equal the pandas ones on the same rows: the same
    summary.json content and the same page. Returns the content."""
    counted = read_report_data(engine, run_id)
    reference = frames_data(engine, counted)
    for section in SECTIONS:  # section by section: a difference names its section
        mine, theirs = counted.parts[section.name], reference.parts[section.name]
        assert section.json(mine, counted.facts) == section.json(theirs, reference.facts), \
            section.name
        assert section.html(mine, counted.facts) == section.html(theirs, reference.facts), \
            section.name
    content = summary_dict(counted)
    assert content == summary_dict(reference)
    assert render_report(counted) == render_report(reference)
    return content


def _letters(n: int) -> str:
    """0 -> 'aaa', 1 -> 'aab': reason groups keep no digit (digits group as '#')."""
    return "".join("abcdefghijklmnopqrstuvwxyz"[n // 26 ** k % 26] for k in (2, 1, 0))


def crowded_plan(n: int) -> Plan:
    """Every list longer than n: members m0000..m(n-1) each split over E_i and E_i+1 (so
    E_1..E_n are merged), a reseller split over 25 entities, websites of two domains (W0 of
    25), n+5 records held for review, n+3 quarantine reasons (one of 5 records) and two
    records without any."""
    def site(i: int) -> str:
        return f"浙ICP备{10_000_000 + i}号-1"

    entities = [(f"E{i:04d}", "enterprise", f"公司{i}", "uscc", uscc_for(500 + i), "浙江省",
                 None, False, False) for i in range(n + 1)]
    accounts = [(f"A{i:04d}", f"E{i:04d}", "filing", False) for i in range(n + 1)]
    websites = [(site(i), f"A{i:04d}", f"E{i:04d}", "domain", f"站{i}", None, "2015-03-02",
                 f"m{i:04d}") for i in range(n + 1)]
    domains = [(f"{x}{i}.example.cn", f"{x}{i}.example.cn", site(i))
               for i in range(n + 1) for x in ("a", "b")]
    domains += [(f"c{k:02d}.example.cn", None, site(0)) for k in range(23)]
    rows: list[tuple] = []

    def record(*fields) -> None:  # member_id … website_filing_number [, conflict_key]
        rows.append((len(rows) + 1, "a.csv", f"line {len(rows) + 2}", *(*fields, None)[:7]))

    for i in range(n + 1):
        record(f"m{i:04d}", "loaded", None, None, f"E{i:04d}", site(i))
        if i < n:
            record(f"m{i:04d}", "duplicate", f"same website seen earlier (row {i})", None,
                   f"E{i + 1:04d}", site(i + 1))
    for i in range(25):
        record("m-reseller", "duplicate", "same website seen earlier", None, f"E{i:04d}",
               site(i))
    for i in range(n + 5):
        record(f"r{i:04d}", "needs_review", f"claimed by several entities {uscc_for(i)}", None,
               None, f"京ICP备{20_000_000 + i}号-1", f"website:京ICP备{20_000_000 + i}号-1")
    for i in range(n + 3):
        for _ in range(5 if i == 7 else 1):
            record(f"q{i:04d}", "quarantined", f"rule {_letters(i)}: bad {uscc_for(900 + i)}",
                   f"warned {uscc_for(i)}" if i % 2 else None, None, None)
    record("q-none", "quarantined", None, None, None, None)  # no reason: "(none)"
    record("q-empty", "quarantined", "", None, None, None)
    return _plan(entities, accounts, websites, domains, rows)


def test_counts_in_the_store_equal_the_pandas_computation(engine):
    r1, r2 = _store_two_runs(engine)
    with engine.begin() as connection:  # a decision on a conflict of no record: no change
        connection.execute(sa.insert(review_decisions), [
            {"conflict_key": "website:nowhere", "decision": "reject", "entity_id": None,
             "decided_by": "tester", "decided_at": T0}])
    content = assert_counted_as_pandas(engine, r1)
    assert content["conflicts"] | {"rows": None} == {
        "total": 1, "open": 1, "decided": 0, "full_list": "icp-migrate review export",
        "rows": None}
    assert [r["reason"] for r in content["dispositions_by_reason"]
            if r["disposition"] == "out_of_scope"] == [
        "filed on #, on or after the cut-off #", "product not migrated"]
    empty = assert_counted_as_pandas(engine, r2)  # failed: no record at all
    assert empty["members_split"] == {"total": 0, "rows": []}


def test_long_lists_show_their_first_rows_and_their_totals(engine, tmp_path):
    n = LIST_ROWS + 11
    plan = crowded_plan(n)
    start_run(engine, "big", T0, ["a.csv"])
    load_plan(engine, "big", plan, {"records_in": plan.input_count})
    held = [f"website:京ICP备{20_000_000 + i}号-1" for i in range(n + 5)]
    decided = [held[i] for i in (0, 5, n + 4)]
    with engine.begin() as connection:  # the ledger of the held records: held[1] of 25
        connection.execute(sa.insert(ledger_conflicts), [
            {"conflict_id": k, "conflict_key": k, "kind": "website", "opened_run_id": "big"}
            for k in held])
        connection.execute(sa.insert(conflict_competitors), [
            {"conflict_id": k, "claimant": f"E{j:04d}"}
            for i, k in enumerate(held) for j in range(25 if i == 1 else 2)])
        connection.execute(sa.insert(review_decisions), [
            {"conflict_key": key, "decision": "assign" if k else "reject",
             "entity_id": "E0001" if k else None, "decided_by": "tester", "decided_at": T0}
            for k, key in enumerate(decided)])
    assert_counted_as_pandas(engine, "big")

    files = write_report(engine, tmp_path / "reports", "big")
    content = json.loads(files.summary.read_text(encoding="utf-8"))
    assert content["list_limits"] == {"rows": LIST_ROWS, "items_per_row": ITEMS_PER_ROW,
                                      "samples_per_reason": 3}
    split = content["members_split"]
    assert (split["total"], len(split["rows"])) == (n + 1, LIST_ROWS)
    assert split["rows"][0] | {"entity_names": None} == {
        "member_id": "m-reseller", "entities": 25, "accounts": 25, "entity_names": None}
    assert split["rows"][0]["entity_names"] == [f"公司{i}" for i in range(ITEMS_PER_ROW)]
    assert [r["member_id"] for r in split["rows"][1:4]] == ["m0000", "m0001", "m0002"]
    merged = content["entities_merged"]
    assert (merged["total"], len(merged["rows"])) == (n + 1, LIST_ROWS)
    assert merged["rows"][0] == {"entity_id": "E0001", "name": "公司1", "members": 3,
                                 "member_ids": ["m-reseller", "m0000", "m0001"]}
    sites = content["multi_domain_websites"]
    assert (sites["total"], len(sites["rows"])) == (n + 1, LIST_ROWS)
    assert sites["rows"][0]["domain_count"] == 25
    assert len(sites["rows"][0]["domains"]) == ITEMS_PER_ROW
    conflicts = content["conflicts"]
    assert (conflicts["total"], conflicts["open"], conflicts["decided"]) == (n + 5, n + 2, 3)
    assert len(conflicts["rows"]) == LIST_ROWS
    assert [r["member_id"] for r in conflicts["rows"][:2]] == ["r0000", "r0001"]
    assert conflicts["rows"][0]["review"] == "decided: reject by tester"
    assert conflicts["rows"][5]["review"] == "decided: assign:E0001 by tester"
    still_open = content["open_conflicts"]
    assert (still_open["total"], len(still_open["rows"])) == (n + 2, LIST_ROWS)
    assert still_open["rows"][0] | {"competitor_ids": None} == {
        "conflict_id": held[1], "kind": "website", "opened_in_run": "big", "age_runs": 0,
        "competitors": 25, "competitor_ids": None, "held_in_run": True}
    assert still_open["rows"][0]["competitor_ids"] == [f"E{j:04d}" for j in range(ITEMS_PER_ROW)]
    assert [r["conflict_id"] for r in still_open["rows"][1:5]] == [held[i] for i in (2, 3, 4, 6)]
    quarantine = content["quarantine"]
    assert (quarantine["total"], quarantine["records"]) == (n + 4, n + 9)
    assert len(quarantine["rows"]) == LIST_ROWS
    first = quarantine["rows"][0]
    assert (first["reason"], first["records"], len(first["samples"])) == ("rule aah", 5, 3)
    assert [(q["reason"], q["records"]) for q in quarantine["rows"][1:3]] == [
        ("(none)", 2), ("rule aaa", 1)]
    assert [s["member_id"] for s in quarantine["rows"][1]["samples"]] == ["q-none", "q-empty"]

    page = files.index.read_text(encoding="utf-8")
    for shown in (f"Showing 200 of {n + 1:,} members", f"Showing 200 of {n + 1:,} entities",
                  f"Showing 200 of {n + 1:,} websites", f"Showing 200 of {n + 5:,} records",
                  f"Showing 200 of {n + 4:,} reasons", f"Showing 200 of {n + 2:,} conflicts",
                  "… and 5 more", "icp-migrate review export"):
        assert shown in page, shown
    text = _all_text(tmp_path / "reports")
    for i in range(n + 5):
        assert uscc_for(i) not in text and uscc_for(900 + i) not in text
    assert files.summary.stat().st_size < 400_000


def test_near_names_of_organizations_are_possible_matches_never_individuals(engine, tmp_path):
    """Two organizations of one province with their own valid USCCs, 星辰 / 星尘: two
    entities, listed as a possible match; two individuals of near names are not."""
    def filing(n: int, **values: str) -> dict:
        return record(website_filing_number=f"浙ICP备{n:08d}号-1", domains=f"n{n}.example.cn",
                      member_id=f"m{n}", **values)

    plan = run_rules(canonical_frame([
        filing(41, entity_name="星辰科技有限公司", cert_type="uscc", cert_number=uscc_for(41)),
        filing(42, entity_name="星尘科技有限公司", cert_type="uscc", cert_number=uscc_for(42)),
        filing(43, entity_type="individual", entity_name="张三", cert_type="resident_id",
               cert_number=resident_id(43)),
        filing(44, entity_type="individual", entity_name="张叁", cert_type="resident_id",
               cert_number=resident_id(44)),
    ]))
    assert plan.dispositions["disposition"].tolist() == ["loaded"] * 4
    ids = dict(zip(plan.entities["name"], plan.entities["entity_id"], strict=True))
    start_run(engine, "near", T0, ["test.csv"])
    load_plan(engine, "near", plan, {"records_in": 4, "loaded": 4})
    assert_counted_as_pandas(engine, "near")

    files = write_report(engine, tmp_path / "reports", "near")
    summary = json.loads(files.summary.read_text(encoding="utf-8"))
    (a, b) = sorted([("星辰科技有限公司", ids["星辰科技有限公司"]),
                     ("星尘科技有限公司", ids["星尘科技有限公司"])], key=lambda p: p[1])
    assert summary["possible_matches"] == {"total": 1, "rows": [
        {"entity_id_a": a[1], "name_a": a[0], "entity_id_b": b[1], "name_b": b[0],
         "province": "浙江省", "distance": 1}]}
    page = files.index.read_text(encoding="utf-8")
    listed = page[page.index('<section id="possible-matches">'):]
    listed = listed[:listed.index("</section>")]
    assert "Possible matches (not merged, 1)" in listed
    for shown in ("星辰科技有限公司", "星尘科技有限公司", a[1], b[1]):
        assert shown in listed
    assert "张三" not in listed and "张叁" not in listed
    assert ids["张三"] not in json.dumps(summary["possible_matches"])
    text = _all_text(tmp_path / "reports")
    for n in (41, 42):
        assert uscc_for(n) not in text


def test_possible_matches_pair_this_runs_organizations_with_earlier_ones(engine, tmp_path):
    """The possible-matches section is complete: an organization of this run is paired with
    a near name loaded by an earlier run (and that run's rebuilt report lists the pair too);
    a near name in another province, or with the same name, is no possible match."""
    def plan_of(*rows: tuple[int, str, str]) -> Plan:
        return run_rules(canonical_frame([record(
            website_filing_number=f"浙ICP备{n:08d}号-1", domains=f"p{n}.example.cn",
            member_id=f"m{n}", entity_name=name, province=province, cert_type="uscc",
            cert_number=uscc_for(n)) for n, name, province in rows]))

    first = plan_of((51, "星辰科技有限公司", "浙江"))
    second = plan_of((52, "星尘科技有限公司", "浙江"), (53, "星尘科技有限公司", "江苏"),
                     (54, "辰星网络有限公司", "浙江"))
    start_run(engine, "p1", T0, ["one.csv"])
    load_plan(engine, "p1", first, {"records_in": 1, "loaded": 1})
    start_run(engine, "p2", T0 + timedelta(hours=1), ["two.csv"])
    load_plan(engine, "p2", second, {"records_in": 3, "loaded": 3})
    ids = {**dict(zip(first.entities["name"], first.entities["entity_id"], strict=True)),
           **dict(zip(second.entities["province"] + second.entities["name"],
                      second.entities["entity_id"], strict=True))}
    pair = sorted([(ids["星辰科技有限公司"], "星辰科技有限公司"),
                   (ids["浙江省星尘科技有限公司"], "星尘科技有限公司")])
    expected = {"total": 1, "rows": [{"entity_id_a": pair[0][0], "name_a": pair[0][1],
                                      "entity_id_b": pair[1][0], "name_b": pair[1][1],
                                      "province": "浙江省", "distance": 1}]}
    for run_id in ("p2", "p1"):
        assert assert_counted_as_pandas(engine, run_id)["possible_matches"] == expected
        page = write_report(engine, tmp_path / "reports", run_id).index.read_text("utf-8")
        listed = page[page.index('<section id="possible-matches">'):]
        listed = listed[:listed.index("</section>")]
        assert "Possible matches (not merged, 1)" in listed
        assert pair[0][0] in listed and pair[1][0] in listed
        assert ids["江苏省星尘科技有限公司"] not in listed and "辰星网络" not in listed


def test_a_query_read_in_batches_holds_the_rows_read_as_a_frame(engine, monkeypatch):
    """ReportQueries.arrow (how possible matches are read: streamed, a batch at a time) and
    .batches (how reason texts are tallied) give the rows and order `frame` gives, on SQLite
    and PostgreSQL; no row, the schema."""
    from icp_migrate.store import report_queries as queries

    _store_two_runs(engine)
    sql = "SELECT entity_id, name, province FROM entities ORDER BY entity_id"
    types = dict.fromkeys(("entity_id", "name", "province"), pa.large_string())
    monkeypatch.setattr(queries, "FETCH_ROWS", 2)
    with queries.report_queries(engine, "r1", 10, 10) as q:
        rows = q.frame(sql)
        table = q.arrow(sql, types)
        empty = q.arrow(sql.replace("ORDER BY", "WHERE 1 = 0 ORDER BY"), types)
        batches = list(q.batches(sql))
    assert len(rows) > 2 and table.column("entity_id").num_chunks == -(-len(rows) // 2)
    assert table.to_pylist() == rows.to_dict("records")
    assert [len(b) for b in batches] == [2] * (len(rows) // 2) + [len(rows) % 2] * (
        len(rows) % 2)
    assert_frame_equal(pd.concat(batches, ignore_index=True), rows)
    assert empty.num_rows == 0 and empty.schema == table.schema


def test_ids_filing_numbers_files_and_encodings_are_never_masked(engine, tmp_path):
    """Only certificate and phone numbers and e-mail local parts are masked: the run id,
    entity and account ids, filing numbers, file names, paths and encodings stay whole in
    the page, the GX page, summary.json and the artifact."""
    run_id = "20250301T080000Z-5a7c9e01"
    site, entity, account = "浙ICP备27316638号-1", "ent_0a1b2c3d4e5f6a7b", "acc_9f8e7d6c5b4a3921"
    phone, email = "13812345678", "zhang.san@example.com"
    plan = report_plan()
    plan.dispositions.loc[5, "reasons"] = (
        f"record_readable: /data/legacy/2015_export.csv line 7: bytes neither utf-8 nor "
        f"gb18030; filing {site} of {entity} ({account}), certificate {USCC}, "
        f"phone {phone}, e-mail {email}")
    plan.dispositions.loc[7, "reasons"] = f"website filing number {site} claimed by {entity}"
    start_run(engine, run_id, T0, ["/data/legacy/2015_export.csv"])
    load_plan(engine, run_id, plan, {"records_in": 10})
    save_validations(engine, run_id, gx_results())
    files = write_report(engine, tmp_path / "reports", run_id)
    text = _all_text(tmp_path / "reports") + summary_markdown(files.content, files.index)
    for whole in (run_id, site, entity, account, "/data/legacy/2015_export.csv",
                  "2015_export.csv", "gb18030", "utf-8", "b.jsonl:line 3"):
        assert whole in text, whole
    for part in ("gb***30", "2731****", "0a1b*", "20250301T0*"):
        assert part not in text, part
    for personal in (USCC, phone, "zhang.san@"):
        assert personal not in text, personal
    assert mask(USCC) in text and mask(phone) in text and "z***@example.com" in text


def test_hostile_strings_are_escaped_everywhere():
    data = in_memory_data()
    page = render_report(data)
    for hostile in (HOSTILE_SCRIPT, HOSTILE_ATTR, "<b>某</b>"):
        assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script") == 0 and "<img" not in page
    assert "secret" not in page  # source URLs shown without their password
    from icp_migrate.reports.gx_docs import render_gx_docs

    docs = render_gx_docs(data.run["run_id"], *data.parts["validation"])
    assert HOSTILE_SCRIPT not in docs and USCC not in docs and "&lt;script&gt;" in docs
    from icp_migrate.reports.summary_json import summary_dict

    markdown = summary_markdown(summary_dict(data), Path("x.html"))
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
    assert content["multi_domain_websites"]["total"] == summary.multi_domain_websites
    assert content["conflicts"]["total"] == summary.dispositions["needs_review"]
    assert content["members_split"]["rows"] and content["entities_merged"]["rows"]
    engine = open_target(target_url)
    try:  # the samples counted by the store as pandas counts them
        counted = assert_counted_as_pandas(engine, summary.run_id)
    finally:
        engine.dispose()
    assert counted | {"validations": None} == content | {"validations": None}
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
def test_open_conflicts_of_the_target_are_listed_with_their_age(target_url, tmp_path):
    """Run 1 opens a website conflict (two valid USCCs claim one website filing number);
    run 2 brings an unrelated record: its report still lists the conflict, opened in run 1,
    one run old, with its competitors' entity ids (never their certificate numbers)."""
    from test_across_runs import batch, entity, row

    site, x, y, z = "浙ICP备11111111号-1", uscc_for(61), uscc_for(62), uscc_for(63)
    reports = tmp_path / "reports"
    first = migrate(sources=[batch(tmp_path, "a.csv", row(x, site), row(y, site))],
                    target=target_url, reports_dir=str(reports))
    assert first.dispositions["needs_review"] == 2
    second = migrate(sources=[batch(tmp_path, "b.csv", row(z, "浙ICP备22222222号-1",
                                                           owner="温州某某有限公司"))],
                     target=target_url, reports_dir=str(reports))
    assert second.dispositions["loaded"] == 1 and second.dispositions["needs_review"] == 0

    key = f"website:{site}"
    expected = {"conflict_id": key, "kind": "website", "opened_in_run": first.run_id,
                "age_runs": 1, "competitors": 2,
                "competitor_ids": sorted([entity(x), entity(y)]), "held_in_run": False}
    content = json.loads((reports / second.run_id / "summary.json").read_text("utf-8"))
    assert content["open_conflicts"] == {"total": 1, "rows": [expected]}
    assert content["conflicts"]["total"] == 0  # no record of run 2 held for review
    # run 1's own report, written as it ended: the conflict new, its records held
    opened = json.loads((reports / first.run_id / "summary.json").read_text("utf-8"))
    assert opened["open_conflicts"]["rows"] == [expected | {"opened_in_run": first.run_id,
                                                            "age_runs": 0,
                                                            "held_in_run": True}]
    assert "open conflicts of the target (any run): **1**" in summary_markdown(
        content, Path("x.html"))

    engine = open_target(target_url)
    try:
        assert assert_counted_as_pandas(engine, second.run_id) == content
        with engine.begin() as connection:  # decided: no longer open
            connection.execute(sa.insert(review_decisions), [
                {"conflict_key": key, "decision": "assign", "entity_id": entity(x),
                 "decided_by": "tester", "decided_at": T0}])
        assert assert_counted_as_pandas(engine, second.run_id)["open_conflicts"] == {
            "total": 0, "rows": []}
    finally:
        engine.dispose()

    page = (reports / second.run_id / "index.html").read_text(encoding="utf-8")
    listed = page[page.index('<section id="conflicts">'):]
    listed = listed[:listed.index("</section>")]
    assert "Open conflicts of the target, from any run (1)" in listed
    assert "Every open conflict of the target" in listed and "latest completed" not in listed
    for shown in (key, first.run_id, entity(x), entity(y)):
        assert shown in listed
    text = _all_text(reports)
    for cert in (x, y, z):
        assert cert not in text


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_plan_still_writes_a_failed_report(samples, target_url, tmp_path,
                                                     monkeypatch):
    from icp_migrate import rules
    from icp_migrate.flows.migrate import migrate

    real = rules.plan_decision

    def broken(*args, **kwargs):
        plan = real(*args, **kwargs)
        plan.accounts = pd.concat([plan.accounts, plan.accounts.head(1)], ignore_index=True)
        return plan

    monkeypatch.setattr(rules, "plan_decision", broken)
    with pytest.raises(PlanValidationError):
        migrate(sources=[str(samples / "winport_shops.jsonl")], target=target_url,
                reports_dir=str(tmp_path / "reports"))
    (folder,) = (tmp_path / "reports").iterdir()
    content = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert content["run"]["status"] == "failed"
    assert "plan_accounts: account_id is unique" in content["validations"][
        "failed_expectations"]
    assert "failed" in (folder / "index.html").read_text(encoding="utf-8")
