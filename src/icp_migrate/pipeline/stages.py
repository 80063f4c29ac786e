"""The work of each stage of a migrate run, as plain functions: the flow's tasks
(`icp_migrate.flows.tasks`) call these and add only Prefect's wiring.

Great Expectations and the report modules are imported where they are first needed: the
CLI's quick checks run before them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from .. import heap, rules
from ..compact import CompactFrame, Rows, held
from ..frames import RECORD_DOMAINS, RECORDS
from ..mapping import resolve_mapping
from ..readers import SourceSpec, read_chunks
from ..rules.parts import BATCH_ROWS
from ..rules.screen import FLAG_COLUMNS
from ..spill import Held, Prepared, SpilledFrame, SpillWriter
from ..transforms.mapping_apply import to_canonical
from ..transforms.records import normalize_records
from ..validation.record_suite import RecordCheck, combine_checks
from ..wording import plural
from . import prefetch
from .run import StageClock

log = logging.getLogger("icp_migrate")


# Lines of a text source extracted, mapped and normalized at a time: a big export's cells
# and intermediate frames then exist for one chunk at a time, not for the whole file.
LINES_PER_CHUNK = 100_000



def read_records(source: str, mapping: str | None, first_row_id: int = 0,
                 clock: StageClock | None = None, of: str = "") -> Prepared:
    """One source's normalized records (row ids from `first_row_id`) and their domains
    (`mapping`: a name or file forcing a layout); what `icp-migrate run` read while
    Prefect's API started, if it did (`prefetch`: the wait for it counted as extract).
    `clock` counts extract and normalize; `of`: the source's place among the run's, for
    its progress rows ("2/4")."""
    with _stage(clock, "extract", f"{of} {_label(source)}".strip()):
        prefetched = prefetch.take(source, mapping)
    if prefetched is not None:
        records, domains = prefetched
        return records.shifted("row_id", first_row_id), domains.shifted("row_id",
                                                                        first_row_id)
    return read_normalized(source, mapping, first_row_id, clock, of)


def read_normalized(source: str, mapping: str | None, first_row_id: int = 0,
                    clock: StageClock | None = None, of: str = "", spill: bool = True,
                    ) -> Prepared:
    """One source read, mapped to canonical text and normalized LINES_PER_CHUNK lines at a
    time (`read_records`' arguments); the chunks' records in order, numbered from
    `first_row_id`, and their domains, as Arrow from each chunk on (the chunk's pandas
    frames let go before the next is read), written to this process's spill folder
    (`spill`), else held in memory."""
    forced = resolve_mapping(mapping) if mapping else None
    extract, kept = f"{of} {_label(source)}".strip(), _Pieces(spill)
    with _stage(clock, "extract", extract):
        chunks, chosen = read_chunks(source, forced, LINES_PER_CHUNK)
    label, count, broken = SourceSpec(source).label, 0, 0  # a URL without its password
    while True:
        with _stage(clock, "extract", extract):
            frame = next(chunks, None)
            if frame is None:
                break
            canonical = to_canonical(frame, chosen)
            label = str(frame["source"].iat[0]) if len(frame) else label
            del frame
        with _stage(clock, "normalize", of):
            part, part_domains = normalize_sources([canonical], first_row_id + count)
            kept.add(CompactFrame.of(part, RECORDS),
                     CompactFrame.of(part_domains, RECORD_DOMAINS))
            del part, part_domains
        count += len(canonical)
        broken += int(canonical["read_error"].notna().sum())
        del canonical
    log.info("extract %s: %s as %s (%d unreadable)", label, plural(count, "record"),
             chosen.name, broken)
    log.info("normalize: %s, %s", plural(count, "record"), plural(kept.domains, "domain"))
    with _stage(clock, "normalize", of):
        prepared = kept.finish()
        heap.give_back()
    return prepared


class _Pieces:
    """Where a source's normalized chunks go, as Arrow: spill files, else memory."""

    def __init__(self, spill: bool) -> None:
        self.writers = (SpillWriter(RECORDS, "records"),
                        SpillWriter(RECORD_DOMAINS, "domains")) if spill else None
        self.held: tuple[list[CompactFrame], list[CompactFrame]] = ([], [])
        self.domains = 0

    def add(self, records: Held, domains: Held) -> None:
        self.domains += len(domains)
        for number, piece in enumerate((records, domains)):
            if self.writers is None:
                assert isinstance(piece, CompactFrame)  # what a chunk's normalizing makes
                self.held[number].append(piece)
            else:
                self.writers[number].add(piece)

    def finish(self) -> Prepared:
        if self.writers is None:
            return _joined(*self.held)
        return self.writers[0].finish(), self.writers[1].finish()


def _joined(records: Sequence[Held], domains: Sequence[Held]) -> Prepared:
    """The records' and the domains' pieces (all spilled, or all in memory), each as one."""
    if all(isinstance(piece, SpilledFrame) for piece in [*records, *domains]):
        return (SpilledFrame.joined(cast(list[SpilledFrame], records), RECORDS),
                SpilledFrame.joined(cast(list[SpilledFrame], domains), RECORD_DOMAINS))
    return (CompactFrame.joined(cast(list[CompactFrame], records), RECORDS),
            CompactFrame.joined(cast(list[CompactFrame], domains), RECORD_DOMAINS))


def _stage(clock: StageClock | None, name: str, detail: str) -> AbstractContextManager[None]:
    """`clock.stage(name, detail)`, or nothing without a clock (a read in the background
    has no stage of its own)."""
    return nullcontext() if clock is None else clock.stage(name, detail)


def normalize_sources(frames: list[pd.DataFrame], first_row_id: int = 0,
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalized records (row ids from `first_row_id`, in frame order) and their domains."""
    canonical = pd.concat(frames, ignore_index=True)
    canonical.insert(0, "row_id", range(first_row_id, first_row_id + len(canonical)))
    return normalize_records(canonical)


# read_records, or the flow's task that calls it
Read = Callable[[str, str | None, int, StageClock, str], Prepared]


def prepare_sources(sources: list[str], mapping: str | None, clock: StageClock,
                    read: Read = read_records) -> Prepared:
    """Each source read in turn (`read`: read_records, or the flow's task calling it), in
    this process, a chunk at a time; records numbered across the sources in their order."""
    records, domains = [], []
    first_row_id = 0
    for number, source in enumerate(sources, start=1):
        of = f"{number}/{len(sources)}" if len(sources) > 1 else ""  # in the progress rows
        part, part_domains = read(source, mapping, first_row_id, clock, of)
        first_row_id += len(part)
        records.append(part)
        domains.append(part_domains)
    return _joined(records, domains)


def _label(source: str) -> str:
    """A source as its progress row names it: a file by its name, a URL without password."""
    spec = SourceSpec(source)
    return spec.label if spec.is_url else Path(source).name


def check_records(records: pd.DataFrame | Rows, cutoff: pd.Timestamp) -> RecordCheck:
    """The record-level expectations (steps 1-3) on normalized records, of which only the
    columns they check are read, and of their text only whether it is there
    (record_suite.presence_only): one validation per BATCH_ROWS records, the results
    combined as one validation of the whole gives them (GX holds about 450 bytes per row
    it validates: 4.5 GB at ten million records in one)."""
    from ..validation.record_suite import presence_only
    from ..validation.record_suite import validate_records as run_suite

    checks = [run_suite(presence_only(rules.scope_flags(batch, cutoff)))
              for batch in held(records).batches(FLAG_COLUMNS, BATCH_ROWS)]
    return combine_checks(checks, [0] * len(checks))


def record_failures(records: pd.DataFrame | Rows, cutoff: pd.Timestamp,
                    ) -> tuple[pd.DataFrame, dict]:
    """The records failing the record-level expectations, and the suite's result."""
    check = check_records(records, cutoff)
    log.info("validate records: %s", plural(len(check.failures),
                                            "failed record-level expectation"))
    return check.failures, check.result


@dataclass
class SourcePart:
    """One source's records, normalized and checked on a worker; row ids count from 0."""

    label: str | None
    records: Held
    domains: Held
    check: RecordCheck
    seconds: dict[str, float]


def prepare_source(source: str, mapping: str | None, cutoff: pd.Timestamp) -> SourcePart:
    """Extract, normalize and run the record-level expectations on one source: the share of
    a distributed run that a worker does."""
    clock = StageClock()
    records, domains = read_normalized(source, mapping, 0, clock, spill=False)
    label = str(records.columns(("source",))["source"].iat[0]) if len(records) else None
    with clock.stage("validate"):
        check = check_records(records, cutoff)
    return SourcePart(label, records, domains, check, clock.seconds)


def combine_parts(parts: list[SourcePart]) -> tuple[Held, Held, pd.DataFrame, dict]:
    """The sources' parts as one run: row ids shifted to follow each other in source order
    (as a single-process run numbers them), spilled in this process (the workers held
    them in memory), the record-level checks merged."""
    offsets = np.cumsum([0] + [len(p.records) for p in parts[:-1]]).tolist()
    spilled = _Pieces(spill=True)
    for part, offset in zip(parts, offsets, strict=True):
        spilled.add(part.records.shifted("row_id", offset),
                    part.domains.shifted("row_id", offset))
    records, domains = spilled.finish()
    check = combine_checks([p.check for p in parts], offsets)
    log.info("combine: %s from %s, %s", plural(len(records), "record"),
             plural(len(parts), "source"),
             plural(len(check.failures), "failed record-level expectation"))
    return records, domains, check.failures, check.result


def write_run_report(engine: Engine, run_id: str, validations: dict[str, dict],
                     reports_dir: str, preview_of: str | None = None) -> Path:
    """Store the run's GX results, write its report files, publish the summary artifacts
    (`preview_of`: the target a dry run previews, from its scratch target; the report is
    marked preview and not published: the artifacts are the latest loaded run's)."""
    from ..reports.artifacts import publish_artifacts
    from ..reports.build import write_report
    from ..store.validations import save_validations

    save_validations(engine, run_id, validations)
    files = write_report(engine, reports_dir, run_id, preview_of=preview_of)
    if preview_of is None:
        publish_artifacts(files.content, files.index)
    log.info("%s: %s", "report" if preview_of is None else "preview report", files.index)
    return files.index
