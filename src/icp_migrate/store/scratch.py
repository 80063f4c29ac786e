"""A target a dry run may write to and leave as it was: its preview upgrades the schema if
it must, reads the target, loads the plan and builds the run's report there, exactly as a
run would, and nothing of it stays.

- A target that exists (`preview_target`): one connection in one transaction that nothing
  commits (every commit and rollback of the code that writes through it is a no-op),
  rolled back at the end. Our tables are created or upgraded inside it when the target has
  none or an older schema (DDL is transactional on PostgreSQL, and on SQLite in the
  connection's own `BEGIN IMMEDIATE`), the snapshot is read, the load and the report run
  their usual SQL on it, in the backend's usual way (COPY, ON CONFLICT, index upkeep), and
  read what they wrote; no other session ever sees it. The caller holds the run lock
  meanwhile.
- A SQLite target that does not exist yet: a new database in a private temporary folder,
  removed at the end (`scratch_target(None)`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine

from icp_migrate.settings import target_url
from icp_migrate.store.target import open_target, target_engine


@contextmanager
def scratch_target(engine: Engine | None) -> Iterator[Engine]:
    """An engine to write a preview through: the dry run's `preview_target`, or an empty
    store of ours when there is no target yet (None)."""
    if engine is not None:
        yield engine
        return
    folder = Path(tempfile.mkdtemp(prefix="icp-migrate-preview-"))  # mode 0700
    try:
        with target_engine(target_url(str(folder / "preview.db"))) as empty:
            yield empty
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def preview_target(url: str | URL, init: bool = False) -> Iterator[Engine]:
    """The target opened for a dry run: checked like a run's (a foreign target refused
    unless `init`), its tables created or upgraded inside the one transaction, rolled back
    when the block ends (however it ends)."""
    engine = open_target(url, pinned=True, init=init)
    try:
        yield engine
    finally:
        try:
            with engine.connect() as connection:
                connection.connection.driver_connection.rollback()  # type: ignore[union-attr]
        finally:
            engine.dispose()
