"""The table of steps 1-3 (rules/steps.py): each step alone, then their order."""

from __future__ import annotations

import pandas as pd
import pytest

from builders import canonical_frame, record
from icp_migrate.rules.screen import scope_flags, screen
from icp_migrate.rules.steps import EXPECTATION_STEPS, STEPS, expectation_failures, fails
from icp_migrate.transforms.records import normalize_records
from icp_migrate.validation.record_suite import RECORD_RULES

CUTOFF = "2019-01-01"
SITE = "浙ICP备12345678号-1"

# (the one step the record fails, the record, its disposition and reason)
STEP_CASES = [
    ("record_readable", record(read_error="invalid JSON line", website_filing_number=SITE),
     "quarantined", "record_readable: invalid JSON line"),
    ("product_migrated", record(product="邮箱", website_filing_number=SITE),
     "out_of_scope", "product not migrated: 邮箱"),
    ("filed_on_present", record(filed_on=None, website_filing_number=SITE),
     "quarantined", "filed_on_present: filing date missing"),
    ("filed_before_cutoff", record(filed_on=CUTOFF, website_filing_number=SITE),
     "out_of_scope", "filed on 2019-01-01, on or after the cut-off 2019-01-01"),
    ("website_filing_number_usable", record(website_filing_number=None),
     "quarantined", "website_filing_number_usable: website filing number missing"),
]


def screened(*rows: dict, cutoff: str = CUTOFF) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scope flags, screen result) of `rows`, the expectations computed in pandas."""
    cut = pd.Timestamp(cutoff)
    records, _ = normalize_records(canonical_frame(list(rows)))
    flags = scope_flags(records, cut)
    return flags, screen(records, expectation_failures(flags), cut)


def outcome(result: pd.DataFrame) -> list[tuple]:
    return [(d if isinstance(d, str) else None, r if isinstance(r, str) else None)
            for d, r in zip(result["disposition"], result["reasons"], strict=True)]


def test_every_step_has_a_case():
    assert [case[0] for case in STEP_CASES] == [step.name for step in STEPS]


@pytest.mark.parametrize("case", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_each_step_alone(case):
    name, row, disposition, reason = case
    flags, result = screened(row)
    assert [step.name for step in STEPS if fails(flags, step)[0]] == [name]
    assert outcome(result) == [(disposition, reason)]


def test_a_clean_record_passes_every_step():
    flags, result = screened(record(website_filing_number=SITE))
    assert not any(fails(flags, step)[0] for step in STEPS)
    assert outcome(result) == [(None, None)]
    assert expectation_failures(flags).empty


def test_the_first_failed_step_decides():
    flags, result = screened(
        # unreadable and out of scope (product, cut-off), no number: step 1
        record(read_error="broken CSV row", product="邮箱", filed_on="2020-05-01",
               website_filing_number=None),
        # other product, no date: the product comes first
        record(product="邮箱", filed_on=None, website_filing_number=None),
        # no date, no number: the date comes first; the number is not checked undated
        record(filed_on=None, website_filing_number=None),
        # after the cut-off, no number: out of scope, the number is not checked
        record(filed_on="2020-05-01", website_filing_number=None),
    )
    assert outcome(result) == [
        ("quarantined", "record_readable: broken CSV row"),
        ("out_of_scope", "product not migrated: 邮箱"),
        ("quarantined", "filed_on_present: filing date missing"),
        ("out_of_scope", "filed on 2020-05-01, on or after the cut-off 2019-01-01"),
    ]
    failures = expectation_failures(flags)
    assert dict(zip(failures["row_id"], failures["reasons"], strict=True)) == {
        0: "record_readable", 2: "filed_on_present"}


def test_the_cutoff_moves_the_scope_step():
    row = record(filed_on="2017-06-01", website_filing_number=None)
    assert outcome(screened(row)[1]) == [
        ("quarantined", "website_filing_number_usable: website filing number missing")]
    assert outcome(screened(row, cutoff="2017-01-01")[1]) == [
        ("out_of_scope", "filed on 2017-06-01, on or after the cut-off 2017-01-01")]


def test_the_table_follows_the_disposition_order():
    assert [step.number for step in STEPS] == [1, 2, 2, 2, 3]
    for i, step in enumerate(STEPS):
        assert set(step.given) <= {earlier.name for earlier in STEPS[:i]}, step.name
        # out of scope is a rule, never a failing expectation (D-8)
        assert step.expectation == (step.disposition == "quarantined"), step.name


def test_the_record_suite_is_made_from_the_table():
    assert [rule.name for rule in RECORD_RULES] == [step.name for step in EXPECTATION_STEPS]
    assert [rule.name for rule in RECORD_RULES] == [
        "record_readable", "filed_on_present", "website_filing_number_usable"]
    assert [rule.where for rule in RECORD_RULES] == [
        (),
        (("read_error", "null", None), ("in_scope_product", "==", True)),
        (("read_error", "null", None), ("in_scope_product", "==", True),
         ("before_cutoff", "==", True)),
    ]
