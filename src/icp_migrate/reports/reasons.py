"""Reason texts grouped by the rule behind them (masked for display)."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from icp_migrate.masking import mask_text

NO_REASON = "(none)"
_PREFIX = re.compile(r"[:;(（]")
_NUMBERS = re.compile(r"[0-9A-Za-z]*\d[\w\-/.]*")  # any token holding a digit


def reason_group(reason: object) -> str:
    """The rule behind a reason: its text before ':' ';' or '(', tokens with digits as '#'.

    `website_filing_number_usable: ICP filing number with 9 digits: …` ->
    `website_filing_number_usable`; `filed on 2019-04-21, on or after the cut-off …` ->
    `filed on #, on or after the cut-off #`.
    """
    if reason is None or (isinstance(reason, float) and reason != reason) or not str(reason):
        return NO_REASON
    return _head_group(_PREFIX.split(str(reason), maxsplit=1)[0].strip())


@lru_cache(maxsize=8192)
def _head_group(head: str) -> str:
    """Masking a head is the costly part; a run's reasons share a handful of heads."""
    return mask_text(_NUMBERS.sub("#", head)) or NO_REASON


def group_reasons(texts: pd.DataFrame,
                  unreasoned: pd.Series | None = None) -> pd.DataFrame:
    """`disposition, reasons, records` (one row per distinct text) summed per reason group,
    plus `unreasoned` (records without a reason, by disposition) as NO_REASON:
    `disposition, reason, records`, unordered. reason_group runs once per distinct text."""
    counts: dict[tuple[str, str], int] = {}
    if not texts.empty:
        groups = {t: reason_group(t) for t in texts["reasons"].dropna().unique()}
        keyed = pd.DataFrame({
            "disposition": texts["disposition"].to_numpy(dtype=object),
            "reason": texts["reasons"].map(groups).fillna(NO_REASON).to_numpy(dtype=object),
            "records": texts["records"].astype("int64").to_numpy(),
        }).groupby(["disposition", "reason"], sort=False)["records"].sum()
        counts = {key: int(n) for key, n in keyed.items()}
    for disposition, n in ({} if unreasoned is None else unreasoned).items():
        if n:
            key = (str(disposition), NO_REASON)
            counts[key] = counts.get(key, 0) + int(n)
    return pd.DataFrame([(d, r, n) for (d, r), n in counts.items()],
                        columns=["disposition", "reason", "records"])
