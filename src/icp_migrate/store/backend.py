"""What differs between a SQLite and a PostgreSQL target, in one small object.

Every other module asks the target's `Backend` (`backend_of(engine or connection)`, or
`backend_for(url)` before there is an engine) instead of testing the dialect's name: how an
engine is made (read-only too), how a read sees one snapshot, how text orders by code
point, which INSERT builder has ON CONFLICT, how bulk rows travel (executemany or COPY),
and how runs and schema upgrades lock the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pandas as pd
from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from icp_migrate.store import copy_load, executemany_load, sqlite_files

# Two runs starting at once on PostgreSQL must not both create the tables.
_PG_SCHEMA_LOCK_KEY = 0x1C9_3A7E
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10


class Backend:
    """The SQLite target (the base class); `_PostgreSQL` overrides what differs."""

    name = "sqlite"
    # A run's lock: a server-side advisory lock, or else a lock file (`lock.py`).
    advisory_locks = False
    # Appended to a text column in ORDER BY / GROUP BY: code point order (SQLite's default
    # BINARY collation already is; PostgreSQL's default follows the database's locale).
    code_points = ""
    # "a differs from b", NULLs compared as values
    is_distinct = "IS NOT"
    # Alembic rewrites a table to alter its constraints (SQLite has no ALTER CONSTRAINT)
    batch_migrations = True

    # ------------------------------------------------------------------ opening
    def check_location(self, url: URL, shown: str, read_only: bool) -> None:
        """Name a missing or read-only folder or file before the driver's vaguer error."""
        sqlite_files.check_location(url, shown, read_only)

    def create_engine(self, url: URL, read_only: bool = False, pinned: bool = False) -> Engine:
        """An engine on the target: a read-only one never writes (SQLite: the file opened
        read-only, so no journal or lock file is made beside it). `pinned`: every checkout
        is the same one connection, in a transaction opened when it connects that
        SQLAlchemy never commits nor rolls back (`scratch.py` rolls it back on the
        driver's connection); SQLite: the driver's implicit transactions off and `BEGIN
        IMMEDIATE` (so DDL is in it too, and the write lock taken at once), the connection
        free to move between threads."""
        options = {**_PINNED, "connect_args": {"check_same_thread": False}} if pinned else {}
        engine = create_engine(sqlite_files.read_only_url(url) if read_only else url, **options)
        event.listen(engine, "connect", _sqlite_on_connect)  # before BEGIN: PRAGMAs
        if pinned:
            event.listen(engine, "connect", _sqlite_begin)
        return _pinned(engine) if pinned else engine

    def database_file(self, url: URL) -> str | None:
        """The target's database file (URI filenames without `file:` and query); None
        without one."""
        return sqlite_files.database_file(url)

    @contextmanager
    def schema_upgrade(self, engine: Engine) -> Iterator[Connection]:
        """One transaction for a schema upgrade, which no other process upgrades at once.

        sqlite3 (Python 3.11) runs DDL outside any transaction unless one is open, so each
        CREATE TABLE would commit on its own: the connection is put in driver autocommit
        (SQLAlchemy's AUTOCOMMIT: pysqlite's `isolation_level = None`) and the transaction
        is ours, `BEGIN IMMEDIATE`: it takes SQLite's write lock at once, so a second
        process creating the tables waits (busy timeout) and then finds them made."""
        with engine.connect() as connection:
            if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                # a pinned engine (a preview): its transaction, which its owner rolls back;
                # never commit it here (pysqlite commits when its isolation level is set)
                yield connection
                return
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                    connection.exec_driver_sql("ROLLBACK")  # (a full disk ends it itself)
                raise
            connection.exec_driver_sql("COMMIT")

    # ------------------------------------------------------------------ reading
    def read_snapshot(self, connection: Connection, hash_joins: bool = False) -> None:
        """Start the connection's read-only transaction: every query of it sees the same
        snapshot even while a run commits (SQLite: a read transaction already does).
        `hash_joins`: plan joins without nested loops, for reads just after a load."""

    def statistics(self, connection: Connection, tables: tuple[Table, ...]) -> None:
        """The planner's statistics of `tables` made anew, in the caller's transaction. A
        load calls it for the tables it adds a run's rows to: without them SQLite reaches
        a run's rows through the (run_id, row_id) key, one table lookup per row, even
        when the run is the whole table (a first migration), where a plain scan reads
        the table in its order (docs/performance.md)."""
        for table in tables:
            connection.exec_driver_sql(
                f"ANALYZE {connection.dialect.identifier_preparer.quote(table.name)}")

    def statistics_made(self, engine: Engine) -> None:
        """After the commit of `statistics`: SQLite reads them only when a connection
        opens (`ANALYZE sqlite_schema` would read them again, but takes the write lock for
        the rest of a read), so the engine's pooled connections are closed and the next
        read opens a fresh one; a pinned engine's one connection is its transaction and
        stays."""
        if not isinstance(engine.pool, StaticPool):
            engine.dispose()

    # ------------------------------------------------------------------ writing
    def insert(self, table: Table) -> Any:  # noqa: ANN401 - the dialect's Insert
        """An INSERT of `table` with `on_conflict_do_nothing` / `on_conflict_do_update`."""
        return sqlite.insert(table)

    def load_session(self, connection: Connection) -> Any:  # noqa: ANN401 - a context
        """Connection settings for one load, restored after it."""
        return executemany_load.cache_session(connection)

    def insert_rows(self, connection: Connection, table: Table, frame: pd.DataFrame,
                    names: list[str], constants: dict[str, Any], chunk_rows: int) -> None:
        """Bulk INSERT of the frame's rows (with the `constants` columns)."""
        executemany_load.insert_rows(connection, table, frame, names, constants, chunk_rows)

    def upsert_rows(self, connection: Connection, table: Table, frame: pd.DataFrame,
                    names: list[str], key: list[str], conflict: str, chunk_rows: int) -> None:
        """Bulk INSERT with the `conflict` clause (ON CONFLICT ... DO UPDATE ... WHERE)."""
        executemany_load.insert_rows(connection, table, frame, names, {}, chunk_rows,
                                     suffix=conflict)

    def index_upkeep(self, connection: Connection, table: Table) -> list[tuple[str, str]]:
        """(drop, make) statements a big first load may defer: plain indexes (SQLite),
        and foreign keys too (PostgreSQL)."""
        return executemany_load.index_upkeep(connection, table)

    def stage(self, connection: Connection, table: Table) -> Table | None:
        """Where a big first load gathers `table`'s rows before `unstage` puts them in the
        table in key order (SQLite: a temporary table), or None: straight into the table
        (PostgreSQL's COPY)."""
        return executemany_load.stage(connection, table)

    def unstage(self, connection: Connection, table: Table, staged: Table) -> None:
        """The rows gathered in `staged` into `table` in key order; the stage dropped."""
        executemany_load.unstage(connection, table, staged)

    def drop_stage(self, connection: Connection, staged: Table) -> None:
        """The stage gone, whatever it holds (a failed load's)."""
        executemany_load.drop_stage(connection, staged)


