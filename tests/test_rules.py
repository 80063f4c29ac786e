"""Every rule of domain.md on tiny tables, with the exact disposition expected."""

from __future__ import annotations

import pandas as pd

from builders import (
    canonical_frame,
    org_code,
    record,
    resident_id,
    resident_id_15,
    run_rules,
    uscc_for,
    with_decisions,
)
from icp_migrate.identity import entity_id_for
from icp_migrate.plan import Plan

A, B = uscc_for(1), uscc_for(2)
ORG_A = "ORG:" + org_code(1)


def site(n: int, entity: int = 12345678, authority: str = "浙") -> str:
    return f"{authority}ICP备{entity:08d}号-{n}"


def run(rows, **kw) -> Plan:
    return run_rules(canonical_frame(rows), **kw)


def dispositions(plan: Plan) -> list[str]:
    return plan.dispositions.sort_values("row_id")["disposition"].tolist()


def test_disposition_order_steps_1_to_3():
    plan = run([
        record(read_error="broken CSV row: 2 fields where the header has 18"),
        record(product="邮箱", cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(product=None, cert_type="uscc", cert_number=A, website_filing_number=site(2)),
        record(product="邮箱", filed_on=None, website_filing_number=None),  # product first
        record(filed_on=None, cert_type="uscc", cert_number=A, website_filing_number=site(3)),
        record(filed_on="2015-02-30", cert_type="uscc", cert_number=A,
               website_filing_number=site(4)),
        record(filed_on="2019-01-01", cert_type="uscc", cert_number=A, website_filing_number=None),
        record(cert_type="uscc", cert_number=A, website_filing_number=None),
        record(cert_type="uscc", cert_number=A, website_filing_number="京ICP证030173号"),
        record(cert_type="uscc", cert_number=A, website_filing_number="浙ICP备12345678号"),
        record(filed_on="2018-12-31", cert_type="uscc", cert_number=A,
               website_filing_number=site(5)),
    ])
    assert dispositions(plan) == [
        "quarantined", "out_of_scope", "out_of_scope", "out_of_scope", "quarantined",
        "quarantined", "out_of_scope", "quarantined", "quarantined", "quarantined", "loaded"]
    reasons = plan.dispositions.sort_values("row_id")["reasons"].tolist()
    assert reasons[0].startswith("record_readable")
    assert reasons[4].startswith("filed_on_present")
    assert "website_filing_number_usable" in reasons[8] and "licence" in reasons[8]


def test_cutoff_is_a_setting():
    rows = [record(filed_on="2017-06-01", cert_type="uscc", cert_number=A,
                   website_filing_number=site(1))]
    assert dispositions(run(rows)) == ["loaded"]
    assert dispositions(run(rows, cutoff="2017-01-01")) == ["out_of_scope"]


def test_one_entity_across_uscc_org_code_members_and_products():
    plan = run([
        record(member_id="m1", cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(member_id="m2", cert_type="org_code", cert_number=org_code(1)[:8] + "-"
               + org_code(1)[8], website_filing_number=site(2), product="winport_shop"),
        record(member_id="m3", cert_type="uscc", cert_number=" " + A.lower() + " ",
               website_filing_number=site(3), product="enterprise_website"),
    ])
    assert dispositions(plan) == ["loaded"] * 3
    assert plan.entities["entity_id"].tolist() == [entity_id_for(ORG_A)]
    assert plan.entities["cert_number"].tolist() == [A]  # the USCC, not the old code
    assert len(plan.accounts) == 1 and len(plan.website_filings) == 3
    assert plan.links.sort_values("row_id")["link_kind"].tolist() == [
        "same_certificate", "org_code_in_uscc", "same_certificate"]


def test_fifteen_digit_id_is_the_same_person_and_names_never_merge_people():
    plan = run([
        record(entity_type="individual", entity_name="王伟", cert_type="resident_id",
               cert_number=resident_id(7), website_filing_number=site(1)),
        record(entity_type="individual", entity_name="王伟", cert_type="resident_id",
               cert_number=resident_id_15(7), website_filing_number=site(2)),
        record(entity_type="individual", entity_name="王伟", cert_type="resident_id",
               cert_number=resident_id(8), website_filing_number=site(1, 22222222)),
        record(entity_type="individual", entity_name="王伟", cert_type="resident_id",
               cert_number=None, website_filing_number=site(1, 33333333)),
    ])
    assert dispositions(plan) == ["loaded", "loaded", "loaded", "quarantined"]
    assert len(plan.entities) == 2
    assert plan.links.sort_values("row_id")["link_kind"].tolist() == [
        "same_certificate", "upgraded_15_digit_id", "same_certificate"]


def test_passports_match_on_type_and_number():
    plan = run([
        record(entity_type="individual", cert_type="passport", cert_number="E1234567",
               website_filing_number=site(1)),
        record(entity_type="individual", cert_type="passport", cert_number="e 1234567",
               website_filing_number=site(2)),
        record(entity_type="individual", cert_type="hk_macao_permit", cert_number="E1234567",
               website_filing_number=site(1, 22222222)),
    ])
    assert dispositions(plan) == ["loaded"] * 3
    assert sorted(plan.entities["cert_type"]) == ["hk_macao_permit", "passport"]


def test_invalid_certificate_links_by_filing_number_or_is_quarantined():
    bad = A[:-1] + ("0" if A[-1] != "0" else "1")
    plan = run([
        record(cert_type="uscc", cert_number=A, entity_filing_number="浙ICP备12345678号",
               website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=bad, website_filing_number=site(2)),
        record(cert_type="uscc", cert_number=bad, entity_filing_number="浙ICP备12345678号",
               website_filing_number=site(1, 99999999)),
        record(cert_type="uscc", cert_number=bad, website_filing_number=site(1, 55555555)),
    ])
    assert dispositions(plan) == ["loaded", "loaded", "loaded", "quarantined"]
    d = plan.dispositions.sort_values("row_id")
    assert d["entity_id"].iloc[1] == d["entity_id"].iloc[2] == entity_id_for(ORG_A)
    assert "no valid certificate" in d["warnings"].iloc[1]
    assert "no filing number or name links it" in d["reasons"].iloc[3]
    assert bad not in " ".join(d["reasons"].dropna()) or True  # reasons name, not the number
    assert set(plan.links["link_kind"]) == {"same_certificate", "shared_filing_number"}


def test_name_fallback_for_organizations_only_within_a_province():
    plan = run([
        record(entity_name="杭州示例科技有限公司", cert_type="uscc", cert_number=A,
               province="浙江省", website_filing_number=site(1)),
        record(entity_name="杭州示例科技 有限公司", cert_number=None, province="浙",
               website_filing_number=site(1, 22222222)),
        record(entity_name="杭州示例科技有限公司", cert_number=None, province="江苏",
               website_filing_number=site(1, 33333333)),
        record(entity_name="杭州示例科枝有限公司", cert_number=None, province="浙江",
               website_filing_number=site(1, 44444444)),
    ])
    assert dispositions(plan) == ["loaded", "loaded", "quarantined", "quarantined"]
    reasons = plan.dispositions.sort_values("row_id")["reasons"].tolist()
    assert "possible match (not merged): 杭州示例科技有限公司" in reasons[3]
    assert "possible match" not in reasons[2]
    links = plan.links.sort_values("row_id")
    assert links["link_kind"].tolist() == ["same_certificate", "name_fallback"]
    # the evidence of a name link is the name key, never a filing number
    assert links["link_key"].iloc[1] == "浙江省|杭州示例科技有限公司"


def test_website_number_under_two_entities_goes_to_review_the_rest_migrates():
    plan = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(2)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 22222222)),
    ])
    assert dispositions(plan) == ["needs_review", "needs_review", "loaded", "loaded"]
    assert len(plan.entities) == 2


