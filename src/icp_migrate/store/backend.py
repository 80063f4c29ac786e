"""What differs between a SQLite and a PostgreSQL target, in one small object.

Every other module asks the target's `Backend` (`backend_of(engine or connection)`) instead
of testing the dialect's name: how a read sees one snapshot, how text orders by code point,
which INSERT builder has ON CONFLICT, and how runs and schema upgrades lock the target.
(`bulk.py` is the one exception: it is the per-backend bulk writer, COPY or executemany.)
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.dialects import postgresql, sqlite

# Two runs starting at once on PostgreSQL must not both create the tables.
_PG_SCHEMA_LOCK_KEY = 0x1C9_3A7E


class Backend:
    """The SQLite target (the base class); `_PostgreSQL` overrides what differs."""

    name = "sqlite"
    # A run's lock: a server-side advisory lock, or else a lock file beside the database.
    advisory_locks = False
    # Appended to a text column in ORDER BY / GROUP BY: code point order (SQLite's default
    # BINARY collation already is; PostgreSQL's default follows the database's locale).
    code_points = ""

    def read_snapshot(self, connection: Connection, hash_joins: bool = False) -> None:
        """Start the connection's read-only transaction: every query of it sees the same
        snapshot even while a run commits (SQLite: a read transaction already does).
        `hash_joins`: plan joins without nested loops, for reads just after a load."""

    def insert(self, table: Table) -> Any:  # noqa: ANN401 - the dialect's Insert
        """An INSERT of `table` with `on_conflict_do_nothing` / `on_conflict_do_update`."""
        return sqlite.insert(table)

    def database_file(self, engine: Engine) -> str | None:
        """The target's database file (URI filenames without `file:`); None without one."""
        database = engine.url.database
        if not database or database == ":memory:":
            return None
        return database.removeprefix("file:")

    @contextmanager
    def schema_upgrade(self, engine: Engine) -> Iterator[Connection]:
        """A transaction for a schema upgrade that no other process upgrades at once."""
        database = self.database_file(engine)
        if database is None:
            with engine.begin() as connection:
                yield connection
            return
        # two processes opening a new SQLite file at once must not both create the tables
        with open(f"{database}.schema.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            with engine.begin() as connection:
                yield connection


class _PostgreSQL(Backend):
    name = "postgresql"
    advisory_locks = True
    code_points = ' COLLATE "C"'

    def read_snapshot(self, connection: Connection, hash_joins: bool = False) -> None:
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if hash_joins:
            # Just after a load the planner has no statistics on the run's rows (autovacuum
            # analyzes them later) and would probe an index once per record; hash joins
            # are right at any size here. Only for this read-only transaction.
            connection.exec_driver_sql("SET LOCAL enable_nestloop = off")

    def insert(self, table: Table) -> Any:  # noqa: ANN401 - the dialect's Insert
        return postgresql.insert(table)

    def database_file(self, engine: Engine) -> str | None:
        return None

    @contextmanager
    def schema_upgrade(self, engine: Engine) -> Iterator[Connection]:
        with engine.begin() as connection:  # DDL is transactional on PostgreSQL
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _PG_SCHEMA_LOCK_KEY})
            yield connection


_BACKENDS = {backend.name: backend for backend in (Backend(), _PostgreSQL())}


def backend_of(bind: Engine | Connection) -> Backend:
    """The backend of an engine or connection on a target (SQLite or PostgreSQL)."""
    return _BACKENDS[bind.dialect.name]
