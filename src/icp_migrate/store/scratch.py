"""A target a dry run may write to and leave as it was: its preview loads the plan and
builds the run's report there, exactly as a run would, and nothing of it stays.

- A target that exists: one connection in one transaction that nothing commits (every
  commit and rollback of the code that writes through it is a no-op) and that is rolled
  back at the end. The load and the report run their usual SQL on it, in the backend's
  usual way (COPY, ON CONFLICT, index upkeep), and read what they wrote; no other
  session ever sees it. The caller holds the run lock meanwhile.
- A SQLite target that does not exist yet: a new database in a private temporary folder,
  removed at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine

from icp_migrate.settings import target_url
from icp_migrate.store.backend import backend_for
from icp_migrate.store.target import target_engine


@contextmanager
def scratch_target(engine: Engine | None) -> Iterator[Engine]:
    """An engine to write a preview through: on the target's data (`engine`) and rolled back
    at the end, or an empty store of ours when there is no target yet (None)."""
    if engine is not None:
        with rolled_back(engine.url) as pinned:
            yield pinned
        return
    folder = Path(tempfile.mkdtemp(prefix="icp-migrate-preview-"))  # mode 0700
    try:
        with target_engine(target_url(str(folder / "preview.db"))) as empty:
            yield empty
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def rolled_back(url: URL) -> Iterator[Engine]:
    """An engine whose every connection is one connection in one transaction, rolled back
    when the block ends (however it ends)."""
    engine = backend_for(url).create_engine(url, pinned=True)
    try:
        yield engine
    finally:
        try:
            with engine.connect() as connection:
                connection.connection.driver_connection.rollback()  # type: ignore[union-attr]
        finally:
            engine.dispose()
