"""The target tables: entities, their accounts and websites, and the record of every run.

Defined by concern, all on one MetaData (`schema_base.py`): the entity tables
(`schema_entities.py`), the run ledgers (`schema_runs.py`) and the conflict ledger
(`schema_ledger.py`). Every class and table is importable from here.
"""

from __future__ import annotations

from icp_migrate.store.schema_base import NAMING_CONVENTION, Base
from icp_migrate.store.schema_entities import Account, Domain, Entity, WebsiteFiling
from icp_migrate.store.schema_ledger import (
    DECISIONS,
    Change,
    Conflict,
    ConflictCompetitor,
    ReviewDecision,
)
from icp_migrate.store.schema_runs import (
    RUN_STATUSES,
    EntityLink,
    InboxFile,
    RecordDisposition,
    Run,
    RunConflict,
    RunValidation,
)

__all__ = [
    "DECISIONS", "NAMING_CONVENTION", "RUN_STATUSES",
    "Account", "Base", "Change", "Conflict", "ConflictCompetitor", "Domain", "Entity",
    "EntityLink", "InboxFile", "RecordDisposition", "ReviewDecision", "Run", "RunConflict",
    "RunValidation", "WebsiteFiling",
    "accounts", "changes", "conflict_competitors", "conflicts", "domains", "entities",
    "entity_links", "inbox_files", "metadata", "record_dispositions", "review_decisions",
    "run_conflicts", "run_validations", "runs", "website_filings",
]

metadata = Base.metadata
entities = metadata.tables["entities"]
accounts = metadata.tables["accounts"]
website_filings = metadata.tables["website_filings"]
domains = metadata.tables["domains"]
runs = metadata.tables["runs"]
record_dispositions = metadata.tables["record_dispositions"]
entity_links = metadata.tables["entity_links"]
review_decisions = metadata.tables["review_decisions"]
run_conflicts = metadata.tables["run_conflicts"]
inbox_files = metadata.tables["inbox_files"]
conflicts = metadata.tables["conflicts"]
conflict_competitors = metadata.tables["conflict_competitors"]
changes = metadata.tables["changes"]
run_validations = metadata.tables["run_validations"]
