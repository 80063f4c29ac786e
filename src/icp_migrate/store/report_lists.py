"""The report's list queries: members split and merged, websites with several domains,
records held for review, open conflicts and quarantine samples. Each reads a list's first
rows (`rows`) and how many it has, or the first `items` values of the rows' lists, in code
point order (`c`); ReportQueries (`report_queries.py`) runs them on its connection.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RUN = "run_id = :run"
KEPT = f"{RUN} AND disposition IN ('loaded', 'duplicate') AND entity_id IS NOT NULL"
RUN_SITES = (
    f"SELECT website_filing_number FROM record_dispositions WHERE {RUN} "
    "AND disposition = 'loaded' AND website_filing_number IS NOT NULL"
)


class ListQueries:
    """The list sections' queries of ReportQueries, which holds the connection and `frame`.
    A list's `(frame, total)`: its first rows (keys in `k`, sizes in `n`) and how many it
    has."""

    rows: int
    items: int
    c: str  # code point order of a text column (`Backend.code_points`)

    def frame(self, sql: str, counts: tuple[str, ...] = (), **params: object) -> pd.DataFrame:
        raise NotImplementedError  # ReportQueries.frame

    def _top(self, sql: str) -> tuple[pd.DataFrame, int]:
        """The first rows of `sql` (which counts its rows as `total`) and the total."""
        frame = self.frame(f"{sql} LIMIT :limit", counts=("n", "total"), limit=self.rows)
        total = int(frame["total"].iat[0]) if len(frame) else 0
        return frame.drop(columns="total"), total

    def _several(self, key: str, value: str) -> tuple[pd.DataFrame, int]:
        """Keys of kept records with several distinct values: `k, n` by n desc, then key."""
        k, v = f"{key}{self.c}", f"{value}{self.c}"
        return self._top(
            f"SELECT {k} AS k, COUNT(DISTINCT {v}) AS n, COUNT(*) OVER () AS total "
            f"FROM record_dispositions WHERE {KEPT} AND member_id IS NOT NULL "
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
            f"FROM record_dispositions WHERE {KEPT} AND member_id IN :keys) pairs) counted) r "
            "LEFT JOIN entities e ON e.entity_id = r.v WHERE r.n <= :items ORDER BY r.k, r.n",
            keys=members, items=self.items)

    def first_members(self, entity_ids: list) -> pd.DataFrame:
        """k (entity id), v: each entity's first member ids among kept records."""
        return self.frame(
            "SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "
            f"v{self.c}) AS n FROM (SELECT DISTINCT entity_id AS k, member_id AS v "
            f"FROM record_dispositions WHERE {KEPT} AND member_id IS NOT NULL "
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
            f"FROM domains WHERE website_filing_number IN ({RUN_SITES}) "
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
            f"ON d.conflict_key = r.conflict_key WHERE r.{RUN} "
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
            f"{RUN} AND disposition = 'needs_review' AND conflict_key IS NOT NULL) THEN 1 "
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

    def quarantine_samples(self, texts: list, nulls: bool, samples: int) -> pd.DataFrame:
        """The first `samples` quarantined records (row_id, source, locator, member_id,
        reasons, warnings) of each of the reason `texts`, and if `nulls` of no reason."""
        sql = ("SELECT row_id, source, locator, member_id, reasons, warnings FROM ("
               "SELECT row_id, source, locator, member_id, reasons, warnings, ROW_NUMBER() "
               "OVER (PARTITION BY reasons ORDER BY row_id) AS n FROM record_dispositions "
               f"WHERE {RUN} AND disposition = 'quarantined' AND ("
               + ("reasons IN :texts" if texts else "1 = 0")
               + (" OR reasons IS NULL" if nulls else "") + ")) s WHERE n <= :samples")
        params: dict[str, Any] = {"samples": samples}
        if texts:
            params["texts"] = texts
        return self.frame(sql, **params)
