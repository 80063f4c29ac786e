"""What a run's report is made of, counted in the store: GROUP BY queries and the first
LIST_ROWS of each list, never the run's records one by one (plain SQL, no rendering).

The same SQL runs on SQLite and PostgreSQL. Lists are ordered by code point on both
(PostgreSQL compares with `COLLATE "C"`, SQLite's default BINARY is the same order), so a
store gives the same report whatever its database's locale. `tests/report_oracle.py`
computes the same ReportData in pandas from whole frames: the reference the tests hold this
SQL to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, text

from icp_migrate.errors import TargetError, UsageError
from icp_migrate.reports.reasons import NO_REASON, group_reasons, reason_group
from icp_migrate.store.target import display_url
from icp_migrate.store.validations import read_validations
from icp_migrate.transforms.near_names import PAIR_COLUMNS, near_name_pairs

HISTORY_RUNS = 30  # runs shown in the history chart, this one and those before it
LIST_ROWS = 200  # rows of each list section (members split, conflicts, …); totals count all
ITEMS_PER_ROW = 20  # names, member ids or domains listed in one row; its count says all
SAMPLES_PER_REASON = 3  # masked sample records per quarantine reason

_RUN = "run_id = :run"
_KEPT = f"{_RUN} AND disposition IN ('loaded', 'duplicate') AND entity_id IS NOT NULL"
# for `x IN (…)` only: no DISTINCT, the database dedupes IN lists itself
_RUN_ENTITIES = f"SELECT entity_id FROM record_dispositions WHERE {_KEPT}"
_RUN_SITES = (
    f"SELECT website_filing_number FROM record_dispositions WHERE {_RUN} "
    "AND disposition = 'loaded' AND website_filing_number IS NOT NULL"
)
_HISTORY = (
    "SELECT run_id, started_at, status, records_in, loaded, duplicate, out_of_scope, "
    "quarantined, needs_review FROM runs "
    "WHERE started_at <= (SELECT started_at FROM runs WHERE run_id = :run) "
    f"ORDER BY started_at DESC, run_id DESC LIMIT {HISTORY_RUNS}"
)

MEMBERS_SPLIT_COLUMNS = ["member_id", "entities", "accounts", "entity_names"]
ENTITIES_MERGED_COLUMNS = ["entity_id", "name", "members", "member_ids"]
MULTI_DOMAIN_COLUMNS = ["website_filing_number", "website_name", "entity_name", "domain_count",
                        "domains"]
CONFLICT_COLUMNS = ["conflict_key", "decision", "decided_entity", "decided_by", "source",
                    "locator", "member_id", "website_filing_number", "reasons"]
OPEN_CONFLICT_COLUMNS = ["conflict_id", "kind", "opened_run_id", "age_runs", "competitors",
                         "competitor_ids", "in_run"]
POSSIBLE_MATCH_COLUMNS = PAIR_COLUMNS  # entity ids and names, province, edit distance
QUARANTINE_COLUMNS = ["reason", "records", "samples"]
SAMPLE_FIELDS = ("source", "locator", "member_id", "reasons", "warnings")


@dataclass
class Capped:
    """The first LIST_ROWS rows of a list, in the report's order, and how many it has."""

    rows: pd.DataFrame
    total: int


