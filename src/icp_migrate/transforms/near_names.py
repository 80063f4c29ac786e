"""Organizations whose names are one or two edits apart: possible matches, never merged.

Names are compared as grouping compares them (`name_key`: the name compacted, within its
province), by Levenshtein distance. Individuals never take part.

Finding the pairs without comparing every two names of a province (the symmetric-delete
method, `near_pairs`): two strings are at most 2 edits apart only if deleting at most 2
characters from each gives the same string (a substitution is a deletion on both sides, an
insertion or a deletion one on one side). So every name's deletion variants (itself, each
1- and 2-character deletion) are hashed; the choices' hashes are sorted once, each query's
are looked up in them, and every candidate found is checked with Levenshtein.distance <= 2.
Equal variants have equal hashes, so no pair is missed; a hash collision only adds a
candidate the check drops. tests/test_near_names.py holds it to a brute-force comparison of
every two names; grouping's near misses (rules/grouping.py, `_closest`) use the same search.

A report asks only about its run's names (the queries) against its province's (the
choices), and counts the pairs on integer codes: text is made for the pairs it lists. Its
queries being among its choices, one sorted index of the province's variants serves both
sides (`near_pairs_within`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..numeric import distinct, offsets
from .text import compact_text

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
    entities against the whole store). Only the names in focus are searched for: the
    work grows with them, not with the store."""
    return first_pairs(orgs, focus, sys.maxsize)[0]


def first_pairs(orgs: pd.DataFrame | pa.Table, focus: ArrayLike | None, limit: int,
                ) -> tuple[pd.DataFrame, int]:
    """(the first `limit` rows of near_name_pairs(orgs, focus), how many rows it has). The
    pairs are counted on integer codes, one block of names at a time, and text is made for
    the first `limit` only: a report lists a few and counts the rest, and the pairs grow
    with the square of a province's names (a store of three million organizations has
    tens of millions of them). `orgs` may be Arrow (a report's are: no Python string is
    made but for the names a province's search compares)."""
    rows = _Organizations.of(orgs, focus)
    if rows is None:
        return _no_pairs(), 0
    total, head, held = 0, [], 0
    for province in rows.provinces():
        best = np.zeros((0, 3), dtype=np.int64)  # the province's first pairs: a, b, distance
        for a, b, distance in rows.entity_pairs(province):
            total += len(a)
            if held < limit:
                best = rows.first(np.concatenate([best, np.column_stack([a, b, distance])]),
                                  limit - held)
        if len(best):
            head.append(rows.frame(best))
            held += len(best)
    return (pd.concat(head, ignore_index=True) if head else _no_pairs()), total


