"""Who is the same entity: records joined to entities by certificate, filing number or name.

Entities are named by valid certificates only. A record without a valid certificate joins
the one entity its filing numbers (or, for organizations, its name + province) point to;
pointing to none quarantines it, to several (or through a disputed key) sends it to review.
What the store already holds (`known`) takes part as if read first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..numeric import distinct_pairs
from ..transforms.near_names import near_pairs
from .ledger import arbitrate

NUMBER_COLUMNS = ("entity_filing_number", "website_entity_number")


def key_owners(pairs: pd.DataFrame) -> tuple[pd.Series, set]:
    """From (key, entity_id) pairs: key -> its single entity, and the keys of several."""
    pairs = pairs.dropna()
    keys, entities, key_of, entity_of = distinct_pairs(pairs["key"], pairs["entity_id"])
    counts = np.bincount(key_of, minlength=len(keys))  # entities per key
    single = counts[key_of] == 1
    owner = pd.Series(entities[entity_of[single]], index=pd.Index(keys[key_of[single]],
                                                                  dtype=object, name="key"),
                      dtype=object, name="entity_id")
    return owner, set(keys[counts > 1].tolist())


def _pairs(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.concat([frame[[c, "entity_id"]].set_axis(["key", "entity_id"], axis=1)
                      for c in columns], ignore_index=True)


def resolve_entities(cand: pd.DataFrame, known: pd.DataFrame, pairs: pd.DataFrame,
                     ledger: pd.DataFrame,
                     near_names: NameChoices | None = None) -> pd.DataFrame:
    """row_id, entity_id, link_kind, link_key, disposition (None/quarantined/needs_review),
    reasons, conflict_key, candidates, claimant.

    `cand`: normalized records that passed steps 1-3. `known`: rows of the store's
    websites with entity_id, cert_type, name_key and the NUMBER_COLUMNS. `pairs`: the
    certificate-pair outcome of the valid records (rules/certificate_pairs.py).
    `ledger`: the target's conflicts (LEDGER_COLUMNS) with their decisions. `near_names`: the
    organization names a near miss may point to (`name_choices`), when `cand` is one part
    of a run (rules/parts.py): the run's and the store's, not only the part's.
    """
    valid = cand[cand["cert_valid"]].assign(entity_id=pairs["entity_id"])
    numbers = pd.concat([_pairs(valid, NUMBER_COLUMNS), _pairs(known, NUMBER_COLUMNS)])
    number_owner, disputed = key_owners(numbers)
    names = pd.concat([_pairs(valid[~valid["is_person"]], ("name_key",)),
                       _pairs(known, ("name_key",))])
    name_owner, ambiguous = key_owners(names)
    claims = pd.concat([numbers, names]).dropna().drop_duplicates()
    claims = claims[claims["key"].isin(disputed | ambiguous)]
    claimants = claims.groupby("key")["entity_id"].agg(lambda e: sorted(set(e))).to_dict()

    out = pd.DataFrame({"row_id": cand["row_id"]}, index=cand.index)
    out["entity_id"] = valid["entity_id"].reindex(cand.index).astype(object)
    out["link_kind"] = _certificate_links(valid, known).reindex(cand.index).astype(object)
    out["link_key"] = valid["cert_key"].reindex(cand.index).astype(object)
    merged = pairs["merged"].astype(bool)
    out.loc[merged[merged].index, "link_kind"] = "review_decision"
    out.loc[merged[merged].index, "link_key"] = pairs.loc[merged, "conflict_key"]
    pair_held = pairs["disposition"].notna()
    for column in ("disposition", "reasons", "conflict_key", "candidates"):
        out[column] = pairs[column].where(pair_held, None).reindex(cand.index).astype(object)
    out["claimant"] = pairs["claimant"].where(pair_held, pairs["entity_id"]).reindex(
        cand.index).astype(object)

    loose = cand[~cand["cert_valid"]]
    if loose.empty:
        return out
    by_number = {c: loose[c].map(number_owner) for c in NUMBER_COLUMNS}
    by_name = loose["name_key"].map(name_owner)
    found = pd.concat([*by_number.values(), by_name], axis=1)
    distinct = _distinct_per_row(found)
    number_hit = by_number["entity_filing_number"].fillna(by_number["website_entity_number"])
    number_key = loose["entity_filing_number"].where(
        by_number["entity_filing_number"].notna(), loose["website_entity_number"])
    in_dispute = (loose["entity_filing_number"].isin(disputed)
                  | loose["website_entity_number"].isin(disputed)
                  | loose["name_key"].isin(ambiguous))
    in_ledger = _ledger_keys(loose, set(ledger["conflict_key"]))
    problem = loose["cert_problem"].fillna("no valid certificate").astype("str")

    one = (distinct == 1) & ~in_dispute & in_ledger.isna()
    out.loc[loose.index[one], "entity_id"] = number_hit.fillna(by_name)[one]
    out.loc[loose.index[one], "link_kind"] = (
        pd.Series("shared_filing_number", index=loose.index).where(number_hit.notna(),
                                                                   "name_fallback")[one])
    out.loc[loose.index[one], "link_key"] = number_key.where(
        number_hit.notna(), loose["name_key"])[one]

    review = in_dispute | (distinct > 1) | in_ledger.notna()
    if review.any():
        conflicts = _loose_conflicts(loose[review], found[review], disputed, ambiguous,
                                     claimants, in_ledger[review])
        out.loc[conflicts.index, ["conflict_key", "candidates"]] = conflicts
        out.loc[loose.index[review], "disposition"] = "needs_review"
        out.loc[loose.index[review], "reasons"] = (
            problem + "; its filing number or name points to several entities")[review]
        _apply_ledger(out, conflicts, ledger)
    none = (distinct == 0) & ~review
    named = name_choices(valid, known) if near_names is None else near_names
    out.loc[loose.index[none], "disposition"] = "quarantined"
    out.loc[loose.index[none], "reasons"] = (
        problem[none] + "; no filing number or name links it to a known entity"
        + named.notes(loose.loc[none, "name_key"]).astype("str"))
    _held_with_their_entity(out, loose.index, pairs)
    return out


def _ledger_keys(loose: pd.DataFrame, keys: set) -> pd.Series:
    """The first conflict key of the ledger a certificate-less record touches, else None."""
    found = pd.Series(None, index=loose.index, dtype=object)
    if not keys:
        return found
    candidates = [("number:", loose[c]) for c in NUMBER_COLUMNS]
    candidates += [("name:", loose["name_key"]), ("record:", loose["website_filing_number"])]
    for prefix, values in reversed(candidates):  # the first one listed wins
        key = prefix + values.astype(object)
        found = key.where(key.isin(keys) & values.notna(), found)
    return found


def _apply_ledger(out: pd.DataFrame, conflicts: pd.DataFrame, ledger: pd.DataFrame) -> None:
    """The ledger's verdict on each held record's conflict: still open (needs_review under
    the open conflict's id, with every competitor so far), assigned (joins the chosen
    entity), rejected (quarantined), or reopened by a new competitor."""
    claims = conflicts.assign(claimant=conflicts["candidates"].fillna("").str.split(";")
                              ).explode("claimant")
    claims = claims[claims["claimant"].astype(bool)]
    verdicts = arbitrate(claims.rename(columns={"conflict_key": "key"})[["key", "claimant"]],
                         ledger)
    if verdicts.empty:
        return
    keys = conflicts["conflict_key"]
    known = keys.isin(verdicts.index)
    found = verdicts.reindex(keys[known].to_numpy()).set_axis(keys.index[known])
    out.loc[found.index, "conflict_key"] = found["conflict_id"]
    out.loc[found.index, "candidates"] = found["competitors"]
    assign = found[found["mode"].eq("assign")]
    out.loc[assign.index, ["entity_id", "link_kind", "link_key", "disposition", "reasons"]] = (
        pd.DataFrame({"entity_id": assign["chosen"], "link_kind": "review_decision",
                      "link_key": assign["conflict_id"], "disposition": None,
                      "reasons": None}))
    reject = found[found["mode"].eq("reject")]
    out.loc[reject.index, "disposition"] = "quarantined"
    out.loc[reject.index, "reasons"] = "review: conflict " + reject["conflict_id"] + " rejected"


def _held_with_their_entity(out: pd.DataFrame, loose_index: pd.Index,
                            pairs: pd.DataFrame) -> None:
    """A certificate-less record joined to an entity whose certificates are in a pair
    conflict waits on that conflict too."""
    held = pairs[pairs["disposition"].eq("needs_review")]
    if held.empty:
        return
    conflict_of = held.drop_duplicates("entity_id").set_index("entity_id")
    rows = out.loc[loose_index]
    waiting = rows["disposition"].isna() & rows["entity_id"].isin(conflict_of.index)
    index = waiting[waiting].index
    entity = out.loc[index, "entity_id"]
    out.loc[index, "disposition"] = "needs_review"
    out.loc[index, "reasons"] = ("joins an entity whose certificates wait on conflict "
                                 + entity.map(conflict_of["conflict_key"]).astype(str))
    out.loc[index, "conflict_key"] = entity.map(conflict_of["conflict_key"])
    out.loc[index, "candidates"] = entity.map(conflict_of["candidates"])


def _distinct_per_row(frame: pd.DataFrame) -> pd.Series:
    """frame.nunique(axis=1) for a few text columns, without a call per row."""
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    present = [pd.notna(c) for c in columns]
    count = np.zeros(len(frame), dtype=np.int64)
    for j, column in enumerate(columns):
        new = present[j].copy()
        for i in range(j):
            new &= ~(present[i] & (columns[i] == column))
        count += new
    return pd.Series(count, index=frame.index)


def _loose_conflicts(loose: pd.DataFrame, found: pd.DataFrame, disputed: set, ambiguous: set,
                     claimants: dict, in_ledger: pd.Series) -> pd.DataFrame:
    """The conflict a certificate-less record waits on (a key the ledger holds first),
    and the entities competing in it."""
    rows = []
    for (index, record), hits, ledger_key in zip(loose.iterrows(), found.itertuples(index=False),
                                                 in_ledger, strict=True):
        keys = [("number", record[c]) for c in NUMBER_COLUMNS if record[c] in disputed]
        keys += [("name", record["name_key"])] if record["name_key"] in ambiguous else []
        entities = {e for e in hits if isinstance(e, str)}
        for _, key in keys:
            entities |= set(claimants.get(key, ()))
        if isinstance(ledger_key, str):
            keys.insert(0, tuple(ledger_key.split(":", 1)))  # type: ignore[arg-type]
        kind, key = keys[0] if keys else ("record", record["website_filing_number"])
        rows.append((index, f"{kind}:{key}", ";".join(sorted(entities))))
    return pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows],
                        columns=["conflict_key", "candidates"], dtype=object)


def _certificate_links(valid: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """same_certificate, org_code_in_uscc or upgraded_15_digit_id for valid-cert records."""
    with_uscc = set(valid.loc[valid["cert_type"].eq("uscc"), "entity_id"]) | set(
        known.loc[known["cert_type"].eq("uscc"), "entity_id"])
    kind = pd.Series("same_certificate", index=valid.index, dtype=object)
    kind[valid["cert_type"].eq("org_code") & valid["entity_id"].isin(with_uscc)] = (
        "org_code_in_uscc")
    kind[valid["cert_upgraded"]] = "upgraded_15_digit_id"
    return kind


def name_choices(valid: pd.DataFrame, known: pd.DataFrame) -> NameChoices:
    """The name keys a near miss may point to, by province, each province's in the order
    the search prefers them: the valid records' (records in order), then the store's
    websites'."""
    named = pd.concat([valid["name_key"], known["name_key"]]).dropna().drop_duplicates()
    province, names = _split_keys(named)
    codes, provinces = pd.factorize(province)
    order = np.argsort(codes, kind="stable")  # by province, each in its order
    starts = np.searchsorted(codes[order], np.arange(len(provinces) + 1))
    return NameChoices({province: names[order[starts[i]:starts[i + 1]]]
                        for i, province in enumerate(provinces)})


