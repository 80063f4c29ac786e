"""Conflict review: open conflicts out to a CSV a person fills in, decisions back into the store."""

from __future__ import annotations

import csv
import getpass
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..errors import IcpMigrateError
from ..masking import mask
from ..run_settings import RunSettings
from ..store import conflicts as ledger
from ..store.conflicts import open_conflicts
from ..store.runs import latest_completed_run

EXPORT_COLUMNS = ("conflict_id", "kind", "disputed", "opened_in_run", "age_runs",
                  "candidate_ids", "candidates", "allowed", "decision")
# The decisions each kind of conflict takes (`<id>`: one of its candidate ids).
ALLOWED = {"changed": ("keep", "replace"), "certificates": ("merge:<id>", "separate")}
DEFAULT_ALLOWED = ("assign:<id>", "reject")


class ReviewFileError(IcpMigrateError):
    """A review file that cannot be applied as a whole; nothing was applied."""


def _text(value: Any, blank: str = "-") -> str:
    """A described value as shown: blank for a null (None or NaN from the read)."""
    return blank if value is None or pd.isna(value) else str(value)


def _described(r: Any) -> str:
    if _text(r.role, ""):  # a version of a changed website
        return f"{r.claimant} | {r.role} version of {r.owner} | {_text(r.detail, '')}"
    return (f"{r.claimant} | {mask(r.cert_number)} | {_text(r.name, '')} | members "
            f"{_text(r.member_ids)} | websites {_text(r.websites)} | domains "
            f"{_text(r.domains)} | records {_text(r.records)}")


