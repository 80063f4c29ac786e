"""Schema upgrades of the target store, run in code so an installed package needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect

from icp_migrate.store.backend import backend_of
from icp_migrate.store.schema import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
SHOWN_TABLES = 5  # foreign tables named in an error


class NotOurs(Exception):
    """The target holds other tables and no schema of ours (`tables`: a few of them)."""

    def __init__(self, tables: list[str], count: int) -> None:
        shown = ", ".join(tables[:SHOWN_TABLES]) + (
            f", … ({count} tables)" if count > SHOWN_TABLES else "")
        super().__init__(shown)
        self.tables = tables


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(bind: Engine | Connection) -> str | None:
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return current_revision(connection)
    return MigrationContext.configure(bind).get_current_revision()


def upgrade(engine: Engine, revision: str = "head", init: bool = False) -> None:
    """Bring the store to `revision` in one transaction (SQLite too: a failure midway leaves
    no table of ours), which no other process upgrades at the same time. A store already at
    the head is left alone (nothing written, nothing locked). NotOurs, unless `init`, when
    the target holds other tables and no schema of ours."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with backend_of(engine).schema_upgrade(engine) as connection:
        if not init:
            check_ours(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def check_ours(connection: Connection) -> None:
    """NotOurs when the connection's schema holds tables but no version table of ours; an
    empty database, or one with our version table, is fine."""
    names = set(inspect(connection).get_table_names())
    if not names or VERSION_TABLE in names:
        return
    foreign = sorted(names - set(metadata.tables)) or sorted(names)
    raise NotOurs(foreign, len(names))


def schema_problem(connection: Connection) -> str | None:
    """What keeps a read-only command from reading the target, or None: no tables of ours
    yet, other tables only, an older schema (to be upgraded by a run), a newer one."""
    current, head = current_revision(connection), head_revision()
    if current == head:
        return None
    if current is None:
        try:
            check_ours(connection)
        except NotOurs as exc:
            return f"it holds other tables ({exc}) and no icp-migrate tables"
        return "it holds no icp-migrate tables yet (`icp-migrate run` creates them)"
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except CommandError:
        return (f"its tables are from a newer icp-migrate (schema revision {current}); "
                "use that version")
    return (f"its tables are from an older icp-migrate (schema revision {current}, this one "
            f"reads {head}): run `icp-migrate run … --target` on it once to upgrade them")
