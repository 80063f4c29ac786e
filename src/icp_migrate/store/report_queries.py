"""What a run's report counts in the store: GROUP BY queries and the first rows of each
list, never the run's records one by one. One public query per report section, named after
the section (`reports/sections/<name>.py` calls it): the counted sections here, the lists'
in ListQueries (`report_lists.py`). What two sections share is read once (`_once`).

The same SQL runs on SQLite and PostgreSQL. Lists are ordered by code point on both
(`Backend.code_points`: PostgreSQL compares with `COLLATE "C"`, SQLite's default BINARY is
the same order), so a store gives the same report whatever its database's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine, bindparam, text

from icp_migrate.store.backend import backend_of
from icp_migrate.store.report_lists import RUN, RUN_ENTITIES, ListQueries
from icp_migrate.store.runs import run_row
from icp_migrate.store.validations import failing_row_ids, read_validations

T = TypeVar("T")
FETCH_ROWS = 50_000  # rows fetched at a time by ReportQueries.arrow and .batches
_REAL_NAME = "CASE WHEN real_name_verification_required THEN 'required' ELSE 'not required' END"


@contextmanager
def report_queries(engine: Engine, run_id: str, rows: int, items: int,
                   ) -> Iterator[ReportQueries]:
    """The report's queries of one run on one connection, all of one snapshot; lists give
    their first `rows` rows, and `items` values in a row's list."""
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection, hash_joins=True)
        yield ReportQueries(connection, run_id, rows, items)