class _Organizations:
    """The organizations' rows as arrays: each (province, compacted name) once as a name
    (`keys`, Arrow), each row's name code, and sort ranks of ids and names. The rows' text
    stays Arrow; a province's names become Python strings only while it is searched."""

    def __init__(self, rows: pa.Table, focus: np.ndarray | None) -> None:
        self.ids = rows.column("entity_id")
        self.names = rows.column("name")
        self.province = rows.column("province")
        self.focus = focus  # per row, or None: every row
        self.province_values = pc.unique(self.province).sort()
        province_codes = pc.index_in(self.province, value_set=self.province_values)
        key_codes, key_values = _codes(rows.column("key"))
        # one name per (province, key): equal names are 0 edits apart, never a pair
        width = max(1, len(key_values))
        self.codes, pairs = pd.factorize(_numbers(province_codes) * width + key_codes)
        self.keys = key_values.take(pa.array(pairs % width))
        self.key_province = pairs // width
        in_focus = np.ones(len(self.keys), dtype=bool) if focus is None else np.zeros(
            len(self.keys), dtype=bool)
        if focus is not None:  # a name is in focus when an entity in focus bears it
            in_focus[self.codes[focus]] = True
        self.in_focus = in_focus
        # the rows of each name: by_name[first[u]:first[u + 1]]
        self.by_name = np.argsort(self.codes, kind="stable")
        self.first_row = np.searchsorted(self.codes[self.by_name], np.arange(len(self.keys) + 1))
        self.id_rank = _rank(self.ids)
        self.name_rank = _rank(self.names)

    @classmethod
    def of(cls, orgs: pd.DataFrame | pa.Table, focus: ArrayLike | None,
           ) -> _Organizations | None:
        """The rows that take part (an id, a province, a name that is more than white
        space; no individual), each (entity_id, province, name) once: in focus when any
        of its rows is."""
        table = orgs if isinstance(orgs, pa.Table) else _as_table(orgs)
        flags = np.ones(table.num_rows, dtype=bool) if focus is None else np.asarray(
            focus, dtype=bool)
        key = compact_text(table.column("name"))
        keep = pc.and_(pc.and_(pc.is_valid(table.column("entity_id")),
                               pc.is_valid(table.column("province"))),
                       pc.fill_null(pc.not_equal(key, ""), False))
        if "entity_type" in table.column_names:
            keep = pc.and_(keep, pc.fill_null(
                pc.not_equal(table.column("entity_type"), "individual"), True))
        rows = pa.table({"entity_id": _text(table.column("entity_id")),
                         "province": _text(table.column("province")),
                         "name": _text(table.column("name")), "key": key,
                         "focus": pa.array(flags)}).filter(keep)
        if rows.num_rows != pc.count_distinct(rows.column("entity_id")).as_py():
            # (a store's entities are distinct by id: only other callers pay this)
            rows = rows.group_by(["entity_id", "province", "name", "key"],
                                 use_threads=False).aggregate([("focus", "max")]).rename_columns(
                ["entity_id", "province", "name", "key", "focus"])
        if rows.num_rows == 0 or not pc.any(rows.column("focus")).as_py():
            return None
        return cls(rows, _numbers(rows.column("focus")).astype(bool)
                   if focus is not None else None)

    def provinces(self) -> Iterator[np.ndarray]:
        """The names of each province with a name in focus, provinces in order."""
        order = np.argsort(self.key_province, kind="stable")
        starts = np.searchsorted(self.key_province[order],
                                 np.arange(len(self.province_values) + 1))
        for i in range(len(self.province_values)):
            members = order[starts[i]:starts[i + 1]]
            if self.in_focus[members].any():
                yield members

    def entity_pairs(self, members: np.ndarray,
                     ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(row a, row b, distance) of the entity pairs among these names, in blocks."""
        keys = self.keys.take(pa.array(members)).to_numpy(zero_copy_only=False)

        def once(q: np.ndarray, c: np.ndarray) -> np.ndarray:
            """Each name pair once: a pair of two names in focus is found from both sides
            (near_pairs_within never pairs a name with itself)."""
            u, v = members[q], members[c]
            return ~self.in_focus[v] | (u < v)

        for q, c, distance in near_pairs_within(keys, self.in_focus[members], once):
            yield self._rows(members[q], members[c], distance)

    def _rows(self, u: np.ndarray, v: np.ndarray, distance: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every entity of the one name with every entity of the other, the lesser id as a
        (`focus`: the pairs with a row in focus only)."""
        rows_u = self.first_row[u + 1] - self.first_row[u]
        rows_v = self.first_row[v + 1] - self.first_row[v]
        many = rows_u * rows_v
        pair = np.repeat(np.arange(len(u)), many)
        k = offsets(many)
        a = self.by_name[self.first_row[u][pair] + k // rows_v[pair]]
        b = self.by_name[self.first_row[v][pair] + k % rows_v[pair]]
        distance = distance[pair]
        swap = self.id_rank[b] < self.id_rank[a]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        keep = self.id_rank[a] != self.id_rank[b]
        if self.focus is not None:  # a name in focus may be borne by entities that are not
            keep &= self.focus[a] | self.focus[b]
        return a[keep], b[keep], distance[keep]

    def first(self, found: np.ndarray, limit: int) -> np.ndarray:
        """The first `limit` rows of `found` (a, b, distance) in the pairs' order."""
        a, b = found[:, 0], found[:, 1]
        order = np.lexsort((self.name_rank[b], self.name_rank[a], self.id_rank[b],
                            self.id_rank[a]))
        return found[order[:limit]]

    def frame(self, found: np.ndarray) -> pd.DataFrame:
        a, b = pa.array(found[:, 0]), pa.array(found[:, 1])
        columns = {"entity_id_a": self.ids.take(a), "name_a": self.names.take(a),
                   "entity_id_b": self.ids.take(b), "name_b": self.names.take(b),
                   "province": self.province.take(a)}
        columns = {c: v.to_numpy(zero_copy_only=False) for c, v in columns.items()}
        out = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
        out["distance"] = found[:, 2].astype("int64")
        return out


def _as_table(orgs: pd.DataFrame) -> pa.Table:
    """A frame's organizations as Arrow text."""
    names = [n for n in ("entity_id", "province", "name", "entity_type") if n in orgs]
    return pa.table({n: pa.array(orgs[n].to_numpy(dtype=object), type=pa.large_string(),
                                 from_pandas=True) for n in names})


def _text(values: pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks().cast(pa.large_string())


def _numbers(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Arrow numbers (or flags) without nulls as int64 numpy."""
    return np.asarray(values.to_numpy(zero_copy_only=False)).astype(np.int64)


def _codes(values: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(each value's code, the distinct values in order of first appearance)."""
    encoded = pc.dictionary_encode(values).combine_chunks()
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary


def _rank(values: pa.ChunkedArray) -> np.ndarray:
    """Each value's rank among the distinct values in sorted order, from 0 (pd.factorize's
    sorted codes: Arrow orders text by its UTF-8 bytes, as Python orders str)."""
    ranks = pc.rank(values.combine_chunks(), sort_keys="ascending", tiebreaker="dense")
    return ranks.to_numpy().astype(np.int64) - 1


def _no_pairs() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PAIR_COLUMNS[:-1]})
    frame["distance"] = pd.Series(dtype="int64")
    return frame


def near_pairs(queries: np.ndarray, choices: np.ndarray,
               wanted: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
               ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(q, c, distance): each query and each choice (indexes into `queries` and `choices`,
    strings) at most MAX_EDITS apart, a query equal to a choice 0 apart; in blocks of
    about _BLOCK candidates, each pair once and all of one query's pairs in one block.

    The choices' variant hashes are made and sorted once; the queries' are made a block of
    queries at a time and looked up in them: the work grows with the queries and the
    candidates they find, never with queries x choices. `wanted(q, c)`: a mask of the
    candidates worth checking (the others are left out before the check)."""
    if not len(queries) or not len(choices):
        return
    step = max(1, _BLOCK // 64)
    # a variant's hash and its owner packed in one integer (the hash's low bits give way):
    # one sorted array, 8 bytes a variant, sorts both at once and is searched for a hash's
    # range; a shorter hash only adds candidates the check drops
    shift = max(len(choices), step).bit_length()
    index = _packed(choices, np.arange(len(choices)), shift, 0)
    for start in range(0, len(queries), step):
        asked, lo, count = _lookup(queries, np.arange(start, min(start + step, len(queries))),
                                   index, shift)
        yield from _checked(_expanded(asked, lo, count, index, shift, len(choices), wanted),
                            queries, choices)


def near_pairs_within(keys: np.ndarray, asked: np.ndarray,
                      wanted: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                      ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """near_pairs(keys[asked], keys, wanted) when the queries are some of the choices (a
    report's run among its province), both sides indexes into `keys` (`asked`: a flag
    per key), less each key with itself: the pairs of two keys, found in the one sorted
    index of the keys' variants. A variant no other key shares finds no other key, so
    only an asked key's variants of shared hashes are expanded, where they lie: no
    second variant set, no search (1M records: 2.8 s where near_pairs took 6.6 s,
    docs/performance.md)."""
    if not len(keys) or not asked.any():
        return
    shift = max(len(keys), _BLOCK // 64).bit_length()
    index = _packed(keys, np.arange(len(keys)), shift, 0)
    hashes = index >> np.uint64(shift)
    first = np.flatnonzero(np.append(True, hashes[1:] != hashes[:-1]))  # each hash's
    del hashes  # first place in `index`, and how many variants bear it
    sizes = np.diff(np.append(first, len(index)))
    group = np.repeat(np.arange(len(first)), sizes)
    owners = (index & np.uint64((1 << shift) - 1)).astype(np.int64)
    needles = asked[owners] & (sizes[group] > 1)
    group = group[needles]

    def other(q: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (q != c) & (True if wanted is None else wanted(q, c))

    yield from _checked(_expanded(owners[needles], first[group], sizes[group], index,
                                  shift, len(keys), other), keys, keys)


def _checked(candidates: Iterator[tuple[np.ndarray, np.ndarray]], queries: np.ndarray,
             choices: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The candidate (q, c) pairs at most MAX_EDITS apart by Levenshtein, with their
    distance."""
    for q, c in candidates:
        distance = process.cpdist(queries[q], choices[c], scorer=Levenshtein.distance,
                                  score_cutoff=MAX_EDITS, dtype=np.int32, workers=-1)
        near = distance <= MAX_EDITS
        if near.any():
            yield q[near], c[near], distance[near].astype(np.int64)


def _packed(keys: np.ndarray, members: np.ndarray, shift: int, first: int) -> np.ndarray:
    """The distinct deletion variants of the members' keys, each as its hash's high bits
    over `shift` bits of its member (less `first`), sorted."""
    lengths = np.fromiter((len(k) for k in keys[members]), dtype=np.int64, count=len(members))
    packed, low = [np.zeros(0, dtype=np.uint64)], np.uint64(shift)
    for length in np.unique(lengths):
        for hashes, owners in _variants(keys, members[lengths == length], int(length)):
            hashes >>= low
            hashes <<= low
            hashes |= (owners - first).astype(np.uint64)
            packed.append(hashes)
    joined = np.concatenate(packed)
    del packed
    joined.sort()
    return joined


def _lookup(queries: np.ndarray, part: np.ndarray, index: np.ndarray, shift: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query, first, count) per variant of the `part` queries (consecutive) found in the
    `index` (_packed by `shift`): index[first:first + count] hold its hash."""
    needles = _packed(queries, part, shift, int(part[0]))  # sorted: searchsorted ~5x faster
    mask = np.uint64((1 << shift) - 1)
    lo = np.searchsorted(index, needles & ~mask, side="left")
    count = np.searchsorted(index, needles | mask, side="right") - lo
    hit = count > 0
    asked = (needles[hit] & mask).astype(np.int64) + int(part[0])
    return asked, lo[hit], count[hit]


def _expanded(asked: np.ndarray, lo: np.ndarray, count: np.ndarray, index: np.ndarray,
              shift: int, choices: int,
              wanted: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The distinct (query, choice) candidates the `wanted` mask keeps (dropped before the
    repeats are sorted out: a pair found from both sides is half of them), in blocks of
    about _BLOCK before that, a query's candidates all in one block."""
    if not len(asked):
        return
    first = int(asked.min())
    per_query = np.bincount(asked - first, weights=count).astype(np.int64)
    query_block = (np.cumsum(per_query) - per_query) // _BLOCK
    row_block = query_block[asked - first]
    mask = np.uint64((1 << shift) - 1)
    for block in np.unique(row_block):
        rows = np.flatnonzero(row_block == block)
        n = count[rows]
        q = np.repeat(asked[rows], n).astype(np.int64)
        c = (index[np.repeat(lo[rows], n) + offsets(n)] & mask).astype(np.int64)
        if wanted is not None:
            keep = wanted(q, c)
            q, c = q[keep], c[keep]
        codes = distinct(q * choices + c)
        yield codes // choices, codes % choices


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
