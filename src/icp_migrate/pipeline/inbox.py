"""An inbox tick's files, apart from the Prefect wiring (`icp_migrate.flows.inbox`): which
files to take, their staged copies and hashes, and where each is set aside afterwards.

Only complete files are taken: a file is read once its size and modification time have stood
still for the settle time, and names starting with `.` or ending with `.part`/`.tmp` are never
taken (producers write under such a name and rename when done). What is hashed, recorded as
seen and migrated are the same bytes: a private staged copy, hashed while it is copied."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from ..errors import IcpMigrateError
from ..mapping import Mapping
from ..readers import preflight
from ..store.inbox import record_files
from ..store.target import target_engine
from ..wording import plural

log = logging.getLogger("icp_migrate")
DONE, FAILED, SKIPPED = "done", "failed", "skipped"
TICKS = ".icp-migrate-ticks"
STAGING = ".icp-migrate-staging"  # dot-named: never taken; one folder per tick, removed after
SETTLE_SECONDS = 60.0
NEVER_TAKEN_SUFFIXES = (".part", ".tmp")  # compared case-insensitively


def _move(path: Path, folder: str, reason: str | None = None,
          inbox: Path | None = None) -> None:
    """Set a file aside (never deleted) in the inbox's `folder`, with the reason beside it."""
    target_dir = (inbox or path.parent) / folder
    target_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    moved = target_dir / f"{stamp}-{path.name}"
    shutil.move(path, moved)
    if reason:
        moved.with_name(moved.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")


def is_taken_name(name: str) -> bool:
    """Whether a file of this name may be taken: not a dot-name, not a `.part`/`.tmp` one."""
    return not name.startswith(".") and not name.lower().endswith(NEVER_TAKEN_SUFFIXES)


def _stat(path: Path) -> tuple[int, int]:
    """What tells a file still being written: its size and modification time (ns)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def stage_copy(path: Path, staged: Path) -> str:
    """Copy `path` to `staged`, hashing the bytes as they are copied; the hash of the copy."""
    digest = hashlib.sha256()
    with path.open("rb") as source, staged.open("xb") as copy:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            copy.write(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Taken:
    """A settled inbox file and its staged copy: `digest` is the copy's content hash."""
    path: Path
    staged: Path
    digest: str
    stat: tuple[int, int]


def settled_files(inbox: str, settle: float, staging: str) -> tuple[list[Taken], list[str]]:
    """Settled files (staged, in name order) and the names still settling.

    Robustness: a file is taken only when its size and mtime have stood still for `settle`
    seconds (mtime age against now) and did not change while it was copied. The run then
    reads the staged copy, never the inbox file, so the hash recorded as seen is of exactly
    the bytes migrated even if a producer still writes to the original; re-checking the
    original after the run instead could only notice that, not undo a load of other bytes."""
    folder = Path(inbox)
    taken: list[Taken] = []
    waiting: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and is_taken_name(p.name)):
        try:
            before = _stat(path)
            if settle > 0 and time.time() - before[1] / 1e9 < settle:
                waiting.append(path.name)
                continue
            staged = Path(staging) / path.name
            digest = stage_copy(path, staged)
            if _stat(path) != before:  # grew (or was touched) while copied: next tick
                staged.unlink()
                waiting.append(path.name)
                continue
        except FileNotFoundError:  # renamed or removed since listed: not ours to take
            continue
        taken.append(Taken(path, staged, digest, before))
    for name in waiting:
        log.info("waiting for %s to settle", name)
    return taken, waiting


def _set_aside(item: Taken, folder: str, reason: str | None = None) -> None:
    """Move the inbox file aside; if it changed after it was staged, the staged copy (the
    bytes actually read) goes aside in its place and the changed file waits for a tick."""
    try:
        unchanged = _stat(item.path) == item.stat
    except FileNotFoundError:
        unchanged = False
    if unchanged:
        _move(item.path, folder, reason)
        return
    log.warning("%s changed after it was read: its read copy is set aside, the file waits",
                item.path.name)
    _move(item.staged, folder, reason, inbox=item.path.parent)


def _unstaged(text: str, items: list[Taken]) -> str:
    """A message about staged copies, naming the inbox files instead."""
    for item in items:
        text = text.replace(str(item.staged), str(item.path))
    return text


