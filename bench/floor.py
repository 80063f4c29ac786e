"""The floor: the least any pipeline must spend to read the inputs and write its output rows.

Reading: pandas' pyarrow engine on each file as text (bytes GB18030 cannot decode are
replaced first, since that engine raises on them; rows it cannot parse are skipped), the
legacy database with its mapping's two queries. Writing: the rows a real run wrote, per
table, into a fresh target with the same schema, with that database's fastest raw method
(`sqlite3.executemany` in one transaction; PostgreSQL `COPY`).
"""

from __future__ import annotations

import io
import sqlite3
import time
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


def output_rows(url: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row a run wrote, per table, as (columns, tuples) (read outside any timing)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in TABLES:
                result = conn.execute(sa.text(f"SELECT * FROM {table}"))
                out[table] = (list(result.keys()), [tuple(r) for r in result])
            return out
    finally:
        engine.dispose()


def write_floor_sqlite(rows: dict[str, tuple[list[str], list[tuple]]], path: Path) -> float:
    """Seconds to write `rows` into a fresh SQLite file with the target schema."""
    from icp_migrate.store.target import open_target

    path.unlink(missing_ok=True)
    open_target(f"sqlite:///{path}").dispose()  # the schema, untimed
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        started = time.perf_counter()
        with conn:
            for table in TABLES:
                columns, values = rows[table]
                marks = ", ".join("?" * len(columns))
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                 values)
        return time.perf_counter() - started
    finally:
        conn.close()


def write_floor_postgres(rows: dict[str, tuple[list[str], list[tuple]]], url: str) -> float:
    """Seconds to COPY `rows` into the fresh PostgreSQL schema `url` points at."""
    import psycopg

    from icp_migrate.store.target import open_target, parse_url

    open_target(url).dispose()  # the schema, untimed
    parsed = parse_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table in TABLES:
                columns, values = rows[table]
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started
