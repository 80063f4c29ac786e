"""Record and plan suites run through real Great Expectations on tiny inline frames."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pytest

from gx_outcomes import outcomes
from icp_migrate.plan import Plan
from icp_migrate.rules.steps import expectation_failures
from icp_migrate.validation import validate_plan, validate_records
from icp_migrate.validation.context import Rule, failing_keys, rule_name, validate_frame

NaT = pd.NaT
GOOD = {
    "read_error": None,
    "in_scope_product": True,
    "filed_on": pd.Timestamp("2015-03-02"),
    "before_cutoff": True,
    "website_filing_number": "浙ICP备12345678号-1",
}

# (case, overrides of a clean record, the reasons it must fail with; "" = none)
RECORD_CASES = [
    ("clean", {}, ""),
    ("unreadable", {"read_error": "invalid JSON line"}, "record_readable"),
    (
        "unreadable_wins_over_later_steps",
        {"read_error": "broken CSV row", "filed_on": NaT, "website_filing_number": None},
        "record_readable",
    ),
    ("read_error_na_is_readable", {"read_error": pd.NA}, ""),
    ("missing_date", {"filed_on": NaT, "before_cutoff": False}, "filed_on_present"),
    (
        "missing_date_and_number",
        {"filed_on": NaT, "before_cutoff": False, "website_filing_number": None},
        "filed_on_present",
    ),
    (
        "other_product_out_of_scope",
        {"in_scope_product": False, "filed_on": NaT, "before_cutoff": False},
        "",
    ),
    ("in_scope_unknown_is_not_in_scope", {"in_scope_product": None, "filed_on": NaT}, ""),
    (
        "after_cutoff_out_of_scope",
        {"filed_on": pd.Timestamp("2020-05-01"), "before_cutoff": False,
         "website_filing_number": None},
        "",
    ),
    ("no_usable_number", {"website_filing_number": None}, "website_filing_number_usable"),
    ("number_na", {"website_filing_number": pd.NA}, "website_filing_number_usable"),
    # Violates the frame contract (before_cutoff without a date): shows reasons are joined.
    (
        "two_reasons_joined",
        {"filed_on": NaT, "website_filing_number": None},
        "filed_on_present; website_filing_number_usable",
    ),
]


def record_frame(cases: list[tuple[str, dict, str]], first_id: int = 10) -> pd.DataFrame:
    rows = [{"row_id": first_id + i, **GOOD, **over} for i, (_, over, _) in enumerate(cases)]
    frame = pd.DataFrame(rows)
    frame["filed_on"] = pd.to_datetime(frame["filed_on"])
    return frame


def expected_failures(cases: list[tuple[str, dict, str]], first_id: int = 10) -> dict[int, str]:
    return {first_id + i: reasons for i, (_, _, reasons) in enumerate(cases) if reasons}


@pytest.mark.parametrize("case", RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_each_record_case_alone(case):
    check = validate_records(record_frame([case]))
    assert dict(zip(check.failures["row_id"], check.failures["reasons"], strict=True)) == (
        expected_failures([case])
    )
    assert check.success == (case[2] == "")


def test_all_record_cases_in_one_run():
    check = validate_records(record_frame(RECORD_CASES))
    got = dict(zip(check.failures["row_id"], check.failures["reasons"], strict=True))
    assert got == expected_failures(RECORD_CASES)
    assert list(check.failures.columns) == ["row_id", "reasons"]
    assert check.failures["row_id"].dtype == "int64"
    assert check.statistics["evaluated_expectations"] == 3
    assert not check.success


# Every combination of the values each column of the record frame can hold (the frame
# contract too: before_cutoff without a date, a missing in_scope_product).
COLUMN_VALUES = {
    "read_error": [None, pd.NA, "broken CSV row"],
    "in_scope_product": [True, False, None],
    "filed_on": [pd.Timestamp("2015-03-02"), NaT],
    "before_cutoff": [True, False],
    "website_filing_number": ["浙ICP备12345678号-1", None, pd.NA],
}


def test_the_suite_and_the_pandas_steps_agree():
    """GX (the judge in a run) and steps.expectation_failures (what rule tests use), both
    made from the one table of steps, fail the same rows with the same reasons."""
    cases = [("combination", dict(zip(COLUMN_VALUES, values, strict=True)), "")
             for values in itertools.product(*COLUMN_VALUES.values())]
    for frame in (record_frame(RECORD_CASES), record_frame(cases)):
        check = validate_records(frame)
        assert not check.failures.empty
        pd.testing.assert_frame_equal(check.failures, expectation_failures(frame))


def test_consecutive_runs_do_not_share_results():
    first = validate_records(record_frame([RECORD_CASES[1]], first_id=1))
    second = validate_records(record_frame([RECORD_CASES[0], RECORD_CASES[9]], first_id=100))
    assert first.failures["row_id"].tolist() == [1]
    assert second.failures["row_id"].tolist() == [101]
    assert second.failures["reasons"].tolist() == ["website_filing_number_usable"]


def test_record_result_holds_no_data_values():
    frame = record_frame(RECORD_CASES)
    frame.loc[1, "read_error"] = "bad bytes near 330106199001011234"
    check = validate_records(frame.assign(extra="secret-value"))
    text = json.dumps(check.result, ensure_ascii=False)
    assert "330106199001011234" not in text
    assert "secret-value" not in text
    assert "浙ICP备" not in text
    ids = [k for item in check.result["results"] for k in failing_keys(item, "row_id")]
    assert sorted(ids) == sorted(check.failures["row_id"].tolist() + [21])  # 21 fails twice


def test_empty_record_frame_passes():
    frame = record_frame(RECORD_CASES[:1]).iloc[0:0]
    check = validate_records(frame)
    assert check.success
    assert check.failures.empty


def test_record_frame_missing_columns_is_an_error():
    with pytest.raises(ValueError, match="filed_on"):
        validate_records(record_frame(RECORD_CASES[:1]).drop(columns=["filed_on"]))


def test_rule_that_cannot_be_evaluated_raises():
    rule = Rule("ghost", "ExpectColumnValuesToNotBeNull", {"column": "nope"})
    with pytest.raises(RuntimeError, match="ghost"):
        validate_frame(pd.DataFrame({"row_id": [1]}), "t", [rule], index_columns=["row_id"])


def test_no_progress_bars(capfd):
    validate_records(record_frame(RECORD_CASES))
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err


def test_import_does_not_load_gx():
    code = "import sys, icp_migrate.validation; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


W1, W2 = "浙ICP备1号-1", "浙ICP备2号-1"


def clean_plan() -> Plan:
    """E1 has resources under another admin (filing + resources), E2 under the same one."""
    return Plan(
        entities=pd.DataFrame(
            {
                "entity_id": ["E1", "E2"],
                "entity_type": ["enterprise", "individual"],
                "name": ["甲公司", "王伟"],
                "cert_type": ["uscc", "resident_id"],
                "cert_number": ["91330100MA27XXXXXX", "330106199001011234"],
                "province": ["浙", "浙"],
                "entity_filing_number": ["浙ICP备1号", "浙ICP备2号"],
                "has_cloud_resources": [True, True],
                "resources_admin_differs": [True, False],
                "entity_number_stated": [True, True],
            }
        ),
        accounts=pd.DataFrame(
            {
                "account_id": ["A1", "A2", "A3"],
                "entity_id": ["E1", "E1", "E2"],
                "account_kind": ["filing", "resources", "filing_and_resources"],
                "real_name_verification_required": [False, True, True],
                "admin_email": ["a@x.cn", "ops@x.cn", None],
            }
        ),
        website_filings=pd.DataFrame(
            {
                "website_filing_number": ["浙ICP备1号-1", "浙ICP备2号-1"],
                "account_id": ["A1", "A3"],
                "entity_id": ["E1", "E2"],
                "product": ["domain", "winport_shop"],
                "website_name": ["甲", "乙"],
                "homepage": ["a.cn", "b.cn"],
                "filed_on": pd.to_datetime(["2015-03-02", "2016-01-01"]),
                "member_id": ["m1", "m1"],
            }
        ),
        domains=pd.DataFrame(
            {
                "domain": ["a.cn", "www2.a.cn", "b.cn"],
                "unicode_domain": ["a.cn", "www2.a.cn", "b.cn"],
                "website_filing_number": ["浙ICP备1号-1", "浙ICP备1号-1", "浙ICP备2号-1"],
            }
        ),
        dispositions=pd.DataFrame(
            {
                "row_id": [1, 2, 3, 4, 5],
                "source": ["s.csv"] * 5,
                "locator": ["line 2", "line 3", "line 4", "line 5", "line 6"],
                "member_id": ["m1"] * 5,
                "disposition": ["loaded", "loaded", "duplicate", "out_of_scope", "quarantined"],
                "reasons": [None, None, None, None, "record_readable"],
                "warnings": [None] * 5,
                "entity_id": ["E1", "E2", "E1", None, None],
                "website_filing_number": [W1, W2, W1, None, None],
                "conflict_key": [None] * 5,
                "candidates": [None] * 5,
            }
        ),
        input_count=5,
    )


def _set(table: str, row: int, column: str, value):
    def mutate(plan: Plan) -> None:
        getattr(plan, table).loc[row, column] = value

    return mutate


def _add(table: str, **values):
    def mutate(plan: Plan) -> None:
        frame = getattr(plan, table)
        setattr(plan, table, pd.concat([frame, pd.DataFrame([values])], ignore_index=True))

    return mutate


def _count(n: int):
    def mutate(plan: Plan) -> None:
        plan.input_count = n

    return mutate


# (the rule a broken plan must fail, how to break a clean plan)
PLAN_CASES = [
    ("accounts: account_id is unique", _set("accounts", 1, "account_id", "A1")),
    ("accounts: account_id is not null", _set("accounts", 1, "account_id", None)),
    ("accounts: account_kind is a known kind", _set("accounts", 1, "account_kind", "billing")),
    ("accounts: account_kind is not null", _set("accounts", 1, "account_kind", None)),
    (
        "accounts: one filing account per entity",
        _add("accounts", account_id="A4", entity_id="E2", account_kind="filing"),
    ),
    (
        "entities: every entity has exactly one filing account",
        _add("entities", entity_id="E3", entity_type="enterprise"),
    ),
    (
        "entities: every entity has exactly one filing account",
        _set("accounts", 0, "account_kind", "resources"),
    ),
    (
        "website_filings: website_filing_number is unique",
        _set("website_filings", 1, "website_filing_number", "浙ICP备1号-1"),
    ),
    (
        "website_filings: website_filing_number is not null",
        _set("website_filings", 1, "website_filing_number", None),
    ),
    (
        "website_filings: account_id is a filing account",
        _set("website_filings", 0, "account_id", "A2"),
    ),
    (
        "website_filings: account_id is a filing account",
        _set("website_filings", 0, "account_id", "A9"),
    ),
    (
        "website_filings: website_filing_number has a loaded disposition",
        _add("website_filings", website_filing_number="浙ICP备1号-2", account_id="A1"),
    ),
    ("domains: domain is unique", _set("domains", 1, "domain", "a.cn")),
    ("domains: domain is not null", _set("domains", 1, "domain", None)),
    (
        "domains: website_filing_number is a planned website",
        _set("domains", 2, "website_filing_number", "浙ICP备9号-1"),
    ),
    ("dispositions: row count equals input count", _count(6)),
    ("dispositions: row_id is unique", _set("dispositions", 4, "row_id", 1)),
    ("dispositions: row_id is not null", _set("dispositions", 4, "row_id", None)),
    (
        "dispositions: disposition is a known disposition",
        _set("dispositions", 4, "disposition", "lost"),
    ),
    ("dispositions: disposition is not null", _set("dispositions", 4, "disposition", None)),
    (
        "dispositions: loaded or duplicate rows have entity_id",
        _set("dispositions", 0, "entity_id", None),
    ),
    (
        "dispositions: loaded or duplicate rows have website_filing_number",
        _set("dispositions", 2, "website_filing_number", None),
    ),
]


def test_clean_plan_passes():
    check = validate_plan(clean_plan())
    assert check.failed == []
    assert check.success
    assert set(check.results) == {
        "accounts", "entities", "website_filings", "domains", "dispositions",
    }
    json.dumps(check.results)


def test_plan_results_hold_no_certificate_numbers():
    check = validate_plan(clean_plan())
    text = json.dumps(check.results, ensure_ascii=False)
    assert "330106199001011234" not in text
    assert "91330100MA27XXXXXX" not in text


@pytest.mark.parametrize(
    "rule,break_plan", PLAN_CASES, ids=[f"{c[0]}#{i}" for i, c in enumerate(PLAN_CASES)]
)
def test_broken_plan_fails_with_rule_named(rule, break_plan):
    plan = clean_plan()
    break_plan(plan)
    check = validate_plan(plan)
    assert not check.success
    assert rule in check.failed
    json.dumps(check.results)


def test_a_unique_rule_names_each_repeated_key_and_leaves_nulls_to_not_null():
    """A key held twice fails its unique rule on both rows, as GX's own unique rule would
    (the suite finds repeats by sorting: numeric.repeated); a null key fails only the
    not-null rule, and the counts leave it out."""
    plan = clean_plan()
    _set("domains", 1, "domain", "a.cn")(plan)
    _set("domains", 2, "domain", None)(plan)
    check = validate_plan(plan)
    assert {"domains: domain is unique", "domains: domain is not null"} <= set(check.failed)
    items = {rule_name(i): i for i in check.results["domains"]["results"]}
    unique = items["domain is unique"]
    def keys(item: dict) -> list:
        """The failing rows' keys (the suite's SUMMARY results list at most 20 a rule)."""
        return [row["domain"] for row in item["result"]["partial_unexpected_index_list"]]

    assert keys(unique) == ["a.cn", "a.cn"]
    assert unique["result"]["unexpected_count"] == 2
    assert unique["result"]["missing_count"] == 1
    assert keys(items["domain is not null"]) == [None]


def test_empty_plan_is_valid_when_no_input():
    check = validate_plan(Plan())
    assert check.success, check.failed


def test_empty_plan_with_input_fails_reconciliation():
    check = validate_plan(Plan(input_count=3))
    assert check.failed == ["dispositions: row count equals input count"]


def test_plan_missing_column_is_an_error():
    plan = clean_plan()
    plan.domains = plan.domains.drop(columns=["unicode_domain"])
    with pytest.raises(ValueError, match="domains lacks columns: unicode_domain"):
        validate_plan(plan)


def test_the_suite_reads_only_whether_a_checked_text_is_there(monkeypatch):
    """A run hands the suite its null-or-not columns as one marker (presence_only), not a
    string per record: GX gives the same result as on the text itself."""
    from icp_migrate.validation import record_suite

    cases = [("combination", dict(zip(COLUMN_VALUES, values, strict=True)), "")
             for values in itertools.product(*COLUMN_VALUES.values())]
    frame = record_frame([*RECORD_CASES, *cases])
    marked = record_suite.presence_only(frame)
    assert set(marked["website_filing_number"].dropna()) == {record_suite.PRESENT}
    assert marked["website_filing_number"].isna().tolist() == \
        frame["website_filing_number"].isna().tolist()
    check = validate_records(frame)
    monkeypatch.setattr(record_suite, "presence_only", lambda f: f)
    on_text = validate_records(frame)
    assert check.result["results"] == on_text.result["results"]
    assert check.result["statistics"] == on_text.result["statistics"]
    pd.testing.assert_frame_equal(check.failures, on_text.failures)


def test_a_run_validated_in_batches_has_the_result_of_one_validation(samples, monkeypatch):
    """check_records validates BATCH_ROWS records at a time (GX's memory grows with the
    rows it holds) and combines the results: the same counts, failing row ids, successes
    and failures as one validation of every record."""
    from icp_migrate.pipeline import stages

    records, _ = stages.read_normalized(str(samples / "hichina_beian.csv"), None)
    cutoff = pd.Timestamp("2019-01-01")
    whole = stages.check_records(records, cutoff)
    monkeypatch.setattr(stages, "BATCH_ROWS", 7)
    batched = stages.check_records(records, cutoff)
    assert len(records) > 3 * 7 and not whole.failures.empty
    assert batched.result["results"] == whole.result["results"]
    assert (batched.result["statistics"], batched.success) == (whole.result["statistics"],
                                                               whole.success)
    pd.testing.assert_frame_equal(batched.failures, whole.failures)


def _as_text(table: pa.Table) -> pd.DataFrame:
    """A plan table as plain pandas: text as str objects, one per cell."""
    return pd.DataFrame({
        name: pd.Series(table.column(name).to_pylist(),
                        dtype=object if pa.types.is_string(table.column(name).type) else None)
        for name in table.column_names})


def test_the_plan_suite_on_arrow_strings_gives_the_result_on_text(monkeypatch):
    """The plan suite hands GX its text as pandas strings backed by Arrow
    (plan_suite.as_checked): every rule, broken or not, has the result it has on the text
    itself, failing values and keys included."""
    from icp_migrate.validation import plan_suite

    def results(break_plan) -> dict:
        plan = clean_plan()
        break_plan(plan)
        return {table: [(item["success"], item["result"]) for item in result["results"]]
                for table, result in validate_plan(plan).results.items()}

    cases = [lambda plan: None, *(break_plan for _, break_plan in PLAN_CASES)]
    coded = [results(break_plan) for break_plan in cases]
    monkeypatch.setattr(plan_suite, "as_checked", _as_text)
    assert plan_suite.as_checked is _as_text
    on_text = [results(break_plan) for break_plan in cases]
    assert coded == on_text
    assert sum(not success for result in coded for items in result.values()
               for success, _ in items) >= len(PLAN_CASES)


@pytest.mark.parametrize(
    "rule,break_plan", [c for c in PLAN_CASES if not c[0].startswith("dispositions: row_id")],
    ids=[f"{c[0]}#{i}" for i, c in enumerate(PLAN_CASES)
         if not c[0].startswith("dispositions: row_id")])
def test_what_a_run_in_parts_keeps_is_checked_as_the_plan_itself(rule, break_plan):
    """A run in parts keeps only what the plan suite reads, some of it as flags and
    dictionaries (pipeline/part_load.KeptPlan): every rule, broken or not, has the result
    it has on the plan. (A plan whose dispositions' row ids are broken cannot be merged:
    its row ids are not the run's, and merging says so.)"""
    from icp_migrate.pipeline.part_load import KeptPlan
    from icp_migrate.validation.plan_suite import validate_keys

    plan = clean_plan()
    break_plan(plan)
    kept = KeptPlan()
    kept.add(plan)
    kept.merge(plan.dispositions["row_id"])
    got, want = validate_keys(kept), validate_plan(plan)
    assert outcomes(got.results) == outcomes(want.results)
    assert rule in got.failed