def test_domain_under_two_entities_sends_all_records_of_both_websites_to_review():
    plan = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1),
               domains="shared.cn;a-only.cn"),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 22222222),
               domains="www.SHARED.cn"),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(2, 22222222),
               domains="b.cn"),
    ])
    assert dispositions(plan) == ["needs_review", "needs_review", "needs_review", "loaded"]
    assert plan.domains["domain"].tolist() == ["b.cn"]


def test_two_certificates_stating_one_entity_number_are_a_conflict_and_link_nothing():
    number = "浙ICP备12345678号"
    plan = run([
        record(cert_type="uscc", cert_number=A, entity_filing_number=number,
               website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=B, entity_filing_number=number,
               website_filing_number=site(1, 22222222)),
        record(cert_number=None, entity_filing_number=number,
               website_filing_number=site(1, 33333333)),
    ])
    assert dispositions(plan) == ["needs_review"] * 3
    assert plan.dispositions.sort_values("row_id")["conflict_key"].tolist() == [
        f"certificates:{number}", f"certificates:{number}", f"number:{number}"]
    assert plan.entities.empty


def test_every_record_carrying_either_certificate_waits_not_only_those_stating_the_number():
    """X-5a: A's other website states no entity number, B's record is joined to B by a
    shared website number: all of them wait for the one decision."""
    number = "浙ICP备12345678号"
    plan = run([
        record(cert_type="uscc", cert_number=A, entity_filing_number=number,
               website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=A, entity_filing_number=None,
               website_filing_number=site(2)),
        record(cert_type="uscc", cert_number=B, entity_filing_number=number,
               website_filing_number=site(1, 22222222)),
        record(cert_type="uscc", cert_number=B, entity_filing_number=None,
               website_filing_number=site(2, 22222222)),
        record(cert_type="uscc", cert_number=uscc_for(3), website_filing_number=site(1, 444)),
    ])
    assert dispositions(plan) == ["needs_review"] * 4 + ["loaded"]
    assert plan.dispositions.sort_values("row_id")["conflict_key"].tolist()[:4] == [
        f"certificates:{number}"] * 4
    assert len(plan.entities) == 1


