"""A run decided and loaded part by part: each part's plan (`rules.decide_parts`) goes into
the store as soon as it is decided, in the run's one load transaction, so the run never
holds its whole plan (a million records' plan is about 1 GB of Python objects).

What the run needs of the whole plan is kept compact, part by part:
- the columns the plan suite checks (`KEPT`), held as Arrow and merged at the end, a
  table at a time, in the order a whole run gives (`rules.parts.merge_order`), and the
  history (small): `KeptPlan`;
- the summary's counts (`summary.PlanCounts`);
- the preview's rows on a dry run, only their counts otherwise.

The plan suite runs on the kept columns of the whole run before the load commits: a failed
expectation raises PlanValidationError inside the transaction, which rolls back, so
nothing is loaded, as when the plan was checked before its load. A part repeating a key
of an upserted table (which the store cannot hold) stops the loading there; the suite
still checks the whole run, so the report shows its results, and the run fails either
way.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from .. import heap, progress, rules
from ..compact import CompactFrame, Rows, held
from ..errors import PlanValidationError
from ..frames import SCHEMAS, Schema
from ..plan import Plan
from ..rules.parts import merge_history, merge_order
from ..rules.preview import (
    PREVIEW_KINDS,
    history_rows,
    in_order,
    preview_counts,
    rows_changed,
)
from ..settings import records_per_part
from ..store.load import loading
from ..validation.plan_suite import CHECKED_COLUMNS, CHECKED_KINDS, CHECKED_PRESENCE
from ..wording import plural
from .summary import PlanCounts

if TYPE_CHECKING:
    from .run import MigrateRun
    from .summary import RunSummary

log = logging.getLogger("icp_migrate")

# What a run keeps of each part's plan once it is loaded, by Plan attribute: the columns
# the plan suite reads (its summary's counts are gathered part by part: PlanCounts).
KEPT = {name: list(columns) for name, columns in CHECKED_COLUMNS.items()}


class KeptPlan:
    """What a run keeps of its loaded parts' plans: the KEPT columns of each table, held as
    Arrow (compact.py) in the least the plan suite needs (flags for CHECKED_PRESENCE,
    dictionaries for CHECKED_KINDS), the loaded dispositions' website numbers, and the
    history. `merge` puts the tables in the order a whole run gives (rules.parts.merge_order,
    one table at a time); the plan suite reads them as Arrow (plan.PlanTables), each column
    in the type the whole plan gives, and converts them its own way
    (plan_suite.as_checked)."""

    def __init__(self) -> None:
        self._parts: dict[str, list[CompactFrame]] = {name: [] for name in KEPT}
        self._merged: dict[str, CompactFrame] = {}
        self._loaded: list[pa.Array] = []
        self._history: list[pd.DataFrame] = []
        self.input_count = 0

    def add(self, plan: Plan) -> None:
        """Keep a loaded part's KEPT columns and history."""
        for name, columns in KEPT.items():
            table = CompactFrame.of(getattr(plan, name)[columns], _kept_schema(name)).table
            self._parts[name].append(CompactFrame(_compacted(name, table), _kept_schema(name)))
        self._loaded.append(pc.unique(plan.loaded_websites()))
        self._history.append(plan.changes)
        self.input_count += plan.input_count

    def merge(self, row_ids: pd.Series) -> None:
        """The parts' tables as the whole run's (`row_ids`: its records', in order), in
        Arrow: only the columns that order them are read as pandas."""
        for name in KEPT:
            joined = CompactFrame.joined(self._parts.pop(name), _kept_schema(name)).table
            order = pa.array(merge_order(name, joined, row_ids))
            columns = dict(zip(joined.column_names, joined.columns, strict=True))
            del joined
            # each column's parts are let go as soon as it is taken in order, and their
            # pages given back: freed among other buffers, glibc would keep them (at ten
            # million records RSS rose from 3.2 to 4.9 GB over the merge, 2.9 GB of it live)
            taken = {}
            for column in list(columns):
                taken[column] = columns.pop(column).take(order)
                heap.give_back()
            self._merged[name] = CompactFrame(pa.table(taken), _kept_schema(name))
        self.changes = merge_history(self._history)
        del self._history

    def count(self, name: str) -> int:
        """The rows of the merged table `name`."""
        return len(self._merged[name])

    def arrow(self, name: str, columns: Sequence[str]) -> pa.Table:
        """These columns of the merged table `name` (plan.PlanTables), in the whole plan's
        types: a kind as text, a flag as '' where there is a value (the suite reads only
        that there is one)."""
        table = self._merged[name].table
        return pa.table({column: _expanded(name, column, table.column(column))
                         for column in columns})

    def loaded_websites(self) -> pa.ChunkedArray:
        """The loaded dispositions' website numbers (plan.PlanTables): each part's once."""
        return pa.chunked_array(self._loaded, type=pa.string())


def _kept_schema(name: str) -> Schema:
    """The declared schema of the plan's table `name` (frames.py), its KEPT columns only."""
    return SCHEMAS[name].only(KEPT[name])


