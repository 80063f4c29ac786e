"""Reason texts grouped by the rule behind them (masked for display), and a run's reasons
tallied by rule from its distinct texts a batch at a time (ReasonTally)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from icp_migrate.masking import mask_text
from icp_migrate.reports.parts import SAMPLES_PER_REASON

NO_REASON = "(none)"
_PREFIX = re.compile(r"[:;(（]")
_NUMBERS = re.compile(r"[0-9A-Za-z]*\d[\w\-/.]*")  # any token holding a digit
# a text's head in RE2 (Arrow): all from the first of _PREFIX's characters removed
_TAIL = "(?s)[:;(\uff08].*"


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


def reason_groups(texts: pd.Series) -> pd.Series:
    """reason_group of each of `texts` (no nulls): the heads are cut in Arrow and only the
    distinct heads are grouped in Python (a run has millions of texts, a few heads)."""
    heads = pc.replace_substring_regex(pa.array(texts.to_numpy(dtype=object),
                                                type=pa.large_string()),
                                       pattern=_TAIL, replacement="", max_replacements=1)
    distinct = pc.unique(heads)
    groups = pa.array([_head_group(h.strip()) for h in distinct.to_pylist()],
                      type=pa.large_string())
    return pd.Series(groups.take(pc.index_in(heads, value_set=distinct)).to_numpy(
        zero_copy_only=False), index=texts.index, dtype=object)


@dataclass
class ReasonTally:
    """A run's reason texts counted by rule: what the reasons and quarantine sections show,
    whatever the number of texts (a text is read once, in a batch, and let go)."""

    counts: pd.DataFrame  # disposition, reason, records: per reason group, texts only
    # reason, reasons, first_row: the `samples` earliest texts (by their first row) of each
    # group of quarantined records: the group's first records are among theirs
    earliest: pd.DataFrame


def tally_reasons(batches: Iterable[pd.DataFrame], samples: int) -> ReasonTally:
    """The tally of `batches` of disposition, reasons, records, first_row (one row per
    distinct disposition and text, each pair in one batch only); a head is grouped once
    per batch."""
    counts: dict[tuple[str, str], int] = {}
    earliest = pd.DataFrame({"reason": pd.Series(dtype=object),
                             "reasons": pd.Series(dtype=object),
                             "first_row": pd.Series(dtype="int64")})
    for batch in batches:
        if batch.empty:
            continue
        keyed = pd.DataFrame({
            "disposition": batch["disposition"].to_numpy(dtype=object),
            "reason": reason_groups(batch["reasons"]).to_numpy(dtype=object),
            "reasons": batch["reasons"].to_numpy(dtype=object),
            "records": batch["records"].astype("int64").to_numpy(),
            "first_row": batch["first_row"].astype("int64").to_numpy()})
        for key, n in keyed.groupby(["disposition", "reason"], sort=False)["records"].sum(
                ).items():
            counts[key] = counts.get(key, 0) + int(n)
        held = keyed.loc[keyed["disposition"] == "quarantined", list(earliest.columns)]
        earliest = (pd.concat([earliest, held], ignore_index=True)
                    .sort_values("first_row", kind="stable")
                    .groupby("reason", sort=False).head(samples).reset_index(drop=True))
    return ReasonTally(
        pd.DataFrame([(d, r, n) for (d, r), n in counts.items()],
                     columns=["disposition", "reason", "records"]), earliest)


def run_tally(batches: Iterable[pd.DataFrame]) -> ReasonTally:
    """The report's tally of a run's reason texts: SAMPLES_PER_REASON earliest texts."""
    return tally_reasons(batches, SAMPLES_PER_REASON)


def with_unreasoned(counts: pd.DataFrame, unreasoned: pd.Series | None) -> pd.DataFrame:
    """`counts` (disposition, reason, records) with `unreasoned` (records without a reason,
    by disposition) added as NO_REASON."""
    rows = {(d, r): int(n) for d, r, n in counts.itertuples(index=False)}
    for disposition, n in ({} if unreasoned is None else unreasoned).items():
        if n:
            key = (str(disposition), NO_REASON)
            rows[key] = rows.get(key, 0) + int(n)
    return pd.DataFrame([(d, r, n) for (d, r), n in rows.items()],
                        columns=["disposition", "reason", "records"])
