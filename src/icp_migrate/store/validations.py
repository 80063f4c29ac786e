"""The Great Expectations results of each run, one JSON document per suite."""

from __future__ import annotations

import json

from sqlalchemy import Boolean, Connection, Engine, ForeignKey, String, Text, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from icp_migrate.store.schema import Base


class RunValidation(Base):
    __tablename__ = "run_validations"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    suite: Mapped[str] = mapped_column(String, primary_key=True)
    success: Mapped[bool] = mapped_column(Boolean)
    # The JSON-able GX result; the record suite's is scrubbed of data values (row ids only).
    result: Mapped[str | None] = mapped_column(Text)


run_validations = Base.metadata.tables["run_validations"]


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
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            _replace(connection, run_id, rows)
    else:
        _replace(bind, run_id, rows)


def _replace(connection: Connection, run_id: str, rows: list[dict]) -> None:
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
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).all()
    else:
        rows = bind.execute(query).all()
    return {suite: json.loads(text) if text else {} for suite, text in rows}
