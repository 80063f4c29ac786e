"""Every frame passed between stages matches its schema declared in frames.py."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from builders import canonical_frame, record, rule_failures, uscc_for
from icp_migrate import frames
from icp_migrate.frames import Kind, check, schema
from icp_migrate.plan import Plan
from icp_migrate.readers import read_source
from icp_migrate.rules.dispositions import decide_records, plan_decision
from icp_migrate.rules.screen import scope_flags, screen
from icp_migrate.transforms.mapping_apply import to_canonical
from icp_migrate.transforms.records import normalize_records

A, B = uscc_for(1), uscc_for(2)
CUTOFF = pd.Timestamp("2019-01-01")
SOURCES = ("hichina_beian.csv", "hichina_beian_utf8.csv", "hichina_legacy.db",
           "winport_shops.jsonl")


def site(n: int, entity: int = 12345678) -> str:
    return f"浙ICP备{entity:08d}号-{n}"


def chain(canonical: pd.DataFrame, snapshot: Plan | None = None,
          ) -> tuple[dict[str, tuple[pd.DataFrame, frames.Schema]], Plan]:
    """The pure chain of a run (as builders.run_rules), every boundary frame kept."""
    snapshot = snapshot or Plan()
    records, record_domains = normalize_records(canonical)
    screened = screen(records, rule_failures(scope_flags(records, CUTOFF)), CUTOFF)
    decision = decide_records(records, record_domains, screened, snapshot)
    plan = plan_decision(decision, snapshot, len(records))
    seen = {
        "canonical": (canonical, frames.CANONICAL),
        "records": (records, frames.RECORDS),
        "record_domains": (record_domains, frames.RECORD_DOMAINS),
        "screened": (screened, frames.SCREENED),
        "decision.dispositions": (decision.dispositions, frames.DISPOSITIONS),
        "decision.links": (decision.links, frames.LINKS),
        "decision.conflicts": (decision.conflicts, frames.CONFLICTS),
        "decision.domains": (decision.domains, frames.DOMAINS),
    }
    for name, declared in (("entities", frames.ENTITIES), ("accounts", frames.ACCOUNTS),
                           ("website_filings", frames.WEBSITE_FILINGS),
                           ("domains", frames.DOMAINS), ("dispositions", frames.DISPOSITIONS),
                           ("links", frames.LINKS), ("conflicts", frames.CONFLICTS),
                           ("changes", frames.CHANGES)):
        seen[f"plan.{name}"] = (getattr(plan, name), declared)
    return seen, plan


def problems(seen: dict[str, tuple[pd.DataFrame, frames.Schema]]) -> dict[str, list[str]]:
    found = {name: check(frame, declared) for name, (frame, declared) in seen.items()}
    return {name: p for name, p in found.items() if p}


def built(rows: list[dict]) -> pd.DataFrame:
    """builders.canonical_frame in the canonical dtypes, as to_canonical gives them."""
    return frames.conform(canonical_frame(rows), frames.CANONICAL)


def test_the_pure_chain_on_small_batches_matches_the_declared_frames():
    first, planned = chain(built([
        record(read_error="broken CSV row: 2 fields where the header has 18"),
        record(product="邮箱", cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(filed_on="2015-02-30", cert_type="uscc", cert_number=A,
               website_filing_number=site(4)),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(5), domains="a.cn"),
        # two certificates claim one website: held for review
        record(cert_type="uscc", cert_number=A, website_filing_number=site(6, 11111111)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(6, 11111111),
               member_id="m2"),
        record(entity_type="individual", cert_type="resident_id", cert_number="bogus",
               website_filing_number=site(1, 55555555), domains="例子.中国 b.cn"),
    ]))
    assert problems(first) == {}
    assert len(planned.conflicts) and len(planned.links) and len(planned.website_filings)
    snapshot = Plan(entities=planned.entities, accounts=planned.accounts,
                    website_filings=planned.website_filings, domains=planned.domains)
    second, replanned = chain(built([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(7), has_cloud="true",
               admin_email="a@x.cn", cloud_admin_email="a@x.cn")]), snapshot)
    assert len(replanned.changes)
    assert problems(second) == {}


def test_the_samples_through_the_readers_match_the_declared_frames(samples):
    extracted = []
    for name in SOURCES:
        frame, chosen = read_source(str(samples / name), None)
        canonical = to_canonical(frame, chosen)
        assert check(canonical, frames.EXTRACTED) == [], name
        extracted.append(canonical)
    # as flows/tasks.py: normalize puts the sources together and gives the row ids
    canonical = pd.concat(extracted, ignore_index=True)
    canonical.insert(0, "row_id", range(len(canonical)))
    seen, planned = chain(canonical)
    assert problems(seen) == {}
    assert len(planned.entities) and len(planned.conflicts)


def test_an_empty_plan_matches_the_declared_frames():
    plan = Plan()
    for name in ("entities", "accounts", "website_filings", "domains", "dispositions", "links",
                 "conflicts", "changes"):
        assert check(getattr(plan, name), frames.SCHEMAS[name]) == [], name


def test_check_names_each_problem():
    declared = schema("t", ("n", "flag", "text", "day"), {
        "n": Kind.INT, "flag": Kind.BOOL, "day": Kind.DATE})
    good = pd.DataFrame({"n": [1, 2], "flag": [True, False],
                         "text": pd.Series(["a", None], dtype=object),
                         "day": pd.to_datetime(["2015-03-02", None]).astype("datetime64[ns]")})
    assert check(good, declared) == []
    assert check(good.astype(object), declared) == [
        "t.n: int column of dtype object, declared int64",
        "t.flag: bool column of dtype object, declared bool",
        "t.day: date column of dtype object, declared datetime64[ns]"]
    bad = good.assign(text=pd.Series([1, float("nan")], dtype=object),
                      day=[dt.date(2015, 3, 2), None], extra=1).drop(columns="n")
    assert check(bad, declared) == [
        "t: missing columns ['n']",
        "t: extra columns ['extra']",
        "t.text: text column holding 1 nulls of type ['float'], not None",
        "t.day: date column of dtype object, declared datetime64[ns]",
    ]
    assert check(good.assign(text=pd.Series([1, None], dtype=object)), declared) == [
        "t.text: text column holding 1 values of type ['int']"]
    assert check(good.assign(text=pd.Series(["a", None], dtype="str")), declared) == [
        "t.text: text column of dtype str, declared object"]
    assert check(good.assign(day=pd.to_datetime(["2015-03-02", None]).astype(
        "datetime64[s]")), declared) == [
        "t.day: date column of dtype datetime64[s], declared datetime64[ns]"]
    assert check(good[["flag", "n", "text", "day"]], declared)[0].startswith(
        "t: columns out of order")
    assert check(good.assign(extra=1), schema("t", ("n",), closed=False, default=Kind.INT)) == []


def test_conform_gives_the_declared_dtypes_and_keeps_the_values():
    declared = schema("t", ("n", "flag", "text", "day"), {
        "n": Kind.INT, "flag": Kind.BOOL, "day": Kind.DATE})
    loose = pd.DataFrame({"n": pd.Series([1, 2], dtype=object),
                          "flag": pd.Series([True, False], dtype=object),
                          "text": pd.Series(["a", float("nan")], dtype="str"),
                          "day": pd.Series([dt.date(2015, 3, 2), None], dtype=object)})
    got = frames.conform(loose, declared)
    assert check(got, declared) == []
    assert got["n"].tolist() == [1, 2] and got["flag"].tolist() == [True, False]
    assert got["text"].tolist() == ["a", None]
    assert got["day"].tolist()[0] == pd.Timestamp("2015-03-02") and pd.isna(got["day"][1])
    assert check(loose, declared) != []  # conform returns a new frame
    with pytest.raises(ValueError, match="nulls in a bool column"):
        frames.conform(loose.assign(flag=[True, None]), declared)


def test_empty_plan_frames_have_the_declared_dtypes():
    assert Plan().dispositions.dtypes["row_id"] == "int64"
    assert str(Plan().website_filings.dtypes["filed_on"]) == "datetime64[ns]"
    assert str(Plan().entities.dtypes["has_cloud_resources"]) == "bool"


def test_a_schema_names_only_its_columns():
    with pytest.raises(ValueError, match="kinds for columns"):
        schema("t", ("a",), {"b": Kind.INT})
    assert frames.EXTRACTED.names == frames.CANONICAL.names[1:]
