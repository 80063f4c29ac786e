"""What a run would change in the target (rules/preview.py), from plans built by the rules."""

from __future__ import annotations

from builders import canonical_frame as frame
from builders import record, run_rules, uscc_for, with_decisions
from icp_migrate.plan import Plan
from icp_migrate.rules.preview import PREVIEW_KINDS, preview, preview_counts

A, B = uscc_for(1), uscc_for(2)


def site(n: int, entity: int = 12345678) -> str:
    return f"浙ICP备{entity:08d}号-{n}"


def stored(*plans: Plan) -> Plan:
    """The target after `plans` are loaded in turn (their tables, no ledger)."""
    import pandas as pd

    def union(table: str, key: str) -> pd.DataFrame:
        frames = pd.concat([getattr(p, table) for p in plans], ignore_index=True)
        return frames.drop_duplicates(key, keep="last").reset_index(drop=True)

    return Plan(entities=union("entities", "entity_id"),
                accounts=union("accounts", "account_id"),
                website_filings=union("website_filings", "website_filing_number"),
                domains=union("domains", "domain"))


def keys(changes, kind: str) -> list[str]:
    return changes.loc[changes["change"] == kind, "key"].tolist()


def test_a_first_batch_is_all_new():
    plan = run_rules(frame([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 222)),
    ]))
    changes = preview(plan, Plan())
    counts = preview_counts(changes)
    assert list(counts) == list(PREVIEW_KINDS)
    assert counts["new entity"] == 2 and counts["new account"] == 2
    assert counts["website in a new account"] == 2
    assert counts["website added to an existing account"] == 0
    assert sorted(keys(changes, "new entity")) == sorted(plan.entities["entity_id"])
    assert sorted(keys(changes, "new account")) == sorted(plan.accounts["account_id"])
    assert not changes["key"].astype(str).str.contains(r"\*").any()  # ids whole


def test_a_later_batch_adds_to_existing_accounts_and_opens_a_conflict():
    first = run_rules(frame([record(cert_type="uscc", cert_number=A,
                                    website_filing_number=site(1))]))
    known = stored(first)
    second = run_rules(frame([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(2)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1)),  # disputed
    ]), snapshot=known)
    changes = preview(second, known)
    assert keys(changes, "website added to an existing account") == [site(2)]
    assert keys(changes, "new entity") == [] and keys(changes, "new account") == []
    assert keys(changes, "conflict opened") == [f"website:{site(1)}"]
    # the same batch again while the conflict is open: it joins, nothing new opens
    ledger_known = with_decisions(second, snapshot=stored(second))
    again = run_rules(frame([record(cert_type="uscc", cert_number=B,
                                    website_filing_number=site(1))]), snapshot=ledger_known)
    changes = preview(again, ledger_known)
    assert keys(changes, "conflict joined") == [f"website:{site(1)}"]
    assert keys(changes, "conflict opened") == []


def test_an_account_kind_change_and_a_moved_website_are_previewed():
    first = run_rules(frame([record(cert_type="uscc", cert_number=A,
                                    website_filing_number=site(1))]))
    known = stored(first)
    second = run_rules(frame([record(cert_type="uscc", cert_number=A,
                                     website_filing_number=site(2), has_cloud="true",
                                     admin_email="a@x.cn", cloud_admin_email="a@x.cn")]),
                       snapshot=known)
    changes = preview(second, known)
    (account,) = first.accounts["account_id"]
    assert set(keys(changes, "account kind changed")) == {account}
    details = changes.loc[changes["change"] == "account kind changed", "detail"].tolist()
    assert any("filing → filing_and_resources" in d for d in details)
    # a website assigned to another entity by a decision moves to that entity's account
    disputed = run_rules(frame([
        record(cert_type="uscc", cert_number=A, website_filing_number=site(1)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 222)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1)),
    ]), snapshot=known)
    (other,) = set(disputed.entities["entity_id"]) - set(first.entities["entity_id"])
    decided = with_decisions(disputed, (f"website:{site(1)}", "assign", other),
                             snapshot=stored(first, disputed))
    moved = run_rules(frame([
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1, 222)),
        record(cert_type="uscc", cert_number=B, website_filing_number=site(1)),
    ]), snapshot=decided)
    changes = preview(moved, decided)
    assert keys(changes, "website moved to another account") == [site(1)]
