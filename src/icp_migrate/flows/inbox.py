"""The scheduled inbox flow: migrate every new export dropped into a folder, each file once."""

from __future__ import annotations

import hashlib
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from prefect import flow
from pydantic import SecretStr

from ..errors import IcpMigrateError
from ..readers import preflight
from ..settings import DEFAULT_CUTOFF, target_url
from ..store.schema import inbox_files
from ..store.target import open_target
from .migrate import migrate
from .tasks import stage

log = logging.getLogger("icp_migrate")
DONE, FAILED, SKIPPED = "done", "failed", "skipped"
TICKS = ".icp-migrate-ticks"


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _move(path: Path, folder: str, reason: str | None = None) -> None:
    """Set a file aside (never deleted), with the reason beside it."""
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    moved = target_dir / f"{stamp}-{path.name}"
    shutil.move(path, moved)
    if reason:
        moved.with_name(moved.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")


@stage("scan-inbox")
def scan_inbox(inbox: str, target: str) -> tuple[list[tuple[Path, str]], dict[str, str]]:
    """New files (path, hash) in name order, and the hashes the target has seen before."""
    folder = Path(inbox)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    hashed = [(p, content_hash(p)) for p in files]
    engine = open_target(target)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(inbox_files.c.content_hash,
                                                inbox_files.c.file_name)).all()
    finally:
        engine.dispose()
    return hashed, {h: name for h, name in rows}


def _record(target: str, rows: list[dict]) -> None:
    if not rows:
        return
    engine = open_target(target)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(inbox_files), rows)
    finally:
        engine.dispose()


@flow(name="migrate-inbox", log_prints=False, validate_parameters=False)
def migrate_inbox(inbox: str, target: str, reports_dir: str = "reports",
                  cutoff: str = DEFAULT_CUTOFF) -> dict[str, int]:
    """One tick: new files are migrated together; a copy of a file seen before (same content,
    any name) is set aside in skipped/; a file that cannot be read goes to failed/ with its
    reason and is never retried."""
    target = target_url(target or None)  # empty: $ICP_MIGRATE_TARGET or the default file
    hashed, seen = scan_inbox(inbox, target)
    now = datetime.now(UTC)
    fresh: list[tuple[Path, str]] = []
    ledger: list[dict] = []
    for path, digest in hashed:
        if digest in seen or any(digest == d for _, d in fresh):
            _move(path, SKIPPED, f"same content as {seen.get(digest, 'a file of this tick')}")
            continue
        try:
            preflight([str(path)])
        except IcpMigrateError as exc:
            _move(path, FAILED, str(exc))
            ledger.append({"content_hash": digest, "file_name": path.name, "status": "failed",
                           "run_id": None, "reason": str(exc), "seen_at": now})
            continue
        fresh.append((path, digest))
    counts = {"new": len(fresh), "failed": len(ledger), "skipped": len(hashed) - len(fresh)
              - len(ledger)}
    log.info("inbox tick: %d new, %d unreadable, %d seen before", counts["new"],
             counts["failed"], counts["skipped"])
    with (Path(inbox) / TICKS).open("a", encoding="utf-8") as ticks:  # a heartbeat per tick
        ticks.write(f"{now.isoformat()} {counts}\n")
    if fresh:
        try:
            # SecretStr: Prefect stores subflow parameters, and the URL may hold a password
            summary = migrate(sources=[str(p) for p, _ in fresh], target=SecretStr(target),
                              cutoff=cutoff, reports_dir=reports_dir)
            status, run_id, reason = "loaded", summary.run_id, None
        except IcpMigrateError as exc:
            status, run_id, reason = "failed", None, str(exc)
        for path, digest in fresh:
            _move(path, DONE if status == "loaded" else FAILED, reason)
            ledger.append({"content_hash": digest, "file_name": path.name, "status": status,
                           "run_id": run_id, "reason": reason, "seen_at": now})
    _record(target, ledger)
    return counts
