"""Schema upgrades of the target store, run in code so an installed package needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from icp_migrate.store.backend import backend_of

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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
    """Bring the store to `revision` in one transaction (DDL is transactional on PostgreSQL),
    which no other process upgrades at the same time."""
    config = alembic_config()
    with backend_of(engine).schema_upgrade(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
