"""Organizations whose names are one or two edits apart: possible matches, never merged.

Names are compared as grouping compares them (`name_key`: the name compacted, within its
province), by Levenshtein distance. Individuals never take part.

Finding the pairs without comparing every two names of a province (the symmetric-delete
method): two strings are at most 2 edits apart only if deleting at most 2 characters from
each gives the same string (a substitution is a deletion on both sides, an insertion or a
deletion one on one side). So every name's deletion variants (itself, each 1- and
2-character deletion) are hashed, names sharing a hash are candidates, and each candidate
is checked with Levenshtein.distance <= 2. Equal variants have equal hashes, so no pair is
missed; a hash collision only adds a candidate the check drops. tests/test_near_names.py
holds it to a brute-force comparison of every two names.

Measured on 2 cores shared with other work (load average ~5): 400,000 synthetic
organizations over 30 provinces (names like 杭州星辰科技有限公司: a city, a 2-4 character
trade name, an industry, a legal form; 12 characters on average), ~33 M variants: 9.3 s
of CPU (14.5 s wall), peak memory +0.6 GB. It found 1.42 M pairs (1,152 one edit apart):
nearly all are names differing only in a 2-character trade name, which are 2 edits apart.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..numeric import distinct
from .text import compact_column

MAX_EDITS = 2
PAIR_COLUMNS = ["entity_id_a", "name_a", "entity_id_b", "name_b", "province", "distance"]
_BASE = 0x100000001B3  # the hash's multiplier (odd); arithmetic wraps modulo 2**64
_BLOCK = 4_000_000  # variant hashes, then candidate pairs, built at once (~32 MB each)


def near_name_pairs(orgs: pd.DataFrame, focus: pd.Series | None = None) -> pd.DataFrame:
    """PAIR_COLUMNS: two entities of one province whose compacted names are 1 or 2 edits
    apart, entity_id_a < entity_id_b, sorted by province, entity_id_a, entity_id_b (then
    the names).

    `orgs`: entity_id, province, name (as stored: the pairs show it) and, if present,
    entity_type (individuals are left out). Rows without an id, a province or a name (or
    whose name is only white space) take no part. `focus` (bool, aligned with `orgs`):
    only the pairs with a focus row's entity on one side at least (a run's report: its
    entities against the whole store). Provinces without a focus row are skipped, and only
    candidates with a name in focus are paired and checked by Levenshtein; the variant
    hashes are still made for every name of the other provinces (numpy, ~3 s for 178k
    names here)."""
    found = list(pairs_by_province(orgs, focus))
    return pd.concat(found, ignore_index=True) if found else _no_pairs()


def first_pairs(orgs: pd.DataFrame, focus: pd.Series | None, limit: int,
                ) -> tuple[pd.DataFrame, int]:
    """(the first `limit` rows of near_name_pairs(orgs, focus), how many rows it has),
    holding one province's pairs at a time: a report lists a few and counts the rest,
    and the pairs grow with the square of a province's names (a store of three million
    organizations has tens of millions of them)."""
    kept: list[pd.DataFrame] = []
    total = held = 0
    for found in pairs_by_province(orgs, focus):
        total += len(found)
        if held < limit:
            kept.append(found.head(limit - held))
            held += len(kept[-1])
    return (pd.concat(kept, ignore_index=True) if kept else _no_pairs()), total


def pairs_by_province(orgs: pd.DataFrame, focus: pd.Series | None = None,
                      ) -> Iterator[pd.DataFrame]:
    """near_name_pairs one province at a time, in its order (the provinces with a pair
    only, each frame sorted as near_name_pairs sorts)."""
    if focus is not None:
        orgs = orgs.assign(focus=focus.to_numpy(dtype=bool))
    if "entity_type" in orgs:
        orgs = orgs[~orgs["entity_type"].eq("individual")]
    rows = pd.DataFrame({"entity_id": orgs["entity_id"].astype(object),
                         "province": orgs["province"].astype(object),
                         "name": orgs["name"].astype(object),
                         "key": compact_column(orgs["name"].astype(object)),
                         "focus": orgs["focus"] if focus is not None else True})
    rows = rows[rows["entity_id"].notna() & rows["province"].notna() & rows["key"].notna()
                & rows["key"].ne("")].drop_duplicates(["entity_id", "province", "name"])
    if rows.empty or not rows["focus"].any():
        return
    ids, province = rows["entity_id"].to_numpy(dtype=object), rows["province"].to_numpy(
        dtype=object)
    names, key = rows["name"].to_numpy(dtype=object), rows["key"].to_numpy(dtype=object)
    chosen = rows["focus"].to_numpy(dtype=bool) if focus is not None else None
    # one name per (province, key): equal names are 0 edits apart, never a pair
    codes, _ = pd.factorize(province.astype(str).astype(object) + "\x00" + key)
    _, first = np.unique(codes, return_index=True)
    provinces, keys = province[first], key[first]
    # a name is in focus when an entity in focus bears it (then each of its entities pairs)
    in_focus = np.zeros(len(keys), dtype=bool)
    in_focus[codes[rows["focus"].to_numpy(dtype=bool)]] = True
    rows_of = pd.DataFrame({"u": codes, "row": np.arange(len(codes))})
    by_province = pd.Series(np.arange(len(keys))).groupby(provinces).indices  # sorted
    for members in by_province.values():
        if not in_focus[members].any():
            continue
        u, v, distance = _province_pairs(keys, members, in_focus)
        if len(u):
            yield _entity_pairs(u, v, distance, rows_of, ids, names, province, chosen)


def _entity_pairs(u: np.ndarray, v: np.ndarray, distance: np.ndarray, rows_of: pd.DataFrame,
                  ids: np.ndarray, names: np.ndarray, province: np.ndarray,
                  chosen: np.ndarray | None) -> pd.DataFrame:
    """PAIR_COLUMNS of the name pairs (u, v; codes of `rows_of`), sorted: every entity of
    the one name with every entity of the other (`chosen`: the rows in focus, if asked)."""
    pairs = pd.DataFrame({"u": u, "v": v, "distance": distance})
    both = pairs.merge(rows_of, on="u").merge(rows_of.rename(columns={"u": "v"}), on="v",
                                               suffixes=("_a", "_b"))
    a, b = both["row_a"].to_numpy(), both["row_b"].to_numpy()
    swap = (ids[b] < ids[a]).astype(bool)
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    keep = (ids[a] != ids[b]).astype(bool)
    if chosen is not None:  # a name in focus may be borne by entities that are not
        keep &= chosen[a] | chosen[b]
    a, b, kept = a[keep], b[keep], both["distance"].to_numpy()[keep]
    columns = {"entity_id_a": ids[a], "name_a": names[a], "entity_id_b": ids[b],
               "name_b": names[b], "province": province[a]}
    out = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    out["distance"] = kept.astype("int64")
    return out.sort_values(["province", "entity_id_a", "entity_id_b", "name_a", "name_b"],
                           ignore_index=True)


def _no_pairs() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PAIR_COLUMNS[:-1]})
    frame["distance"] = pd.Series(dtype="int64")
    return frame


def _province_pairs(keys: np.ndarray, members: np.ndarray, in_focus: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, distance) for members a < b (indexes into `keys`) at most MAX_EDITS apart,
    one of them at least `in_focus` (a mask over `keys`)."""
    hashes, owners = [], []
    lengths = np.fromiter((len(k) for k in keys[members]), dtype=np.int64, count=len(members))
    for length in np.unique(lengths):
        of_length = members[lengths == length]
        for h, o in _variants(keys, of_length, int(length)):
            hashes.append(h)
            owners.append(o)
    a, b = _candidates(np.concatenate(hashes), np.concatenate(owners), in_focus)
    wanted = in_focus[a] | in_focus[b]
    a, b = a[wanted], b[wanted]
    if not len(a):
        return a, b, np.zeros(0, dtype=np.int64)
    distance = process.cpdist(keys[a], keys[b], scorer=Levenshtein.distance,
                              score_cutoff=MAX_EDITS, dtype=np.int32, workers=1)
    near = distance <= MAX_EDITS
    return a[near], b[near], distance[near].astype(np.int64)


