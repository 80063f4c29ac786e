"""Each account's administrator e-mail (revision 0007): which record's e-mail an account
gets, how a target loaded before 0007 is upgraded and filled in without a change in its
history, and where the e-mail is shown (masked, except `plan export --unmasked-emails`)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import insert, inspect, select
from typer.testing import CliRunner

from builders import canonical_frame, org_code, record, run_rules, uscc_for
from icp_migrate.cli import app
from icp_migrate.masking import mask_email
from icp_migrate.pipeline.explain import gather
from icp_migrate.plan import Plan
from icp_migrate.rules.preview import preview
from icp_migrate.store import migrate, schema
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.snapshot import read_snapshot
from icp_migrate.store.target import open_target
from test_store import STORE_TABLES, row_versions

A, B, C = uscc_for(1), uscc_for(2), uscc_for(3)
T0 = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)


def site(n: int, entity: int = 12345678) -> str:
    return f"浙ICP备{entity:08d}号-{n}"


def batch() -> list[dict]:
    """A: cloud resources under another administrator (filing + resources accounts);
    B: the same administrator (one filing_and_resources account); C: no cloud."""
    return [
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1),
               has_cloud="true", admin_email="Boss@A.cn", cloud_admin_email="ops@a.cn",
               domains="a.cn"),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 22222222),
               has_cloud="true", admin_email="b@b.cn", cloud_admin_email="B@b.cn"),
        record(cert_type="uscc", cert_number=C, website_filing_number=site(1, 33333333),
               has_cloud="false", admin_email="c@c.cn", domains="c.cn"),
    ]


def run(rows: list[dict], snapshot: Plan | None = None) -> Plan:
    return run_rules(canonical_frame(rows), snapshot=snapshot)


def emails(plan: Plan) -> dict[tuple[str, str], str | None]:
    """(certificate, account kind) -> admin_email."""
    rows = plan.accounts.merge(plan.entities[["entity_id", "cert_number"]], on="entity_id")
    return {(r.cert_number, r.account_kind): r.admin_email for r in rows.itertuples()}


def snapshot_of(plan: Plan) -> Plan:
    return Plan(entities=plan.entities, accounts=plan.accounts,
                website_filings=plan.website_filings, domains=plan.domains)


def test_each_account_gets_its_administrators_email():
    plan = run(batch())
    assert emails(plan) == {(A, "filing"): "boss@a.cn", (A, "resources"): "ops@a.cn",
                            (B, "filing_and_resources"): "b@b.cn", (C, "filing"): "c@c.cn"}


def test_disagreeing_records_pick_like_the_entitys_other_values():
    rows = [
        # the first record, but under an old organization code: ranked after the USCC ones
        record(cert_type="org_code", cert_number=org_code(1), website_filing_number=site(1),
               has_cloud="true", admin_email="old@a.cn", cloud_admin_email="old-ops@a.cn"),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(2),
               admin_email=None),  # no e-mail: the next record's is taken
        record(cert_type="uscc", cert_number=A, website_filing_number=site(3),
               has_cloud="true", admin_email="first@a.cn", cloud_admin_email="ops1@a.cn"),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(4),
               has_cloud="true", admin_email="second@a.cn", cloud_admin_email="ops2@a.cn"),
        # same administrator for both: not a candidate for the resources account
        record(cert_type="uscc", cert_number=A, website_filing_number=site(5),
               has_cloud="true", admin_email="same@a.cn", cloud_admin_email="same@a.cn"),
    ]
    plan = run(rows)
    assert emails(plan) == {(A, "filing"): "first@a.cn", (A, "resources"): "ops1@a.cn"}
    assert emails(run(rows[::-1])) == {(A, "filing"): "same@a.cn",
                                       (A, "resources"): "ops2@a.cn"}


def test_stored_emails_win_among_equals_and_nulls_are_filled_without_a_change():
    first = run(batch())
    stored = snapshot_of(first)
    stored.accounts = stored.accounts.assign(admin_email=None)  # loaded before 0007
    filled = run(batch(), snapshot=stored)
    assert emails(filled) == emails(first)
    assert filled.changes.empty
    assert preview(filled, stored).empty
    # a later record of the same rank does not replace what the store holds
    other = [dict(r, admin_email="new@x.cn", cloud_admin_email=r["cloud_admin_email"] and (
        "new-ops@x.cn" if r["cert_number"] == A else "new@x.cn")) for r in batch()]
    again = run(other, snapshot=snapshot_of(first))
    assert emails(again) == emails(first) and again.changes.empty


def test_an_email_replaced_by_a_better_described_record_is_in_the_history_masked():
    old = [record(cert_type="org_code", cert_number=org_code(1), website_filing_number=site(1),
                  admin_email="old.boss@a.cn")]
    first = run(old)
    better = [record(cert_type="uscc", cert_number=A, website_filing_number=site(2),
                     admin_email="new.boss@a.cn")]
    second = run(better, snapshot=snapshot_of(first))
    assert second.accounts["admin_email"].tolist() == ["new.boss@a.cn"]
    [change] = second.changes.to_dict("records")
    assert (change["subject"], change["field"], change["old_value"], change["new_value"]) == (
        "account", "admin_email", "old.boss@a.cn", "new.boss@a.cn")
    shown = preview(second, snapshot_of(first))
    assert "account kind changed" not in set(shown["change"])
    [detail] = shown.loc[shown["change"] == "stored value replaced", "detail"]
    assert detail == "account admin_email: o***@a.cn → n***@a.cn"


def _insert_at_0006(engine: sa.Engine, plan: Plan) -> None:
    """The plan's entities, accounts (no e-mail: the column is not there yet), websites and
    domains, written as a 0006 target holds them."""
    def rows(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict]:
        frame = frame.drop(columns=list(drop)).astype(object)
        if "filed_on" in frame:
            frame["filed_on"] = pd.to_datetime(frame["filed_on"]).dt.date.astype(object)
        return frame.where(frame.notna(), None).to_dict("records")

    with engine.begin() as connection:
        connection.execute(insert(schema.entities), rows(plan.entities))
        connection.execute(insert(schema.accounts), rows(plan.accounts, ("admin_email",)))
        connection.execute(insert(schema.website_filings), rows(plan.website_filings))
        assert len(plan.domains)
        connection.execute(insert(schema.domains), rows(plan.domains))


def dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of the entity tables as the database holds it (at any revision)."""
    with engine.connect() as connection:
        return {name: sorted((tuple(r) for r in connection.exec_driver_sql(
            f"SELECT * FROM {name}")), key=repr) for name in STORE_TABLES}


