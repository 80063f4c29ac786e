"""What `icp-migrate explain` reads of a target: an entity, its accounts, every record that
touched it (the latest completed run of each), its conflicts and its change history.
Set-based: one query per part, never one per record. Values come back whole (the caller
masks them)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, bindparam, text

# The latest row of each record (source, locator) among completed runs, with its link.
_LATEST = """
WITH ranked AS (
  SELECT d.run_id, d.row_id, d.source, d.locator, d.member_id, d.disposition, d.reasons,
         d.warnings, d.entity_id, d.website_filing_number, d.conflict_key, d.candidates,
         ROW_NUMBER() OVER (PARTITION BY d.source, d.locator
                            ORDER BY r.started_at DESC, d.run_id DESC) AS latest
  FROM record_dispositions d JOIN runs r ON r.run_id = d.run_id
  WHERE r.status = 'completed' AND ({touched})
)
SELECT k.run_id, k.row_id, k.source, k.locator, k.member_id, k.disposition, k.reasons,
       k.warnings, COALESCE(k.entity_id, l.entity_id) AS entity_id, k.website_filing_number,
       k.conflict_key, k.candidates, l.link_kind, l.link_key
FROM ranked k LEFT JOIN entity_links l ON l.run_id = k.run_id AND l.row_id = k.row_id
WHERE k.latest = 1
ORDER BY k.source, k.row_id
"""
# A record touched an entity when any run linked it to it, gave it to it, or held it in a
# conflict the entity competes in.
_TOUCHING_ENTITY = """(d.source, d.locator) IN (
  SELECT t.source, t.locator FROM record_dispositions t WHERE t.entity_id = :entity
     OR t.candidates LIKE :candidate
  UNION SELECT e.source, e.locator FROM entity_links e WHERE e.entity_id = :entity)"""
_OF_WEBSITE = """(d.source, d.locator) IN (
  SELECT t.source, t.locator FROM record_dispositions t WHERE t.website_filing_number = :key)"""
_AT = "d.source IN :sources AND d.locator = :locator"

# Which entity a key names: an entity id known anywhere, an account, a website or entity
# filing number held by an entity.
_ENTITY_OF = {
    "entity": """SELECT entity_id FROM entities WHERE entity_id = :key
                 UNION SELECT entity_id FROM entity_links WHERE entity_id = :key
                 UNION SELECT claimant FROM conflict_competitors WHERE claimant = :key""",
    "account": "SELECT entity_id FROM accounts WHERE account_id = :key",
    "website": "SELECT entity_id FROM website_filings WHERE website_filing_number = :key",
    "entity_number": "SELECT entity_id FROM entities WHERE entity_filing_number = :key",
}
_ENTITY = "SELECT * FROM entities WHERE entity_id = :entity"
_ACCOUNTS = """
SELECT a.account_id, a.account_kind, a.real_name_verification_required, a.admin_email,
       (SELECT COUNT(*) FROM website_filings w WHERE w.account_id = a.account_id) AS websites
FROM accounts a WHERE a.entity_id = :entity ORDER BY a.account_kind"""
_WEBSITES = """
SELECT w.website_filing_number, w.account_id, w.website_name, d.domain
FROM website_filings w LEFT JOIN domains d ON d.website_filing_number = w.website_filing_number
WHERE w.entity_id = :entity ORDER BY w.website_filing_number, d.domain"""
# Every name the entity was described by in a conflict or joined by a name fallback.
_NAMES = """
SELECT name FROM conflict_competitors WHERE (claimant = :entity OR owner = :entity)
UNION SELECT name FROM run_conflicts WHERE entity_id = :entity
UNION SELECT link_key FROM entity_links WHERE entity_id = :entity
                                          AND link_kind = 'name_fallback'"""
_CONFLICTS = """
SELECT c.conflict_id, c.conflict_key, c.kind, c.opened_run_id, d.decision,
       d.entity_id AS chosen, d.decided_by, d.decided_at, k.claimant, k.owner, k.role,
       k.cert_type, k.cert_number, k.name, k.member_ids, k.websites, k.domains, k.records,
       k.last_run_id
