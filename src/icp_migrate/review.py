"""Conflict review: open conflicts out to a CSV a person fills in, decisions back into the store."""

from __future__ import annotations

import csv
import getpass
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from .errors import IcpMigrateError
from .masking import mask
from .store.schema import review_decisions, run_conflicts, runs

EXPORT_COLUMNS = ("conflict_id", "kind", "disputed", "candidate_ids", "candidates", "decision")


class ReviewFileError(IcpMigrateError):
    """A review file that cannot be applied as a whole; nothing was applied."""


def latest_run(connection: sa.Connection) -> tuple[str, list[str]] | None:
    row = connection.execute(
        sa.select(runs.c.run_id, runs.c.sources).where(runs.c.status == "completed")
        .order_by(runs.c.started_at.desc()).limit(1)).first()
    return (row.run_id, json.loads(row.sources or "[]")) if row else None


def open_conflicts(engine: sa.Engine) -> pd.DataFrame:
    """The latest completed run's conflicts that no decision covers yet (one row per entity)."""
    with engine.connect() as connection:
        latest = latest_run(connection)
        if latest is None:
            return pd.DataFrame(columns=[c.name for c in run_conflicts.columns])
        decided = sa.select(review_decisions.c.conflict_key)
        query = (sa.select(run_conflicts).where(run_conflicts.c.run_id == latest[0])
                 .where(run_conflicts.c.conflict_key.not_in(decided))
                 .order_by(run_conflicts.c.conflict_key, run_conflicts.c.entity_id))
        return pd.read_sql(query, connection, dtype=object)


def export_conflicts(engine: sa.Engine, out: Path) -> int:
    """Write the open conflicts, one row each, UTF-8 with a BOM (Excel); returns the count."""
    frame = open_conflicts(engine)
    rows = []
    for key, group in frame.groupby("conflict_key", sort=True):
        described = [
            f"{r.entity_id} | {mask(r.cert_number)} | {r.name or ''} | members "
            f"{r.member_ids or '-'} | websites {r.websites or '-'}"
            for r in group.itertuples()]
        rows.append({"conflict_id": key, "kind": group["kind"].iat[0],
                     "disputed": str(key).split(":", 1)[1],
                     "candidate_ids": ";".join(group["entity_id"]),
                     "candidates": "\n".join(described), "decision": ""})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return len(rows)


@dataclass(frozen=True)
class Decision:
    conflict_key: str
    decision: str  # assign | reject
    entity_id: str | None


def read_decisions(path: Path, open_frame: pd.DataFrame) -> list[Decision]:
    """Every filled-in row, checked against the open conflicts; ReviewFileError lists the
    problems and nothing is applied when there is any."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReviewFileError(f"review file {path}: no such file") from None
    except UnicodeDecodeError:
        raise ReviewFileError(f"review file {path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"conflict_id", "decision"} <= set(reader.fieldnames):
        raise ReviewFileError(f"review file {path}: needs the columns conflict_id and decision")
    candidates = open_frame.groupby("conflict_key")["entity_id"].agg(set).to_dict()
    decisions, problems, seen = [], [], set()
    for row in reader:
        line = reader.line_num
        key, value = (row.get("conflict_id") or "").strip(), (row.get("decision") or "").strip()
        if not value:
            continue
        if key in seen:
            problems.append(f"line {line}: conflict {key} decided twice")
        seen.add(key)
        if key not in candidates:
            problems.append(f"line {line}: {key or '(blank)'} is not an open conflict "
                            "(unknown, or already decided: export again)")
            continue
        if value == "reject":
            decisions.append(Decision(key, "reject", None))
        elif value.startswith("assign:"):
            entity = value.split(":", 1)[1].strip()
            if entity not in candidates[key]:
                problems.append(f"line {line}: {entity or '(blank)'} is not one of the "
                                f"entities competing in {key}")
            decisions.append(Decision(key, "assign", entity))
        else:
            problems.append(f"line {line}: decision must be assign:<entity_id> or reject, "
                            f"not {value[:40]!r}")
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


def rerun_sources(engine: sa.Engine) -> list[str]:
    """The latest run's sources, to load decisions now (`review apply --now`)."""
    with engine.connect() as connection:
        latest = latest_run(connection)
    if latest is None:
        raise IcpMigrateError("no completed run in the target to re-run")
    hidden = [s for s in latest[1] if "***" in s]
    if hidden:
        raise IcpMigrateError(f"cannot re-run {hidden[0]} (its password is not stored); "
                              "run icp-migrate run with the sources instead")
    return latest[1]
