"""What a run did, in numbers: the summary printed by the CLI and stored in `runs`."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import pandas as pd

from ..canonical import ACCOUNT_KINDS, DISPOSITIONS
from ..plan import Plan


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


@dataclass
class PlanCounts:
    """What a run's summary counts of its plan, gathered part by part (`add`): parts share
    no record, entity or website, so each count is the sum of the parts' counts, and the
    sources are listed in the order of their first record, as one plan lists them."""

    sources: dict[str, tuple[int, int]] = field(default_factory=dict)  # records, first row
    dispositions: Counter[str] = field(default_factory=Counter)
    accounts: Counter[str] = field(default_factory=Counter)
    entities: int = 0
    websites: int = 0
    domains: int = 0
    warnings: int = 0
    multi_domain_websites: int = 0

    def add(self, plan: Plan) -> None:
        """Count one part's plan (or a whole run's)."""
        d = plan.dispositions
        by_source = d.groupby("source", sort=False)["row_id"].agg(["size", "min"])
        for source, (records, first) in by_source.iterrows():
            had, was = self.sources.get(str(source), (0, int(first)))
            self.sources[str(source)] = (had + int(records), min(was, int(first)))
        self.dispositions.update(d["disposition"].value_counts().to_dict())
        self.accounts.update(plan.accounts["account_kind"].value_counts().to_dict())
        self.entities += len(plan.entities)
        self.websites += len(plan.website_filings)
        self.domains += len(plan.domains)
        self.warnings += int(d["warnings"].notna().sum())
        per_site = plan.domains.groupby("website_filing_number").size()
        self.multi_domain_websites += int((per_site > 1).sum())

    def summary(self, run_id: str, target: str, status: str) -> RunSummary:
        in_order = sorted(self.sources.items(), key=lambda item: item[1][1])
        return RunSummary(
            run_id=run_id, status=status, target=target,
            records_by_source={source: records for source, (records, _) in in_order},
            dispositions={k: int(self.dispositions[k]) for k in DISPOSITIONS},
            entities=self.entities,
            accounts={k: int(self.accounts[k]) for k in ACCOUNT_KINDS},
            websites=self.websites, domains=self.domains, warnings=self.warnings,
            multi_domain_websites=self.multi_domain_websites,
        )


def frame_of_counts(summary: RunSummary) -> pd.DataFrame:
    rows = [("records read", summary.records_in)]
    rows += [(f"  {k}", v) for k, v in summary.dispositions.items()]
    rows += [("entities", summary.entities)]
    rows += [(f"accounts: {k}", v) for k, v in summary.accounts.items()]
    rows += [("websites", summary.websites), ("domains", summary.domains),
             ("records with warnings", summary.warnings)]
    return pd.DataFrame(rows, columns=["what", "count"])