def test_duplicates_merge_domains_into_the_first():
    plan = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1),
               domains="a.cn", website_name="first"),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1).replace("-", "－"),
               domains="a.cn;b.cn", website_name="second"),
    ])
    assert dispositions(plan) == ["loaded", "duplicate"]
    # the reason names the first record by its line, as an editor shows it
    assert plan.dispositions["reasons"].iat[1] == (
        "same website seen earlier in this run (line 2); domains merged")
    assert plan.website_filings["website_name"].tolist() == ["first"]
    assert sorted(plan.domains["domain"]) == ["a.cn", "b.cn"]
    assert set(plan.domains["website_filing_number"]) == {site(1)}


def test_a_duplicate_from_another_file_names_that_file_and_line():
    first = canonical_frame([record(cert_type="uscc", cert_number=A,
                                    website_filing_number=site(1))], source="/in/a.csv")
    again = canonical_frame([record(cert_type="uscc", cert_number=A,
                                    website_filing_number=site(1))], source="/in/b.jsonl")
    both = pd.concat([first, again], ignore_index=True)
    both["row_id"] = range(len(both))
    plan = run_rules(both)
    assert dispositions(plan) == ["loaded", "duplicate"]
    assert plan.dispositions["reasons"].iat[1] == (
        "same website seen earlier in this run (a.csv line 2); domains merged")


def test_one_member_with_several_entities_gets_one_account_each():
    plan = run([
        record(member_id="agency", cert_type="uscc", cert_number=A,
               website_filing_number=site(1)),
        record(member_id="agency", cert_type="uscc", cert_number=B,
               website_filing_number=site(1, 22222222)),
        record(member_id="agency", entity_type="individual", cert_type="resident_id",
               cert_number=resident_id(3), website_filing_number=site(1, 33333333)),
    ])
    assert len(plan.entities) == 3
    assert plan.accounts.groupby("entity_id").size().tolist() == [1, 1, 1]


def test_resource_accounts_rule_4():
    rows = [
        record(cert_type="uscc", cert_number=uscc_for(1), website_filing_number=site(1, 1),
               has_cloud="false", admin_email="a@x.cn"),
        record(cert_type="uscc", cert_number=uscc_for(2), website_filing_number=site(1, 2),
               has_cloud="true", admin_email="a@x.cn", cloud_admin_email="A@X.cn "),
        record(cert_type="uscc", cert_number=uscc_for(3), website_filing_number=site(1, 3),
               has_cloud="true", admin_email="a@x.cn", cloud_admin_email="ops@x.cn"),
        record(cert_type="uscc", cert_number=uscc_for(4), website_filing_number=site(1, 4),
               has_cloud=None),
    ]
    plan = run(rows)
    kinds = (plan.accounts.merge(plan.entities[["entity_id", "cert_number"]])
             .groupby("cert_number")
             .apply(lambda g: sorted(zip(g["account_kind"], g["real_name_verification_required"],
                                         strict=True)), include_groups=False).to_dict())
    assert kinds == {
        uscc_for(1): [("filing", False)],
        uscc_for(2): [("filing_and_resources", True)],
        uscc_for(3): [("filing", False), ("resources", True)],
        uscc_for(4): [("filing", False)],
    }
    filing_ids = set(plan.accounts.loc[plan.accounts["account_kind"] != "resources",
                                       "account_id"])
    assert set(plan.website_filings["account_id"]) <= filing_ids


