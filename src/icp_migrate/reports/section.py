"""One section of the run report as one unit: what it reads from the store (its query,
`ReportQueries.<name>`), its HTML and its part of summary.json (and of the Prefect
markdown artifact). `sections/__init__.py` lists them in the page's order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from icp_migrate.store.report_queries import ReportQueries


@dataclass(frozen=True)
class Run:
    """The run a report is of: its `runs` row (times as UTC text) and the target shown."""

    run: dict[str, Any]
    target: str  # display form, password hidden


def _no_markdown(summary: dict[str, Any]) -> list[str]:
    return []


@dataclass(frozen=True)
class Section:
    """`name`: the section's store query (`ReportQueries.<name>`), its oracle check
    (`tests/report_oracle.py`) and, dashed, its page anchor. `read` gathers its data as
    stored (whole, unmasked: the oracle computes the same from frames); `html` and `json`
    show it masked; `markdown` gives its lines of the Prefect artifact from summary.json's
    content."""

    name: str
    nav: str  # its link in the page's navigation
    read: Callable[[ReportQueries], Any]
    html: Callable[[Any, Run], str]
    json: Callable[[Any, Run], dict[str, Any]]
    markdown: Callable[[dict[str, Any]], list[str]] = _no_markdown

    @property
    def anchor(self) -> str:
        return self.name.replace("_", "-")