@dataclass
class ReportData:
    """One run as the store holds it: its row, its counts, and the head of each list.

    Values are as stored (certificate numbers whole, names unescaped): `sections` masks.
    """

    run: dict
    target: str  # display form, password hidden
    dispositions: pd.DataFrame  # source, disposition, records, with_warnings (one per pair)
    reasons: pd.DataFrame  # disposition, reason (its group), records
    entities: pd.DataFrame  # entity_type, province, entities (of loaded and duplicate records)
    accounts: pd.DataFrame  # account_kind, real_name ('required' or 'not required'), accounts
    members_split: Capped  # MEMBERS_SPLIT_COLUMNS; entity_names: the first ITEMS_PER_ROW
    entities_merged: Capped  # ENTITIES_MERGED_COLUMNS; member_ids: the first ITEMS_PER_ROW
    multi_domain: Capped  # MULTI_DOMAIN_COLUMNS; domains: (domain, unicode_domain) pairs
    possible_matches: Capped  # POSSIBLE_MATCH_COLUMNS: see possible_matches
    conflicts: Capped  # CONFLICT_COLUMNS: needs_review records by row id, with any decision
    conflicts_decided: int  # of conflicts.total, records whose conflict a person decided
    # OPEN_CONFLICT_COLUMNS: every open conflict of the target's ledger (from any run), the
    # oldest first: age_runs counts the runs started after the one that opened it;
    # competitor_ids: the first ITEMS_PER_ROW claimants (entity ids, `v:` versions);
    # in_run: 1 when this run held records in it
    open_conflicts: Capped
    quarantine: Capped  # reason, records, samples (dicts of SAMPLE_FIELDS), largest first
    history: pd.DataFrame  # runs up to this one, oldest first
    validations: dict[str, dict] = field(default_factory=dict)


def latest_run_id(engine: Engine) -> str:
    """The run started last; TargetError when the store has none."""
    with engine.connect() as connection:
        run_id = connection.execute(
            text("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")
        ).scalar_one_or_none()
    if run_id is None:
        raise TargetError(f"no run recorded in {display_url(engine.url)}")
    return str(run_id)


