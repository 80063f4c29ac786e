"""The conflict ledger's verdict on a disputed key, across runs (rules/ledger.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from icp_migrate.plan import LEDGER_COLUMNS
from icp_migrate.rules.ledger import arbitrate, outcome


def claims(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["key", "claimant"], dtype=object)


def ledger(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS), dtype=object)


K = "website:浙ICP备12345678号-1"
OPEN = ledger((K, K, "X", None, None), (K, K, "Y", None, None))
ASSIGNED = ledger((K, K, "X", "assign", "Y"), (K, K, "Y", "assign", "Y"))


@pytest.mark.parametrize("seen, known, expected", [
    # a key one claimant holds is no conflict
    (claims((K, "X")), ledger(), None),
    # two claimants open it, under its key
    (claims((K, "X"), (K, "Y")), ledger(), (K, "review", None, "X;Y")),
    # an open conflict holds a batch that brings one side only
    (claims((K, "X")), OPEN, (K, "review", None, "X;Y")),
    # ... and gains a newcomer as a competitor
    (claims((K, "Z")), OPEN, (K, "review", None, "X;Y;Z")),
    # a decision binds the claimants it named, whichever of them a batch brings
    (claims((K, "X")), ASSIGNED, (K, "assign", "Y", "X;Y")),
    (claims((K, "X"), (K, "Y")), ASSIGNED, (K, "assign", "Y", "X;Y")),
    # a claimant it never named reopens it as a new conflict, with everyone so far
    (claims((K, "Y"), (K, "Z")), ASSIGNED, (f"{K}#2", "review", None, "X;Y;Z")),
    (claims((K, "Z")), ASSIGNED, (f"{K}#2", "review", None, "X;Y;Z")),
])
def test_verdicts(seen, known, expected):
    verdicts = arbitrate(seen, known)
    if expected is None:
        assert verdicts.empty
        return
    (row,) = verdicts.itertuples(index=False)
    assert (row.conflict_id, row.mode, row.chosen, row.competitors) == expected


def test_the_latest_decision_of_a_reopened_key_binds():
    decided = pd.concat([ASSIGNED, ledger((f"{K}#2", K, "Y", "assign", "Z"),
                                          (f"{K}#2", K, "Z", "assign", "Z"))])
    verdicts = arbitrate(claims((K, "X"), (K, "Y")), decided)
    assert verdicts.loc[K, ["conflict_id", "chosen"]].tolist() == [f"{K}#2", "Z"]
    seen = outcome(verdicts, pd.Series([K, K, K]), pd.Series(["X", "Y", "Z"]))
    assert seen["wins"].tolist() == [False, False, True]
    assert seen["loses"].tolist() == [True, True, False]


def test_reject_and_separate():
    rejected = ledger((K, K, "X", "reject", None), (K, K, "Y", "reject", None))
    seen = outcome(arbitrate(claims((K, "X")), rejected), pd.Series([K]), pd.Series(["X"]))
    assert seen[["wins", "loses", "held"]].iloc[0].tolist() == [False, True, False]
    apart = ledger((K, K, "X", "separate", None), (K, K, "Y", "separate", None))
    seen = outcome(arbitrate(claims((K, "X"), (K, "Y")), apart), pd.Series([K]),
                   pd.Series(["X"]))
    assert seen[["mode", "wins", "loses", "held"]].iloc[0].tolist() == [
        "separate", False, False, False]


@pytest.mark.parametrize("conflict_id, key", [
    (K, K), (f"{K}#2", K), (f"{K}#12", K), ("domain:a#b.cn", "domain:a#b.cn")])
def test_a_reopened_conflict_keeps_its_key(conflict_id, key):
    from icp_migrate.rules.ledger import conflict_key_of

    assert conflict_key_of(conflict_id) == key
