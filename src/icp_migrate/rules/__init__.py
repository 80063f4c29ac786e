"""The rules of docs/rules.md, one module each, and the one function that applies them all.

`decide(records, domains, known, cutoff)` takes a run's normalized records and what the
target already holds, and returns the `Plan` the run loads: every record's disposition,
the entities, accounts, websites and domains, the evidence of every link, the conflicts
held for review and the history of what the plan replaces. The flow and the tests call it
alike; nothing else assembles the chain.

| module | rule |
| --- | --- |
| `steps.py`, `screen.py` | steps 1-3 of the disposition order, as one table (R3, D-1..D-3) |
| `grouping.py` | who is the same entity (ID-1..ID-9) |
| `certificate_pairs.py` | two valid certificates of maybe one entity (X-4, X-5) |
| `ledger.py` | what the target's conflict ledger says about a disputed key (AR-1..AR-4) |
| `conflicts.py`, `changed.py` | disputed websites and domains, duplicates, changed websites |
| `dispositions.py` | steps 4-7 in order, over the modules above |
| `conflict_table.py` | the held conflicts and their claimants, described for review |
| `accounts.py` | one account per entity, and the resource accounts of R4 |
| `history.py` | what a plan replaces in the store (the `changes` rows) |
| `known.py` | the store's state as grouping input (R6) |
| `parts.py` | a run in parts no key crosses, decided one at a time (no rule of its own) |
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from time import perf_counter

import pandas as pd

from ..compact import CompactFrame, Rows, held
from ..frames import SCREENED
from ..plan import Plan
from .dispositions import decide_records, plan_decision
from .known import known_rows
from .parts import BATCH_ROWS, Part, merge_plans, near_names, part_count, split_run
from .screen import FLAG_COLUMNS, SCREEN_COLUMNS, scope_flags, screen
from .steps import expectation_failures

__all__ = ["decide", "decide_parts", "merge_plans", "part_count", "scope_flags"]


def decide(records: pd.DataFrame | Rows, domains: pd.DataFrame | Rows, known: Plan,
           cutoff: pd.Timestamp,
           failures: pd.DataFrame | None = None,
           seconds: MutableMapping[str, float] | None = None,
           records_per_part: int | None = None) -> Plan:
    """The Plan a run loads from its normalized `records` (and their `domains`), given what
    the target holds (`known`: its rows and its conflict ledger) and the run's cut-off.

    `failures` (row_id, reasons) are the records the record-level expectations failed; a
    run passes the Great Expectations suite's, tests leave it out and get the same from the
    step table computed in pandas. `seconds`, when given, receives the time of each part
    ("group", "plan") added to what it holds. A run of more than `records_per_part`
    records (default parts.RECORDS_PER_PART) is decided in parts no key crosses, one at a
    time (rules/parts.py), and merged: the same plan.
    """
    plans = list(decide_parts(records, domains, known, cutoff, failures, seconds,
                              records_per_part))
    started = perf_counter()
    planned = merge_plans(plans, held(records).columns(("row_id",))["row_id"])
    if seconds is not None and len(plans) > 1:
        seconds["plan"] = seconds.get("plan", 0.0) + round(perf_counter() - started, 3)
    return planned


def decide_parts(records: pd.DataFrame | Rows, domains: pd.DataFrame | Rows, known: Plan,
                 cutoff: pd.Timestamp, failures: pd.DataFrame | None = None,
                 seconds: MutableMapping[str, float] | None = None,
                 records_per_part: int | None = None) -> Iterator[Plan]:
    """The plans of the run's parts (`decide`'s arguments), one at a time: a part's plan is
    whole for its records and stored rows, and no key of it is in another part's, so each
    may be loaded as it comes (pipeline/part_load.py); `merge_plans` makes them the run's
    one plan. One part (the whole run) when it has at most `records_per_part` records.
    `seconds` counts this work only, not what the caller does between parts. The records
    (and domains) may be a pandas frame or held as Arrow (compact.py): only the columns
    the whole run needs are read of every record, and a part's own rows whole."""
    clock = perf_counter()

    def lap(stage: str) -> None:
        """The time since the last lap counted under `stage`."""
        nonlocal clock
        now = perf_counter()
        if seconds is not None:
            seconds[stage] = seconds.get(stage, 0.0) + round(now - clock, 3)
        clock = now

    cutoff = pd.Timestamp(cutoff)
    records, domains = held(records), held(domains)
    if failures is None:
        failures = pd.concat([expectation_failures(scope_flags(batch, cutoff))
                              for batch in records.batches(FLAG_COLUMNS, BATCH_ROWS)],
                             ignore_index=True)
    # held as Arrow, as the records are: a part takes its own rows of it
    screened = CompactFrame.joined([CompactFrame.of(screen(batch, failures, cutoff), SCREENED)
                                    for batch in records.batches(SCREEN_COLUMNS, BATCH_ROWS)],
                                   SCREENED)
    parts = part_count(len(records), records_per_part)
    pieces: Iterator[Part]
    if parts == 1:
        pieces = iter([Part(records.to_frame(), domains.to_frame(), screened.to_frame(),
                            known)])
        names = None
    else:
        stored = known_rows(known)  # the store as grouping sees it, once for the run
        names = near_names(records, screened, stored)
        # the split's work happens as each part is drawn: timed with grouping
        pieces = split_run(records, domains, screened, known, parts, stored)
    del screened
    for part in pieces:
        decision = decide_records(part.records, part.domains, part.screened,
                                  part.snapshot, names)
        lap("group")
        planned = plan_decision(decision, part.snapshot, len(part.records))
        del decision, part
        lap("plan")
        yield planned
        del planned
        clock = perf_counter()  # the caller's time between parts is not ours
    lap("group")
