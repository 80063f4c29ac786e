"""The work of each stage of a migrate run, as plain functions: the flow's tasks
(`icp_migrate.flows.tasks`) call these and add only Prefect's wiring.

Great Expectations and the report modules are imported where they are first needed: the
CLI's quick checks run before them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from .. import rules
from ..mapping import resolve_mapping
from ..readers import SourceSpec, read_source
from ..transforms.mapping_apply import to_canonical
from ..transforms.records import normalize_records, share_run_text
from ..validation.record_suite import RecordCheck, combine_checks
from ..wording import plural
from . import prefetch
from .run import StageClock

log = logging.getLogger("icp_migrate")


def extract_source(source: str, mapping: str | None) -> pd.DataFrame:
    """One source's records as canonical text (`mapping`: a name or file forcing a layout);
    the frame `icp-migrate run` read while Prefect's API started, if it did (`prefetch`)."""
    prefetched = prefetch.take(source, mapping)
    if prefetched is not None:
        return prefetched
    return read_canonical(source, mapping)


def read_canonical(source: str, mapping: str | None) -> pd.DataFrame:
    """One source read and mapped to canonical text."""
    forced = resolve_mapping(mapping) if mapping else None
    frame, chosen = read_source(source, forced)
    canonical = to_canonical(frame, chosen)
    broken = int(canonical["read_error"].notna().sum())
    log.info("extract %s: %s as %s (%d unreadable)", frame["source"].iat[0]
             if len(frame) else source, plural(len(canonical), "record"), chosen.name, broken)
    return canonical


def normalize_sources(frames: list[pd.DataFrame], first_row_id: int = 0,
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalized records (row ids from `first_row_id`, in frame order) and their domains."""
    canonical = pd.concat(frames, ignore_index=True)
    canonical.insert(0, "row_id", range(first_row_id, first_row_id + len(canonical)))
    records, domains = normalize_records(canonical)
    log.info("normalize: %s, %s", plural(len(records), "record"), plural(len(domains), "domain"))
    return records, domains


def prepare_sources(sources: list[str], mapping: str | None, clock: StageClock,
                    extract: Callable[[str, str | None], pd.DataFrame],
                    normalize: Callable[[list[pd.DataFrame], int],
                                        tuple[pd.DataFrame, pd.DataFrame]],
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each source extracted and normalized in turn, in this process (only one raw source in
    memory at a time); records numbered across the sources in their order. `extract` and
    `normalize`: the flow's tasks (or extract_source and normalize_sources)."""
    records, domains = [], []
    first_row_id = 0
    for number, source in enumerate(sources, start=1):
        of = f"{number}/{len(sources)}" if len(sources) > 1 else ""  # in the progress rows
        with clock.stage("extract", f"{of} {_label(source)}".strip()):
            frame = extract(source, mapping)
        with clock.stage("normalize", of):
            part, part_domains = normalize([frame], first_row_id)
            first_row_id += len(frame)
            del frame
            records.append(part)
            domains.append(part_domains)
    with clock.stage("normalize"):  # the run's records as one frame, equal text shared
        one = records[0] if len(records) == 1 else pd.concat(records, ignore_index=True)
        del records[:]
        return (share_run_text(one),
                domains[0] if len(domains) == 1 else pd.concat(domains, ignore_index=True))


def _label(source: str) -> str:
    """A source as its progress row names it: a file by its name, a URL without password."""
    spec = SourceSpec(source)
    return spec.label if spec.is_url else Path(source).name


def check_records(records: pd.DataFrame, cutoff: pd.Timestamp) -> RecordCheck:
    """The record-level expectations (steps 1-3) on normalized records."""
    from ..validation.record_suite import validate_records as run_suite

    return run_suite(rules.scope_flags(records, cutoff))


def record_failures(records: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """The records failing the record-level expectations, and the suite's result."""
    check = check_records(records, cutoff)
    log.info("validate records: %s", plural(len(check.failures),
                                            "failed record-level expectation"))
    return check.failures, check.result


@dataclass
class SourcePart:
    """One source's records, normalized and checked on a worker; row ids count from 0."""

    label: str | None
    records: pd.DataFrame
    domains: pd.DataFrame
    check: RecordCheck
    seconds: dict[str, float]


def prepare_source(source: str, mapping: str | None, cutoff: pd.Timestamp) -> SourcePart:
    """Extract, normalize and run the record-level expectations on one source: the share of
    a distributed run that a worker does."""
    clock = StageClock()
    with clock.stage("extract"):
        frame = extract_source(source, mapping)
        label = str(frame["source"].iat[0]) if len(frame) else None
    with clock.stage("normalize"):
        records, domains = normalize_sources([frame])
        del frame
    with clock.stage("validate"):
        check = check_records(records, cutoff)
    return SourcePart(label, records, domains, check, clock.seconds)


def combine_parts(parts: list[SourcePart],
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The sources' parts as one run: row ids shifted to follow each other in source order
    (as a single-process run numbers them), the record-level checks merged."""
    offsets = np.cumsum([0] + [len(p.records) for p in parts[:-1]]).tolist()
    for part, offset in zip(parts, offsets, strict=True):
        part.records["row_id"] += offset
        part.domains["row_id"] += offset
    records = share_run_text(pd.concat([p.records for p in parts], ignore_index=True))
    domains = pd.concat([p.domains for p in parts], ignore_index=True)
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
