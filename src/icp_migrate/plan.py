"""The account plan: what a run will load, as frames shaped like the target tables.

The same shape describes what the store already holds (`Plan` read back by
`store.snapshot`), so grouping and planning can take earlier batches into account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ENTITY_COLUMNS = (
    "entity_id",
    "entity_type",
    "name",
    "cert_type",
    "cert_number",
    "province",
    "entity_filing_number",
    "has_cloud_resources",
    "resources_admin_differs",
    "entity_number_stated",  # entity_filing_number was stated by a record (not derived)
)
ACCOUNT_COLUMNS = (
    "account_id",
    "entity_id",
    "account_kind",
    "real_name_verification_required",
    "admin_email",  # the account's administrator (rules/accounts.py: account_admin_emails)
)
WEBSITE_COLUMNS = (
    "website_filing_number",
    "account_id",
    "entity_id",
    "product",
    "website_name",
    "homepage",
    "filed_on",
    "member_id",
)
DOMAIN_COLUMNS = ("domain", "unicode_domain", "website_filing_number")
DISPOSITION_COLUMNS = (
    "row_id",
    "source",
    "locator",
    "member_id",
    "disposition",
    "reasons",
    "warnings",
    "entity_id",
    "website_filing_number",
    "conflict_key",
    "candidates",
)
DECISION_COLUMNS = ("conflict_key", "decision", "entity_id")
# One row per (conflict, claimant) held in a run: `conflict_key` is the conflict's id (its
# key, or `key#n` once reopened), `entity_id` the claimant (an entity id, or `v:<hash>`, a
# version of a website in a `changed:` conflict, whose entity is `owner`).
CONFLICT_COLUMNS = ("conflict_key", "kind", "entity_id", "cert_type", "cert_number", "name",
                    "member_ids", "websites", "owner", "role", "domains", "records", "detail")
# The target's conflicts, one row per (conflict, claimant); decision and chosen are blank
# while the conflict is open.
LEDGER_COLUMNS = ("conflict_id", "conflict_key", "claimant", "decision", "chosen")
# Replaced values: the target's change history.
CHANGE_COLUMNS = ("seq", "subject", "subject_key", "field", "old_value", "new_value", "cause")
LINK_COLUMNS = ("row_id", "source", "locator", "entity_id", "link_kind", "link_key")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """No rows, in the dtypes frames.py declares for these columns (text: object)."""
    from .frames import empty_of  # frames.py is built from this module's column tuples

    return empty_of(columns)


@dataclass
class Plan:
    """Target-table frames. `dispositions` and `links` are empty for a store snapshot."""

    entities: pd.DataFrame = field(default_factory=lambda: empty_frame(ENTITY_COLUMNS))
    accounts: pd.DataFrame = field(default_factory=lambda: empty_frame(ACCOUNT_COLUMNS))
    website_filings: pd.DataFrame = field(default_factory=lambda: empty_frame(WEBSITE_COLUMNS))
    domains: pd.DataFrame = field(default_factory=lambda: empty_frame(DOMAIN_COLUMNS))
    dispositions: pd.DataFrame = field(default_factory=lambda: empty_frame(DISPOSITION_COLUMNS))
    links: pd.DataFrame = field(default_factory=lambda: empty_frame(LINK_COLUMNS))
    # open conflicts of this run: one row per competing entity (see rules/conflict_table.py)
    conflicts: pd.DataFrame = field(default_factory=lambda: empty_frame(CONFLICT_COLUMNS))
    # review decisions taken so far (read from the store; empty in a run's own plan)
    decisions: pd.DataFrame = field(default_factory=lambda: empty_frame(DECISION_COLUMNS))
    # the target's conflict ledger (read from the store; a snapshot's only)
    ledger: pd.DataFrame = field(default_factory=lambda: empty_frame(LEDGER_COLUMNS))
    # values this run replaces, stored domains it removes
    changes: pd.DataFrame = field(default_factory=lambda: empty_frame(CHANGE_COLUMNS))
    removed_domains: pd.DataFrame = field(default_factory=lambda: empty_frame(("domain",)))
    input_count: int = 0

    def arrow(self, name: str, columns: Sequence[str]) -> pa.Table:
        """These columns of the table `name`, as Arrow in their declared types (PlanTables)."""
        from .compact import CompactFrame
        from .frames import SCHEMAS

        schema = SCHEMAS[name].only(columns)
        return CompactFrame.of(getattr(self, name), schema).table.select(list(columns))

    def loaded_websites(self) -> pa.ChunkedArray:
        """The website filing numbers of the loaded dispositions (PlanTables)."""
        table = self.arrow("dispositions", ("disposition", "website_filing_number"))
        return table.filter(pc.equal(table.column("disposition"), "loaded")).column(
            "website_filing_number")


class PlanTables(Protocol):
    """A plan's tables as the plan suite reads them, a few columns at a time, as Arrow: a
    Plan, or what a run loaded in parts keeps of its plan (pipeline/part_load.py:
    KeptPlan, held as Arrow)."""

    @property
    def input_count(self) -> int: ...

    def arrow(self, name: str, columns: Sequence[str]) -> pa.Table:
        """These columns of the plan's table `name` (a Plan attribute), in that order."""
        ...

    def loaded_websites(self) -> pa.ChunkedArray:
        """The website filing numbers of the dispositions 'loaded', in any order, repeats
        and nulls allowed."""
        ...