FROM conflicts c
JOIN conflict_competitors k ON k.conflict_id = c.conflict_id
LEFT JOIN review_decisions d ON d.conflict_key = c.conflict_id
WHERE c.conflict_id IN (SELECT conflict_id FROM conflict_competitors
                        WHERE claimant = :entity OR owner = :entity)
   OR c.conflict_id IN :held
ORDER BY c.conflict_id, k.claimant"""
_CHANGES = """
SELECT g.run_id, g.seq, g.subject, g.subject_key, g.field, g.old_value, g.new_value, g.cause
FROM changes g JOIN runs r ON r.run_id = g.run_id
WHERE g.subject_key IN :keys OR g.old_value IN :keys OR g.new_value IN :keys
ORDER BY r.started_at, g.run_id, g.seq"""


def _frame(connection: Connection, sql: str, **params: object) -> pd.DataFrame:
    statement = text(sql)
    for name, value in params.items():
        if isinstance(value, list | tuple):
            statement = statement.bindparams(bindparam(name, expanding=True))
    return pd.read_sql(statement, connection, params=params, dtype=object)


def entities_named(connection: Connection, kind: str, key: str) -> list[str]:
    """The entity ids a key of `kind` (entity, account, website, entity_number) names."""
    rows = connection.execute(text(_ENTITY_OF[kind]), {"key": key}).scalars().all()
    return sorted({str(r) for r in rows if r})


def sources(connection: Connection) -> list[str]:
    """Every source a record was read from (a handful: one per file or URL of each run)."""
    return [str(s) for s in connection.execute(text(
        "SELECT DISTINCT source FROM record_dispositions WHERE source IS NOT NULL")).scalars()]


def records_at(connection: Connection, among: list[str], locator: str) -> pd.DataFrame:
    """The latest row of the record at `locator` of any of the sources `among`."""
    if not among:
        return _frame(connection, _LATEST.format(touched="1 = 0"))
    return _frame(connection, _LATEST.format(touched=_AT), sources=among, locator=locator)


def records_of_website(connection: Connection, number: str) -> pd.DataFrame:
    """The latest row of every record that carried the website filing number."""
    return _frame(connection, _LATEST.format(touched=_OF_WEBSITE), key=number)


def records_of_entity(connection: Connection, entity_id: str) -> pd.DataFrame:
    """The latest row of every record that was linked to, loaded into or held for the entity."""
    return _frame(connection, _LATEST.format(touched=_TOUCHING_ENTITY), entity=entity_id,
                  candidate=f"%{entity_id}%")


def entity(connection: Connection, entity_id: str) -> dict[str, object] | None:
    row = connection.execute(text(_ENTITY), {"entity": entity_id}).mappings().first()
    return None if row is None else dict(row)


def accounts(connection: Connection, entity_id: str) -> pd.DataFrame:
    return _frame(connection, _ACCOUNTS, entity=entity_id)


def websites(connection: Connection, entity_id: str) -> pd.DataFrame:
    """The entity's websites, one row per domain (a website without one: domain null)."""
    return _frame(connection, _WEBSITES, entity=entity_id)


def names(connection: Connection, entity_id: str) -> list[str]:
    """Names the entity was described by (conflicts) or joined under (name fallback)."""
    rows = connection.execute(text(_NAMES), {"entity": entity_id}).scalars().all()
    return sorted({str(r) for r in rows if r})


def conflicts(connection: Connection, entity_id: str, held: Iterable[str]) -> pd.DataFrame:
    """The conflicts the entity competes in, or that hold any of the conflict ids `held`:
    one row per competitor, with the decision (null while open)."""
    return _frame(connection, _CONFLICTS, entity=entity_id, held=sorted(set(held)) or [""])


def changes(connection: Connection, keys: Iterable[str]) -> pd.DataFrame:
    """Every change whose subject, old or new value is one of `keys`, oldest first."""
    return _frame(connection, _CHANGES, keys=sorted(set(keys)) or [""])