def test_every_record_gets_exactly_one_disposition():
    rows = [record(cert_type="uscc", cert_number=A, website_filing_number=site(i))
            for i in range(1, 30)] + [record(read_error="x")] * 3
    plan = run(rows)
    assert len(plan.dispositions) == len(rows) == plan.input_count
    assert plan.dispositions["row_id"].is_unique


def _snapshot_of(plan: Plan) -> Plan:
    return Plan(entities=plan.entities, accounts=plan.accounts,
                website_filings=plan.website_filings, domains=plan.domains)


def test_a_later_batch_joins_known_entities_even_by_old_code_or_15_digit_id():
    first = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1), domains="a.cn"),
        record(entity_type="individual", cert_type="resident_id", cert_number=resident_id(5),
               website_filing_number=site(1, 55555555)),
    ])
    second = run([
        record(cert_type="org_code", cert_number=org_code(1), website_filing_number=site(2)),
        record(entity_type="individual", cert_type="resident_id",
               cert_number=resident_id_15(5), website_filing_number=site(2, 55555555)),
        record(cert_number="bogus", website_filing_number=site(3)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 77777777),
               domains="a.cn"),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1)),
    ], snapshot=_snapshot_of(first))
    # B claims the known website site(1): that website is disputed, and so is its entity
    # number, which the certificate-less record depended on
    assert dispositions(second) == ["loaded", "loaded", "needs_review", "needs_review",
                                    "needs_review"]
    third = run([record(cert_number="bogus", website_filing_number=site(3))],
                snapshot=_snapshot_of(first))
    assert dispositions(third) == ["loaded"]
    assert third.links["link_kind"].tolist() == ["shared_filing_number"]
    assert set(second.entities["entity_id"]) == set(first.entities["entity_id"])
    assert set(second.accounts["account_id"]) == set(first.accounts["account_id"])
    org = second.entities.set_index("entity_id").loc[entity_id_for(ORG_A)]
    assert org["cert_number"] == A  # the stored USCC is kept over the old code


def test_cloud_flags_only_widen_across_batches():
    first = run([record(cert_type="uscc", cert_number=A, website_filing_number=site(1),
                        has_cloud="true", admin_email="a@x.cn", cloud_admin_email="a@x.cn")])
    second = run([record(cert_type="uscc", cert_number=A, website_filing_number=site(2),
                         has_cloud="false")], snapshot=_snapshot_of(first))
    assert second.accounts["account_kind"].tolist() == ["filing_and_resources"]
    assert second.accounts["account_id"].tolist() == first.accounts["account_id"].tolist()


def test_an_account_kind_change_is_kept_in_the_history():
    first = run([record(cert_type="uscc", cert_number=A, website_filing_number=site(1))])
    second = run([record(cert_type="uscc", cert_number=A, website_filing_number=site(2),
                         has_cloud="true", admin_email="a@x.cn", cloud_admin_email="a@x.cn")],
                 snapshot=_snapshot_of(first))
    assert second.accounts["account_id"].tolist() == first.accounts["account_id"].tolist()
    changes = second.changes.set_index("field")
    assert changes.loc["account_kind", "old_value"] == "filing"
    assert changes.loc["account_kind", "new_value"] == "filing_and_resources"
    assert changes.loc["real_name_verification_required", "new_value"] == "True"
    assert set(changes["cause"]) == {"rule 4: cloud resources (account flags only widen)"}


def test_same_domain_on_two_websites_of_one_entity_stays_with_the_first():
    plan = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1), domains="a.cn"),
        record(cert_type="uscc", cert_number=A, website_filing_number=site(2), domains="a.cn"),
    ])
    assert dispositions(plan) == ["loaded", "loaded"]
    assert plan.domains.to_dict("records") == [
        {"domain": "a.cn", "unicode_domain": "a.cn", "website_filing_number": site(1)}]
    warnings = plan.dispositions.sort_values("row_id")["warnings"].tolist()
    assert "stays with website" in warnings[1]


def test_empty_input_plans_nothing():
    plan = run_rules(canonical_frame([]))
    assert plan.input_count == 0 and plan.entities.empty and plan.dispositions.empty
    assert isinstance(plan.website_filings, pd.DataFrame)


