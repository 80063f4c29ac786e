"""Writing a run to the store: its runs row, then the whole plan in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from icp_migrate.errors import TargetError
from icp_migrate.masking import mask_text
from icp_migrate.plan import Plan
from icp_migrate.store import bulk
from icp_migrate.store.schema import (
    accounts,
    domains,
    entities,
    entity_links,
    record_dispositions,
    run_conflicts,
    runs,
    website_filings,
)
from icp_migrate.store.target import display_url

# Rows per executemany or COPY batch: bounds the memory of the row tuples.
CHUNK_ROWS = bulk.CHUNK_ROWS
INTERRUPTED = "interrupted (found running at the start of a later run)"
COUNT_COLUMNS = (
    "records_in",
    "loaded",
    "duplicate",
    "out_of_scope",
    "quarantined",
    "needs_review",
    "entities",
    "accounts",
    "websites",
    "domains",
)
_DATE_COLUMNS = {"filed_on"}


def start_run(engine: Engine, run_id: str, started_at: datetime, sources: list[str]) -> None:
    """Record a `running` run; a run still `running` from before can only have died."""
    with _target_errors(engine, f"starting run {run_id}"), engine.begin() as connection:
        connection.execute(
            update(runs)
            .where(runs.c.status == "running")
            .values(status="failed", error=INTERRUPTED)
        )
        connection.execute(
            insert(runs).values(
                run_id=run_id,
                started_at=started_at,
                status="running",
                sources=json.dumps(list(sources), ensure_ascii=False),
            )
        )


def load_plan(engine: Engine, run_id: str, plan: Plan, counts: dict[str, int]) -> None:
    """Upsert the plan's rows, add the run's dispositions and links, mark the run completed."""
    unknown = set(counts) - set(COUNT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown run counts: {sorted(unknown)}")
    totals = {name: int(value) for name, value in counts.items()}
    with (_target_errors(engine, f"loading run {run_id}"), engine.begin() as connection,
          bulk.session(connection)):
        # Lock the run row first: a later start_run must not mark it failed mid-load.
        status = connection.execute(
            select(runs.c.status).where(runs.c.run_id == run_id).with_for_update()
        ).scalar_one_or_none()
        if status != "running":
            raise TargetError(f"run {run_id} is {status or 'unknown'} in the target, not running")
        # Parents before children, so every foreign key holds at each statement.
        _upsert(connection, entities, plan.entities)
        _upsert(connection, accounts, plan.accounts)
        _upsert(connection, website_filings, plan.website_filings)
        _upsert(connection, domains, plan.domains)
        _insert(connection, record_dispositions, plan.dispositions, run_id)
        _insert(connection, entity_links, plan.links, run_id)
        _insert(connection, run_conflicts, plan.conflicts, run_id)
        connection.execute(
            update(runs)
            .where(runs.c.run_id == run_id)
            .values(status="completed", finished_at=_now(), error=None, **totals)
        )


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    """Mark the run failed; the message is masked, since errors may quote source values."""
    with _target_errors(engine, f"recording the failure of run {run_id}"), engine.begin() as c:
        c.execute(
            update(runs)
            .where(runs.c.run_id == run_id)
            .values(status="failed", finished_at=_now(), error=mask_text(error))
        )


def _upsert(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert new rows; update an existing row only where a value differs (no-op reruns)."""
    key = [column.name for column in table.primary_key.columns]
    names = [column.name for column in table.columns]
    _check_columns(table, frame, names)
    if frame.duplicated(subset=key).any():
        raise ValueError(f"plan has duplicate {table.name} keys {key}")
    bulk.upsert(connection, table, frame, CHUNK_ROWS)


def _insert(connection: Connection, table: Table, frame: pd.DataFrame, run_id: str) -> None:
    names = [column.name for column in table.columns if column.name != "run_id"]
    _check_columns(table, frame, names)
    bulk.insert(connection, table, frame, {"run_id": run_id}, CHUNK_ROWS)


def _check_columns(table: Table, frame: pd.DataFrame, names: list[str]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"plan frame for {table.name} lacks columns {missing}")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def _target_errors(engine: Engine, action: str) -> Iterator[None]:
    """Database failures become one TargetError line; driver details may quote values."""
    try:
        yield
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error) as exc:  # bulk.py uses the DBAPI
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = mask_text(message[0]) if message else type(exc).__name__
        raise TargetError(f"{action} failed in {display_url(engine.url)}: {first}") from exc
