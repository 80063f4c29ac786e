"""Valid synthetic certificates and canonical records for table-driven tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from stdnum.cn import ric, uscc

from icp_migrate.canonical import RAW_FIELDS
from icp_migrate.plan import Plan
from icp_migrate.rules import decide
from icp_migrate.rules.steps import expectation_failures
from icp_migrate.transforms.checkdigits import ORG_ALPHABET, org_code_check_char
from icp_migrate.transforms.records import normalize_records


def org_code(n: int) -> str:
    body = f"{n:08d}"
    check = int(org_code_check_char(np.array([[ORG_ALPHABET.index(c) for c in body]]))[0])
    return body + ("X" if check == 10 else str(check))


def uscc_for(n: int, prefix: str = "91330106") -> str:
    body = prefix + org_code(n)
    return body + uscc.calc_check_digit(body + "0")


def resident_id(n: int, birth: str = "19800101", area: str = "330106") -> str:
    head = f"{area}{birth}{n % 1000:03d}"
    return head + ric.calc_check_digit(head + "0")


def resident_id_15(n: int, birth: str = "800101", area: str = "330106") -> str:
    return f"{area}{birth}{n % 1000:03d}"


def record(**values: str | None) -> dict:
    """A canonical record (mapped, not normalized) of an in-scope website by default."""
    row: dict = {f: None for f in RAW_FIELDS}
    row.update(product="domain", entity_type="enterprise", province="浙江", filed_on="2015-03-02",
               member_id="m1")
    row.update(values)
    return row


def canonical_frame(rows: list[dict], source: str = "test.csv") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RAW_FIELDS), dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame.insert(0, "row_id", range(len(frame)))
    frame.insert(1, "source", source)
    frame.insert(2, "locator", [f"line {i + 2}" for i in range(len(frame))])
    frame.insert(3, "layout", "hichina_beian_csv")
    read_error = [r.get("read_error") for r in rows]
    frame.insert(4, "read_error", read_error)
    return frame


def rule_failures(flags: pd.DataFrame) -> pd.DataFrame:
    """What the record-level suite would fail, computed in pandas from the library's table
    of steps (the suite is the judge in a real run; tests/test_validation.py shows the two
    agree)."""
    return expectation_failures(flags)


def run_rules(canonical: pd.DataFrame, cutoff: str = "2019-01-01",
              snapshot: Plan | None = None) -> Plan:
    """Normalize, screen, group and plan: the Plan a run would load, dispositions included."""
    snapshot = snapshot or Plan()
    cut = pd.Timestamp(cutoff)
    records, domains = normalize_records(canonical)
    return decide(records, domains, snapshot, cut)


def with_decisions(plan: Plan, *decided: tuple[str, str, str | None],
                   snapshot: Plan | None = None) -> Plan:
    """`snapshot` (default: an empty store) whose conflict ledger holds `plan`'s held
    conflicts, with the decisions given as (conflict id, decision, chosen claimant)."""
    snapshot = snapshot or Plan()
    table = {conflict: (decision, chosen) for conflict, decision, chosen in decided}
    ledger = pd.DataFrame({
        "conflict_id": plan.conflicts["conflict_key"],
        "conflict_key": plan.conflicts["conflict_key"].str.replace(r"#\d+$", "", regex=True),
        "claimant": plan.conflicts["entity_id"]}, dtype=object)
    ledger["decision"] = ledger["conflict_id"].map(lambda k: table.get(k, (None, None))[0])
    ledger["chosen"] = ledger["conflict_id"].map(lambda k: table.get(k, (None, None))[1])
    unknown = set(table) - set(ledger["conflict_id"])
    assert not unknown, f"not conflicts of the plan: {unknown}"
    snapshot.ledger = pd.concat([snapshot.ledger, ledger], ignore_index=True).astype(object)
    return snapshot
