"""The report's list queries, one per list section and named after it: members split and
merged, websites with several domains (follow_up), risky entity links, records held for
review and open conflicts, quarantine samples. Each reads a list's first rows (`rows`) and
how many it has, or the first `items` values of the rows' lists, in code point order (`c`);
ReportQueries (`report_queries.py`) runs them on its connection.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RUN = "run_id = :run"
# the start of the warning a record joined without a valid certificate carries
NO_VALID_CERTIFICATE = "no valid certificate ("
KEPT = f"{RUN} AND disposition IN ('loaded', 'duplicate') AND entity_id IS NOT NULL"
# The run's distinct keys, to join (never `x IN (…)`, never `CASE WHEN x IN (…)`).
# PostgreSQL cannot make an IN of the select list a join: once the run's keys outgrow
# work_mem it reads them again for every row (a million-record report's possible matches
# ran for minutes); a join is a hash join. SQLite has no hash join: an IN list, a DISTINCT
# or a LEFT JOIN's automatic index is a B-tree filled in the order the keys come, at random
# for ten million keys; GROUP BY sorts them first, so that B-tree grows at its end and a
# join probes the other table's index in key order (10M store: possible matches' keys
# 36.6 → 8.1 s, the run's entities 40.3 → 22.3 s, its websites 33.4 → 13.1 s).
RUN_ENTITIES = f"SELECT entity_id FROM record_dispositions WHERE {KEPT} GROUP BY entity_id"
RUN_SITES = (
    f"SELECT website_filing_number FROM record_dispositions WHERE {RUN} "
    "AND disposition = 'loaded' AND website_filing_number IS NOT NULL "
    "GROUP BY website_filing_number"
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

    def _scalar(self, sql: str) -> int:
        raise NotImplementedError  # ReportQueries._scalar

    # -- one query per list section, named after it ------------------------------------

    def members(self) -> dict[str, Any]:
        """`split`: (k member id, n entities), total; `member_entities` of the first (k, name,
        accounts: see _member_entities); `merged`: (k entity id, n members), total; their
        `names` (entity id -> name) and `first_members` (k entity id, v member id)."""
        split, merged = self._several("member_id", "entity_id"), self._several(
            "entity_id", "member_id")
        ids = merged[0]["k"].tolist()
        return {"split": split, "member_entities": self._member_entities(
                    split[0]["k"].tolist()) if len(split[0]) else None,
                "merged": merged, "names": self._names(ids),
                "first_members": self._first_members(ids) if ids else None}

    def follow_up(self) -> dict[str, Any]:
        """`top`: (k filing number, n domains), total of the websites the run loaded that
        have several domains; `websites` (k, website_name, name of its entity) and
        `domains` (k, domain, unicode_domain: each one's first) of the first."""
        top = self._multi_domain()
        numbers = top[0]["k"].tolist()
        return {"top": top, "websites": self._websites(numbers) if numbers else None,
                "domains": self._first_domains(numbers) if numbers else None}

    def links(self) -> dict[str, Any]:
        """`kinds`: link_kind, disposition, records of the run's links; `risky`: the first
        loaded records joined without a valid certificate of their own (name fallback,
        shared filing number, or a person's decision on a record whose certificate is
        invalid), by row id: source, locator, website_filing_number, entity_id, link_kind,
        link_key, warnings; and their total."""
        kinds = self.frame(
            "SELECT l.link_kind, r.disposition, COUNT(*) AS records FROM entity_links l "
            "JOIN record_dispositions r ON r.run_id = l.run_id AND r.row_id = l.row_id "
            f"WHERE l.{RUN} GROUP BY l.link_kind, r.disposition", counts=("records",))
        risky = self._top(
            "SELECT l.source, l.locator, r.website_filing_number, l.entity_id, l.link_kind, "
            "l.link_key, r.warnings, 0 AS n, COUNT(*) OVER () AS total FROM entity_links l "
            "JOIN record_dispositions r ON r.run_id = l.run_id AND r.row_id = l.row_id "
            f"WHERE l.{RUN} AND r.disposition = 'loaded' AND (l.link_kind IN "
            "('name_fallback', 'shared_filing_number') OR (l.link_kind = 'review_decision' "
            "AND r.warnings LIKE :no_certificate)) ORDER BY l.row_id",
            no_certificate=NO_VALID_CERTIFICATE + "%")
        return {"kinds": kinds, "risky": (risky[0].drop(columns="n"), risky[1])}

    def conflicts(self, held: int) -> dict[str, Any]:
        """`held`: the first of the run's `held` records held for review by row id, with any
        decision on their conflict (None when none is held); `decided`: how many of them a
        person has decided since; `open`: (the ledger's open conflicts: see _open_conflicts,
        total) and `claimants` (k conflict id, v: each one's first claimants)."""
        opened = self._open_conflicts()
        ids = opened[0]["k"].tolist()
        return {"held": self._held_for_review() if held else None,
                "decided": self._decided(), "open": opened,
                "claimants": self._first_claimants(ids) if ids else None}

    def quarantine(self, texts: list, nulls: bool, samples: int) -> pd.DataFrame:
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

    # -- their parts ---------------------------------------------------------------------

    def _decided(self) -> int:
        """Records held for review whose conflict a person has decided since."""
        if not self._scalar("SELECT COUNT(*) FROM (SELECT 1 FROM review_decisions LIMIT 1) d"):
            return 0  # no decision at all: no need to read the run's records
        return self._scalar(
            "SELECT COUNT(*) FROM record_dispositions r JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{RUN} "
            "AND r.disposition = 'needs_review'")

    def _top(self, sql: str, **params: object) -> tuple[pd.DataFrame, int]:
        """The first rows of `sql` (which counts its rows as `total`) and the total."""
        frame = self.frame(f"{sql} LIMIT :limit", counts=("n", "total"), limit=self.rows,
                           **params)
        total = int(frame["total"].iat[0]) if len(frame) else 0
        return frame.drop(columns="total"), total

    def _several(self, key: str, value: str) -> tuple[pd.DataFrame, int]:
        """Keys of kept records with several distinct values: `k, n` by n desc, then key."""
        k, v = f"{key}{self.c}", f"{value}{self.c}"
        return self._top(
            f"SELECT {k} AS k, COUNT(DISTINCT {v}) AS n, COUNT(*) OVER () AS total "
            f"FROM record_dispositions WHERE {KEPT} AND member_id IS NOT NULL "
            f"GROUP BY {k} HAVING COUNT(DISTINCT {v}) > 1 ORDER BY n DESC, {k}")

    def _member_entities(self, members: list) -> pd.DataFrame:
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

    def _first_members(self, entity_ids: list) -> pd.DataFrame:
        """k (entity id), v: each entity's first member ids among kept records."""
        return self.frame(
            "SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "
            f"v{self.c}) AS n FROM (SELECT DISTINCT entity_id AS k, member_id AS v "
            f"FROM record_dispositions WHERE {KEPT} AND member_id IS NOT NULL "
            "AND entity_id IN :keys) pairs) ranked WHERE n <= :items ORDER BY k, n",
            keys=entity_ids, items=self.items)

    def _names(self, entity_ids: list) -> dict:
        """Entity id -> name."""
        if not entity_ids:
            return {}
        found = self.frame("SELECT entity_id, name FROM entities WHERE entity_id IN :keys",
                           keys=entity_ids)
        return dict(zip(found["entity_id"], found["name"], strict=True))

    def _multi_domain(self) -> tuple[pd.DataFrame, int]:
        """Websites the run loaded that have several domains (`n`), by filing number."""
        number = f"website_filing_number{self.c}"
        return self._top(
            f"SELECT s.{number} AS k, COUNT(*) AS n, COUNT(*) OVER () AS total "
            f"FROM ({RUN_SITES}) s CROSS JOIN domains d "
            "WHERE d.website_filing_number = s.website_filing_number "
            f"GROUP BY s.{number} HAVING COUNT(*) > 1 ORDER BY s.{number}")

    def _websites(self, numbers: list) -> pd.DataFrame:
        """k (filing number), website_name, name (its entity's) of the websites."""
        return self.frame(
            "SELECT w.website_filing_number AS k, w.website_name, e.name FROM website_filings w "
            "LEFT JOIN entities e ON e.entity_id = w.entity_id "
            "WHERE w.website_filing_number IN :keys", keys=numbers)

    def _first_domains(self, numbers: list) -> pd.DataFrame:
        """k (filing number), domain, unicode_domain: each website's first domains."""
        return self.frame(
            "SELECT k, domain, unicode_domain FROM (SELECT website_filing_number AS k, domain, "
            "unicode_domain, ROW_NUMBER() OVER (PARTITION BY website_filing_number "
            f"ORDER BY domain{self.c}) AS n FROM domains WHERE website_filing_number IN :keys) d "
            "WHERE n <= :items ORDER BY k, n", keys=numbers, items=self.items)

    def _held_for_review(self) -> pd.DataFrame:
        """The first records held for review by row id, with any decision on their conflict."""
        return self.frame(
            "SELECT r.conflict_key, d.decision, d.entity_id AS decided_entity, d.decided_by, "
            "r.source, r.locator, r.member_id, r.website_filing_number, r.reasons "
            "FROM record_dispositions r LEFT JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{RUN} "
            "AND r.disposition = 'needs_review' ORDER BY r.row_id LIMIT :limit",
            limit=self.rows)

    def _open_conflicts(self) -> tuple[pd.DataFrame, int]:
        """The ledger's conflicts no review decision names, oldest first, then by id: k (its
        id), kind, opened_run_id, age_runs, n (claimants), in_run (1: the run held records)."""
        return self._top(
            f"SELECT o.conflict_id AS k, o.kind, o.opened_run_id, (SELECT COUNT(*) FROM runs "
            "later WHERE later.started_at > opened.started_at) AS age_runs, (SELECT COUNT(*) "
            "FROM conflict_competitors p WHERE p.conflict_id = o.conflict_id) AS n, "
            "CASE WHEN h.conflict_key IS NULL THEN 0 ELSE 1 END AS in_run, "
            "COUNT(*) OVER () AS total FROM conflicts o "
            "JOIN runs opened ON opened.run_id = o.opened_run_id "
            # a join to the run's held keys, grouped (see RUN_ENTITIES)
            "LEFT JOIN (SELECT conflict_key FROM record_dispositions WHERE "
            f"{RUN} AND disposition = 'needs_review' AND conflict_key IS NOT NULL "
            "GROUP BY conflict_key) h "
            "ON h.conflict_key = o.conflict_id WHERE o.conflict_id NOT IN "
            "(SELECT conflict_key FROM review_decisions) "
            f"ORDER BY age_runs DESC, o.conflict_id{self.c}")

    def _first_claimants(self, conflict_ids: list) -> pd.DataFrame:
        """k (conflict id), v: each conflict's first claimants."""
        return self.frame(
            "SELECT k, v FROM (SELECT conflict_id AS k, claimant AS v, ROW_NUMBER() OVER "
            f"(PARTITION BY conflict_id ORDER BY claimant{self.c}) AS n "
            "FROM conflict_competitors WHERE conflict_id IN :keys) ranked "
            "WHERE n <= :items ORDER BY k, n", keys=conflict_ids, items=self.items)