@dataclass
class TickFiles:
    """A tick's taken files once sorted: `fresh` ones to migrate together in one run, the
    inbox ledger's rows (`inbox_files`) and the tick's counts."""

    now: datetime
    fresh: list[Taken] = field(default_factory=list)
    ledger: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    set_aside: dict[str, list[str]] = field(default_factory=lambda: {
        "unreadable": [], "seen before": []})  # file names, for the tick's line

    @property
    def staged(self) -> list[str]:
        """The fresh files' staged copies: exactly the bytes whose hashes are recorded."""
        return [str(item.staged) for item in self.fresh]

    def loaded(self, run_id: str) -> None:
        """The run loaded the fresh files: each goes to done/."""
        self._settle("loaded", run_id, None)

    def failed(self, error: IcpMigrateError) -> None:
        """The run failed: each fresh file goes to failed/ with the run's error."""
        self._settle("failed", None, _unstaged(str(error), self.fresh))

    def _settle(self, status: str, run_id: str | None, reason: str | None) -> None:
        for item in self.fresh:
            _set_aside(item, DONE if status == "loaded" else FAILED, reason)
            self.ledger.append({"content_hash": item.digest, "file_name": item.path.name,
                                "status": status, "run_id": run_id, "reason": reason,
                                "seen_at": self.now})


def sort_files(inbox: str, taken: list[Taken], waiting: list[str], seen: dict[str, str],
               forced: Mapping | None) -> TickFiles:
    """A copy of a file seen before (same content, any name) is set aside in skipped/; a
    file that cannot be read goes to failed/ with its reason (and is never retried); the
    rest is fresh. Logs the counts and appends them to the inbox's heartbeat file."""
    files = TickFiles(now=datetime.now(UTC))
    for item in taken:
        digest = item.digest
        if digest in seen or any(digest == f.digest for f in files.fresh):
            _set_aside(item, SKIPPED,
                       f"same content as {seen.get(digest, 'a file of this tick')}")
            files.set_aside["seen before"].append(item.path.name)
            continue
        try:
            preflight([str(item.staged)], forced)
        except IcpMigrateError as exc:
            unreadable = _unstaged(str(exc), [item])
            _set_aside(item, FAILED, unreadable)
            files.ledger.append({"content_hash": digest, "file_name": item.path.name,
                                 "status": "failed", "run_id": None, "reason": unreadable,
                                 "seen_at": files.now})
            files.set_aside["unreadable"].append(item.path.name)
            continue
        files.fresh.append(item)
    counts = files.counts
    counts.update({"new": len(files.fresh), "failed": len(files.ledger),
                   "skipped": len(taken) - len(files.fresh) - len(files.ledger),
                   "waiting": len(waiting)})
    log.info("inbox tick: %d new, %d unreadable, %d seen before, %d still settling",
             counts["new"], counts["failed"], counts["skipped"], counts["waiting"])
    with (Path(inbox) / TICKS).open("a", encoding="utf-8") as ticks:  # a heartbeat per tick
        ticks.write(f"{files.now.isoformat()} {counts}\n")
    return files


@dataclass(frozen=True)
class InboxTick:
    """What a tick holds: its private staging folder and the target, open for the tick."""

    staging: Path
    engine: Engine

    def record(self, files: TickFiles) -> None:
        """The tick's ledger rows into the target's `inbox_files`."""
        record_files(self.engine, files.ledger)


@contextmanager
def inbox_tick(inbox: str, target: str) -> Iterator[InboxTick]:
    """A staging folder of the tick's own (removed after) and the target opened once for the
    whole tick: the scan, the run (its migrate subflow takes the open engine, see
    `target_engine`) and the ledger."""
    staging_root = Path(inbox) / STAGING
    staging_root.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=datetime.now(UTC).strftime("%Y%m%dT%H%M%S-"),
                                    dir=staging_root))
    held = _hold(staging)
    try:
        remove_abandoned_staging(staging_root)
        with target_engine(target) as engine:
            yield InboxTick(staging, engine)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(held)


_HELD = ".held"  # in each tick's staging folder: locked (flock) while its tick runs


def _hold(staging: Path) -> int:
    """Lock the staging folder's `.held` file for as long as this tick runs: the lock ends
    with the process, however it ends (a SIGKILL too). Returns the open descriptor."""
    held = os.open(staging / _HELD, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    return held


def remove_abandoned_staging(staging_root: Path) -> list[str]:
    """Remove the staging folders of ticks that ended without removing theirs (a killed
    `serve` or run process): their staged copies hold personal data. A folder is abandoned
    when nobody holds its `.held` lock (a running tick, of this `serve` or another, always
    does). Returns the names removed."""
    removed = []
    for folder in sorted(staging_root.iterdir()):
        if not folder.is_dir():
            continue
        try:
            held = os.open(folder / _HELD, os.O_RDWR)
        except FileNotFoundError:  # a tick between its folder and its lock: not yet held
            try:
                if time.time() - folder.stat().st_mtime < ABANDONED_AFTER_SECONDS:
                    continue
            except OSError:  # just removed by another tick's clean-up
                continue
            held = None
        except OSError:
            continue
        try:
            if held is not None:
                try:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its tick still runs
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        finally:
            if held is not None:
                os.close(held)
    if removed:
        log.info("removed %s of earlier ticks", plural(len(removed), "abandoned staging folder"))
    return removed


ABANDONED_AFTER_SECONDS = 60.0  # a staging folder without its lock file: abandoned after
