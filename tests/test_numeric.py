"""numeric.py's helpers equal what numpy and pandas give, and so do the rules built on them
(the owners of grouping keys, the claimants of disputed keys)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from icp_migrate import numeric
from icp_migrate.numeric import distinct, distinct_pairs, offsets, repeated
from icp_migrate.rules.grouping import key_owners
from icp_migrate.rules.ledger import _claimants_of

INTS = st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=60)
SMALL = st.lists(st.integers(min_value=0, max_value=5), max_size=60)
KEYS = st.sampled_from(["number:京ICP备1号", "name:浙|甲", "domain:a.cn", "domain:b.cn", "k"])
CLAIMANTS = st.sampled_from(["ent_a", "ent_b", "ent_c", "v:1"])
PAIRS = st.lists(st.tuples(st.one_of(st.none(), KEYS), st.one_of(st.none(), CLAIMANTS)),
                 max_size=40)


@given(SMALL)
def test_offsets_count_within_each_run(counts: list[int]) -> None:
    got = offsets(np.asarray(counts, dtype=np.int64))
    assert got.tolist() == [k for n in counts for k in range(n)]


@given(st.one_of(INTS, SMALL))
def test_distinct_is_numpy_unique(values: list[int]) -> None:
    array = np.asarray(values, dtype=np.int64)
    got = distinct(array)
    np.testing.assert_array_equal(got, np.unique(array))
    assert got.dtype == np.int64


@given(PAIRS.map(lambda p: [x for x in p if None not in x]))
def test_distinct_pairs_are_the_distinct_rows(pairs: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(pairs, columns=["a", "b"], dtype=object)
    left, right, left_of, right_of = distinct_pairs(frame["a"], frame["b"])
    got = list(zip(left[left_of].tolist(), right[right_of].tolist(), strict=True))
    want = list(frame.drop_duplicates().itertuples(index=False, name=None))
    assert sorted(got) == sorted(want)
    assert len(got) == len(set(got))
    # ordered by the left value's first appearance
    first = {v: i for i, v in reversed(list(enumerate(frame["a"])))}
    assert [first[a] for a, _ in got] == sorted(first[a] for a, _ in got)


@given(PAIRS)
def test_key_owners_match_counting_distinct_rows(pairs: list[tuple]) -> None:
    frame = pd.DataFrame(pairs, columns=["key", "entity_id"], dtype=object)
    owner, disputed = key_owners(frame)
    rows = frame.dropna().drop_duplicates()
    counts = rows["key"].value_counts()
    want = rows[rows["key"].isin(counts[counts == 1].index)].set_index("key")["entity_id"]
    assert owner.sort_index().to_dict() == want.sort_index().to_dict()
    assert disputed == set(counts[counts > 1].index)


@given(PAIRS, st.lists(KEYS, max_size=3))
def test_claimants_of_disputed_and_ledger_keys(pairs: list[tuple], in_ledger: list[str]) -> None:
    claims = pd.DataFrame(pairs, columns=["key", "claimant"], dtype=object).dropna()
    ledger = pd.DataFrame({"conflict_key": pd.Series(in_ledger, dtype=object)})
    got = _claimants_of(claims, ledger) if len(claims) else {}
    named = claims.groupby("key")["claimant"].agg(set).to_dict() if len(claims) else {}
    want = {k: v for k, v in named.items() if len(v) > 1 or k in set(in_ledger)}
    assert got == want


@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "中", "", "a "])),
                max_size=40),
       st.integers(1, 5), st.integers(1, 4))
def test_repeated_is_pandas_duplicated_keep_false(values: list[str | None], block: int,
                                                  chunks: int) -> None:
    """Any text with nulls, in any chunks, compared any block at a time: the values found
    more than once, each occurrence (nulls never), as pandas' duplicated(keep=False)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numeric, "REPEAT_BLOCK", block)
        size = -(-len(values) // chunks) or 1
        arrow = pa.chunked_array([pa.array(values[i:i + size], pa.string())
                                  for i in range(0, len(values), size)] or [], pa.string())
        expected = pd.Series(values, dtype=object)
        want = (expected.duplicated(keep=False) & expected.notna()).to_numpy()
        assert repeated(arrow).tolist() == want.tolist()
        assert repeated(pa.array(values, pa.string())).tolist() == want.tolist()
