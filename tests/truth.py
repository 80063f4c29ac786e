"""Compare a run's dispositions and accounts with a sample set's ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from icp_migrate.identity import entity_id_for


def disposition_mismatches(dispositions: pd.DataFrame, sample_dir: Path) -> pd.DataFrame:
    """Rows where the run and the ground truth disagree (empty when they agree)."""
    truth = pd.read_csv(sample_dir / "ground_truth.csv", dtype=str, keep_default_na=False)
    truth["expected_entity"] = truth["entity_key"].map(
        lambda k: entity_id_for(k) if k else "")
    got = dispositions.assign(file=dispositions["source"].map(lambda s: Path(
        s.split("///")[-1]).name))
    got["entity_id"] = got["entity_id"].fillna("")
    got["website_filing_number"] = got["website_filing_number"].fillna("")
    both = truth.merge(got, on=["file", "locator"], how="outer", indicator=True,
                       suffixes=("_truth", ""))
    bad = (both["_merge"] != "both") | (both["disposition_truth"] != both["disposition"]) | (
        both["expected_entity"] != both["entity_id"])
    return both.loc[bad, ["file", "locator", "disposition_truth", "disposition",
                          "expected_entity", "entity_id", "note", "reasons", "_merge"]]


def expected_accounts(sample_dir: Path) -> set[tuple[str, str, bool]]:
    truth = pd.read_csv(sample_dir / "ground_truth_accounts.csv", dtype=str)
    return {(entity_id_for(k), kind, flag.lower() == "true") for k, kind, flag in zip(
        truth["entity_key"], truth["account_kind"], truth["real_name_verification_required"],
        strict=True)}
