"""Plan-level expectations: one filing account per entity, consistent links, reconciled counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from icp_migrate.canonical import ACCOUNT_KINDS, DISPOSITIONS
from icp_migrate.plan import (
    ACCOUNT_COLUMNS,
    DISPOSITION_COLUMNS,
    DOMAIN_COLUMNS,
    ENTITY_COLUMNS,
    WEBSITE_COLUMNS,
    Plan,
    PlanTables,
)
from icp_migrate.validation.context import Rule, rule_name, validate_frame

FILING_KINDS = ("filing", "filing_and_resources")
RESULT_FORMAT = "SUMMARY"  # failing keys, at most 20 a rule: a broken plan is a bug, not data

_TABLE_COLUMNS = {
    "entities": ENTITY_COLUMNS,
    "accounts": ACCOUNT_COLUMNS,
    "website_filings": WEBSITE_COLUMNS,
    "domains": DOMAIN_COLUMNS,
    "dispositions": DISPOSITION_COLUMNS,
}
_CARRIES_WEBSITE = ("disposition", "in", ["loaded", "duplicate"])


@dataclass
class PlanCheck:
    """Whether the plan may be loaded; `failed` names each failed rule as 'table: rule'."""

    success: bool
    failed: list[str]
    results: dict  # table -> JSON-able validation result


def _unique(column: str, where: tuple = ()) -> Rule:
    return Rule(f"{column} is unique", "ExpectColumnValuesToBeUnique", {"column": column}, where)


def _not_null(column: str, name: str | None = None, where: tuple = ()) -> Rule:
    name = name or f"{column} is not null"
    return Rule(name, "ExpectColumnValuesToNotBeNull", {"column": column}, where)


def _in_set(column: str, values: tuple | list, name: str) -> Rule:
    return Rule(name, "ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)})


def _true(flag: str, name: str) -> Rule:
    return _in_set(flag, [True], name)


def _accounts(plan: PlanTables) -> tuple[pd.DataFrame, str, tuple[Rule, ...]]:
    key = ACCOUNT_COLUMNS[0]
    rules = (
        _unique(key),
        _not_null(key),
        _in_set("account_kind", ACCOUNT_KINDS, "account_kind is a known kind"),
        _not_null("account_kind"),
        Rule(
            "one filing account per entity",
            "ExpectColumnValuesToBeUnique",
            {"column": "entity_id"},
            where=(("account_kind", "in", list(FILING_KINDS)),),
        ),
    )
    return plan.table("accounts", (key, "entity_id", "account_kind")), key, rules


def _entities(plan: PlanTables) -> tuple[pd.DataFrame, str, tuple[Rule, ...]]:
    counts = _filing_accounts(plan)["entity_id"].value_counts()
    ids = plan.table("entities", ("entity_id",))["entity_id"]
    frame = pd.DataFrame(
        {
            "entity_id": ids.to_numpy(),
            "filing_accounts": ids.map(counts).fillna(0).astype("int64").to_numpy(),
        }
    )
    rule = Rule(
        "every entity has exactly one filing account",
        "ExpectColumnValuesToBeBetween",
        {"column": "filing_accounts", "min_value": 1, "max_value": 1},
    )
    return frame, "entity_id", (rule,)


def _websites(plan: PlanTables) -> tuple[pd.DataFrame, str, tuple[Rule, ...]]:
    key = WEBSITE_COLUMNS[0]
    sites = plan.table("website_filings", (key, "account_id"))
    disp = plan.table("dispositions", ("disposition", "website_filing_number"))
    loaded = disp.loc[disp["disposition"] == "loaded", "website_filing_number"]
    frame = pd.DataFrame(
        {
            key: sites[key].to_numpy(),
            "account_id": sites["account_id"].to_numpy(),
            "in_filing_account": _isin(sites["account_id"], _filing_accounts(plan)["account_id"]),
            "has_loaded_disposition": _isin(sites[key], loaded),
        }
    )
    rules = (
        _unique(key),
        _not_null(key),
        _true("in_filing_account", "account_id is a filing account"),
        _true("has_loaded_disposition", f"{key} has a loaded disposition"),
    )
    return frame, key, rules


def _domains(plan: PlanTables) -> tuple[pd.DataFrame, str, tuple[Rule, ...]]:
    key = DOMAIN_COLUMNS[0]
    domains = plan.table("domains", (key, "website_filing_number"))
    planned = plan.table("website_filings", ("website_filing_number",))["website_filing_number"]
    frame = pd.DataFrame(
        {
            key: domains[key].to_numpy(),
            "website_filing_number": domains["website_filing_number"].to_numpy(),
            "website_planned": _isin(domains["website_filing_number"], planned),
        }
    )
    rules = (
        _unique(key),
        _not_null(key),
        _true("website_planned", "website_filing_number is a planned website"),
    )
    return frame, key, rules


def _dispositions(plan: PlanTables) -> tuple[pd.DataFrame, str, tuple[Rule, ...]]:
    key = DISPOSITION_COLUMNS[0]
    columns = [key, "disposition", "entity_id", "website_filing_number"]
    rules = (
        Rule(
            "row count equals input count",
            "ExpectTableRowCountToEqual",
            {"value": int(plan.input_count)},
        ),
        _unique(key),
        _not_null(key),
        _in_set("disposition", DISPOSITIONS, "disposition is a known disposition"),
        _not_null("disposition"),
        *(
            _not_null(c, f"loaded or duplicate rows have {c}", where=(_CARRIES_WEBSITE,))
            for c in ("entity_id", "website_filing_number")
        ),
    )
    return plan.table("dispositions", columns), key, rules


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    # As object: pandas 3.1's pyarrow `str` isin is ~10x slower (0.5 s at 100k). A null is
    # never in the set.
    return values.astype(object).isin(allowed.dropna().astype(object)).to_numpy()


def _filing_accounts(plan: PlanTables) -> pd.DataFrame:
    accounts = plan.table("accounts", ("account_id", "entity_id", "account_kind"))
    return accounts.loc[accounts["account_kind"].isin(FILING_KINDS)]


_TABLES = {
    "accounts": _accounts,
    "entities": _entities,
    "website_filings": _websites,
    "domains": _domains,
    "dispositions": _dispositions,
}


def validate_plan(plan: Plan) -> PlanCheck:
    """One validation run per table; the plan passes when every rule of every table does."""
    for table, columns in _TABLE_COLUMNS.items():
        missing = [c for c in columns if c not in getattr(plan, table).columns]
        if missing:
            raise ValueError(f"plan table {table} lacks columns: {', '.join(missing)}")
    return validate_keys(plan)


# The columns the rules read, by table: all a plan needs to be checked (a run loaded in
# parts keeps only these of each part: pipeline/part_load.py).
CHECKED_COLUMNS = {
    "entities": ("entity_id",),
    "accounts": ("account_id", "entity_id", "account_kind"),
    "website_filings": ("website_filing_number", "account_id"),
    "domains": ("domain", "website_filing_number"),
    "dispositions": ("row_id", "disposition", "entity_id", "website_filing_number"),
}


def validate_keys(plan: PlanTables) -> PlanCheck:
    """`validate_plan` of a plan holding at least CHECKED_COLUMNS of each table."""
    results: dict[str, dict] = {}
    failed: list[str] = []
    for table, build in _TABLES.items():
        frame, key, rules = build(plan)
        result = validate_frame(
            frame,
            f"plan_{table}",
            rules,
            index_columns=[key],
            result_format=RESULT_FORMAT,
            with_values=True,
        )
        results[table] = result
        failed.extend(f"{table}: {rule_name(i)}" for i in result["results"] if not i["success"])
    return PlanCheck(success=not failed, failed=failed, results=results)