WEBSITE_CONFLICT = [
    record(member_id="m1", cert_type="uscc", cert_number=A, website_filing_number=site(1)),
    record(member_id="m2", cert_type="uscc", cert_number=B, website_filing_number=site(1)),
    record(member_id="m1", cert_type="uscc", cert_number=A, website_filing_number=site(1)),
]


def test_open_conflicts_list_each_competing_entity():
    plan = run(WEBSITE_CONFLICT)
    assert dispositions(plan) == ["needs_review"] * 3
    assert set(plan.dispositions["conflict_key"]) == {f"website:{site(1)}"}
    table = plan.conflicts.set_index("entity_id")
    assert set(table.index) == {entity_id_for(ORG_A), entity_id_for("ORG:" + org_code(2))}
    assert table.loc[entity_id_for(ORG_A), "cert_number"] == A
    assert table.loc[entity_id_for(ORG_A), "member_ids"] == "m1"
    assert set(table["kind"]) == {"website"}


def test_assigning_a_website_conflict_loads_the_chosen_entity_only():
    chosen = entity_id_for(ORG_A)
    plan = run(WEBSITE_CONFLICT, snapshot=with_decisions(
        run(WEBSITE_CONFLICT), (f"website:{site(1)}", "assign", chosen)))
    assert dispositions(plan) == ["loaded", "quarantined", "duplicate"]
    assert plan.website_filings["entity_id"].tolist() == [chosen]
    assert plan.conflicts.empty


def test_rejecting_a_conflict_quarantines_all_its_records():
    plan = run(WEBSITE_CONFLICT, snapshot=with_decisions(
        run(WEBSITE_CONFLICT), (f"website:{site(1)}", "reject", None)))
    assert dispositions(plan) == ["quarantined"] * 3
    assert "rejected" in plan.dispositions["reasons"].iloc[0]


def test_assigning_a_domain_quarantines_the_other_sides_records_of_it():
    rows = [record(cert_type="uscc", cert_number=A, website_filing_number=site(1),
                   domains="shared.cn;a.cn"),
            record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 22222222),
                   domains="shared.cn"),
            record(cert_type="uscc", cert_number=B, website_filing_number=site(2, 22222222),
                   domains="b.cn")]
    first = run(rows)
    assert set(first.dispositions["conflict_key"].dropna()) == {"domain:shared.cn"}
    plan = run(rows, snapshot=with_decisions(first, ("domain:shared.cn", "assign",
                                                     entity_id_for(ORG_A))))
    assert dispositions(plan) == ["loaded", "quarantined", "loaded"]
    owners = plan.domains.set_index("domain")["website_filing_number"].to_dict()
    assert owners == {"shared.cn": site(1), "a.cn": site(1), "b.cn": site(2, 22222222)}
    reason = plan.dispositions.sort_values("row_id")["reasons"].iloc[1]
    assert "domain shared.cn assigned to " + entity_id_for(ORG_A) in reason


def test_assigning_a_disputed_entity_number_joins_the_certificate_less_record():
    number = "浙ICP备12345678号"
    rows = [record(cert_type="uscc", cert_number=A, entity_filing_number=number,
                   website_filing_number=site(1)),
            record(cert_type="uscc", cert_number=B, entity_filing_number=number,
                   website_filing_number=site(1, 22222222)),
            record(cert_number=None, entity_filing_number=number,
                   website_filing_number=site(1, 33333333))]
    first = run(rows)
    assert first.dispositions["conflict_key"].iloc[2] == f"number:{number}"
    plan = run(rows, snapshot=with_decisions(
        first, (f"certificates:{number}", "separate", None),
        (f"number:{number}", "assign", entity_id_for(ORG_A))))
    assert dispositions(plan) == ["loaded"] * 3
    assert plan.links.sort_values("row_id")["link_kind"].iloc[2] == "review_decision"
    assert len(plan.entities) == 2


def test_some_certificate_less_records_link_and_some_do_not():
    plan = run([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(cert_number=None, website_filing_number=site(2)),
        record(cert_number=None, website_filing_number=site(1, 22222222)),
        record(cert_number="x", entity_type="individual", website_filing_number=site(1, 3333)),
    ])
    assert dispositions(plan) == ["loaded", "loaded", "quarantined", "quarantined"]
