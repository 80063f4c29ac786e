"""Writing a run to the store: its runs row, then the whole plan in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from icp_migrate import progress
from icp_migrate.errors import PlanValidationError, TargetError
from icp_migrate.masking import mask_text
from icp_migrate.plan import Plan
from icp_migrate.store import bulk
from icp_migrate.store.backend import backend_of
from icp_migrate.store.schema import (
    accounts,
    changes,
    conflict_competitors,
    conflicts,
    domains,
    entities,
    entity_links,
    record_dispositions,
    run_conflicts,
    runs,
    website_filings,
)
from icp_migrate.store.target import display_url

from ..rules.ledger import conflict_key_of, conflict_kind

if TYPE_CHECKING:
    from icp_migrate.run_settings import RunSettings

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


def start_run(engine: Engine, run_id: str, started_at: datetime, sources: list[str],
              settings: RunSettings | None = None) -> None:
    """Record a `running` run with its settings (cut-off, mapping, source hashes: what a
    re-run needs); a run still `running` from before can only have died."""
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
                **(settings.columns() if settings is not None else {}),
            )
        )


def load_plan(engine: Engine, run_id: str, plan: Plan, counts: dict[str, int]) -> None:
    """Upsert the plan's rows, add the run's dispositions and links, mark the run completed."""
    expected = {name: len(getattr(plan, name)) for name, _ in _PLAN_TABLES}
    with loading(engine, run_id, expected) as load:
        load.add(plan)
        load.finish(plan.changes, counts)


# The plan's frames each load writes as it comes, parents before children so every
# foreign key holds at each statement: (Plan attribute, table).
_PLAN_TABLES = (("entities", entities), ("accounts", accounts),
                ("website_filings", website_filings), ("domains", domains),
                ("dispositions", record_dispositions), ("links", entity_links))
_UPSERTED = ("entities", "accounts", "website_filings", "domains")
# The big tables a report reads a run's rows of (`WHERE run_id = :run`): their planner
# statistics made anew by each load (Backend.statistics).
_RUN_KEYED = (record_dispositions, entity_links)


@contextmanager
def loading(engine: Engine, run_id: str, expected: Mapping[str, int]) -> Iterator[PlanLoad]:
    """A run's load: one transaction, into which the plan goes in one piece or part by part
    (`PlanLoad.add`), committed once `PlanLoad.finish` marked the run completed; anything
    raised before rolls it all back. `expected`: about how many rows each plan frame will
    bring (by Plan attribute), to decide whether an empty table's indexes are worth
    dropping for the load and making again at its end."""
    with (_target_errors(engine, f"loading run {run_id}"), engine.begin() as connection,
          bulk.session(connection)):
        # Lock the run row first: a later start_run must not mark it failed mid-load.
        status = connection.execute(
            select(runs.c.status).where(runs.c.run_id == run_id).with_for_update()
        ).scalar_one_or_none()
        if status != "running":
            raise TargetError(f"run {run_id} is {status or 'unknown'} in the target, not running")
        with ExitStack() as upkeep:
            load = PlanLoad(connection, run_id, upkeep)
            for name, table in _PLAN_TABLES:
                if load.fresh[name]:
                    rows = int(expected.get(name, 0))
                    upkeep.enter_context(bulk.deferred_upkeep(connection, table, rows))
                    stage = upkeep.enter_context(bulk.staged(connection, table, rows))
                    if stage is not None:
                        load.stages[name] = stage
            yield load
        if not load.finished:
            raise RuntimeError(f"the load of run {run_id} ended before it was finished")
    backend_of(engine).statistics_made(engine)


class PlanLoad:
    """The rows of a run's plan going into the store, a part at a time (`add`), in the
    load's one transaction (`loading`). The parts of a run share no key (rules/parts.py),
    so a table that was empty when the load began takes every part as plain inserts; a
    big one's rows gather in its stage where the backend has one (`bulk.staged`), and go
    into it in key order at `finish`."""

    def __init__(self, connection: Connection, run_id: str, upkeep: ExitStack) -> None:
        self.connection = connection
        self.run_id = run_id
        self.fresh = {name: bulk.empty(connection, table) for name, table in _PLAN_TABLES}
        self.finished = False
        self.stages: dict[str, Table] = {}  # Plan attribute -> where its rows gather
        self._upkeep = upkeep

    def add(self, plan: Plan) -> None:
        """A plan's rows (a part's, or a whole run's), all but its history (`finish`)."""
        connection, run_id = self.connection, self.run_id
        # the rows written in bulk (rows.py, copy_text.py count each chunk as it goes)
        progress.expect("load", sum(len(getattr(plan, name)) for name, _ in _PLAN_TABLES)
                        + len(plan.conflicts), "rows")
        for name, table in _PLAN_TABLES:
            frame, into = getattr(plan, name), self.stages.get(name, table)
            if name in _UPSERTED:
                _upsert(connection, table, frame, self.fresh[name], into)
            else:
                _insert(connection, into, frame, run_id)
        _insert(connection, run_conflicts, plan.conflicts, run_id)
        _remove_domains(connection, plan.removed_domains["domain"].tolist())
        _write_ledger(connection, run_id, plan)

    def finish(self, history: pd.DataFrame, counts: dict[str, int]) -> None:
        """The deferred indexes made again, the run's history (`changes` rows, numbered for
        the whole run) written, and the run marked completed with its `counts`."""
        unknown = set(counts) - set(COUNT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown run counts: {sorted(unknown)}")
        totals = {name: int(value) for name, value in counts.items()}
        for name, table in _PLAN_TABLES:  # parents first: each foreign key holds
            if name in self.stages:
                bulk.unstage(self.connection, table, self.stages[name])
        self._upkeep.close()  # indexes first, then each foreign key's one checking join
        _insert(self.connection, changes, history, self.run_id)
        backend_of(self.connection).statistics(self.connection, _RUN_KEYED)
        self.connection.execute(
            update(runs)
            .where(runs.c.run_id == self.run_id)
            .values(status="completed", finished_at=_now(), error=None, **totals)
        )
        self.finished = True


def _remove_domains(connection: Connection, removed: list[str]) -> None:
    """Stored domains that went with a replaced or reassigned website (in the history)."""
    for start in range(0, len(removed), 500):
        connection.execute(delete(domains).where(domains.c.domain.in_(removed[start:start + 500])))


# A claimant's description: what the ledger keeps of it from the latest run that saw it.
_DESCRIPTION = ("owner", "role", "cert_type", "cert_number", "name", "member_ids", "websites",
                "domains", "records", "detail")


def _write_ledger(connection: Connection, run_id: str, plan: Plan) -> None:
    """The conflicts this run holds records in (a conflict new to the ledger is opened by
    this run), and each claimant as described now; a claimant this run could not describe
    (seen only in an earlier run) keeps its earlier description."""
    if not len(plan.conflicts):
        return
    insert_into = backend_of(connection).insert
    ids = plan.conflicts["conflict_key"].drop_duplicates()
    opened = [{"conflict_id": i, "conflict_key": conflict_key_of(i),
               "kind": conflict_kind(i), "opened_run_id": run_id} for i in ids]
    connection.execute(insert_into(conflicts).on_conflict_do_nothing(), opened)
    frame = plan.conflicts.rename(columns={"conflict_key": "conflict_id",
                                           "entity_id": "claimant"})
    frame = frame.reindex(columns=["conflict_id", "claimant", *_DESCRIPTION]).astype(object)
    frame = frame.where(frame.notna(), None)
    described = frame[["cert_type", "name", "websites", "detail"]].notna().any(axis=1)
    for part, update_row in ((frame[described], True), (frame[~described], False)):
        if part.empty:
            continue
        rows = [dict(r, last_run_id=run_id) for r in part.to_dict("records")]
        statement = insert_into(conflict_competitors)
        statement = (statement.on_conflict_do_update(
            index_elements=["conflict_id", "claimant"],
            set_={n: statement.excluded[n] for n in (*_DESCRIPTION, "last_run_id")})
            if update_row else statement.on_conflict_do_nothing())
        connection.execute(statement, rows)


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    """Mark the run failed; the message is masked, since errors may quote source values."""
    with _target_errors(engine, f"recording the failure of run {run_id}"), engine.begin() as c:
        c.execute(
            update(runs)
            .where(runs.c.run_id == run_id)
            .values(status="failed", finished_at=_now(), error=mask_text(error))
        )


def _upsert(connection: Connection, table: Table, frame: pd.DataFrame, fresh: bool,
            into: Table) -> None:
    """Insert new rows; update an existing row only where a value differs (no-op reruns).
    `into`: the table, or the stage a fresh table's rows gather in (PlanLoad)."""
    key = [column.name for column in table.primary_key.columns]
    names = [column.name for column in table.columns]
    _check_columns(table, frame, names)
    if frame.duplicated(subset=key).any():  # the plan suite's rule, met before the suite
        # runs when a run loads part by part (pipeline/part_load.py)
        raise PlanValidationError(f"plan-level expectations failed, nothing loaded: "
                                  f"{table.name}: {', '.join(key)} is unique")
    bulk.upsert(connection, into, frame, CHUNK_ROWS, fresh)


def _insert(connection: Connection, table: Table, frame: pd.DataFrame, run_id: str) -> None:
    names = [column.name for column in table.columns if column.name != "run_id"]
    _check_columns(table, frame, names)
    bulk.insert(connection, table, frame, {"run_id": run_id}, CHUNK_ROWS, upkeep=False)


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