def _compacted(name: str, table: pa.Table) -> pa.Table:
    """A part's KEPT table as held: CHECKED_PRESENCE columns as flags (true, or null where
    the plan has none), CHECKED_KINDS dictionary-encoded. At ten million records the
    dispositions' ids and website numbers are about 0.6 GB of text, their flags 2.5 MB."""
    for column in CHECKED_PRESENCE.get(name, ()):
        values = table.column(column)
        flags = pc.if_else(pc.is_valid(values), True, pa.scalar(None, pa.bool_()))
        table = table.set_column(table.schema.get_field_index(column), column, flags)
    for column in CHECKED_KINDS.get(name, ()):
        table = table.set_column(table.schema.get_field_index(column), column,
                                 pc.dictionary_encode(table.column(column)))
    return table


def _expanded(name: str, column: str, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A kept column in the type the whole plan gives it (the reverse of _compacted, but
    for a flag's value: '')."""
    if pa.types.is_boolean(values.type) and column in CHECKED_PRESENCE.get(name, ()):
        return pc.if_else(values, "", pa.scalar(None, pa.string()))
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, pa.string())
    return values  # (a run without parts: the declared schema's empty table)


class _Changes:
    """What the run changes in the target (rules/preview.py), gathered part by part: the
    rows on a dry run (its preview.csv), else only their counts."""

    def __init__(self, keep_rows: bool) -> None:
        self.keep_rows = keep_rows
        self.rows: list[pd.DataFrame] = []
        self.counts: Counter[str] = Counter()

    def add(self, rows: pd.DataFrame) -> None:
        if self.keep_rows:
            self.rows.append(rows)
        else:
            self.counts.update(preview_counts(rows))

    def finish(self, history: pd.DataFrame) -> tuple[pd.DataFrame | None, dict[str, int]]:
        """(the rows in preview order, or None; the counts of every kind)."""
        if self.keep_rows:
            rows = in_order(self.rows, history)
            return rows, preview_counts(rows)
        self.counts.update(preview_counts(history_rows(history)))
        return None, {kind: int(self.counts[kind]) for kind in PREVIEW_KINDS}


def decide_and_load(run: MigrateRun, engine: Engine, records: pd.DataFrame | Rows,
                    domains: pd.DataFrame | Rows, failures: pd.DataFrame, known: Plan,
                    cutoff: pd.Timestamp) -> RunSummary:
    """Decide the run's records part by part, loading each part's plan as it comes into
    `engine` (the target, or a dry run's scratch target), then check the whole run's plan
    and commit; returns the run's summary. Seconds go to `run.clock`: group and plan (the
    decision), load, validate (the plan suite) and summary (counts and preview)."""
    from ..validation.plan_suite import validate_keys

    clock = run.clock
    per_part = records_per_part()
    parts = rules.part_count(len(records), per_part)
    if parts > 1:
        log.info("decide: in %d parts of whole key components (about %s records each), each "
                 "loaded as it is decided", parts, f"{-(-len(records) // parts):,}")
    # the rows each table will take, taken as the run's records (the plan is not known
    # yet): whether an empty table's indexes are worth dropping for the load (bulk.py)
    expected = dict.fromkeys(("entities", "accounts", "website_filings", "domains",
                              "dispositions", "links"), len(records))
    changes = _Changes(keep_rows=run.dry_run)
    counted = PlanCounts()
    whole = KeptPlan()
    refused: PlanValidationError | None = None
    with loading(engine, run.run_id, expected) as load:
        with progress.stage("decide"):  # timed in its parts (group, plan), not by the clock
            for planned in rules.decide_parts(records, domains, known, cutoff, failures,
                                              clock.seconds, per_part):
                with clock.stage("summary"):
                    changes.add(rows_changed(planned, known))
                    counted.add(planned)
                if refused is None:
                    with clock.stage("load"):
                        try:
                            load.add(planned)
                        except PlanValidationError as exc:  # a key the store cannot hold:
                            refused = exc  # no more loading (it will not commit); the plan
                            # suite still checks the whole run, for the report's results
                whole.add(planned)
                del planned
                started = perf_counter()  # counted with plan, not left to Prefect's share
                heap.give_back()  # the part's freed frames: pages a fragmented heap would
                clock.add("plan", started)  # keep unused
        clock.note_peak("decide")
        with clock.stage("plan"):
            whole.merge(held(records).columns(("row_id",))["row_id"])
            heap.give_back()
        log.info("decide: %s, %s, %s", plural(whole.count("entities"), "entity", "entities"),
                 plural(whole.count("accounts"), "account"),
                 plural(whole.count("website_filings"), "website"))
        with clock.stage("validate"):
            check = validate_keys(whole)
            log.info("validate plan: %s", "passed" if check.success else "FAILED")
        run.validations.update({f"plan_{table}": r for table, r in check.results.items()})
        with clock.stage("summary"):  # PlanValidationError: the load rolls back
            rows, counts = changes.finish(whole.changes)
            summary = run.summary(counted, check, counts, rows)
        if refused is not None:
            raise refused
        with clock.stage("load"):
            load.finish(whole.changes, summary.counts())
        committing = perf_counter()
    clock.add("load", committing)  # the commit (and SQLite's statistics read again)
    log.info("load: %s, %s, %s", plural(whole.count("entities"), "entity", "entities"),
             plural(whole.count("website_filings"), "website"),
             plural(whole.count("dispositions"), "disposition"))
    return summary