def read_report_data(engine: Engine, run_id: str) -> ReportData:
    """Every part of the run's report, counted by the database in one connection."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # Just after a load the planner has no statistics on the run's rows (autovacuum
            # analyzes them later) and would probe an index once per record; hash joins
            # are right at any size here. Only for this read-only transaction.
            connection.exec_driver_sql("SET LOCAL enable_nestloop = off")
        run = _run_row(connection, run_id)
        q = _Queries(connection, run_id)
        dispositions = q.frame(
            "SELECT source, disposition, COUNT(*) AS records, COUNT(reasons) AS with_reasons, "
            f"COUNT(warnings) AS with_warnings FROM record_dispositions WHERE {_RUN} "
            "GROUP BY disposition, source", counts=("records", "with_reasons", "with_warnings"))
        # one row per distinct reason text, grouped by rule in pandas (reason_group); the
        # records without a reason are the rest of their disposition's count
        texts = q.frame(
            "SELECT disposition, reasons, COUNT(*) AS records, MIN(row_id) AS first_row "
            f"FROM record_dispositions WHERE {_RUN} AND reasons IS NOT NULL "
            "GROUP BY disposition, reasons", counts=("records", "first_row"))
        sums = dispositions.groupby("disposition")[["records", "with_reasons"]].sum()
        reasons = group_reasons(texts, unreasoned=(sums["records"] - sums["with_reasons"]))
        # the run's entities found once, counted by type and province, and their accounts
        real_name = ("CASE WHEN real_name_verification_required THEN 'required' "
                     "ELSE 'not required' END")
        parts = q.frame(
            "WITH run_entities AS (SELECT entity_id, entity_type, province FROM entities "
            f"WHERE entity_id IN ({_RUN_ENTITIES})) "
            "SELECT 'entities' AS part, entity_type AS a, province AS b, COUNT(*) AS n "
            "FROM run_entities GROUP BY entity_type, province UNION ALL "
            f"SELECT 'accounts', account_kind, {real_name}, COUNT(*) FROM accounts "
            "WHERE entity_id IN (SELECT entity_id FROM run_entities) "
            f"GROUP BY account_kind, {real_name}", counts=("n",))
        data = ReportData(
            run=run,
            target=display_url(engine.url),
            dispositions=dispositions[["source", "disposition", "records", "with_warnings"]],
            reasons=reasons,
            entities=parts.loc[parts["part"] == "entities", ["a", "b", "n"]].set_axis(
                ["entity_type", "province", "entities"], axis=1).reset_index(drop=True),
            accounts=parts.loc[parts["part"] == "accounts", ["a", "b", "n"]].set_axis(
                ["account_kind", "real_name", "accounts"], axis=1).reset_index(drop=True),
            members_split=q.members_split(),
            entities_merged=q.entities_merged(),
            multi_domain=q.multi_domain(),
            possible_matches=possible_matches(q.frame(
                "SELECT entity_id, name, province, CASE WHEN entity_id IN "
                f"({_RUN_ENTITIES}) THEN 1 ELSE 0 END AS in_run FROM entities "
                "WHERE (entity_type IS NULL OR entity_type <> 'individual') "
                "AND cert_number IS NOT NULL AND name IS NOT NULL AND province IS NOT NULL",
                counts=("in_run",))),
            conflicts=q.conflicts(int(sums["records"].get("needs_review", 0))),
            conflicts_decided=q.decided(),
            open_conflicts=q.open_conflicts(),
            quarantine=q.quarantine(reasons, texts),
            history=_history(q.frame(_HISTORY)),
            validations=read_validations(connection, run_id),
        )
    return data


class _Queries:
    """The report's queries on one connection for one run."""

    def __init__(self, connection: Connection, run_id: str) -> None:
        self.connection = connection
        self.run_id = run_id
        # code point order on both backends (see the module docstring); grouping by bytes
        # is also cheaper for PostgreSQL than by a locale (the groups are the same)
        self.c = ' COLLATE "C"' if connection.dialect.name == "postgresql" else ""

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

    def scalar(self, sql: str) -> int:
        return int(self.connection.execute(text(sql), {"run": self.run_id}).scalar_one() or 0)

    def top(self, sql: str) -> tuple[pd.DataFrame, int]:
        """The first LIST_ROWS rows of `sql` (which counts its rows as `total`) and the total."""
        frame = self.frame(f"{sql} LIMIT :limit", counts=("n", "total"), limit=LIST_ROWS)
        total = int(frame["total"].iat[0]) if len(frame) else 0
        return frame.drop(columns="total"), total

    def several(self, key: str, value: str) -> tuple[pd.DataFrame, int]:
        """Keys of kept records with several distinct values: `k, n` by n desc, then key."""
        k, v = f"{key}{self.c}", f"{value}{self.c}"
        return self.top(
            f"SELECT {k} AS k, COUNT(DISTINCT {v}) AS n, COUNT(*) OVER () AS total "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IS NOT NULL "
            f"GROUP BY {k} HAVING COUNT(DISTINCT {v}) > 1 ORDER BY n DESC, {k}")

    def first_values(self, key: str, value: str, keys: list) -> dict[str, list]:
        """For each of `keys`, its first ITEMS_PER_ROW distinct values among kept records."""
        pairs = self.frame(
            "SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "
            f"v{self.c}) AS n FROM (SELECT DISTINCT {key} AS k, {value} AS v "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IS NOT NULL "
            f"AND {key} IN :keys) pairs) ranked WHERE n <= :items ORDER BY k, n",
            keys=keys, items=ITEMS_PER_ROW)
        return _lists(pairs, "k", "v")

    def members_split(self) -> Capped:
        top, total = self.several("member_id", "entity_id")
        if top.empty:
            return Capped(pd.DataFrame(columns=MEMBERS_SPLIT_COLUMNS), total)
        members = top["k"].tolist()
        # each member's entities (the first ITEMS_PER_ROW named) and the accounts of all
        ranked = self.frame(
            "SELECT r.k, e.name, r.accounts FROM (SELECT k, v, ROW_NUMBER() OVER "
            f"(PARTITION BY k ORDER BY v{self.c}) AS n, SUM(a) OVER (PARTITION BY k) AS accounts "
            "FROM (SELECT k, v, (SELECT COUNT(*) FROM accounts WHERE accounts.entity_id = "
            "pairs.v) AS a FROM (SELECT DISTINCT member_id AS k, entity_id AS v "
            f"FROM record_dispositions WHERE {_KEPT} AND member_id IN :keys) pairs) counted) r "
            "LEFT JOIN entities e ON e.entity_id = r.v WHERE r.n <= :items ORDER BY r.k, r.n",
            keys=members, items=ITEMS_PER_ROW)
        names = _lists(ranked, "k", "name")
        accounts = dict(zip(ranked["k"], ranked["accounts"], strict=True))
        return Capped(pd.DataFrame({
            "member_id": members,
            "entities": top["n"].to_numpy(),
            "accounts": np.array([int(accounts.get(m, 0)) for m in members], dtype="int64"),
            "entity_names": [names.get(m, []) for m in members],
        }, columns=MEMBERS_SPLIT_COLUMNS), total)

    def entities_merged(self) -> Capped:
        top, total = self.several("entity_id", "member_id")
        if top.empty:
            return Capped(pd.DataFrame(columns=ENTITIES_MERGED_COLUMNS), total)
        ids = top["k"].tolist()
        names = self.names(ids)
        firsts = self.first_values("entity_id", "member_id", ids)
        return Capped(pd.DataFrame({
            "entity_id": ids,
            "name": [names.get(e) for e in ids],
            "members": top["n"].astype("int64").to_numpy(),
            "member_ids": [firsts.get(e, []) for e in ids],
        }, columns=ENTITIES_MERGED_COLUMNS), total)

    def names(self, entity_ids: list) -> dict:
        if not entity_ids:
            return {}
        found = self.frame("SELECT entity_id, name FROM entities WHERE entity_id IN :keys",
                           keys=entity_ids)
        return dict(zip(found["entity_id"], found["name"], strict=True))

    def multi_domain(self) -> Capped:
        number = f"website_filing_number{self.c}"
        top, total = self.top(
            f"SELECT {number} AS k, COUNT(*) AS n, COUNT(*) OVER () AS total "
            f"FROM domains WHERE website_filing_number IN ({_RUN_SITES}) "
            f"GROUP BY {number} HAVING COUNT(*) > 1 ORDER BY {number}")
        if top.empty:
            return Capped(pd.DataFrame(columns=MULTI_DOMAIN_COLUMNS), total)
        numbers = top["k"].tolist()
        sites = self.frame(
            "SELECT w.website_filing_number AS k, w.website_name, e.name FROM website_filings w "
            "LEFT JOIN entities e ON e.entity_id = w.entity_id "
            "WHERE w.website_filing_number IN :keys", keys=numbers).set_index("k")
        listed = self.frame(
            "SELECT k, domain, unicode_domain FROM (SELECT website_filing_number AS k, domain, "
            "unicode_domain, ROW_NUMBER() OVER (PARTITION BY website_filing_number "
            f"ORDER BY domain{self.c}) AS n FROM domains WHERE website_filing_number IN :keys) d "
            "WHERE n <= :items ORDER BY k, n", keys=numbers, items=ITEMS_PER_ROW)
        listed["pair"] = list(zip(listed["domain"], listed["unicode_domain"], strict=True))
        domains = _lists(listed, "k", "pair")
        return Capped(pd.DataFrame({
            "website_filing_number": numbers,
            "website_name": sites["website_name"].reindex(numbers).to_numpy(dtype=object),
            "entity_name": sites["name"].reindex(numbers).to_numpy(dtype=object),
            "domain_count": top["n"].astype("int64").to_numpy(),
            "domains": [domains.get(n, []) for n in numbers],
        }, columns=MULTI_DOMAIN_COLUMNS), total)

    def conflicts(self, total: int) -> Capped:
        """The first records held for review by row id; `total`: how many the run holds."""
        if not total:
            return Capped(pd.DataFrame(columns=CONFLICT_COLUMNS), 0)
        rows = self.frame(
            "SELECT r.conflict_key, d.decision, d.entity_id AS decided_entity, d.decided_by, "
            "r.source, r.locator, r.member_id, r.website_filing_number, r.reasons "
            "FROM record_dispositions r LEFT JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{_RUN} "
            "AND r.disposition = 'needs_review' ORDER BY r.row_id LIMIT :limit",
            limit=LIST_ROWS)
        return Capped(rows[CONFLICT_COLUMNS], total)

    def open_conflicts(self) -> Capped:
        """The ledger's conflicts no review decision names, oldest first, then by id."""
        top, total = self.top(
            f"SELECT o.conflict_id AS k, o.kind, o.opened_run_id, (SELECT COUNT(*) FROM runs "
            "later WHERE later.started_at > opened.started_at) AS age_runs, (SELECT COUNT(*) "
            "FROM conflict_competitors p WHERE p.conflict_id = o.conflict_id) AS n, "
            "CASE WHEN o.conflict_id IN (SELECT conflict_key FROM record_dispositions WHERE "
            f"{_RUN} AND disposition = 'needs_review' AND conflict_key IS NOT NULL) THEN 1 "
            "ELSE 0 END AS in_run, COUNT(*) OVER () AS total FROM conflicts o "
            "JOIN runs opened ON opened.run_id = o.opened_run_id WHERE o.conflict_id NOT IN "
            "(SELECT conflict_key FROM review_decisions) "
            f"ORDER BY age_runs DESC, o.conflict_id{self.c}")
        if top.empty:
            return Capped(pd.DataFrame(columns=OPEN_CONFLICT_COLUMNS), total)
        ids = top["k"].tolist()
        claimants = self.frame(
            "SELECT k, v FROM (SELECT conflict_id AS k, claimant AS v, ROW_NUMBER() OVER "
            f"(PARTITION BY conflict_id ORDER BY claimant{self.c}) AS n "
            "FROM conflict_competitors WHERE conflict_id IN :keys) ranked "
            "WHERE n <= :items ORDER BY k, n", keys=ids, items=ITEMS_PER_ROW)
        listed = _lists(claimants, "k", "v")
        return Capped(pd.DataFrame({
            "conflict_id": ids,
            "kind": top["kind"].to_numpy(dtype=object),
            "opened_run_id": top["opened_run_id"].to_numpy(dtype=object),
            "age_runs": top["age_runs"].astype("int64").to_numpy(),
            "competitors": top["n"].astype("int64").to_numpy(),
            "competitor_ids": [listed.get(k, []) for k in ids],
            "in_run": top["in_run"].astype("int64").to_numpy(),
        }, columns=OPEN_CONFLICT_COLUMNS), total)

    def decided(self) -> int:
        """Records held for review whose conflict a person has decided since."""
        if not self.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM review_decisions LIMIT 1) d"):
            return 0  # no decision at all: no need to read the run's records
        return self.scalar(
            "SELECT COUNT(*) FROM record_dispositions r JOIN review_decisions d "
            f"ON d.conflict_key = r.conflict_key WHERE r.{_RUN} "
            "AND r.disposition = 'needs_review'")

    def quarantine(self, reasons: pd.DataFrame, texts: pd.DataFrame) -> Capped:
        """The largest reason groups, each with its first records by row id.

        A group's first SAMPLES_PER_REASON records lie among the first records of the texts
        that start earliest in it (each text's first row is one of the group's), so only
        those texts' first rows are read.
        """
        groups = _largest_first(reasons[reasons["disposition"] == "quarantined"])
        total = len(groups)
        groups = groups.head(LIST_ROWS)
        if groups.empty:
            return Capped(pd.DataFrame(columns=QUARANTINE_COLUMNS), total)
        held = texts[texts["disposition"] == "quarantined"].assign(
            reason=lambda t: t["reasons"].map(reason_group))
        held = held[held["reason"].isin(set(groups["reason"]))]
        earliest = (held.sort_values("first_row").groupby("reason", sort=False)
                    .head(SAMPLES_PER_REASON))
        wanted = earliest["reasons"].tolist()
        nulls = NO_REASON in set(groups["reason"])  # records without any reason text
        sql = ("SELECT row_id, source, locator, member_id, reasons, warnings FROM ("
               "SELECT row_id, source, locator, member_id, reasons, warnings, ROW_NUMBER() "
               "OVER (PARTITION BY reasons ORDER BY row_id) AS n FROM record_dispositions "
               f"WHERE {_RUN} AND disposition = 'quarantined' AND ("
               + ("reasons IN :texts" if wanted else "1 = 0")
               + (" OR reasons IS NULL" if nulls else "") + ")) s WHERE n <= :samples")
        params: dict[str, Any] = {"samples": SAMPLES_PER_REASON}
        if wanted:
            params["texts"] = wanted
        rows = self.frame(sql, **params)
        rows["reason"] = rows["reasons"].map(reason_group)
        rows = rows.sort_values("row_id", kind="stable")
        samples = {reason: [{k: getattr(r, k) for k in SAMPLE_FIELDS}
                            for r in group.head(SAMPLES_PER_REASON).itertuples(index=False)]
                   for reason, group in rows.groupby("reason", sort=False)}
        groups["samples"] = [samples.get(r, []) for r in groups["reason"]]
        return Capped(groups[QUARANTINE_COLUMNS].reset_index(drop=True), total)


