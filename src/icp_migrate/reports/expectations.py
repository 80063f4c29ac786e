"""The Great Expectations results of a run as rows: one per suite, one per expectation."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from icp_migrate.masking import mask_text
from icp_migrate.store.validations import flagged_row_ids

SUITE_COLUMNS = ["suite", "success", "evaluated", "successful", "unsuccessful"]
EXPECTATION_COLUMNS = [
    "suite", "rule", "expectation", "column", "condition", "arguments", "success",
    "element_count", "unexpected_count", "unexpected_percent", "observed", "examples",
]
_NOT_ARGUMENTS = {"batch_id", "column", "row_condition"}
EXAMPLES = 10  # failing values shown per expectation


def suite_rows(validations: dict[str, dict]) -> pd.DataFrame:
    """Suite name, success, and its expectation counts (records first, then plan tables)."""
    rows = []
    for suite, result in _ordered(validations):
        stats = result.get("statistics") or {}
        rows.append({
            "suite": suite,
            "success": bool(result.get("success")),
            "evaluated": int(stats.get("evaluated_expectations", 0)),
            "successful": int(stats.get("successful_expectations", 0)),
            "unsuccessful": int(stats.get("unsuccessful_expectations", 0)),
        })
    return pd.DataFrame(rows, columns=SUITE_COLUMNS)


def where(locators: pd.DataFrame) -> dict[int, str]:
    """Row id -> `source:locator` (`a.csv:line 3`) of `locators` (row_id, source, locator):
    how the report names a record GX flagged."""
    return {int(i): f"{'' if s is None else s}:{'' if loc is None else loc}"
            for i, s, loc in zip(locators["row_id"], locators["source"], locators["locator"],
                                 strict=True)}


def expectation_rows(validations: dict[str, dict],
                     located: dict[int, str] | None = None) -> pd.DataFrame:
    """One row per expectation: its rule name, what it checks, and the counts it found;
    the records the record suite flags named by `located` (row id -> source:locator)."""
    rows = []
    for suite, result in _ordered(validations):
        for item in result.get("results") or []:
            config = item.get("expectation_config") or {}
            kwargs = config.get("kwargs") or {}
            body = item.get("result") or {}
            rows.append({
                "suite": suite,
                "rule": str((config.get("meta") or {}).get("name", "")),
                "expectation": str(config.get("type", "")),
                "column": str(kwargs.get("column", "")),
                "condition": condition_text(kwargs.get("row_condition")),
                "arguments": _arguments(kwargs),
                "success": bool(item.get("success")),
                "element_count": body.get("element_count"),
                "unexpected_count": body.get("unexpected_count"),
                "unexpected_percent": body.get("unexpected_percent"),
                "observed": _value(body.get("observed_value")),
                "examples": _examples(item, located or {}),
            })
    return pd.DataFrame(rows, columns=EXPECTATION_COLUMNS, dtype=object)  # counts stay int


def condition_text(condition: Any) -> str:
    """A GX row condition as text: `read_error is null and in_scope_product == True`."""
    if not condition:
        return ""
    if isinstance(condition, str):
        return condition
    if not isinstance(condition, dict):
        return str(condition)
    kind = condition.get("type")
    if kind in ("and", "or"):
        return f" {kind} ".join(condition_text(c) for c in condition.get("conditions", []))
    column = (condition.get("column") or {}).get("name", "?")
    if kind == "nullity":
        return f"{column} is {'null' if condition.get('is_null') else 'not null'}"
    if kind == "comparison":
        return f"{column} {condition.get('operator')} {_value(condition.get('parameter'))}"
    return json.dumps(condition, ensure_ascii=False, sort_keys=True)


def _ordered(validations: dict[str, dict]) -> list[tuple[str, dict]]:
    return sorted(validations.items(), key=lambda kv: (kv[0] != "records", kv[0]))


def _arguments(kwargs: dict) -> str:
    rest = {k: v for k, v in kwargs.items() if k not in _NOT_ARGUMENTS}
    return ", ".join(f"{k}={_value(v)}" for k, v in sorted(rest.items()))


def _value(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                             default=str)
    return mask_text(text)


def _examples(item: dict, located: dict[int, str]) -> str:
    """A few failing values (plan suites, masked) or records (record suite: source:line,
    `row_id N` for a row the run's dispositions do not hold)."""
    body = item.get("result") or {}
    values = body.get("partial_unexpected_list")
    if values:
        shown = [_value(v) for v in list(values)[:EXAMPLES]]
    else:
        values = flagged_row_ids(item) or body.get("unexpected_index_list") or []
        shown = [located.get(v, f"row_id {v}") if isinstance(v, int) else _value(v)
                 for v in list(values)[:EXAMPLES]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" … (+{more})" if more > 0 else "")
