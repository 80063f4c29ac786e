"""Steps 1-3 of the disposition order: unreadable, out of scope, no usable filing number.

The steps themselves are the table in rules/steps.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frames import SCREENED, conform
from .steps import STEPS, fails

# The records' columns scope_flags reads, and those screen reads (its steps' reasons too):
# a run held as Arrow (compact.py) converts only these for the whole run.
FLAG_COLUMNS = ("row_id", "read_error", "in_scope_product", "filed_on",
                "website_filing_number")
SCREEN_COLUMNS = FLAG_COLUMNS + ("product", "date_problem", "website_number_problem")


def scope_flags(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The columns the record-level suite validates (see validation/record_suite.py)."""
    frame = records[list(FLAG_COLUMNS)].copy()
    frame["before_cutoff"] = (records["filed_on"] < cutoff).fillna(False).astype(bool)
    return frame


def screen(records: pd.DataFrame, failures: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """row_id, disposition, reasons for the records steps 1-3 decide (others: None): the
    disposition of the first step of rules/steps.py:STEPS each record fails.

    `failures` (row_id, reasons) are the rows the record-level expectations failed; the
    reasons name the expectations, followed by the problem found while normalizing.
    """
    flags = scope_flags(records, cutoff)
    conditions = [fails(flags, step) for step in STEPS]
    step_of = np.select(conditions, np.arange(len(STEPS)), default=-1)  # the first failed
    disposition = np.full(len(records), None, dtype=object)
    reasons = np.full(len(records), None, dtype=object)
    reasons_of = failures.set_index("row_id")["reasons"]
    for number, step in enumerate(STEPS):  # each reason built for the rows it decides only
        rows = np.flatnonzero(step_of == number)
        if not len(rows):
            continue
        decided = records.iloc[rows]
        text = step.reason(decided, cutoff)
        if step.expectation:
            failed = decided["row_id"].map(reasons_of).fillna("rule").astype("str")
            text = failed + ": " + text
        disposition[rows] = step.disposition
        reasons[rows] = text.astype(object).to_numpy()
    out = pd.DataFrame({"row_id": records["row_id"]})
    out["disposition"] = disposition
    out["reasons"] = reasons
    return conform(out, SCREENED)
