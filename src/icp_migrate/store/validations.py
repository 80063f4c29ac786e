"""The Great Expectations results of each run, one JSON document per suite."""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine, delete, insert, select

from icp_migrate.store.binds import connected, transaction
from icp_migrate.store.schema import run_validations


def save_validations(bind: Engine | Connection, run_id: str, results: dict[str, dict]) -> None:
    """Store `results` (suite name -> GX result) for the run, replacing what it had."""
    rows = [
        {
            "run_id": run_id,
            "suite": suite,
            "success": bool(result.get("success")),
            "result": json.dumps(result, ensure_ascii=False, sort_keys=True, default=str),
        }
        for suite, result in results.items()
    ]
    with transaction(bind) as connection:
        connection.execute(delete(run_validations).where(run_validations.c.run_id == run_id))
        if rows:
            connection.execute(insert(run_validations), rows)


def read_validations(bind: Engine | Connection, run_id: str) -> dict[str, dict]:
    """Suite name -> GX result of the run, in suite-name order; {} when none were saved."""
    query = (
        select(run_validations.c.suite, run_validations.c.result)
        .where(run_validations.c.run_id == run_id)
        .order_by(run_validations.c.suite)
    )
    with connected(bind) as connection:
        rows = connection.execute(query).all()
    return {suite: json.loads(text) if text else {} for suite, text in rows}


def failing_row_ids(validations: dict[str, dict], per_expectation: int) -> list[int]:
    """The first `per_expectation` row ids each expectation of the record suite flags,
    without repeats (GX knows the failing records by their `row_id` only)."""
    ids: dict[int, None] = {}
    for item in (validations.get("records") or {}).get("results") or []:
        ids.update((i, None) for i in flagged_row_ids(item)[:per_expectation])
    return list(ids)


def flagged_row_ids(item: dict) -> list[int]:
    """The row ids one stored expectation result flags: GX gives `[{"row_id": [ids]}]`
    without values, one `{"row_id": id}` per row with them; [] when it names no row id."""
    rows = (item.get("result") or {}).get("unexpected_index_list") or []
    if not all(isinstance(r, dict) and set(r) == {"row_id"} for r in rows):
        return []
    if len(rows) == 1 and isinstance(rows[0]["row_id"], list):
        return [int(i) for i in rows[0]["row_id"]]
    return [int(r["row_id"]) for r in rows]
