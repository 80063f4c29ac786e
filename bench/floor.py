"""The floor: the least any pipeline must spend to read the inputs and write its output rows.

Reading: pandas' pyarrow engine on each file as text (bytes GB18030 cannot decode are
replaced first, since that engine raises on them; rows it cannot parse are skipped), the
legacy database with its mapping's two queries. Writing: the rows a real run wrote, per
table, into a fresh target with the same schema, with that database's fastest raw method
(`sqlite3.executemany` in one transaction; PostgreSQL `COPY`).
"""

from __future__ import annotations

import io
import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

# Parents before children (foreign keys hold at each statement), as the loader writes them.
TABLES = ("runs", "entities", "accounts", "website_filings", "domains", "record_dispositions",
          "entity_links")


def read_floor(files: list[Path]) -> float:
    """Seconds to read every input file into text frames."""
    from icp_migrate.mapping import builtin_mappings

    started = time.perf_counter()
    for path in files:
        if path.suffix == ".csv":
            _read_csv(path)
        elif path.suffix == ".jsonl":
            _read_jsonl(path)
        else:
            sql = next(m.sql for m in builtin_mappings() if m.reader == "sql")
            assert sql is not None
            with sqlite3.connect(path) as conn:
                pd.read_sql(sql.query, conn, dtype_backend="pyarrow")
                pd.read_sql(sql.domains_query, conn, dtype_backend="pyarrow")
    return time.perf_counter() - started


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("gb18030", errors="replace")
    return pd.read_csv(io.BytesIO(text.encode("utf-8")), engine="pyarrow", dtype=str,
                       on_bad_lines="skip")


def _read_jsonl(path: Path) -> pd.DataFrame:
    # pyarrow's JSON reader stops at the first broken line: keep the lines that look whole
    lines = [line for line in path.read_bytes().split(b"\n")
             if line.startswith(b'{"') and line.endswith(b"}")]
    return pd.read_json(io.BytesIO(b"\n".join(lines)), lines=True, engine="pyarrow")


BATCH_ROWS = 100_000  # output rows read (untimed) and written (timed) at a time


def table_batches(url: str, table: str) -> Iterator[tuple[list[str], list[tuple]]]:
    """The rows a run wrote to `table`, BATCH_ROWS at a time as (columns, tuples): a 10M
    run's 52M rows never exist at once (read outside any timing)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
                sa.text(f"SELECT * FROM {table}"))
            columns = list(result.keys())
            for batch in result.partitions():
                yield columns, [tuple(row) for row in batch]
    finally:
        engine.dispose()


class _Reads:
    """`table_batches` of each table, the seconds spent reading them summed (the floor
    counts only the writes)."""

    def __init__(self, source: str) -> None:
        self.source, self.seconds = source, 0.0

    def __call__(self, table: str) -> Iterator[tuple[list[str], list[tuple]]]:
        batches = table_batches(self.source, table)
        while True:
            started = time.perf_counter()
            batch = next(batches, None)
            self.seconds += time.perf_counter() - started
            if batch is None:
                return
            yield batch


def write_floor_sqlite(source: str, path: Path) -> tuple[float, dict[str, int]]:
    """Seconds to write the rows the run wrote to `source` into a fresh SQLite file with the
    target schema (`executemany` in one transaction; reading them is not counted), and the
    rows per table."""
    from icp_migrate.store.target import open_target

    path.unlink(missing_ok=True)
    open_target(f"sqlite:///{path}").dispose()  # the schema, untimed
    conn = sqlite3.connect(path)
    reads, counts = _Reads(source), dict.fromkeys(TABLES, 0)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        started = time.perf_counter()
        for table in TABLES:  # sqlite3 opens the transaction at the first insert
            for columns, values in reads(table):
                marks = ", ".join("?" * len(columns))
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                 values)
                counts[table] += len(values)
        conn.commit()
        return time.perf_counter() - started - reads.seconds, counts
    finally:
        conn.close()


def write_floor_postgres(source: str, url: str) -> tuple[float, dict[str, int]]:
    """Seconds to COPY the rows the run wrote to `source` into the fresh PostgreSQL schema
    `url` points at (one transaction; reading them is not counted), and the rows per table."""
    import psycopg

    from icp_migrate.store.target import open_target, parse_url

    open_target(url).dispose()  # the schema, untimed
    parsed = parse_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    reads, counts = _Reads(source), dict.fromkeys(TABLES, 0)
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table in TABLES:
                batches = reads(table)
                first = next(batches, None)
                if first is None:
                    continue
                with cur.copy(f"COPY {table} ({', '.join(first[0])}) FROM STDIN") as copy:
                    for _, values in itertools.chain([first], batches):
                        for row in values:
                            copy.write_row(row)
                        counts[table] += len(values)
        conn.commit()
        return time.perf_counter() - started - reads.seconds, counts
