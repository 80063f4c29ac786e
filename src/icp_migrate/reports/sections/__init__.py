"""The run report's sections, in the page's order: the page (`html.py`), summary.json
(`summary_json.py`) and the Prefect artifact (`artifacts.py`) iterate over SECTIONS.

A section is one module here (`<name>.py`, ending in `SECTION = Section(...)`) with one
store query `ReportQueries.<name>` (`store/report_queries.py` or `report_lists.py`) and one
oracle check (`tests/report_oracle.py`, ORACLE[<name>]): see docs/design.md.
"""

from __future__ import annotations

from icp_migrate.reports.section import Section
from icp_migrate.reports.sections import (
    accounts,
    conflicts,
    entities,
    follow_up,
    history,
    links,
    members,
    possible_matches,
    quarantine,
    reasons,
    reconciliation,
    validation,
)

SECTIONS: tuple[Section, ...] = (
    reconciliation.SECTION,
    reasons.SECTION,
    entities.SECTION,
    accounts.SECTION,
    members.SECTION,
    follow_up.SECTION,
    links.SECTION,
    possible_matches.SECTION,
    conflicts.SECTION,
    quarantine.SECTION,
    validation.SECTION,
    history.SECTION,
)

__all__ = ["SECTIONS", "Section"]