def export_conflicts(engine: sa.Engine, out: Path) -> int:
    """Write the open conflicts, one row each, UTF-8 with a BOM (Excel); returns the count."""
    text, count = conflicts_csv(engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8-sig")
    return count


def conflicts_csv(engine: sa.Engine) -> tuple[str, int]:
    """The open conflicts as CSV text (one row each, an empty decision column), and how many."""
    frame = open_conflicts(engine)
    rows = []
    for conflict_id, group in frame.groupby("conflict_id", sort=True):
        first = group.iloc[0]
        rows.append({"conflict_id": conflict_id, "kind": first["kind"],
                     "disputed": str(first["conflict_key"]).split(":", 1)[1],
                     "opened_in_run": first["opened_run_id"], "age_runs": first["age_runs"],
                     "candidate_ids": ";".join(group["claimant"]),
                     "candidates": "\n".join(_described(r) for r in group.itertuples()),
                     "allowed": " | ".join(ALLOWED.get(first["kind"], DEFAULT_ALLOWED)),
                     "decision": ""})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue(), len(rows)


@dataclass(frozen=True)
class Decision:
    conflict_key: str  # the conflict's id
    decision: str  # assign | reject | keep | replace | merge | separate
    entity_id: str | None  # the chosen claimant


def _read(path: Path) -> csv.DictReader:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReviewFileError(f"review file {path}: no such file") from None
    except UnicodeDecodeError:
        raise ReviewFileError(f"review file {path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"conflict_id", "decision"} <= set(reader.fieldnames):
        raise ReviewFileError(f"review file {path}: needs the columns conflict_id and decision")
    return reader


def _decision(key: str, kind: str, value: str, claimants: pd.DataFrame,
              ) -> tuple[Decision | None, str | None]:
    """The decision a filled-in cell means, or the problem with it."""
    allowed = ALLOWED.get(kind, DEFAULT_ALLOWED)
    verb, _, chosen = value.partition(":")
    verb, chosen = verb.strip(), chosen.strip()
    if kind == "changed" and value in ("keep", "replace"):
        role = "stored" if value == "keep" else "new"
        picked = claimants.loc[claimants["role"].eq(role), "claimant"]
        return Decision(key, value, picked.iat[0] if len(picked) else None), None
    if value in ("reject", "separate") and value in allowed:
        return Decision(key, value, None), None
    if f"{verb}:<id>" in allowed:
        if chosen not in set(claimants["claimant"]):
            return None, f"{chosen or '(blank)'} is not one of the entities competing in {key}"
        return Decision(key, verb, chosen), None
    return None, (f"a {kind} conflict takes {' or '.join(allowed)}, not {value[:40]!r}")


def read_decisions(path: Path, open_frame: pd.DataFrame) -> list[Decision]:
    """Every filled-in row, checked against the open conflicts; ReviewFileError lists the
    problems and nothing is applied when there is any."""
    reader = _read(path)
    by_conflict = dict(tuple(open_frame.groupby("conflict_id")))
    decisions, problems, seen = [], [], set()
    for row in reader:
        line = reader.line_num
        key, value = (row.get("conflict_id") or "").strip(), (row.get("decision") or "").strip()
        if not value:
            continue
        if key in seen:
            problems.append(f"line {line}: conflict {key} decided twice")
        seen.add(key)
        if key not in by_conflict:
            problems.append(f"line {line}: {key or '(blank)'} is not an open conflict "
                            "(unknown, or already decided: export again)")
            continue
        claimants = by_conflict[key]
        decision, problem = _decision(key, claimants["kind"].iat[0], value, claimants)
        if problem:
            problems.append(f"line {line}: {problem}")
        elif decision:
            decisions.append(decision)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ReviewFileError(f"review file {path}: {problems[0]}{more}; nothing applied")
    return decisions


def apply_decisions(engine: sa.Engine, path: Path, decided_by: str | None = None) -> int:
    """Record the file's decisions with who and when, in one transaction; returns the count."""
    decisions = read_decisions(path, open_conflicts(engine))
    now = datetime.now(UTC)
    who = decided_by or getpass.getuser()
    rows = [{"conflict_key": d.conflict_key, "decision": d.decision, "entity_id": d.entity_id,
             "decided_by": who, "decided_at": now, "source_file": path.name} for d in decisions]
    ledger.record_decisions(engine, rows)
    return len(rows)


def rerun_sources(engine: sa.Engine) -> RunSettings:
    """The latest completed run's recorded settings (sources, cut-off, mapping, reports
    folder), to load decisions now (`review apply --now`); IcpMigrateError, one line, when
    the run cannot be repeated as it was: a password not stored, a source file or the
    mapping file gone or changed since (each file is read once for its sha256)."""
    return _latest_rerun(engine)[1]


def _latest_rerun(engine: sa.Engine) -> tuple[str, RunSettings]:
    row = latest_completed_run(engine)
    if row is None:
        raise IcpMigrateError("no completed run in the target to re-run")
    recorded = _recorded(row)
    recorded.check_unchanged(row.run_id)
    return row.run_id, recorded


def _recorded(row: Any) -> RunSettings:
    hidden = [s for s in json.loads(row.sources or "[]") if "***" in s]
    if hidden:
        raise IcpMigrateError(f"cannot re-run {hidden[0]} (its password is not stored); "
                              "run icp-migrate run with the sources instead")
    return RunSettings.from_row(row)


def reruns_for(engine: sa.Engine, conflict_ids: list[str]) -> list[tuple[str, RunSettings]]:
    """The runs to repeat so that decisions on `conflict_ids` load now: every completed run
    that held records of them, oldest first (one per distinct set of settings, its latest),
    else the latest completed run; each checked as `rerun_sources` checks it."""
    rows = ledger.completed_runs_holding(engine, conflict_ids)
    if not rows:
        return [_latest_rerun(engine)]
    chosen: dict[tuple, tuple[str, RunSettings]] = {}
    for row in rows:
        settings = _recorded(row)
        same = (tuple(settings.sources), settings.cutoff, settings.mapping, settings.mapping_hash)
        chosen.pop(same, None)  # the latest run of the same settings, in its place in time
        chosen[same] = (row.run_id, settings)
    for run_id, settings in chosen.values():
        settings.check_unchanged(run_id)
    return list(chosen.values())
