"""The Great Expectations results of a run as rows: one per suite, one per expectation."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from icp_migrate.masking import mask_text

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


def expectation_rows(validations: dict[str, dict]) -> pd.DataFrame:
    """One row per expectation: its rule name, what it checks, and the counts it found."""
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
                "examples": _examples(body),
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


def _examples(body: dict) -> str:
    """A few failing values (plan suites) or row ids (record suite), masked."""
    values = body.get("partial_unexpected_list")
    if not values:
        index = body.get("unexpected_index_list") or []
        if len(index) == 1 and isinstance(index[0], dict) and len(index[0]) == 1:
            # the record suite: failing row ids, one list per key column
            (column, keys), = index[0].items()
            values = [f"{column} {k}" for k in (keys if isinstance(keys, list) else [keys])]
        else:
            values = index
    shown = [_value(v) for v in list(values)[:EXAMPLES]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" … (+{more})" if more > 0 else "")
