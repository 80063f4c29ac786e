"""The conflict ledger's verdict on every disputed key: open, decided, or reopened.

A conflict is a disputed key (`website:<number>`, `domain:<domain>`, `number:<entity
number>`, `name:<province|name>`, `record:<website number>`, `changed:<website number>`,
`certificates:<…>`) and the claimants competing for it: entity ids, or for a `changed:`
conflict the versions of one website (`v:<hash>`). The target keeps every conflict it has
seen (the ledger); a run's records never settle one by themselves:

- an open conflict holds every record touching its key, whatever this run brings;
- a decided conflict binds every claimant it named: the chosen one wins, the others lose;
- a claimant the decisions never named reopens the key as a new conflict (`<key>#2`, …)
  whose competitors are everyone named so far plus the newcomers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..numeric import distinct_pairs
from ..plan import empty_frame
from ..transforms.text import is_in

VERDICT_COLUMNS = ("key", "conflict_id", "mode", "chosen", "competitors")
# what a decision does to the claimants it names
WINNER_TAKES = ("assign", "merge", "keep", "replace")


def conflict_kind(conflict_id: str) -> str:
    return conflict_id.split(":", 1)[0]


def conflict_key_of(conflict_id: str) -> str:
    """`key` for `key` and for a reopened `key#n`."""
    head, _, tail = conflict_id.rpartition("#")
    return head if head and tail.isdigit() else conflict_id


def arbitrate(claims: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """One verdict per key of `claims` that is disputed (two or more claimants) or in the
    ledger; indexed by key, VERDICT_COLUMNS.

    `claims`: key, claimant: every claimant of every key this run touches, the store's
    current holder included. `ledger`: LEDGER_COLUMNS. `mode` is `review` (the conflict
    `conflict_id` is open, perhaps opened by this run) or the decision that binds
    (`assign`, `reject`, `keep`, `replace`, `merge`, `separate`), `chosen` its winner.
    `competitors` is the ';'-joined sorted claimants of the conflict.
    """
    claims = claims.dropna()
    if claims.empty:
        return _empty()
    named = _claimants_of(claims, ledger)
    if not named:
        return _empty()
    keys = set(named)
    instances = _instances(ledger[is_in(ledger["conflict_key"], keys)])
    rows = [_verdict(key, named[key], instances.get(key, [])) for key in sorted(named)]
    rows = [r for r in rows if r is not None]
    if not rows:
        return _empty()
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS), dtype=object).set_index(
        "key", drop=False)


def _claimants_of(claims: pd.DataFrame, ledger: pd.DataFrame) -> dict[str, set]:
    """key -> its distinct claimants, for the keys of `claims` (no nulls) with two or more
    claimants or in the ledger."""
    keys, claimants, key_of, claimant_of = distinct_pairs(claims["key"], claims["claimant"])
    counts = np.bincount(key_of, minlength=len(keys))
    chosen = counts > 1
    if len(ledger):
        chosen |= is_in(pd.Series(keys, dtype=object), ledger["conflict_key"]).to_numpy()
    starts = np.concatenate([[0], np.cumsum(counts)])
    return {keys[k]: set(claimants[claimant_of[starts[k]:starts[k + 1]]])
            for k in np.flatnonzero(chosen).tolist()}


def _empty() -> pd.DataFrame:
    return empty_frame(VERDICT_COLUMNS).set_index("key", drop=False)


def _instances(ledger: pd.DataFrame) -> dict[str, list[dict]]:
    """key -> its conflicts in the order they were opened: id, claimants, decision, chosen."""
    found: dict[str, dict] = {}
    columns = [ledger[c].to_numpy(dtype=object) for c in
               ("conflict_id", "conflict_key", "claimant", "decision", "chosen")]
    for conflict_id, key, claimant, decision, chosen in zip(*columns, strict=True):
        entry = found.get(conflict_id)
        if entry is None:
            entry = found[conflict_id] = {
                "id": conflict_id, "key": key, "claimants": set(),
                "decision": decision if isinstance(decision, str) else None,
                "chosen": chosen if isinstance(chosen, str) else None,
                "number": _number(str(conflict_id))}
        if isinstance(claimant, str):
            entry["claimants"].add(claimant)
    out: dict[str, list[dict]] = {}
    for entry in sorted(found.values(), key=lambda i: i["number"]):
        out.setdefault(entry["key"], []).append(entry)
    return out


def _number(conflict_id: str) -> int:
    """1 for `key`, n for `key#n`."""
    key = conflict_key_of(conflict_id)
    return 1 if key == conflict_id else int(conflict_id[len(key) + 1:])


def _verdict(key: str, claimants: set, instances: list[dict]) -> tuple | None:
    open_ = [i for i in instances if i["decision"] is None]
    if open_:  # an open conflict holds whatever touches its key
        competitors = open_[-1]["claimants"] | claimants
        return (key, open_[-1]["id"], "review", None, _joined(competitors))
    decided = [i for i in instances if i["decision"] is not None]
    named = set().union(*(i["claimants"] for i in decided)) if decided else set()
    newcomers = claimants - named
    if decided and not newcomers:
        latest = decided[-1]
        return (key, latest["id"], latest["decision"], latest["chosen"], _joined(named))
    competitors = claimants | named
    if len(competitors) < 2:
        return None
    number = max((i["number"] for i in instances), default=0) + 1
    conflict_id = key if number == 1 else f"{key}#{number}"
    return (key, conflict_id, "review", None, _joined(competitors))


def _joined(values: set) -> str:
    return ";".join(sorted(str(v) for v in values))


def outcome(verdicts: pd.DataFrame, keys: pd.Series, claimants: pd.Series) -> pd.DataFrame:
    """Per (key, claimant) row: conflict_id, mode, and whether the claimant wins.

    Returns columns conflict_id, mode (None where no verdict), wins (bool), loses (bool),
    held (bool: an open conflict), aligned on `keys`' index.
    """
    found = verdicts.reindex(keys.to_numpy())
    mode = found["mode"].to_numpy(dtype=object)
    chosen = found["chosen"].to_numpy(dtype=object)
    claimant = claimants.to_numpy(dtype=object)
    present = pd.notna(mode)
    winner_takes = pd.Series(mode).isin(WINNER_TAKES).to_numpy()
    wins = present & winner_takes & (chosen == claimant)
    loses = present & ((winner_takes & (chosen != claimant)) | (mode == "reject"))
    return pd.DataFrame({
        "conflict_id": found["conflict_id"].to_numpy(dtype=object),
        "mode": mode,
        "wins": wins,
        "loses": loses,
        "held": mode == "review",
    }, index=keys.index)
