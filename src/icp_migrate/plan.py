"""The account plan: what a run will load, as frames shaped like the target tables.

The same shape describes what the store already holds (`Plan` read back by
`store.snapshot`), so grouping and planning can take earlier batches into account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

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
)
ACCOUNT_COLUMNS = ("account_id", "entity_id", "account_kind", "real_name_verification_required")
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
CONFLICT_COLUMNS = ("conflict_key", "kind", "entity_id", "cert_type", "cert_number", "name",
                    "member_ids", "websites")
LINK_COLUMNS = ("row_id", "source", "locator", "entity_id", "link_kind", "link_key")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass
class Plan:
    """Target-table frames. `dispositions` and `links` are empty for a store snapshot."""

    entities: pd.DataFrame = field(default_factory=lambda: empty_frame(ENTITY_COLUMNS))
    accounts: pd.DataFrame = field(default_factory=lambda: empty_frame(ACCOUNT_COLUMNS))
    website_filings: pd.DataFrame = field(default_factory=lambda: empty_frame(WEBSITE_COLUMNS))
    domains: pd.DataFrame = field(default_factory=lambda: empty_frame(DOMAIN_COLUMNS))
    dispositions: pd.DataFrame = field(default_factory=lambda: empty_frame(DISPOSITION_COLUMNS))
    links: pd.DataFrame = field(default_factory=lambda: empty_frame(LINK_COLUMNS))
    # open conflicts of this run: one row per competing entity (see transforms/review.py)
    conflicts: pd.DataFrame = field(default_factory=lambda: empty_frame(CONFLICT_COLUMNS))
    # review decisions taken so far (read from the store; empty in a run's own plan)
    decisions: pd.DataFrame = field(default_factory=lambda: empty_frame(DECISION_COLUMNS))
    input_count: int = 0
