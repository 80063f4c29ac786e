"""Near-miss organization names: the pairs the symmetric-delete blocking finds are exactly
those a comparison of every two names finds."""

from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from icp_migrate.transforms import near_names
from icp_migrate.transforms.near_names import PAIR_COLUMNS, near_name_pairs
from icp_migrate.transforms.text import compact


def orgs(*rows: tuple) -> pd.DataFrame:
    """(entity_id, name[, province[, entity_type]]) rows; 浙江省 and enterprise by default."""
    full = [(*r, "浙江省", "enterprise")[:4] if len(r) == 2 else (*r, "enterprise")[:4]
            for r in rows]
    return pd.DataFrame(full, columns=["entity_id", "name", "province", "entity_type"],
                        dtype=object)


def brute_force(frame: pd.DataFrame) -> list[tuple]:
    """Every two organizations compared: the pairs 1 or 2 edits apart, as near_name_pairs
    orders them."""
    organizations = frame[~frame["entity_type"].eq("individual")]  # before repeats are
    # dropped: an entity's organization row counts even where an individual row repeats it
    rows = [r for r in organizations.drop_duplicates(["entity_id", "province", "name"])
            .itertuples(index=False) if r.entity_id is not None
        and r.province is not None and r.name is not None and compact(r.name)]
    found = set()
    for x, y in itertools.combinations(rows, 2):
        if x.province != y.province or x.entity_id == y.entity_id:
            continue
        distance = Levenshtein.distance(compact(x.name), compact(y.name))
        if 1 <= distance <= 2:
            a, b = sorted((x, y), key=lambda r: r.entity_id)
            found.add((a.entity_id, a.name, b.entity_id, b.name, a.province, distance))
    return sorted(found, key=lambda p: (p[4], p[0], p[2], p[1], p[3]))


def triples(blocks) -> list[tuple[int, int, int]]:
    """The (q, c, distance) of a search's blocks, one tuple a pair."""
    return [(int(q), int(c), int(d)) for qs, cs, ds in blocks
            for q, c, d in zip(qs, cs, ds, strict=True)]


def pairs(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in near_name_pairs(frame).itertuples(index=False)]


@pytest.mark.parametrize("rows, expected", [
    # one character apart, same province: a possible match
    ([("e1", "星辰科技有限公司"), ("e2", "星尘科技有限公司")],
     [("e1", "星辰科技有限公司", "e2", "星尘科技有限公司", "浙江省", 1)]),
    # two apart (an inserted city name), whichever row comes first
    ([("e9", "杭州星辰科技有限公司"), ("e3", "星辰科技有限公司")],
     [("e3", "星辰科技有限公司", "e9", "杭州星辰科技有限公司", "浙江省", 2)]),
    # three apart: not near
    ([("e1", "甲乙丙有限公司"), ("e2", "丁戊己有限公司")], []),
    # the same name (after compaction: spaces, full-width forms) is no near miss
    ([("e1", "星辰科技有限公司"), ("e2", "星辰 科技有限公司"), ("e3", "ＡＢ科技"),
      ("e4", "AB科技")], []),
    # compaction first: one edit apart once the space is gone
    ([("e1", "星辰 科技有限公司"), ("e2", "星尘科技有限公司")],
     [("e1", "星辰 科技有限公司", "e2", "星尘科技有限公司", "浙江省", 1)]),
    # other provinces are never compared
    ([("e1", "星辰科技有限公司", "浙江省"), ("e2", "星尘科技有限公司", "江苏省")], []),
    # individuals never take part
    ([("e1", "张三", "浙江省", "individual"), ("e2", "张四", "浙江省", "individual"),
      ("e3", "张五", "浙江省", "enterprise")], []),
    # rows without a name or a province, or whose name is only white space, take no part
    ([("e1", None), ("e2", "甲"), ("e3", "乙", None), ("e4", " \u3000"), ("e5", "丙丁")],
     [("e2", "甲", "e5", "丙丁", "浙江省", 2)]),
    # two entities of one name, each near a third: both pairs, each once
    ([("e1", "星辰科技"), ("e2", "星辰科技"), ("e3", "星尘科技"), ("e3", "星尘科技")],
     [("e1", "星辰科技", "e3", "星尘科技", "浙江省", 1),
      ("e2", "星辰科技", "e3", "星尘科技", "浙江省", 1)]),
    ([], []),
])
def test_near_name_pairs(rows, expected):
    frame = orgs(*rows)
    assert pairs(frame) == expected
    assert pairs(frame) == brute_force(frame)


def test_the_pairs_frame_has_its_columns_when_empty():
    assert list(near_name_pairs(orgs()).columns) == PAIR_COLUMNS
    assert list(near_name_pairs(orgs(("e1", "甲"))).columns) == PAIR_COLUMNS


def test_without_an_entity_type_column_every_row_is_an_organization():
    frame = orgs(("e1", "星辰"), ("e2", "星尘")).drop(columns="entity_type")
    assert [(p[0], p[2]) for p in pairs(frame)] == [("e1", "e2")]