def possible_matches(orgs: pd.DataFrame) -> Capped:
    """Organizations with a valid certificate whose names are 1 or 2 edits apart in one
    province, at least one of the two an entity of this run: listed, never merged.

    `orgs`: entity_id, name, province and in_run (1 for the run's entities) of the store's
    organizations with a certificate. By province, then entity ids (near_name_pairs)."""
    in_run = orgs["in_run"].astype(bool)
    provinces = set(orgs.loc[in_run, "province"])  # the only ones a pair can be in
    pairs = near_name_pairs(orgs[orgs["province"].isin(provinces)])
    ours = set(orgs.loc[in_run, "entity_id"])
    pairs = pairs[pairs["entity_id_a"].isin(ours) | pairs["entity_id_b"].isin(ours)]
    return Capped(pairs.head(LIST_ROWS).reset_index(drop=True), len(pairs))


def _largest_first(groups: pd.DataFrame) -> pd.DataFrame:
    """Reason groups by records, largest first, then by reason."""
    return groups.assign(records=groups["records"].astype("int64")).sort_values(
        ["records", "reason"], ascending=[False, True], ignore_index=True)


def _lists(frame: pd.DataFrame, key: str, value: str) -> dict[str, list]:
    """Each key's values as a list, in the frame's order."""
    out: dict[str, list] = {}
    for k, v in zip(frame[key], frame[value], strict=True):
        out.setdefault(k, []).append(v)
    return out


def _history(frame: pd.DataFrame) -> pd.DataFrame:
    history = frame.iloc[::-1].reset_index(drop=True)
    history["started_at"] = history["started_at"].map(utc_text)
    for column in history.columns[3:]:  # counts; NULL for a failed run
        history[column] = pd.Series([None if pd.isna(v) else int(v) for v in history[column]],
                                    dtype=object)
    return history


def _run_row(connection: Connection, run_id: str) -> dict:
    row = (
        connection.execute(
            text(
                "SELECT run_id, started_at, finished_at, status, error, sources, records_in "
                "FROM runs WHERE run_id = :run"
            ),
            {"run": run_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise UsageError(f"no run {run_id!r} in {display_url(connection.engine.url)}")
    run = dict(row)
    run["started_at"] = utc_text(run["started_at"])
    run["finished_at"] = utc_text(run["finished_at"])
    return run


def utc_text(value: object) -> str | None:
    """A stored time as `2025-01-01T08:00:00Z`; SQLite hands back naive UTC, PostgreSQL aware."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
