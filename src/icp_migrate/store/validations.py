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