class ReportQueries(ListQueries):
    """The report's queries on one connection for one run: its counts here, its lists'
    first rows in ListQueries (`report_lists.py`)."""

    def __init__(self, connection: Connection, run_id: str, rows: int, items: int) -> None:
        self.connection = connection
        self.run_id = run_id
        self.rows = rows
        self.items = items
        # code point order on both backends (see the module docstring); grouping by bytes
        # is also cheaper for PostgreSQL than by a locale (the groups are the same)
        self.c = backend_of(connection).code_points
        self._read: dict[str, Any] = {}

    def _once(self, name: str, read: Callable[[], Any]) -> Any:
        """`read()` once per report: sections may share what one query gives."""
        if name not in self._read:
            self._read[name] = read()
        return self._read[name]

    def frame(self, sql: str, counts: tuple[str, ...] = (), **params: object) -> pd.DataFrame:
        """The rows of `sql` as objects, the `counts` columns as int64; lists bind as IN."""
        query = text(sql)
        lists = [k for k, v in params.items() if isinstance(v, list)]
        if lists:
            query = query.bindparams(*(bindparam(k, expanding=True) for k in lists))
        result = self.connection.execute(query, {"run": self.run_id, **params})
        return _frame(list(result.keys()), result.fetchall(), counts)

    def batches(self, sql: str, counts: tuple[str, ...] = (), **params: object,
                ) -> Iterator[pd.DataFrame]:
        """The rows of `sql` as `frame` gives them, FETCH_ROWS rows at a time: for rows
        that are reduced as they come, never held all at once."""
        keys, parts = self._streamed(sql, params)
        for rows in parts:
            yield _frame(keys, rows, counts)

    def arrow(self, sql: str, types: dict[str, pa.DataType], **params: object) -> pa.Table:
        """The rows of `sql` as Arrow (`types`: each column's), streamed FETCH_ROWS rows at
        a time: the rows are never all Python objects at once (a million rows of text are
        about 0.5 GB of them, a tenth of that as Arrow)."""
        keys, parts = self._streamed(sql, params)
        schema = pa.schema([(key, types[key]) for key in keys])
        batches = []
        for rows in parts:
            columns = zip(*rows, strict=True)
            batches.append(pa.record_batch(
                [pa.array(values, type=field.type)
                 for values, field in zip(columns, schema, strict=True)], schema=schema))
        return pa.Table.from_batches(batches, schema=schema)

    def _streamed(self, sql: str, params: dict[str, object],
                  ) -> tuple[list[str], Iterator[Sequence[Any]]]:
        """The column names of `sql` and its rows, fetched FETCH_ROWS at a time."""
        result = self.connection.execute(text(sql), {"run": self.run_id, **params},
                                         execution_options={"stream_results": True})
        return list(result.keys()), result.partitions(FETCH_ROWS)

    def _scalar(self, sql: str) -> int:
        return int(self.connection.execute(text(sql), {"run": self.run_id}).scalar_one() or 0)

    def run(self) -> dict[str, Any] | None:
        return run_row(self.connection, self.run_id)

    # -- one query per section, named after it -------------------------------------------

    def reconciliation(self) -> pd.DataFrame:
        """source, disposition, records, with_reasons, with_warnings: one row a pair."""
        return self._once("dispositions", lambda: self.frame(
            "SELECT source, disposition, COUNT(*) AS records, COUNT(reasons) AS with_reasons, "
            f"COUNT(warnings) AS with_warnings FROM record_dispositions WHERE {RUN} "
            "GROUP BY disposition, source", counts=("records", "with_reasons", "with_warnings")))

    def reasons(self, tally: Callable[[Iterator[pd.DataFrame]], T]) -> tuple[T, pd.DataFrame]:
        """`tally` of the run's distinct reason texts, read once per report in batches of
        disposition, reasons (one row a distinct text), records, first_row (row id); and the
        reconciliation's counts (records without a reason are the rest of them)."""
        tallied = self._once("reasons", lambda: tally(self.batches(
            "SELECT disposition, reasons, COUNT(*) AS records, MIN(row_id) AS first_row "
            f"FROM record_dispositions WHERE {RUN} AND reasons IS NOT NULL "
            "GROUP BY disposition, reasons", counts=("records", "first_row"))))
        return tallied, self.reconciliation()

    def entities(self) -> pd.DataFrame:
        """entity_type, province, entities: the run's entities (of its loaded and duplicate
        records) found once."""
        return self._entity_parts("entities", ["entity_type", "province", "entities"])

    def accounts(self) -> pd.DataFrame:
        """account_kind, real_name ('required' or 'not required'), accounts: those of the
        run's entities."""
        return self._entity_parts("accounts", ["account_kind", "real_name", "accounts"])

    def possible_matches(self) -> pa.Table:
        """entity_id, name, province, in_run (1: an entity of the run) of the store's
        organizations with a certificate, name and province, as Arrow."""
        # a join to the run's entities, grouped (report_lists.py, above RUN_ENTITIES)
        return self.arrow(
            "SELECT e.entity_id, e.name, e.province, CASE WHEN r.entity_id IS NULL THEN 0 "
            f"ELSE 1 END AS in_run FROM entities e LEFT JOIN ({RUN_ENTITIES}) r "
            "ON r.entity_id = e.entity_id "
            "WHERE (e.entity_type IS NULL OR e.entity_type <> 'individual') "
            "AND e.cert_number IS NOT NULL AND e.name IS NOT NULL AND e.province IS NOT NULL",
            {"entity_id": pa.large_string(), "name": pa.large_string(),
             "province": pa.large_string(), "in_run": pa.int8()})

    def validation(self, examples: int) -> tuple[dict[str, dict], pd.DataFrame]:
        """Suite name -> GX result of the run; and row_id, source, locator of the first
        `examples` rows each record expectation found (GX knows rows by row id only)."""
        validations = read_validations(self.connection, self.run_id)
        ids = failing_row_ids(validations, examples)
        if not ids:
            return validations, pd.DataFrame(columns=["row_id", "source", "locator"])
        return validations, self.frame(
            f"SELECT row_id, source, locator FROM record_dispositions WHERE {RUN} "
            "AND row_id IN :ids", counts=("row_id",), ids=ids)

    def history(self, runs: int) -> pd.DataFrame:
        """The `runs` runs started up to this one, the latest first, with their counts."""
        return self.frame(
            "SELECT run_id, started_at, status, records_in, loaded, duplicate, out_of_scope, "
            "quarantined, needs_review FROM runs "
            "WHERE started_at <= (SELECT started_at FROM runs WHERE run_id = :run) "
            f"ORDER BY started_at DESC, run_id DESC LIMIT {int(runs)}")

    def _entity_parts(self, part: str, columns: list[str]) -> pd.DataFrame:
        """One query for both: the run's entities by type (a) and province (b) as part
        'entities', their accounts by kind and real-name requirement as 'accounts'."""
        # a join to the run's entities, grouped (report_lists.py, above RUN_ENTITIES);
        # CROSS JOIN keeps SQLite's loop on them (PostgreSQL plans it as any join)
        parts = self._once("entity_parts", lambda: self.frame(
            f"WITH r AS MATERIALIZED ({RUN_ENTITIES}) "
            "SELECT 'entities' AS part, e.entity_type AS a, e.province AS b, COUNT(*) AS n "
            "FROM r CROSS JOIN entities e WHERE e.entity_id = r.entity_id "
            "GROUP BY e.entity_type, e.province UNION ALL "
            f"SELECT 'accounts', a.account_kind, {_REAL_NAME}, COUNT(*) FROM r "
            "CROSS JOIN accounts a WHERE a.entity_id = r.entity_id "
            f"GROUP BY a.account_kind, {_REAL_NAME}", counts=("n",)))
        return parts.loc[parts["part"] == part, ["a", "b", "n"]].set_axis(
            columns, axis=1).reset_index(drop=True)


def _frame(keys: list[str], rows: Sequence[Any], counts: tuple[str, ...]) -> pd.DataFrame:
    """`rows` as a frame of `keys`: objects, the `counts` columns as int64."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(keys)
    # column by column: pandas inspects Row objects one by one, at a cost
    return pd.DataFrame({
        k: pd.Series(list(v), dtype="int64" if k in counts else object)
        for k, v in zip(keys, values, strict=True)}, columns=keys)
