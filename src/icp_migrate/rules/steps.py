"""Steps 1-3 of the disposition order (docs/rules.md), written once as an ordered table.

From this one table come:

- the screen's dispositions and reasons (`rules/screen.py`);
- the record-level Great Expectations suite, one expectation per quarantining step with
  its row condition (`validation/record_suite.py`), the judge in a real run;
- `expectation_failures`, the same expectations computed in pandas (what tests use;
  `tests/test_validation.py` checks it agrees with the suite).

Each step reads one column of the frame `screen.scope_flags` builds. A record takes the
disposition of the first step it fails. A step applies only to records that passed the
earlier steps it names in `given`; those steps' pass conditions become the expectation's
row condition, so records out of scope never fail an expectation (D-8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# A pass condition on one column: (column, op, value), op one of "null", "not_null", "==";
# the shape of a row condition term of validation/context.py.
Term = tuple[str, str, Any]

# The GX expectation checking that every applicable row passes, by pass condition.
EXPECTATION_FOR = {
    "null": "ExpectColumnValuesToBeNull",
    "not_null": "ExpectColumnValuesToNotBeNull",
}


@dataclass(frozen=True)
class Step:
    """One step of the disposition order: the first one a record fails decides it."""

    number: int  # the step of docs/rules.md "Disposition order"
    name: str  # the expectation's name (a quarantine reason starts with it) or the scope rule's
    disposition: str
    column: str  # the column of the scope_flags frame it checks
    op: str  # how a record passes: "null", "not_null", or "==" `value`
    value: Any
    given: tuple[str, ...]  # earlier steps a record must have passed for this one to apply
    # The reason text from the normalized records and the cut-off; a quarantining step's
    # reason follows the names of the expectations the record failed ("name: text").
    reason: Callable[[pd.DataFrame, pd.Timestamp], pd.Series]
    expectation: bool  # a record-level expectation (quarantine) or a scope rule

    @property
    def passes(self) -> Term:
        return (self.column, self.op, self.value)


def _problem(column: str) -> Callable[[pd.DataFrame, pd.Timestamp], pd.Series]:
    """The problem normalization found, as text."""

    def text(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
        return records[column].astype(str)

    return text


def _product(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    return "product not migrated: " + records["product"].fillna("(blank)").astype(str)


def _late(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    return ("filed on " + records["filed_on"].dt.strftime("%Y-%m-%d")
            + ", on or after the cut-off " + cutoff.strftime("%Y-%m-%d"))


STEPS: tuple[Step, ...] = (
    Step(1, "record_readable", "quarantined", "read_error", "null", None,
         given=(), reason=_problem("read_error"), expectation=True),
    Step(2, "product_migrated", "out_of_scope", "in_scope_product", "==", True,
         given=("record_readable",), reason=_product, expectation=False),
    Step(2, "filed_on_present", "quarantined", "filed_on", "not_null", None,
         given=("record_readable", "product_migrated"), reason=_problem("date_problem"),
         expectation=True),
    Step(2, "filed_before_cutoff", "out_of_scope", "before_cutoff", "==", True,
         given=("record_readable", "product_migrated", "filed_on_present"), reason=_late,
         expectation=False),
    # A record before the cut-off has a date: filed_on_present is implied, not a condition.
    Step(3, "website_filing_number_usable", "quarantined", "website_filing_number",
         "not_null", None,
         given=("record_readable", "product_migrated", "filed_before_cutoff"),
         reason=_problem("website_number_problem"), expectation=True),
)

_BY_NAME = {step.name: step for step in STEPS}

# The record-level expectations, in disposition order (also the order of joined reasons).
EXPECTATION_STEPS = tuple(step for step in STEPS if step.expectation)
# The columns the steps check, in step order: the record suite's frame besides row_id.
STEP_COLUMNS = tuple(step.column for step in STEPS)
# Flags: a missing value counts as False.
FLAG_COLUMNS = tuple(step.column for step in STEPS if step.op == "==")


def where(step: Step) -> tuple[Term, ...]:
    """The row condition of `step`: every step it is given passed."""
    return tuple(_BY_NAME[name].passes for name in step.given)


def holds(flags: pd.DataFrame, term: Term) -> np.ndarray:
    """Where `term` holds on `flags`, as a bool array (a missing flag is False)."""
    column, op, value = term
    values = flags[column]
    if op == "null":
        return values.isna().to_numpy(dtype=bool)
    if op == "not_null":
        return values.notna().to_numpy(dtype=bool)
    if op == "==":
        return (values.fillna(False).astype(bool) == value).to_numpy(dtype=bool)
    raise ValueError(f"unknown pass condition {op!r} on {column!r}")


def fails(flags: pd.DataFrame, step: Step) -> np.ndarray:
    """Where `step` applies (its given steps passed) and the record does not pass it."""
    applies = np.ones(len(flags), dtype=bool)
    for term in where(step):
        applies &= holds(flags, term)
    return applies & ~holds(flags, step.passes)


def expectation_failures(flags: pd.DataFrame) -> pd.DataFrame:
    """The record-level expectations' failures computed in pandas: row_id, reasons (the
    failed expectations' names '; '-joined in step order), by row_id; the same frame as
    validation.record_suite.validate_records(flags).failures."""
    row_ids = flags["row_id"].to_numpy()
    reasons: dict[int, list[str]] = {}
    for step in EXPECTATION_STEPS:
        for key in row_ids[fails(flags, step)]:
            reasons.setdefault(int(key), []).append(step.name)
    ids = sorted(reasons)
    return pd.DataFrame(
        {
            "row_id": pd.Series(ids, dtype="int64"),
            "reasons": pd.Series(["; ".join(reasons[i]) for i in ids], dtype="str"),
        }
    )