def _load(engine: sa.Engine, run_id: str, plan: Plan) -> None:
    start_run(engine, run_id, T0, ["test.csv"])
    load_plan(engine, run_id, plan, {"records_in": plan.input_count})


def test_upgrading_a_0006_target_keeps_its_rows_and_the_next_run_fills_the_emails(
        target_url):
    engine = sa.create_engine(target_url)
    try:
        migrate.upgrade(engine, "0006")
        first = run(batch())
        _insert_at_0006(engine, first)
        before = dump(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision() == "0007"
        column = {c["name"]: c for c in inspect(engine).get_columns("accounts")}["admin_email"]
        assert column["nullable"]
        upgraded = dump(engine)
        assert upgraded["accounts"] == [(*r, None) for r in before["accounts"]]
        assert {k: v for k, v in upgraded.items() if k != "accounts"} == {
            k: v for k, v in before.items() if k != "accounts"}

        # the same input again: only the e-mails are filled in, nothing else changes
        known = read_snapshot(engine)
        second = run(batch(), snapshot=known)
        assert preview(second, known).empty and second.changes.empty
        _load(engine, "r2", second)
        assert emails(read_snapshot(engine)) == emails(first)
        with engine.connect() as connection:
            assert connection.execute(select(schema.changes)).all() == []
        filled = dump(engine)
        assert {k: v for k, v in filled.items() if k != "accounts"} == {
            k: v for k, v in before.items() if k != "accounts"}
        assert [r[:-1] for r in filled["accounts"]] == [r[:-1] for r in upgraded["accounts"]]

        # and once more: a rerun changes nothing, not even a row version
        versions = row_versions(engine) if engine.dialect.name == "postgresql" else None
        known = read_snapshot(engine)
        third = run(batch(), snapshot=known)
        assert preview(third, known).empty and third.changes.empty
        _load(engine, "r3", third)
        assert dump(engine) == filled
        if versions is not None:
            assert row_versions(engine) == versions
    finally:
        engine.dispose()


def _export(url: str, *args: str) -> bytes:
    result = CliRunner().invoke(app, ["plan", "export", *args, "--out", "-", "--target", url])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_plan_export_gives_the_account_email_masked_unless_asked(target_url):
    engine = open_target(target_url)
    try:
        plan = run(batch())
        _load(engine, "r1", plan)
        model = gather(engine, plan.entities.loc[plan.entities["cert_number"] == A,
                                                 "entity_id"].iloc[0])
    finally:
        engine.dispose()
    frame = plan.accounts.merge(plan.entities[["entity_id", "cert_number"]], on="entity_id")
    ids = {(r.cert_number, r.account_kind): r.account_id for r in frame.itertuples()}
    expected = {ids[k]: e for k, e in emails(plan).items()}
    resources, filing = ids[(A, "resources")], ids[(C, "filing")]
    assert (expected[resources], expected[filing]) == ("ops@a.cn", "c@c.cn")

    whole = json.loads(_export(target_url, "--format", "json", "--unmasked-emails"))
    assert {a["account_id"]: a["admin_email"] for a in whole} == expected
    masked = json.loads(_export(target_url, "--format", "json"))
    assert {a["account_id"]: a["admin_email"] for a in masked} == {
        a: mask_email(e) for a, e in expected.items()}
    assert {a["account_id"]: a["admin_email"] for a in masked}[resources] == "o***@a.cn"

    for args, shown in ((("--unmasked-emails",), expected),
                        ((), {a: mask_email(e) for a, e in expected.items()})):
        data = _export(target_url, *args).decode("utf-8-sig")
        table = list(pd.read_csv(io.StringIO(data), dtype=str).itertuples())
        assert {r.account_id: r.admin_email for r in table} == shown
    assert "ops@a.cn" not in _export(target_url).decode("utf-8-sig")

    # explain shows each account's e-mail masked
    accounts = {a["account_id"]: a["admin_email"] for a in model["accounts"]}
    assert accounts == {ids[(A, "filing")]: "b***@a.cn", resources: "o***@a.cn"}
    assert "ops@a.cn" not in json.dumps(model) and "boss@a.cn" not in json.dumps(model)
