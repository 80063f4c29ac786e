"""What a run's report counts in the store: GROUP BY queries and the first rows of each
list, never the run's records one by one (`reports/data.py` makes the ReportData of them).

The same SQL runs on SQLite and PostgreSQL. Lists are ordered by code point on both
(`Backend.code_points`: PostgreSQL compares with `COLLATE "C"`, SQLite's default BINARY is
the same order), so a store gives the same report whatever its database's locale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, text

from icp_migrate.store.backend import backend_of
from icp_migrate.store.runs import run_row
from icp_migrate.store.validations import read_validations

_RUN = "run_id = :run"
_KEPT = f"{_RUN} AND disposition IN ('loaded', 'duplicate') AND entity_id IS NOT NULL"
# for `x IN (…)` only: no DISTINCT, the database dedupes IN lists itself
_RUN_ENTITIES = f"SELECT entity_id FROM record_dispositions WHERE {_KEPT}"
_RUN_SITES = (
    f"SELECT website_filing_number FROM record_dispositions WHERE {_RUN} "
    "AND disposition = 'loaded' AND website_filing_number IS NOT NULL"
)
_REAL_NAME = "CASE WHEN real_name_verification_required THEN 'required' ELSE 'not required' END"


@contextmanager
def report_queries(engine: Engine, run_id: str, rows: int, items: int,
                   ) -> Iterator[ReportQueries]:
    """The report's queries of one run on one connection, all of one snapshot; lists give
    their first `rows` rows, and `items` values in a row's list."""
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection, hash_joins=True)
        yield ReportQueries(connection, run_id, rows, items)


