"""The run's one ephemeral Great Expectations context, and named rules validated with it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..settings import quiet_great_expectations

# Before any GX import anywhere in the process: nothing may reach the network.
quiet_great_expectations()

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.data_context import EphemeralDataContext

_DATASOURCE = "icp_migrate"
_ASSET = "frame"
_BATCH = "whole_frame"
# The data source's execution engine (batch and metric caches) is shared: one run at a time.
_LOCK = threading.Lock()
_CONTEXT_LOCK = threading.Lock()  # the context is made once, by whichever thread asks first
_CONTEXTS: list[EphemeralDataContext] = []

# A row condition term: (column, op, value), op one of "null", "not_null", "==", "in".
Term = tuple[str, str, Any]

# Keys of a GX result that hold data values (or repeat the index list) rather than counts.
_VALUE_KEYS = (
    "unexpected_list",
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_index_query",
)


@dataclass(frozen=True)
class Rule:
    """One expectation with a stable name: the name is what a failure reports."""

    name: str
    expectation: str  # class name in great_expectations.expectations
    kwargs: dict[str, Any] = field(default_factory=dict)
    where: tuple[Term, ...] = ()  # rows the rule applies to (every term holds); () = all


def warm_up() -> threading.Thread:
    """Make the context in a background thread: importing GX takes seconds, which the CLI
    spends waiting for Prefect's API subprocess meanwhile. Join the thread before exiting."""
    thread = threading.Thread(target=_warm, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    try:
        get_context()
    except Exception:  # noqa: BLE001 - validate_frame makes it again and raises with context
        pass


def get_context() -> EphemeralDataContext:
    """The process's ephemeral context: progress bars off, one pandas whole-frame batch."""
    with _CONTEXT_LOCK:
        if not _CONTEXTS:
            _CONTEXTS.append(_new_context())
        return _CONTEXTS[0]


def _new_context() -> EphemeralDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX hashes every frame under 1 GB into a batch "fingerprint" (pd.util.hash_pandas_object:
    # ~10 s over the plan frames of a million-record run); nothing reads it, so skip it.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(_DATASOURCE).add_dataframe_asset(_ASSET)
    asset.add_batch_definition_whole_dataframe(_BATCH)
    return context


def build_suite(name: str, rules: Sequence[Rule]) -> Any:
    """An ExpectationSuite built from `rules`; not added to the context (nothing to store)."""
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=[_expectation(r) for r in rules])


def _expectation(rule: Rule) -> Any:
    from great_expectations import expectations as gxe

    condition = _condition(rule.where)
    extra = {} if condition is None else {"row_condition": condition}
    return getattr(gxe, rule.expectation)(**rule.kwargs, **extra, meta={"name": rule.name})


def _condition(where: tuple[Term, ...]) -> Any:
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        Column,
        ComparisonCondition,
        Condition,
        Operator,
    )

    parts: list[Condition] = []
    for column, op, value in where:
        col = Column(column)
        if op == "null":
            parts.append(col.is_null())
        elif op == "not_null":
            parts.append(col.is_not_null())
        elif op == "in":
            parts.append(col.is_in(value))
        elif op == "==":
            # Explicit, because `Column(c) == True` reads as a lint error.
            parts.append(ComparisonCondition(column=col, operator=Operator.EQUAL, parameter=value))
        else:
            raise ValueError(f"unknown row condition operator {op!r} on {column!r}")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AndCondition(conditions=parts)


def validate_frame(
    frame: pd.DataFrame,
    suite_name: str,
    rules: Sequence[Rule],
    *,
    index_columns: Sequence[str],
    result_format: str = "COMPLETE",
    with_values: bool = False,
) -> dict:
    """Validate `frame` once against the suite built from `rules`; the JSON-able result.

    Failing rows come back as `index_columns` values in each result's unexpected_index_list
    (see `failing_keys`); the failing values themselves only `with_values`.
    A rule GX could not evaluate (a missing column, a bad kwarg) raises: it is a bug, not data.
    """
    suite = build_suite(suite_name, rules)
    fmt = {
        "result_format": result_format,
        "unexpected_index_column_names": list(index_columns),
        # Also much faster: keys come back as one list per column, not one dict per row.
        "exclude_unexpected_values": not with_values,
    }
    with _LOCK:
        datasource = get_context().data_sources.get(_DATASOURCE)
        batch_definition = datasource.get_asset(_ASSET).get_batch_definition(_BATCH)
        try:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(suite, result_format=fmt).to_json_dict()
        finally:
            _release(datasource)
    for item in result["results"]:
        message = _exception_message(item.get("exception_info") or {})
        if message is not None:
            raise RuntimeError(
                f"{suite_name}: rule {rule_name(item)!r} could not be evaluated: {message}"
            )
    return result


def _exception_message(info: dict) -> str | None:
    # GX reports an expectation's own error flat, a failed metric's keyed by metric id.
    for entry in (info, *info.values()):
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


def _release(datasource: Any) -> None:
    # The shared engine keeps the last batch and its metrics alive: let a big frame go.
    engine = datasource.get_execution_engine()
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    metric_cache = getattr(engine, "_metric_cache", None)
    if isinstance(metric_cache, dict):
        metric_cache.clear()


def rule_name(item: dict) -> str:
    """The stable name of the rule behind one expectation result."""
    return str((item["expectation_config"].get("meta") or {}).get("name", ""))


def failing_keys(item: dict, column: str) -> list:
    """The `column` values of the rows one expectation result flags."""
    rows = item["result"].get("unexpected_index_list") or []
    # Without values GX returns [{column: [keys...]}]; with them, one dict per row.
    if len(rows) == 1 and isinstance(rows[0].get(column), list):
        return list(rows[0][column])
    return [row[column] for row in rows]


def scrub(result: dict, keep: Sequence[str]) -> dict:
    """`result` without data values: counts stay, failing rows keep only the `keep` columns."""
    items = []
    for item in result["results"]:
        body = {k: v for k, v in item["result"].items() if k not in _VALUE_KEYS}
        if "unexpected_index_list" in body:
            body["unexpected_index_list"] = [_keep(r, keep) for r in body["unexpected_index_list"]]
        items.append({**item, "result": body})
    return {**result, "results": items}


def _keep(row: Any, keep: Sequence[str]) -> Any:
    # Without unexpected_index_column_names GX lists bare positions instead of dicts.
    return {c: row.get(c) for c in keep} if isinstance(row, dict) else row