class _PostgreSQL(Backend):
    name = "postgresql"
    advisory_locks = True
    code_points = ' COLLATE "C"'
    is_distinct = "IS DISTINCT FROM"
    batch_migrations = False

    def check_location(self, url: URL, shown: str, read_only: bool) -> None:
        pass

    def create_engine(self, url: URL, read_only: bool = False, pinned: bool = False) -> Engine:
        connect_args = {}
        if "connect_timeout" not in url.query:
            # A firewalled host would otherwise hang for minutes before failing.
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        # pinned: psycopg opens the transaction at the first statement
        engine = create_engine(url, connect_args=connect_args, **(_PINNED if pinned else {}))
        if read_only:
            event.listen(engine, "connect", _read_only_session)
        return _pinned(engine) if pinned else engine

    def database_file(self, url: URL) -> str | None:
        return None

    @contextmanager
    def schema_upgrade(self, engine: Engine) -> Iterator[Connection]:
        with engine.begin() as connection:  # DDL is transactional on PostgreSQL
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _PG_SCHEMA_LOCK_KEY})
            yield connection

    def read_snapshot(self, connection: Connection, hash_joins: bool = False) -> None:
        from psycopg import pq

        raw: Any = connection.connection.driver_connection
        # On a pinned engine (a preview) the transaction is already open, and writes:
        # it is its own snapshot
        if raw.info.transaction_status == pq.TransactionStatus.IDLE:
            connection.exec_driver_sql(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if hash_joins:
            # Just after a load the planner has no statistics on the run's rows (autovacuum
            # analyzes them later) and would probe an index once per record; hash joins
            # are right at any size here. Only for this read-only transaction.
            connection.exec_driver_sql("SET LOCAL enable_nestloop = off")

    def insert(self, table: Table) -> Any:  # noqa: ANN401 - the dialect's Insert
        return postgresql.insert(table)

    def load_session(self, connection: Connection) -> Any:  # noqa: ANN401 - a context
        return nullcontext()

    def insert_rows(self, connection: Connection, table: Table, frame: pd.DataFrame,
                    names: list[str], constants: dict[str, Any], chunk_rows: int) -> None:
        copy_load.copy_insert(connection, table, frame, names, constants, chunk_rows)

    def upsert_rows(self, connection: Connection, table: Table, frame: pd.DataFrame,
                    names: list[str], key: list[str], conflict: str, chunk_rows: int) -> None:
        copy_load.copy_upsert(connection, table, frame, names, key, conflict, chunk_rows)

    def index_upkeep(self, connection: Connection, table: Table) -> list[tuple[str, str]]:
        return copy_load.catalog_upkeep(connection, table)

    def stage(self, connection: Connection, table: Table) -> Table | None:
        return None

    def statistics_made(self, engine: Engine) -> None:
        pass  # the server's statistics: every session plans with them once committed


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite, per connection
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# one connection for every checkout, never reset when it goes back to the pool
_PINNED: dict[str, Any] = {"poolclass": StaticPool, "pool_reset_on_return": None}


def _pinned(engine: Engine) -> Engine:
    """Nothing commits or rolls back the engine's transaction but its owner (`scratch.py`,
    on the DBAPI connection): SQLAlchemy's commits and rollbacks are no-ops."""
    engine.dialect.do_commit = _kept  # type: ignore[method-assign,assignment]
    engine.dialect.do_rollback = _kept  # type: ignore[method-assign,assignment]
    return engine


def _kept(_dbapi_connection: Any) -> None:
    """The transaction stays open."""


def _sqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN / COMMIT by the driver
    dbapi_connection.execute("BEGIN IMMEDIATE")


def _read_only_session(dbapi_connection: Any, _record: Any) -> None:
    """Every transaction of the connection read-only: the server refuses any write."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    dbapi_connection.commit()


_BACKENDS = {backend.name: backend for backend in (Backend(), _PostgreSQL())}
BACKEND_NAMES = tuple(_BACKENDS)


def backend_of(bind: Engine | Connection) -> Backend:
    """The backend of an engine or connection on a target (SQLite or PostgreSQL)."""
    return _BACKENDS[bind.dialect.name]


def backend_for(url: URL) -> Backend:
    """The backend a parsed, supported target URL names."""
    return _BACKENDS[url.get_backend_name()]