class ReportQueries:
    """The report's queries on one connection for one run. A list's `(frame, total)`: its
    first rows (keys in `k`, sizes in `n`) and how many it has."""

    def __init__(self, connection: Connection, run_id: str, rows: int, items: int) -> None:
        self.connection = connection
        self.run_id = run_id
        self.rows = rows
        self.items = items
        # code point order on both backends (see the module docstring); grouping by bytes
        # is also cheaper for PostgreSQL than by a locale (the groups are the same)
        self.c = backend_of(connection).code_points

    def frame(self, sql: str, counts: tuple[str, ...] = (), **params: object) -> pd.DataFrame:
        """The rows of `sql` as objects, the `counts` columns as int64; lists bind as IN."""
        query = text(sql)
        lists = [k for k, v in params.items() if isinstance(v, list)]
        if lists:
            query = query.bindparams(*(bindparam(k, expanding=True) for k in lists))
        result = self.connection.execute(query, {"run": self.run_id, **params})
        keys = list(result.keys())
        rows = result.fetchall()
        values = list(zip(*rows, strict=True)) if rows else [()] * len(keys)
        # column by column: pandas inspects Row objects one by one, at a cost
        return pd.DataFrame({
            k: pd.Series(list(v), dtype="int64" if k in counts else object)
            for k, v in zip(keys, values, strict=True)}, columns=keys)

    def _scalar(self, sql: str) -> int:
        return int(self.connection.execute(text(sql), {"run": self.run_id}).scalar_one() or 0)

    def _top(self, sql: str) -> tuple[pd.DataFrame, int]:
        """The first rows of `sql` (which counts its rows as `total`) and the total."""
        frame = self.frame(f"{sql} LIMIT :limit", counts=("n", "total"), limit=self.rows)
        total = int(frame["total"].iat[0]) if len(frame) else 0
        return frame.drop(columns="total"), total

    def run(self) -> dict[str, Any] | None:
        return run_row(self.connection, self.run_id)

    def validations(self) -> dict[str, dict]:
        return read_validations(self.connection, self.run_id)

    def dispositions(self) -> pd.DataFrame:
        """source, disposition, records, with_reasons, with_warnings: one row a pair."""
        return self.frame(
            "SELECT source, disposition, COUNT(*) AS records, COUNT(reasons) AS with_reasons, "
            f"COUNT(warnings) AS with_warnings FROM record_dispositions WHERE {_RUN} "
            "GROUP BY disposition, source", counts=("records", "with_reasons", "with_warnings"))

    def reason_texts(self) -> pd.DataFrame:
        """disposition, reasons (one row a distinct text), records, first_row (row id)."""
        return self.frame(
            "SELECT disposition, reasons, COUNT(*) AS records, MIN(row_id) AS first_row "
            f"FROM record_dispositions WHERE {_RUN} AND reasons IS NOT NULL "
            "GROUP BY disposition, reasons", counts=("records", "first_row"))

    def entity_parts(self) -> pd.DataFrame:
        """part, a, b, n: the run's entities (found once) by type (a) and province (b) as
        part 'entities', their accounts by kind and real-name requirement as 'accounts'."""
        return self.frame(
            "WITH run_entities AS (SELECT entity_id, entity_type, province FROM entities "
            f"WHERE entity_id IN ({_RUN_ENTITIES})) "
            "SELECT 'entities' AS part, entity_type AS a, province AS b, COUNT(*) AS n "
            "FROM run_entities GROUP BY entity_type, province UNION ALL "
            f"SELECT 'accounts', account_kind, {_REAL_NAME}, COUNT(*) FROM accounts "
            "WHERE entity_id IN (SELECT entity_id FROM run_entities) "
            f"GROUP BY account_kind, {_REAL_NAME}", counts=("n",))

    def _several(self, key: str, value: str) -> tuple[pd.DataFrame, int]:
        """Keys of kept records with several distinct values: `k, n` by n desc, then key."""
        k, v = f"{key}{self.c}", f"{value}{self.c}"
        return self._top(
            f"SELECT {k} AS k, COUNT(DISTINCT {v}) AS n, COUNT(*) OVER () AS total "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IS NOT NULL "
            f"GROUP BY {k} HAVING COUNT(DISTINCT {v}) > 1 ORDER BY n DESC, {k}")

    def split_members(self) -> tuple[pd.DataFrame, int]:
        """Member ids whose kept records went to several entities (`n` of them)."""
        return self._several("member_id", "entity_id")

    def merged_entities(self) -> tuple[pd.DataFrame, int]:
        """Entities of kept records of several member ids (`n` of them)."""
        return self._several("entity_id", "member_id")

    def member_entities(self, members: list) -> pd.DataFrame:
        """k (member id), name: each member's first entities (by id), named; accounts: how
        many accounts all its entities have."""
        return self.frame(
            "SELECT r.k, e.name, r.accounts FROM (SELECT k, v, ROW_NUMBER() OVER "
            f"(PARTITION BY k ORDER BY v{self.c}) AS n, SUM(a) OVER (PARTITION BY k) AS accounts "
            "FROM (SELECT k, v, (SELECT COUNT(*) FROM accounts WHERE accounts.entity_id = "
            "pairs.v) AS a FROM (SELECT DISTINCT member_id AS k, entity_id AS v "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IN :keys) pairs) counted) r "
            "LEFT JOIN entities e ON e.entity_id = r.v WHERE r.n <= :items ORDER BY r.k, r.n",
            keys=members, items=self.items)

    def first_members(self, entity_ids: list) -> pd.DataFrame:
        """k (entity id), v: each entity's first member ids among kept records."""
        return self.frame(
            "SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "
            f"v{self.c}) AS n FROM (SELECT DISTINCT entity_id AS k, member_id AS v "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IS NOT NULL "
            "AND entity_id IN :keys) pairs) ranked WHERE n <= :items ORDER BY k, n",
            keys=entity_ids, items=self.items)

    def names(self, entity_ids: list) -> dict:
        """Entity id -> name."""
        if not entity_ids:
            return {}
        found = self.frame("SELECT entity_id, name FROM entities WHERE entity_id IN :keys",
                           keys=entity_ids)
        return dict(zip(found["entity_id"], found["name"], strict=True))

    def multi_domain(self) -> tuple[pd.DataFrame, int]:
        """Websites the run loaded that have several domains (`n`), by filing number."""
        number = f"website_filing_number{self.c}"
        return self._top(
            f"SELECT {number} AS k, COUNT(*) AS n, COUNT(*) OVER () AS total "
            f"FROM domains WHERE website_filing_number IN ({_RUN_SITES}) "
            f"GROUP BY {number} HAVING COUNT(*) > 1 ORDER BY {number}")

    def websites(self, numbers: list) -> pd.DataFrame:
        """k (filing number), website_name, name (its entity's) of the websites."""
        return self.frame(
            "SELECT w.website_filing_number AS k, w.website_name, e.name FROM website_filings w "
            "LEFT JOIN entities e ON e.entity_id = w.entity_id "
            "WHERE w.website_filing_number IN :keys", keys=numbers)

    def first_domains(self, numbers: list) -> pd.DataFrame:
        """k (filing number), domain, unicode_domain: each website's first domains."""
        return self.frame(
            "SELECT k, domain, unicode_domain FROM (SELECT website_filing_number AS k, domain, "
            "unicode_domain, ROW_NUMBER() OVER (PARTITION BY website_filing_number "
            f"ORDER BY domain{self.c}) AS n FROM domains WHERE website_filing_number IN :keys) d "
            "WHERE n <= :items ORDER BY k, n", keys=numbers, items=self.items)

    def held_for_review(self) -> pd.DataFrame:
        """The first records held for review by row id, with any decision on their conflict."""
        return self.frame(
            "SELECT r.conflict_key, d.decision, d.entity_id AS decided_entity, d.decided_by, "
            "r.source, r.locator, r.member_id, r.website_filing_number, r.reasons "
            "FROM record_dispositions r LEFT JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{_RUN} "
            "AND r.disposition = 'needs_review' ORDER BY r.row_id LIMIT :limit",
            limit=self.rows)

    def open_conflicts(self) -> tuple[pd.DataFrame, int]:
        """The ledger's conflicts no review decision names, oldest first, then by id: k (its
        id), kind, opened_run_id, age_runs, n (claimants), in_run (1: the run held records)."""
        return self._top(
            f"SELECT o.conflict_id AS k, o.kind, o.opened_run_id, (SELECT COUNT(*) FROM runs "
            "later WHERE later.started_at > opened.started_at) AS age_runs, (SELECT COUNT(*) "
            "FROM conflict_competitors p WHERE p.conflict_id = o.conflict_id) AS n, "
            "CASE WHEN o.conflict_id IN (SELECT conflict_key FROM record_dispositions WHERE "
            f"{_RUN} AND disposition = 'needs_review' AND conflict_key IS NOT NULL) THEN 1 "
            "ELSE 0 END AS in_run, COUNT(*) OVER () AS total FROM conflicts o "
            "JOIN runs opened ON opened.run_id = o.opened_run_id WHERE o.conflict_id NOT IN "
            "(SELECT conflict_key FROM review_decisions) "
            f"ORDER BY age_runs DESC, o.conflict_id{self.c}")

    def first_claimants(self, conflict_ids: list) -> pd.DataFrame:
        """k (conflict id), v: each conflict's first claimants."""
        return self.frame(
            "SELECT k, v FROM (SELECT conflict_id AS k, claimant AS v, ROW_NUMBER() OVER "
            f"(PARTITION BY conflict_id ORDER BY claimant{self.c}) AS n "
            "FROM conflict_competitors WHERE conflict_id IN :keys) ranked "
            "WHERE n <= :items ORDER BY k, n", keys=conflict_ids, items=self.items)

    def decided(self) -> int:
        """Records held for review whose conflict a person has decided since."""
        if not self._scalar("SELECT COUNT(*) FROM (SELECT 1 FROM review_decisions LIMIT 1) d"):
            return 0  # no decision at all: no need to read the run's records
        return self._scalar(
            "SELECT COUNT(*) FROM record_dispositions r JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{_RUN} "
            "AND r.disposition = 'needs_review'")

    def quarantine_samples(self, texts: list, nulls: bool, samples: int) -> pd.DataFrame:
        """The first `samples` quarantined records (row_id, source, locator, member_id,
        reasons, warnings) of each of the reason `texts`, and if `nulls` of no reason."""
        sql = ("SELECT row_id, source, locator, member_id, reasons, warnings FROM ("
               "SELECT row_id, source, locator, member_id, reasons, warnings, ROW_NUMBER() "
               "OVER (PARTITION BY reasons ORDER BY row_id) AS n FROM record_dispositions "
               f"WHERE {_RUN} AND disposition = 'quarantined' AND ("
               + ("reasons IN :texts" if texts else "1 = 0")
               + (" OR reasons IS NULL" if nulls else "") + ")) s WHERE n <= :samples")
        params: dict[str, Any] = {"samples": samples}
        if texts:
            params["texts"] = texts
        return self.frame(sql, **params)

    def organizations(self) -> pd.DataFrame:
        """entity_id, name, province, in_run (1: an entity of the run) of the store's
        organizations with a certificate, name and province."""
        return self.frame(
            "SELECT entity_id, name, province, CASE WHEN entity_id IN "
            f"({_RUN_ENTITIES}) THEN 1 ELSE 0 END AS in_run FROM entities "
            "WHERE (entity_type IS NULL OR entity_type <> 'individual') "
            "AND cert_number IS NOT NULL AND name IS NOT NULL AND province IS NOT NULL",
            counts=("in_run",))

    def history(self, runs: int) -> pd.DataFrame:
        """The `runs` runs started up to this one, the latest first, with their counts."""
        return self.frame(
            "SELECT run_id, started_at, status, records_in, loaded, duplicate, out_of_scope, "
            "quarantined, needs_review FROM runs "
            "WHERE started_at <= (SELECT started_at FROM runs WHERE run_id = :run) "
            f"ORDER BY started_at DESC, run_id DESC LIMIT {int(runs)}")
