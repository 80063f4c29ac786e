"""What a run did, in numbers: the summary printed by the CLI and stored in `runs`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from ..canonical import ACCOUNT_KINDS, DISPOSITIONS
from ..plan import PlanTables


@dataclass
class RunSummary:
    run_id: str
    status: str  # completed, failed, dry_run
    target: str
    records_by_source: dict[str, int] = field(default_factory=dict)
    dispositions: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    accounts: dict[str, int] = field(default_factory=dict)
    websites: int = 0
    domains: int = 0
    warnings: int = 0
    multi_domain_websites: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # the process's peak resident memory (MB) when each stage ended, in stage order
    peak_rss_mb: dict[str, int] = field(default_factory=dict)
    failed_expectations: list[str] = field(default_factory=list)
    # what the run changes (or, dry, would change) in the target, by kind (rules/preview.py)
    changes: dict[str, int] = field(default_factory=dict)

    @property
    def records_in(self) -> int:
        return sum(self.records_by_source.values())

    def counts(self) -> dict[str, int]:
        """The numbers the `runs` table keeps."""
        return {"records_in": self.records_in, **self.dispositions,
                "entities": self.entities, "accounts": sum(self.accounts.values()),
                "websites": self.websites, "domains": self.domains}

    def as_dict(self) -> dict:
        return {**asdict(self), "records_in": self.records_in}


def summarize(run_id: str, target: str, plan: PlanTables, status: str) -> RunSummary:
    d, domains = plan.dispositions, plan.domains  # each read once (KeptPlan converts)
    per_site = domains.groupby("website_filing_number").size()
    return RunSummary(
        run_id=run_id, status=status, target=target,
        records_by_source={str(k): int(v) for k, v in
                           d.groupby("source", sort=False).size().items()},
        dispositions={k: int((d["disposition"] == k).sum()) for k in DISPOSITIONS},
        entities=len(plan.entities),
        accounts={k: int((plan.accounts["account_kind"] == k).sum()) for k in ACCOUNT_KINDS},
        websites=len(plan.website_filings),
        domains=len(domains),
        warnings=int(d["warnings"].notna().sum()),
        multi_domain_websites=int((per_site > 1).sum()),
    )


def frame_of_counts(summary: RunSummary) -> pd.DataFrame:
    rows = [("records read", summary.records_in)]
    rows += [(f"  {k}", v) for k, v in summary.dispositions.items()]
    rows += [("entities", summary.entities)]
    rows += [(f"accounts: {k}", v) for k, v in summary.accounts.items()]
    rows += [("websites", summary.websites), ("domains", summary.domains),
             ("records with warnings", summary.warnings)]
    return pd.DataFrame(rows, columns=["what", "count"])
