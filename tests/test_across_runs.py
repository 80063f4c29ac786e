"""A migration is many runs: what one run or one review round decided binds the next ones.

Each test runs the real flow several times on one target (SQLite and PostgreSQL), with
review rounds between the batches, as an operator would.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from builders import uscc_for
from icp_migrate.identity import entity_id_for
from icp_migrate.pipeline.review import apply_decisions, export_conflicts
from icp_migrate.store.target import open_target
from icp_migrate.transforms.checkdigits import mod_11_10_valid
from test_flow import migrate

pytestmark = pytest.mark.usefixtures("prefect_harness")

HEADER = ("会员ID,产品类型,主体性质,主办单位名称,证件类型,证件号码,主体备案号,网站名称,网站备案号,"
          "网站域名,网站首页,省份,负责人,联系电话,电子邮箱,备案日期,云资源,资源管理员邮箱")
X, Y, Z = uscc_for(11), uscc_for(12), uscc_for(13)


def entity(cert: str) -> str:
    return entity_id_for("ORG:" + cert[8:17])


def row(cert: str, site: str, domains: str = "", name: str = "站点", member: str = "m1",
        filed: str = "2015-03-02", owner: str = "杭州某某科技有限公司",
        cert_type: str = "统一社会信用代码", entity_number: str = "") -> str:
    return (f"{member},域名,企业,{owner},{cert_type},{cert},{entity_number},{name},{site},"
            f"{domains},,浙江,张三,13800000000,a@example.cn,{filed},否,")


def batch(tmp_path, name: str, *rows: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def dispositions(url: str, run_id: str) -> list[tuple]:
    with sa.create_engine(url).connect() as c:
        return [tuple(r) for r in c.execute(sa.text(
            "SELECT disposition, conflict_key FROM record_dispositions WHERE run_id = :r "
            "ORDER BY row_id"), {"r": run_id})]


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def exported(url: str, tmp_path) -> list[dict]:
    engine = open_target(url)
    try:
        path = tmp_path / "review.csv"
        export_conflicts(engine, path)
    finally:
        engine.dispose()
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def decide(url: str, tmp_path, decisions: dict[str, str]) -> int:
    rows = exported(url, tmp_path)
    for r in rows:
        r["decision"] = decisions.get(r["conflict_id"], "")
    missing = set(decisions) - {r["conflict_id"] for r in rows}
    assert not missing, f"not open: {missing}"
    path = tmp_path / "decided.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    engine = open_target(url)
    try:
        return apply_decisions(engine, path, "tester")
    finally:
        engine.dispose()


def test_an_open_conflict_holds_a_later_batch_that_brings_one_side(target_url, tmp_path):
    w = "浙ICP备11111111号-1"
    a = migrate(sources=[batch(tmp_path, "a.csv", row(X, w), row(Y, w))], target=target_url)
    assert [d for d, _ in dispositions(target_url, a.run_id)] == ["needs_review"] * 2
    b = migrate(sources=[batch(tmp_path, "b.csv", row(X, w, name="again"))], target=target_url)
    assert dispositions(target_url, b.run_id) == [("needs_review", f"website:{w}")]
    listed = exported(target_url, tmp_path)
    assert [r["conflict_id"] for r in listed] == [f"website:{w}"]
    assert set(listed[0]["candidate_ids"].split(";")) == {entity(X), entity(Y)}
    assert listed[0]["opened_in_run"] == a.run_id and listed[0]["age_runs"] == "1"
    assert "a.csv:line 3" in listed[0]["candidates"]  # Y, described from run A
    assert query(target_url, "SELECT COUNT(*) FROM website_filings") == [(0,)]


def test_assigning_a_domain_moves_it_from_the_earlier_holder(target_url, tmp_path):
    w1, w2 = "浙ICP备11111111号-1", "浙ICP备22222222号-1"
    migrate(sources=[batch(tmp_path, "a.csv", row(X, w1, "x1.com;x2.com"))], target=target_url)
    second = batch(tmp_path, "b.csv", row(Y, w2, "x2.com;y.com", owner="宁波某某有限公司"))
    b = migrate(sources=[second], target=target_url)
    assert dispositions(target_url, b.run_id) == [("needs_review", "domain:x2.com")]
    (listed,) = exported(target_url, tmp_path)  # X described from the store
    assert f"websites {w1} | domains x1.com;x2.com | records -" in listed["candidates"]
    assert decide(target_url, tmp_path, {"domain:x2.com": f"assign:{entity(Y)}"}) == 1
    c = migrate(sources=[second], target=target_url)
    assert dispositions(target_url, c.run_id) == [("loaded", None)]
    owners = dict(query(target_url, "SELECT domain, website_filing_number FROM domains"))
    assert owners == {"x1.com": w1, "x2.com": w2, "y.com": w2}
    assert query(target_url, "SELECT subject, subject_key, old_value, new_value, cause "
                 "FROM changes") == [("domain", "x2.com", w1, w2, "domain:x2.com")]
    warnings = query(target_url, "SELECT warnings FROM record_dispositions WHERE run_id = :r",
                     r=c.run_id)
    assert warnings == [(None,)]

    # a decided conflict reopens for an entity it never named
    third = batch(tmp_path, "c.csv", row(Z, "浙ICP备33333333号-1", "x2.com", owner="温州某某"))
    d = migrate(sources=[third], target=target_url)
    assert dispositions(target_url, d.run_id) == [("needs_review", "domain:x2.com#2")]
    (reopened,) = exported(target_url, tmp_path)
    assert reopened["conflict_id"] == "domain:x2.com#2"
    assert set(reopened["candidate_ids"].split(";")) == {entity(X), entity(Y), entity(Z)}
    # the first decision still binds X's record
    e = migrate(sources=[batch(tmp_path, "a2.csv", row(X, w1, "x1.com;x2.com"))],
                target=target_url)
    assert dispositions(target_url, e.run_id) == [("needs_review", "domain:x2.com#2")]


def test_assigning_a_stored_website_moves_only_that_website(target_url, tmp_path):
    w, other = "浙ICP备11111111号-1", "浙ICP备11111111号-2"
    migrate(sources=[batch(tmp_path, "a.csv", row(X, w, "a.com;b.com"), row(X, other, "c.com"))],
            target=target_url)
    second = batch(tmp_path, "b.csv", row(Y, w, "d.com", owner="宁波某某有限公司"))
    b = migrate(sources=[second], target=target_url)
    assert dispositions(target_url, b.run_id) == [("needs_review", f"website:{w}")]
    decide(target_url, tmp_path, {f"website:{w}": f"assign:{entity(Y)}"})
    c = migrate(sources=[second], target=target_url)
    assert dispositions(target_url, c.run_id) == [("loaded", None)]
    sites = dict(query(target_url, "SELECT website_filing_number, entity_id FROM website_filings"))
    assert sites == {w: entity(Y), other: entity(X)}
    owners = dict(query(target_url, "SELECT domain, website_filing_number FROM domains"))
    assert owners == {"c.com": other, "d.com": w}
    history = query(target_url, "SELECT subject, subject_key, field, old_value, new_value, cause "
                    "FROM changes ORDER BY seq")
    assert ("website", w, "entity_id", entity(X), entity(Y), f"website:{w}") in history
    assert ("domain", "a.com", "website_filing_number", w, None, f"website:{w}") in history
    # X's record of the website now loses to the decision
    d = migrate(sources=[batch(tmp_path, "a2.csv", row(X, w, "a.com;b.com"))], target=target_url)
    assert dispositions(target_url, d.run_id) == [("quarantined", f"website:{w}")]


def test_a_known_website_never_changes_silently(target_url, tmp_path):
    w = "浙ICP备11111111号-1"
    first = batch(tmp_path, "a.csv", row(X, w, "a.com;b.com", name="旧名", filed="2014-01-01"))
    migrate(sources=[first], target=target_url)
    again = migrate(sources=[first], target=target_url)  # the same content changes nothing
    assert dispositions(target_url, again.run_id) == [("loaded", None)]
    newer = batch(tmp_path, "b.csv", row(X, w, "c.com", name="新名", filed="2015-05-05"))
    b = migrate(sources=[newer], target=target_url)
    assert dispositions(target_url, b.run_id) == [("needs_review", f"changed:{w}")]
    (listed,) = exported(target_url, tmp_path)
    assert listed["kind"] == "changed" and listed["allowed"] == "keep | replace"
    assert "name=旧名" in listed["candidates"] and "name=新名" in listed["candidates"]
    assert query(target_url, "SELECT website_name FROM website_filings") == [("旧名",)]

    decide(target_url, tmp_path, {f"changed:{w}": "replace"})
    c = migrate(sources=[newer], target=target_url)
    assert dispositions(target_url, c.run_id) == [("loaded", None)]
    assert query(target_url, "SELECT website_name, filed_on FROM website_filings")[0][0] == "新名"
    assert query(target_url, "SELECT domain FROM domains") == [("c.com",)]
    history = pd.DataFrame(query(target_url, "SELECT field, old_value, new_value, cause "
                                 "FROM changes"), columns=["field", "old", "new", "cause"])
    named = history.set_index("field")
    assert named.loc["website_name", "old"] == "旧名" and named.loc["website_name", "new"] == "新名"
    assert named.loc["filed_on", "old"] == "2014-01-01"
    assert set(history["cause"]) == {f"changed:{w}"}
    # re-running the first batch does not flip the row back
    d = migrate(sources=[first], target=target_url)
    assert dispositions(target_url, d.run_id) == [("quarantined", f"changed:{w}")]
    assert query(target_url, "SELECT website_name FROM website_filings") == [("新名",)]


def business_licence(n: int) -> str:
    body = f"33010{n:09d}"
    return next(body + str(d) for d in range(10) if mod_11_10_valid([body + str(d)])[0])


def test_a_uscc_and_a_registration_number_sharing_an_entity_number_go_to_review(
        target_url, tmp_path):
    number = "浙ICP备44444444号"
    licence = business_licence(7)
    source = batch(tmp_path, "a.csv",
                   row(X, number + "-1", "a.com", entity_number=number),
                   row(licence, number + "-2", "b.com", cert_type="营业执照", entity_number=number))
    a = migrate(sources=[source], target=target_url)
    key = f"certificates:{number}"
    assert dispositions(target_url, a.run_id) == [("needs_review", key)] * 2
    (listed,) = exported(target_url, tmp_path)
    assert listed["allowed"] == "merge:<id> | separate"
    decide(target_url, tmp_path, {key: f"merge:{entity(X)}"})
    b = migrate(sources=[source], target=target_url)
    assert [d for d, _ in dispositions(target_url, b.run_id)] == ["loaded", "loaded"]
    assert query(target_url, "SELECT entity_id, cert_number FROM entities") == [(entity(X), X)]
    assert query(target_url, "SELECT COUNT(DISTINCT account_id) FROM website_filings") == [(1,)]


def test_two_usccs_with_one_organization_code_are_never_merged_silently(target_url, tmp_path):
    other = uscc_for(11, "91440300")  # the organization code of X, another prefix
    assert other != X and other[8:17] == X[8:17]
    source = batch(tmp_path, "a.csv", row(X, "浙ICP备55555555号-1", "a.com"),
                   row(other, "浙ICP备66666666号-1", "b.com", owner="深圳某某有限公司"))
    a = migrate(sources=[source], target=target_url)
    states = dispositions(target_url, a.run_id)
    assert [d for d, _ in states] == ["needs_review"] * 2
    (listed,) = exported(target_url, tmp_path)
    ids = listed["candidate_ids"].split(";")
    assert len(ids) == 2 and entity(X) not in ids  # one claimant per USCC
    decide(target_url, tmp_path, {listed["conflict_id"]: "separate"})
    b = migrate(sources=[source], target=target_url)
    assert [d for d, _ in dispositions(target_url, b.run_id)] == ["loaded", "loaded"]
    stored = query(target_url, "SELECT cert_number FROM entities ORDER BY cert_number")
    assert sorted(c for (c,) in stored) == sorted([X, other])


def test_apply_now_reruns_the_runs_that_held_the_decided_conflict(target_url, tmp_path):
    from test_cli import cli

    w = "浙ICP备11111111号-1"
    migrate(sources=[batch(tmp_path, "a.csv", row(X, w), row(Y, w, owner="宁波某某有限公司"))],
            target=target_url)
    migrate(sources=[batch(tmp_path, "b.csv", row(Z, "浙ICP备33333333号-1"))],
            target=target_url)
    rows = exported(target_url, tmp_path)
    rows[0]["decision"] = f"assign:{entity(Y)}"
    path = tmp_path / "decided.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = cli("review", "apply", str(path), "--target", target_url, "--by", "tester", "--now",
               cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    sources = [s for (s,) in query(target_url, "SELECT sources FROM runs ORDER BY started_at")]
    assert len(sources) == 3 and sources[2] == sources[0]  # run A again, not the later B
    assert dict(query(target_url, "SELECT website_filing_number, entity_id FROM website_filings "
                      "WHERE website_filing_number = :w", w=w)) == {w: entity(Y)}
