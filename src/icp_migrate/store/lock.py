"""One run writes to a target at a time: a PostgreSQL advisory lock, or an `flock` on a lock
file of a SQLite target. Both vanish with the process that holds them, so a killed run never
leaves the target locked.

The lock files are not beside the database (the user's folder) but in a private folder of
the user's in the system temp folder, `icp-migrate-locks-<uid>/` (mode 0700), one file per
target named by the sha256 of the database file's real path (symlinks and relative paths
resolved, so every name of one file gives one lock). Not `$XDG_RUNTIME_DIR`: cron jobs and
services run without it, and two runs of one user must find the same lock. SQLite's own
locks cannot stand in for it: a run reads, plans and then writes over minutes on several
connections, and SQLite's write lock lasts one transaction."""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from ..errors import TargetError
from ..settings import LOCK_WAIT_ENV, lock_wait_seconds
from .backend import backend_of
from .target import display_url

_POLL_SECONDS = 0.5


@contextmanager
def target_lock(engine: sa.Engine, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the target's run lock; wait at most `wait_seconds` (default: $ICP_MIGRATE_LOCK_WAIT
    or 600), then fail in one line."""
    wait = lock_wait_seconds() if wait_seconds is None else wait_seconds
    if backend_of(engine).advisory_locks:
        with _advisory_lock(engine, wait):
            yield
    else:
        shown = display_url(engine.url)
        with _file_lock(lock_file(backend_of(engine).database_file(engine.url), shown), wait,
                        shown):
            yield


def lock_folder() -> Path:
    """This user's private folder of lock files (made, mode 0700, on first use)."""
    return Path(tempfile.gettempdir()) / f"icp-migrate-locks-{os.getuid()}"


def lock_file(database: str | None, shown: str) -> Path:
    """The lock file of a database file (None: an in-memory database, one per process)."""
    name = (hashlib.sha256(os.fsencode(os.path.realpath(database))).hexdigest()
            if database else f"memory-{os.getpid()}")
    folder = lock_folder()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise TargetError(f"cannot lock the target {shown}: {folder}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise TargetError(f"cannot lock the target {shown}: {folder} is not a private folder "
                          "of this user (mode 0700); remove it")
    return folder / f"{name}.lock"


def _busy(shown: str, wait: float) -> TargetError:
    return TargetError(f"another run is writing to {shown}; gave up after waiting {wait:.0f} s "
                       f"(set {LOCK_WAIT_ENV} to wait longer)")


@contextmanager
def _advisory_lock(engine: sa.Engine, wait: float) -> Iterator[None]:
    # One key per database and schema: runs into other schemas of the same server go on.
    key_sql = sa.text("SELECT hashtext('icp-migrate/' || current_database() || '/' "
                      "|| current_schema())")
    with engine.connect() as connection:
        key = connection.execute(key_sql).scalar_one()
        deadline = time.monotonic() + wait
        while not connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": key}).scalar_one():
            if time.monotonic() >= deadline:
                raise _busy(display_url(engine.url), wait)
            time.sleep(_POLL_SECONDS)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()


@contextmanager
def _file_lock(path: Path, wait: float, shown: str) -> Iterator[None]:
    try:
        handle = open(path, "a+")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        raise TargetError(f"cannot lock the target {shown}: {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(shown, wait) from None
                time.sleep(_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
