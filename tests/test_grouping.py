"""Grouping's bulk helpers give what their per-row originals gave."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from icp_migrate.rules import grouping
from icp_migrate.transforms import near_names

NAME = st.sampled_from(["浙江省|", "江苏省|"]).flatmap(
    lambda p: st.text(alphabet="甲乙丙丁ab", min_size=1, max_size=5).map(lambda n: p + n))
NAMES = st.lists(NAME, max_size=12)


def near_misses_one_by_one(loose: pd.DataFrame, valid: pd.DataFrame,
                           known: pd.DataFrame) -> pd.Series:
    named = pd.concat([valid["name_key"], known["name_key"]]).dropna().drop_duplicates()
    by_province = named.groupby(named.str.split("|", n=1).str[0]).agg(list).to_dict()
    result = pd.Series("", index=loose.index, dtype=object)
    for index, key in loose["name_key"].dropna().items():
        same_province = by_province.get(key.split("|", 1)[0], [])
        match = process.extractOne(key, same_province, scorer=Levenshtein.distance,
                                   score_cutoff=2)
        if match is not None:
            result[index] = f"; possible match (not merged): {match[0].split('|', 1)[1]}"
    return result


@settings(max_examples=300, deadline=None)
@given(NAMES, NAMES, st.lists(st.one_of(st.none(), NAME, st.sampled_from(
    ["浙江省|甲乙", "浙江省|甲乙丙丁", "江苏省|ab", "上海市|甲"])), max_size=8),
    st.sampled_from([near_names._BASE, 1]), st.sampled_from([near_names._BLOCK, 1, 7]))
def test_near_misses_equal_extract_one(valid_names, known_names, loose_names, base, block):
    """The symmetric-delete search picks what extractOne picks over every name of the
    province, whatever the hash (base 1: every anagram collides) and however the
    candidates are split into blocks; asked again, the notes found are reused."""
    valid = pd.DataFrame({"name_key": pd.Series(valid_names, dtype=object)})
    known = pd.DataFrame({"name_key": pd.Series(known_names, dtype=object)})
    loose = pd.DataFrame({"name_key": pd.Series(loose_names, dtype=object)},
                         index=pd.Index(range(7, 7 + len(loose_names))))
    want = near_misses_one_by_one(loose, valid, known)
    choices = grouping.name_choices(valid, known)
    with mock.patch.object(near_names, "_BASE", base), \
            mock.patch.object(near_names, "_BLOCK", block):
        pd.testing.assert_series_equal(choices.notes(loose["name_key"]), want)
    with mock.patch.object(grouping, "_closest", side_effect=AssertionError("searched")):
        pd.testing.assert_series_equal(choices.notes(loose["name_key"]), want)


def test_closest_prefers_the_first_of_equally_near_names():
    choices = np.array(["p|甲乙丙", "p|甲乙丁", "p|甲乙"], dtype=object)
    got = grouping._closest(np.array(["甲乙戊"], dtype=object),
                            np.array([c.split("|", 1)[1] for c in choices], dtype=object))
    match = process.extractOne("p|甲乙戊", list(choices), scorer=Levenshtein.distance,
                               score_cutoff=2)
    assert got[0] == f"; possible match (not merged): {match[0].split('|', 1)[1]}"


ENTITY = st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["e1", "e2", "e3"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ENTITY, ENTITY, ENTITY), max_size=12))
def test_distinct_per_row_equals_nunique(rows):
    frame = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=object)
    got = grouping._distinct_per_row(frame)
    pd.testing.assert_series_equal(got, frame.nunique(axis=1), check_dtype=False)
