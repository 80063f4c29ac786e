"""Schema upgrades of the target store, run in code so an installed package needs no alembic.ini."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Two runs starting at once on PostgreSQL must not both create the tables.
_PG_LOCK_KEY = 0x1C9_3A7E


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to `revision` in one transaction (DDL is transactional on PostgreSQL)."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        # two processes opening a new SQLite file at once must not both create the tables
        database = engine.url.database.removeprefix("file:")  # URI filenames (mode=ro)
        with open(f"{database}.schema.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _upgrade(engine, revision)
        return
    _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