def _split_keys(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(province, name) of name keys 'province|name', as object arrays."""
    if keys.empty:  # (partition gives an empty frame without its columns)
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    parts = keys.astype(object).str.partition("|")
    return parts[0].to_numpy(dtype=object), parts[2].to_numpy(dtype=object)


class NameChoices:
    """The organization names a near miss may point to, by province (name_choices: the
    name part of their keys 'province|name'), and the notes found so far: a run of several
    parts asks for all its keys once (parts.near_names), so each province's names are
    indexed once, not once per part."""

    def __init__(self, by_province: dict[str, np.ndarray]) -> None:
        self.by_province = by_province
        self.found = pd.Series(dtype=object)  # name key -> its note, "" for none

    def notes(self, keys: pd.Series) -> pd.Series:
        """'; possible match (not merged): NAME' per key (aligned with `keys`): the first
        name of its province at the least distance, at most 2 edits; "" for none."""
        asked = pd.Index(keys.dropna().unique()).difference(self.found.index)
        if len(asked):
            found = self._search(asked.to_series(index=asked))
            self.found = found if self.found.empty else pd.concat([self.found, found])
        return pd.Series(keys.map(self.found).fillna("").to_numpy(dtype=object),
                         index=keys.index, dtype=object)

    def _search(self, keys: pd.Series) -> pd.Series:
        result = np.full(len(keys), "", dtype=object)
        province, names = _split_keys(keys)
        for name in pd.unique(province):
            choices = self.by_province.get(name)
            if choices is not None and len(choices):
                rows = np.flatnonzero(province == name)
                result[rows] = _closest(names[rows], choices)
        return pd.Series(result, index=keys.index, dtype=object)


def _closest(queries: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """Per query (a name of one province), the note naming the first choice (a name of
    the same province) at the least distance <= 2, else "" (what process.extractOne(query,
    choices, Levenshtein.distance, score_cutoff=2) picks): the candidates are found by the
    symmetric-delete search (near_names.near_pairs), not by comparing every two."""
    out = np.full(len(queries), "", dtype=object)
    for q, c, distance in near_pairs(queries, choices):  # all of a query's pairs at once
        order = np.lexsort((c, distance, q))
        q, c = q[order], c[order]
        first = np.append(True, q[1:] != q[:-1])
        out[q[first]] = [f"; possible match (not merged): {n}" for n in choices[c[first]]]
    return out
