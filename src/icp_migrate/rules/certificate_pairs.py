"""Two valid certificates that may be one entity: a conflict for a person, never a guess.

- `certificates:<entity filing number>`: different valid certificates (different entities)
  stating the same entity filing number, in the records or in the store;
- `certificates:<entity id of the organization code>`: different valid USCCs with the same
  organization code inside (characters 9-17). Their claimants are named per USCC
  (`entity_id_for("USCC:<number>")`), since the organization code alone would make them one.

Every record carrying either certificate is `needs_review` until a person decides
`merge:<entity_id>` (one entity under the chosen certificate; the other is kept as an
alias in the ledger) or `separate` (each its own entity). After `separate`, a record that
carries only the shared organization code cannot tell which entity it is: quarantined.
"""

from __future__ import annotations

import pandas as pd

from ..identity import entity_ids
from ..transforms.text import is_in
from .ledger import arbitrate, outcome

PAIR_COLUMNS = ("entity_id", "claimant", "disposition", "reasons", "conflict_key",
                "candidates", "preferred", "merged")


def _uscc_ids(numbers: pd.Series) -> pd.Series:
    return entity_ids("USCC:" + numbers.astype(object))


def certificate_pairs(valid: pd.DataFrame, stored: pd.DataFrame,
                      ledger: pd.DataFrame) -> pd.DataFrame:
    """PAIR_COLUMNS per record of `valid` (row_id, cert_type, cert_number, cert_key,
    entity_filing_number): its entity id once the pair rules and decisions are applied;
    `disposition` needs_review or quarantined where a pair conflict holds it; `preferred`
    marks the certificate a merge chose, `merged` a record moved by a merge decision.

    `stored`: the store's entities (entity_id, cert_type, cert_number, entity_filing_number).
    """
    base = entity_ids(valid["cert_key"]).astype(object)
    out = pd.DataFrame({"entity_id": base, "claimant": base, "disposition": None, "reasons": None,
                        "conflict_key": None, "candidates": None, "preferred": False,
                        "merged": False}, index=valid.index)
    if valid.empty:
        return out
    _same_org_code(valid, base, stored, ledger, out)
    _same_entity_number(valid, stored, ledger, out)
    return out


def _same_org_code(valid: pd.DataFrame, base: pd.Series, stored: pd.DataFrame,
                   ledger: pd.DataFrame, out: pd.DataFrame) -> None:
    organization = valid["cert_type"].isin(["uscc", "org_code"])
    key = ("certificates:" + base.astype(object)).where(organization, None)
    stored_uscc = stored[stored["cert_type"].eq("uscc") & stored["cert_number"].notna()]
    numbers = pd.concat([
        pd.DataFrame({"key": key[valid["cert_type"].eq("uscc")],
                      "number": valid.loc[valid["cert_type"].eq("uscc"), "cert_number"]}),
        pd.DataFrame({"key": "certificates:" + stored_uscc["entity_id"].astype(object),
                      "number": stored_uscc["cert_number"]})]).drop_duplicates()
    counts = numbers["key"].value_counts()
    touched = set(counts[counts > 1].index) | (set(key.dropna()) & set(ledger["conflict_key"]))
    if not touched:
        return
    numbers = numbers[is_in(numbers["key"], touched)]
    claims = pd.DataFrame({"key": numbers["key"], "claimant": _uscc_ids(numbers["number"])})
    verdicts = arbitrate(claims, ledger)
    rows = key.isin(verdicts.index)
    if not rows.any():
        return
    mine = valid[rows]
    claimant = _uscc_ids(mine["cert_number"]).where(mine["cert_type"].eq("uscc"), None)
    seen = outcome(verdicts, key[rows], claimant)
    found = verdicts.reindex(key[rows].to_numpy()).set_axis(mine.index)
    out.loc[mine.index, "claimant"] = claimant
    held = seen["held"]
    _hold(out, held[held].index, found, "needs_review",
          "valid certificates of possibly one entity: two USCCs with the same "
          "organization code (a person decides merge or separate)")
    merge = seen["mode"].eq("merge")
    out.loc[merge[merge].index, "preferred"] = seen.loc[merge, "wins"]
    separate = seen["mode"].eq("separate")
    # the USCC the store already holds under the organization code's id keeps that id
    holder = stored_uscc.set_index("entity_id")["cert_number"]
    keeps = mine["cert_number"].eq(base[rows].map(holder))
    own = separate & mine["cert_type"].eq("uscc") & ~keeps
    out.loc[own[own].index, "entity_id"] = claimant[own]
    lost = separate & mine["cert_type"].eq("org_code")
    _hold(out, lost[lost].index, found, "quarantined",
          "review: the organization code is shared by USCCs decided to be separate "
          "entities; this record carries only the organization code")


def _same_entity_number(valid: pd.DataFrame, stored: pd.DataFrame, ledger: pd.DataFrame,
                        out: pd.DataFrame) -> None:
    live = out["disposition"].isna()
    stated = valid["entity_filing_number"].notna() & live
    key = ("certificates:" + valid["entity_filing_number"].astype(object)).where(stated, None)
    said = stored[stored["entity_number_stated"].fillna(False).astype(bool)]
    claims = pd.concat([
        pd.DataFrame({"key": key[stated], "claimant": out.loc[stated, "entity_id"]}),
        pd.DataFrame({"key": "certificates:" + said["entity_filing_number"].astype(object),
                      "claimant": said["entity_id"]})])
    claims = claims[is_in(claims["key"], key.dropna())]
    verdicts = arbitrate(claims, ledger)
    if verdicts.empty:
        return
    # every record carrying either certificate, not only those stating the number: a
    # record of a claimant names its conflict through the certificate it carries
    conflicted = claims[is_in(claims["key"], set(verdicts.index))].drop_duplicates("claimant")
    by_claimant = conflicted.set_index("claimant")["key"]
    key = key.where(key.isin(verdicts.index), out["entity_id"].where(live).map(by_claimant))
    rows = key.isin(verdicts.index)
    if not rows.any():
        return
    found = verdicts.reindex(key[rows].to_numpy()).set_axis(valid.index[rows])
    seen = outcome(verdicts, key[rows], out.loc[rows, "entity_id"])
    held = seen["held"]
    _hold(out, held[held].index, found, "needs_review",
          "valid certificates of possibly one entity: different certificates state the "
          "same entity filing number (a person decides merge or separate)")
    out.loc[held[held].index, "claimant"] = out.loc[held[held].index, "entity_id"]
    moved = seen["mode"].eq("merge") & ~seen["wins"]
    out.loc[moved[moved].index, "entity_id"] = found.loc[moved, "chosen"]
    out.loc[moved[moved].index, "merged"] = True
    out.loc[moved[moved].index, "conflict_key"] = found.loc[moved, "conflict_id"]
    chosen = seen["mode"].eq("merge") & seen["wins"]
    out.loc[chosen[chosen].index, "preferred"] = True


def _hold(out: pd.DataFrame, index: pd.Index, found: pd.DataFrame, disposition: str,
          reason: str) -> None:
    if not len(index):
        return
    out.loc[index, "disposition"] = disposition
    out.loc[index, "reasons"] = reason + " (conflict " + found.loc[index, "conflict_id"] + ")"
    out.loc[index, "conflict_key"] = found.loc[index, "conflict_id"]
    out.loc[index, "candidates"] = found.loc[index, "competitors"]
