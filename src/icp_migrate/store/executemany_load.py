"""Bulk writes by `executemany` of plain tuples on the DBAPI connection (the `Backend` of a
SQLite target uses these; see `bulk.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Column, Connection, MetaData, Table

from icp_migrate.store.rows import rows

# Page cache of the load's connection while it loads (KiB; SQLite's default is 2 MiB):
# foreign key and unique lookups in parent indexes larger than the cache go back to the
# file. The pages are freed at the commit; a bigger cache bought nothing measurable (a
# load of 2 million rows) and only raised the peak memory.
CACHE_KIB = 64 * 1024


@contextmanager
def cache_session(connection: Connection) -> Iterator[None]:
    """A bigger page cache for one load, restored after it (the connection is pooled)."""
    raw: Any = connection.connection.driver_connection
    before = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
    try:
        yield
    finally:
        # Before the commit: dirty pages stay pinned, a smaller cache drops only clean ones.
        raw.execute(f"PRAGMA cache_size = {before}")


def insert_rows(connection: Connection, table: Table, frame: pd.DataFrame, names: list[str],
                constants: dict[str, Any], chunk_rows: int, suffix: str = "") -> None:
    """INSERT the rows (`suffix`: an ON CONFLICT clause), chunk_rows tuples at a time."""
    q = connection.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {q(table.name)} ({', '.join(q(n) for n in names)}) "
           f"VALUES ({', '.join('?' * len(names))}) {suffix}")
    _executemany(connection.connection.driver_connection, sql.rstrip(),
                 rows(table, frame, names, constants, True, chunk_rows))


def index_upkeep(connection: Connection, table: Table) -> list[tuple[str, str]]:
    """(drop, make) statements of the table's non-unique, explicitly created indexes; the
    DROPs go in the load's transaction (sqlite3 opens one only before DML)."""
    raw: Any = connection.connection.driver_connection
    plain = {row[1] for row in raw.execute("SELECT * FROM pragma_index_list(?)", (table.name,))
             if row[2] == 0 and row[3] == "c"}  # seq, name, unique, origin, partial
    found = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", (table.name,))
    steps = [(f'DROP INDEX "{name}"', make) for name, make in found if name in plain]
    if steps and not raw.in_transaction:
        raw.execute("BEGIN")
    return steps


def stage(connection: Connection, table: Table) -> Table:
    """A temporary table of `table`'s columns (no key, index or constraint: rows are only
    appended), for a first load's rows to gather in before `unstage` moves them into
    `table` in the order of its key."""
    raw: Any = connection.connection.driver_connection
    staged = Table(f"_load_{table.name}", MetaData(),
                   *(Column(c.name, c.type) for c in table.columns))
    raw.execute(f'DROP TABLE IF EXISTS temp."{staged.name}"')  # a failed load's, if any
    raw.execute(f'CREATE TEMPORARY TABLE "{staged.name}" AS SELECT * FROM "{table.name}" WHERE 0')
    return staged


def unstage(connection: Connection, table: Table, staged: Table) -> None:
    """The staged rows into `table` in the order of its key (each of its B-trees then grows
    at its end, where rows in random key order would each land anywhere in it), and the
    stage dropped."""
    raw: Any = connection.connection.driver_connection
    key = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    raw.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} '
                f'FROM temp."{staged.name}" ORDER BY {key}')
    drop_stage(connection, staged)


def drop_stage(connection: Connection, staged: Table) -> None:
    raw: Any = connection.connection.driver_connection
    raw.execute(f'DROP TABLE IF EXISTS temp."{staged.name}"')


def _executemany(raw: Any, sql: str, chunks: Iterator[Iterator[tuple]]) -> None:
    cursor = raw.cursor()
    try:
        for chunk in chunks:
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()
