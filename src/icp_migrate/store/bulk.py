"""Bulk writes of plan frames, inside the caller's transaction.

How rows travel is the target's `Backend` (`backend.py`): `executemany` of plain tuples
(SQLite, `executemany_load.py`) or `COPY` (PostgreSQL, `copy_load.py`: rows that are
upserted go through a staging table and one set-based `INSERT ... SELECT ... ON
CONFLICT`). An upsert rewrites a stored row only where a value differs, so a rerun of the
same input changes nothing (not even PostgreSQL's row versions); rows that only go in
(dispositions, links, and every row of a table still empty) are plain inserts.

A big load into an empty table (a first migration) defers the table's upkeep: its plain
indexes (and, where the backend can, its foreign keys) are dropped first and made again
once the rows are in, so each index is built by one sort and each foreign key is checked by
one join instead of row by row (PostgreSQL's "Populating a Database" advice). All of it is
in the load's transaction: a load that fails or is killed leaves them as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table

from icp_migrate.store.backend import backend_of

# Rows per executemany / COPY batch: bounds the memory of the tuples on million-row runs.
CHUNK_ROWS = 50_000
# Rows from which a load into an empty table defers its indexes and foreign keys (below,
# the statements cost more than they save, and PostgreSQL would lock the parents for it).
DEFER_MIN_ROWS = 20_000


@contextmanager
def session(connection: Connection) -> Iterator[None]:
    """Connection settings for one load, restored after it (the connection is pooled)."""
    with backend_of(connection).load_session(connection):
        yield


def upsert(connection: Connection, table: Table, frame: pd.DataFrame, chunk_rows: int,
           fresh: bool | None = None) -> None:
    """Insert the frame's rows; update a stored row (same key) only where a value differs.

    Into a table that holds no row yet (a first migration) every row is new: they go in
    as plain inserts, without the per-row conflict check (SQLite: a third faster).
    `fresh`: the caller knows the table held no row of these keys (a load in parts whose
    table was empty when the load began: store/load.py), and keeps its upkeep itself.
    """
    if not len(frame):
        return
    if fresh or (fresh is None and empty(connection, table)):
        insert(connection, table, frame, {}, chunk_rows, upkeep=fresh is None)
        return
    backend = backend_of(connection)
    names = [column.name for column in table.columns]
    key = [column.name for column in table.primary_key.columns]
    others = [name for name in names if name not in key]
    q = connection.dialect.identifier_preparer.quote
    target = q(table.name)
    if others:
        changes = " OR ".join(f"{target}.{q(n)} {backend.is_distinct} excluded.{q(n)}"
                              for n in others)
        action = (f"DO UPDATE SET {', '.join(f'{q(n)} = excluded.{q(n)}' for n in others)} "
                  f"WHERE {changes}")
    else:
        action = "DO NOTHING"
    conflict = f"ON CONFLICT ({', '.join(q(n) for n in key)}) {action}"
    backend.upsert_rows(connection, table, frame, names, key, conflict, chunk_rows)


def insert(connection: Connection, table: Table, frame: pd.DataFrame, constants: dict[str, Any],
           chunk_rows: int, upkeep: bool = True) -> None:
    """Insert the frame's rows, each with the `constants` columns (e.g. its run_id);
    `upkeep`: defer the table's indexes around these rows if it is worth it (False: the
    caller defers them around its whole load, or not)."""
    if not len(frame):
        return
    names = [column.name for column in table.columns]
    with deferred_upkeep(connection, table, len(frame)) if upkeep else nullcontext():
        backend_of(connection).insert_rows(connection, table, frame, names, constants,
                                           chunk_rows)


@contextmanager
def deferred_upkeep(connection: Connection, table: Table, rows: int) -> Iterator[None]:
    """Around a load into `table`: if it is big and the table empty, drop the table's plain
    indexes (and foreign keys, where the backend can) first and make them again after."""
    if rows < DEFER_MIN_ROWS or not empty(connection, table):
        yield
        return
    steps = backend_of(connection).index_upkeep(connection, table)
    raw: Any = connection.connection.driver_connection
    for drop, _ in steps:
        raw.execute(drop)
    yield
    for _, make in steps:  # indexes first, then each foreign key's one checking join
        raw.execute(make)


@contextmanager
def staged(connection: Connection, table: Table, rows: int) -> Iterator[Table | None]:
    """Around a big load into `table`, which the caller knows empty: the stage its rows
    gather in where the backend has one (SQLite: rows that reach a B-tree in random key
    order each land anywhere in it, a page out of cache at ten million rows), else None;
    `unstage` puts them in the table in key order. The stage is dropped at the end
    whatever happens."""
    backend = backend_of(connection)
    stage = backend.stage(connection, table) if rows >= DEFER_MIN_ROWS else None
    if stage is None:
        yield None
        return
    try:
        yield stage
    finally:
        backend.drop_stage(connection, stage)


def unstage(connection: Connection, table: Table, stage: Table) -> None:
    """The rows gathered in `stage` (`staged`) into `table`, in the order of its key."""
    backend_of(connection).unstage(connection, table, stage)


def empty(connection: Connection, table: Table) -> bool:
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    return connection.exec_driver_sql(f"SELECT 1 FROM {quoted} LIMIT 1").first() is None
