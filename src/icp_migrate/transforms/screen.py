"""Steps 1-3 of the disposition order: unreadable, out of scope, no usable filing number."""

from __future__ import annotations

import numpy as np
import pandas as pd


def scope_flags(records: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The columns the record-level suite validates (see validation/record_suite.py)."""
    frame = records[["row_id", "read_error", "in_scope_product", "filed_on",
                     "website_filing_number"]].copy()
    frame["before_cutoff"] = (records["filed_on"] < cutoff).fillna(False).astype(bool)
    return frame


def screen(records: pd.DataFrame, failures: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """row_id, disposition, reasons for the records steps 1-3 decide (others: None).

    `failures` (row_id, reasons) are the rows the record-level expectations failed; the
    reasons name the expectations, followed by the problem found while normalizing.
    """
    failed = records["row_id"].map(failures.set_index("row_id")["reasons"])
    failed = failed.fillna("rule").astype("str")
    readable = records["read_error"].isna()
    in_product = records["in_scope_product"]
    dated = records["filed_on"].notna()
    late = dated & (records["filed_on"] >= cutoff)
    steps = [
        (~readable, "quarantined", failed + ": " + records["read_error"].astype(str)),
        (~in_product, "out_of_scope",
         "product not migrated: " + records["product"].fillna("(blank)").astype(str)),
        (~dated, "quarantined", failed + ": " + records["date_problem"].astype(str)),
        (late, "out_of_scope", "filed on " + records["filed_on"].dt.strftime("%Y-%m-%d")
         + ", on or after the cut-off " + cutoff.strftime("%Y-%m-%d")),
        (records["website_filing_number"].isna(), "quarantined",
         failed + ": " + records["website_number_problem"].astype(str)),
    ]
    conditions = [c.to_numpy(dtype=bool) for c, _, _ in steps]
    out = pd.DataFrame({"row_id": records["row_id"]})
    choices = [np.full(len(records), d, dtype=object) for _, d, _ in steps]
    out["disposition"] = np.select(conditions, choices, default=np.array(None))
    out["reasons"] = np.select(conditions, [r.astype(object).to_numpy() for _, _, r in steps],
                               default=np.array(None))
    return out