def _variants(keys: np.ndarray, members: np.ndarray, length: int,
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(hash, member) of each distinct deletion variant of the members' keys, all `length`
    characters long: the key itself and the key without 1 or without 2 of its characters.

    A polynomial hash h(s) = sum s[t] * B**(len(s) - 1 - t): with pre[k] = h(s[:k]) and
    D[x] = pre[x] - pre[x + 1], deleting position x gives h(s) + D[x] * B**(L - 1 - x), and
    positions x < y give h(s) + D[x] * B**(L - 2 - x) + D[y] * B**(L - 1 - y)."""
    n = length
    power = np.ones(n + 1, dtype=np.uint64)
    for k in range(1, n + 1):
        power[k] = np.uint64((int(power[k - 1]) * _BASE) % 2**64)
    first, second = np.triu_indices(n, k=1)
    width = 1 + n + len(first)
    for start in range(0, len(members), max(1, _BLOCK // width)):
        part = members[start:start + max(1, _BLOCK // width)]
        text = "".join(keys[part]).encode("utf-32-le", "surrogatepass")
        chars = np.frombuffer(text, dtype="<u4").astype(np.uint64).reshape(len(part), n)
        pre = np.zeros((len(part), n + 1), dtype=np.uint64)
        for k in range(n):
            pre[:, k + 1] = pre[:, k] * np.uint64(_BASE) + chars[:, k]
        whole = pre[:, n:]
        step = pre[:, :n] - pre[:, 1:]  # D[x], x < n
        one = whole + step * power[n - 1 - np.arange(n)]
        two = (whole + step[:, first] * power[n - 2 - first]
               + step[:, second] * power[n - 1 - second])
        variants = np.concatenate([whole, one, two], axis=1)
        variants.sort(axis=1)  # a key's repeated characters give equal variants: once each
        keep = np.ones(variants.shape, dtype=bool)
        keep[:, 1:] = variants[:, 1:] != variants[:, :-1]
        yield variants[keep], np.repeat(part, keep.sum(axis=1))


def _candidates(hashes: np.ndarray, owners: np.ndarray, in_focus: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): the owners a < b sharing a hash, each pair once; only hashes that an owner
    `in_focus` (a mask over owners) has (the others' pairs are never wanted)."""
    order = np.argsort(hashes)
    hashes, owners = hashes[order], owners[order].astype(np.int64)
    new = np.ones(len(hashes), dtype=bool)
    new[1:] = hashes[1:] != hashes[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(hashes)))
    shared = (sizes > 1) & (np.add.reduceat(in_focus[owners].astype(np.int64), starts) > 0)
    none = np.zeros(0, dtype=np.int64)
    if not shared.any():
        return none, none
    # only the runs of several variants: each element pairs with those after it in its run
    at = np.flatnonzero(np.repeat(shared, sizes))
    later = np.repeat(starts[shared] + sizes[shared], sizes[shared]) - at - 1
    size = int(owners.max()) + 1
    found = [none]
    ends = np.cumsum(later)
    begin = 0
    while begin < len(at):  # blocks of about _BLOCK pairs (one element's at the least)
        stop = max(begin + 1, int(np.searchsorted(ends, ends[begin] - later[begin] + _BLOCK,
                                                  side="right")))
        counts = later[begin:stop]
        left = np.repeat(at[begin:stop], counts)
        offset = np.arange(len(left)) - np.repeat(np.cumsum(counts) - counts, counts)
        a, b = owners[left], owners[left + 1 + offset]
        a, b = np.minimum(a, b), np.maximum(a, b)
        found.append(distinct((a * size + b)[a != b]))
        begin = stop
    codes = distinct(np.concatenate(found))
    return codes // size, codes % size
