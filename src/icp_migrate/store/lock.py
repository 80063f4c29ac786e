"""One run writes to a target at a time: a PostgreSQL advisory lock, or a lock file beside a
SQLite target. Both vanish with the process that holds them, so a killed run never leaves
the target locked."""

from __future__ import annotations

import fcntl
import os
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
        database = (engine.url.database or "memory").removeprefix("file:")  # URI filenames
        with _file_lock(Path(f"{database}.lock"), wait, display_url(engine.url)):
            yield


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
