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

from .errors import IcpMigrateError
from .masking import mask
from .run_settings import RunSettings
from .store.schema import (
    conflict_competitors,
    conflicts,
    record_dispositions,
    review_decisions,
    runs,
)

EXPORT_COLUMNS = ("conflict_id", "kind", "disputed", "opened_in_run", "age_runs",
                  "candidate_ids", "candidates", "allowed", "decision")
# The decisions each kind of conflict takes (`<id>`: one of its candidate ids).
ALLOWED = {"changed": ("keep", "replace"), "certificates": ("merge:<id>", "separate")}
DEFAULT_ALLOWED = ("assign:<id>", "reject")


class ReviewFileError(IcpMigrateError):
    """A review file that cannot be applied as a whole; nothing was applied."""


def latest_run(connection: sa.Connection) -> tuple[str, list[str]] | None:
    row = connection.execute(
        sa.select(runs.c.run_id, runs.c.sources).where(runs.c.status == "completed")
        .order_by(runs.c.started_at.desc()).limit(1)).first()
    return (row.run_id, json.loads(row.sources or "[]")) if row else None


def open_conflicts(engine: sa.Engine) -> pd.DataFrame:
    """Every open conflict of the target (from any run), one row per claimant, with its
    description and its age (runs started since the run that opened it)."""
    c, k, d = conflicts, conflict_competitors, review_decisions
    later, opened = runs.alias("later_runs"), runs.alias("opened_runs")
    age = sa.select(sa.func.count()).select_from(later).where(
        later.c.started_at > opened.c.started_at).correlate(opened).scalar_subquery()
    query = (sa.select(c.c.conflict_id, c.c.conflict_key, c.c.kind, c.c.opened_run_id,
                       age.label("age_runs"), *(k.c[n] for n in DESCRIPTION_COLUMNS))
             .join(k, k.c.conflict_id == c.c.conflict_id)
             .join(opened, opened.c.run_id == c.c.opened_run_id)
             .where(c.c.conflict_id.not_in(sa.select(d.c.conflict_key)))
             .order_by(c.c.conflict_id, k.c.claimant))
    with engine.connect() as connection:
        return pd.read_sql(query, connection, dtype=object)


DESCRIPTION_COLUMNS = ("claimant", "owner", "role", "cert_type", "cert_number", "name",
                       "member_ids", "websites", "domains", "records", "detail")


def _described(r: Any) -> str:
    if r.role:  # a version of a changed website
        return f"{r.claimant} | {r.role} version of {r.owner} | {r.detail or ''}"
    return (f"{r.claimant} | {mask(r.cert_number)} | {r.name or ''} | members "
            f"{r.member_ids or '-'} | websites {r.websites or '-'} | domains "
            f"{r.domains or '-'} | records {r.records or '-'}")


def export_conflicts(engine: sa.Engine, out: Path) -> int:
    """Write the open conflicts, one row each, UTF-8 with a BOM (Excel); returns the count."""
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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return len(rows)


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
    if rows:
        with engine.begin() as connection:
            connection.execute(sa.insert(review_decisions), rows)
    return len(rows)


def rerun_sources(engine: sa.Engine) -> RunSettings:
    """The latest completed run's recorded settings (sources, cut-off, mapping, reports
    folder), to load decisions now (`review apply --now`); IcpMigrateError, one line, when
    the run cannot be repeated as it was: a password not stored, a source file or the
    mapping file gone or changed since (each file is read once for its sha256)."""
    with engine.connect() as connection:
        latest = latest_run(connection)
        row = None if latest is None else connection.execute(
            sa.select(runs).where(runs.c.run_id == latest[0])).one()
    if latest is None or row is None:
        raise IcpMigrateError("no completed run in the target to re-run")
    hidden = [s for s in latest[1] if "***" in s]
    if hidden:
        raise IcpMigrateError(f"cannot re-run {hidden[0]} (its password is not stored); "
                              "run icp-migrate run with the sources instead")
    recorded = RunSettings.from_row(row)
    recorded.check_unchanged(latest[0])
    return recorded


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
    query = (sa.select(runs).where(runs.c.status == "completed").where(runs.c.run_id.in_(
        sa.select(record_dispositions.c.run_id).where(
            record_dispositions.c.disposition == "needs_review",
            record_dispositions.c.conflict_key.in_(conflict_ids)))).order_by(runs.c.started_at))
    with engine.connect() as connection:
        rows = connection.execute(query).all() if conflict_ids else []
    if not rows:
        latest = rerun_sources(engine)
        with engine.connect() as connection:
            found = latest_run(connection)
        return [(found[0] if found else "", latest)]
    chosen: dict[tuple, tuple[str, RunSettings]] = {}
    for row in rows:
        settings = _recorded(row)
        same = (tuple(settings.sources), settings.cutoff, settings.mapping, settings.mapping_hash)
        chosen.pop(same, None)  # the latest run of the same settings, in its place in time
        chosen[same] = (row.run_id, settings)
    for run_id, settings in chosen.values():
        settings.check_unchanged(run_id)
    return list(chosen.values())