ROW = st.tuples(
    st.sampled_from([f"e{i}" for i in range(12)] + [None]),
    st.one_of(st.none(), st.text(alphabet="甲乙丙丁ab \u3000Ａ😀", max_size=7)),
    st.sampled_from(["浙江省", "江苏省", None]),
    st.sampled_from(["enterprise", "individual", None]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ROW, max_size=30), st.sampled_from([near_names._BASE, 1, 31]),
       st.sampled_from([near_names._BLOCK, 1, 7]))
def test_equal_to_comparing_every_two_names(rows, base, block):
    """Exact whatever the hash: with base 1 every anagram collides, the check drops them;
    small blocks split the variants and the candidate pairs into many pieces."""
    frame = orgs(*rows)
    with mock.patch.object(near_names, "_BASE", base), \
            mock.patch.object(near_names, "_BLOCK", block):
        got = pairs(frame)
    assert got == brute_force(frame)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ROW, st.booleans()), max_size=30),
       st.sampled_from([near_names._BASE, 1]))
def test_focus_keeps_exactly_the_pairs_with_an_entity_in_focus(rows, base):
    """A run's report asks only for the pairs of its own entities: the same pairs as all
    pairs filtered afterwards (an entity is in focus on every row of it)."""
    frame = orgs(*(row for row, _ in rows))
    chosen = {row[0] for row, flag in rows if flag and row[0] is not None}
    focus = frame["entity_id"].isin(chosen)
    with mock.patch.object(near_names, "_BASE", base):
        got = [tuple(r) for r in near_name_pairs(frame, focus=focus).itertuples(index=False)]
    assert got == [p for p in brute_force(frame) if p[0] in chosen or p[2] in chosen]
    assert list(near_name_pairs(frame, focus=focus).columns) == PAIR_COLUMNS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ROW, st.booleans()), max_size=30), st.integers(0, 6))
def test_a_report_holds_the_first_pairs_and_counts_them_all(rows, limit):
    """first_pairs (one province's pairs held at a time) gives the first `limit` pairs of
    the whole list, in its order, and how many the whole list has."""
    frame = orgs(*(row for row, _ in rows))
    chosen = {row[0] for row, flag in rows if flag and row[0] is not None}
    focus = frame["entity_id"].isin(chosen)
    expected = [p for p in brute_force(frame) if p[0] in chosen or p[2] in chosen]
    shown, total = near_names.first_pairs(frame, focus, limit)
    assert [tuple(r) for r in shown.itertuples(index=False)] == expected[:limit]
    assert total == len(expected)
    assert list(shown.columns) == PAIR_COLUMNS


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="甲乙丙丁ab😀", max_size=6), max_size=15),
       st.lists(st.text(alphabet="甲乙丙丁ab😀", max_size=6), max_size=15, unique=True),
       st.sampled_from([near_names._BASE, 1, 31]), st.sampled_from([near_names._BLOCK, 1, 7]),
       st.booleans())
def test_near_pairs_finds_every_query_and_choice_at_most_two_edits_apart(
        queries, choices, base, block, only_even):
    """The search both report and grouping use: each (query, choice) pair within two edits
    exactly once, with its distance, whatever the hash and the blocks; `wanted` leaves
    candidates out before they are checked."""
    asked = pd.Series(queries, dtype=object).to_numpy()
    among = pd.Series(choices, dtype=object).to_numpy()
    wanted = (lambda q, c: c % 2 == 0) if only_even else None
    with mock.patch.object(near_names, "_BASE", base), \
            mock.patch.object(near_names, "_BLOCK", block):
        found = triples(near_names.near_pairs(asked, among, wanted))
    expected = sorted((q, c, Levenshtein.distance(x, y))
                      for q, x in enumerate(queries) for c, y in enumerate(choices)
                      if Levenshtein.distance(x, y) <= 2 and (not only_even or c % 2 == 0))
    assert sorted(found) == expected
    assert len(found) == len(set(found))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="甲乙丙丁ab😀", max_size=6), st.booleans()),
                max_size=20, unique_by=lambda row: row[0]),
       st.sampled_from([near_names._BASE, 1, 31]), st.sampled_from([near_names._BLOCK, 1, 7]),
       st.booleans())
def test_a_search_among_the_choices_finds_what_near_pairs_finds(rows, base, block, only_even):
    """near_pairs_within(keys, asked): the pairs of near_pairs(keys[asked], keys) but a
    key with itself, each side an index into `keys`, whatever the hash and the blocks."""
    keys = pd.Series([key for key, _ in rows], dtype=object).to_numpy()
    asked = np.array([flag for _, flag in rows], dtype=bool)
    wanted = (lambda q, c: c % 2 == 0) if only_even else None
    with mock.patch.object(near_names, "_BASE", base), \
            mock.patch.object(near_names, "_BLOCK", block):
        found = triples(near_names.near_pairs_within(keys, asked, wanted))
    expected = sorted((q, c, Levenshtein.distance(keys[q], keys[c]))
                      for q in np.flatnonzero(asked).tolist() for c in range(len(keys))
                      if q != c and Levenshtein.distance(keys[q], keys[c]) <= 2
                      and (not only_even or c % 2 == 0))
    assert sorted(found) == expected
    assert len(found) == len(set(found))
