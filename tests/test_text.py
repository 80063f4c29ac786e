"""text.py's column clean-ups (bulk, with the per-value fallback) equal the per-value oracles."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_migrate.transforms.icp_numbers import _NAMES, parse_filing_number, parse_filing_numbers
from icp_migrate.transforms.text import (
    WIDE_CHARS,
    compact,
    compact_column,
    compact_text,
    map_unique,
    squash,
    squash_column,
)
from oracles import each, each_columns, join_texts_by_stacking

PIECES = st.sampled_from(["浙", "川", "ICP", "icp", "备", "備", "证", "号", "-", "－", "—", " ",
                          "\u3000", "\t", "\u200b", "0", "7", "０", "９", "12345678", "ｉｃｐ",
                          "Ａ", "a", "é", "ß", "Ⅳ", "﹣", "（", ")", "<b>", "", "\x00"])
TEXT = st.one_of(st.lists(PIECES, max_size=10).map("".join), st.text(max_size=8),
                 st.text(alphabet=WIDE_CHARS[:20] + "ab 中", max_size=8))
FILING = st.builds(lambda a, d, s, x: f"{a}ICP备{d}号{s}{x}",
                   st.sampled_from(["浙", "川", "京", "x", " 浙 "]),
                   st.text(alphabet="0123456789０１２", min_size=0, max_size=12),
                   st.sampled_from(["", "-1", "－２", "-0", "-007", "-" + "9" * 20, "号-3"]),
                   st.sampled_from(["", " ", "号", "\u200b"]))


def kinds(series: pd.Series) -> list[str]:
    return [type(v).__name__ for v in series]


def same(got: pd.Series | pd.DataFrame, want: pd.Series | pd.DataFrame) -> None:
    if isinstance(got, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
        for column in got.columns:
            assert kinds(got[column]) == kinds(want[column])
    else:
        pd.testing.assert_series_equal(got, want)
        assert kinds(got) == kinds(want)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=30))
def test_squash_and_compact_columns(values):
    column = pd.Series(values, dtype=object)
    same(squash_column(column), each(column, squash))
    same(compact_column(column), each(column, compact))
    # the same of Arrow text, as Arrow (how a report's possible matches compact names)
    assert compact_text(pa.array(values, type=pa.string())).to_pylist() == [
        None if v is None else compact(v) for v in values]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), FILING, TEXT), min_size=1, max_size=30))
def test_filing_numbers_in_bulk(values):
    column = pd.Series(values, dtype=object)
    same(parse_filing_numbers(column), each_columns(column, parse_filing_number, _NAMES))


@pytest.mark.parametrize("values", [[], [None], [None, None], ["", " "]])
def test_edge_columns(values):
    column = pd.Series(values, dtype=object)
    same(squash_column(column), each(column, squash))
    same(parse_filing_numbers(column), each_columns(column, parse_filing_number, _NAMES))


def test_a_column_of_other_values_fails_as_before():
    column = pd.Series([1, "a"], dtype=object)
    with pytest.raises(TypeError):
        map_unique(column, squash)
    with pytest.raises(TypeError):
        squash_column(column)


CERT = st.lists(st.sampled_from(["3301", "０６", "-", "－", "(", "）", "x", "X", "_", ".", " ",
                                 "\u3000", "ａ", "91330106MA2B3C4D5E", "ß", "é"]),
                max_size=8).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), CERT, TEXT), min_size=1, max_size=30))
def test_certificate_numbers_and_emails_in_bulk(values):
    from icp_migrate.transforms import certificates, records

    column = pd.Series(values, dtype=object)
    same(certificates.map_bulk(column, certificates._clean_in_bulk, certificates.clean_number),
         each(column, certificates.clean_number))
    cleaned = records.blank_to_none(column)
    same(records._email(column), each(cleaned, lambda v: squash(v).lower()))


PART = st.lists(st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["", "a", "b c"])),
                min_size=5, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(PART, min_size=1, max_size=4))
def test_join_texts_equals_stacking(columns):
    from icp_migrate.transforms.text import join_texts

    index = pd.Index([3, 1, 4, 5, 9])
    parts = [pd.Series(c, index=index, dtype=object) for c in columns]
    parts[0] = parts[0].iloc[1:]  # a part may cover only some rows
    same(join_texts(parts, index), join_texts_by_stacking(parts, index))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(
    ["2015-03-02", "2015/3/2", "2015年3月2日", "20150302", "2015-02-30", "1989-01-01",
     "2015-3-2 10:11", " 2015 - 03 - 02", "x", ""]), st.text(max_size=6)), max_size=20))
def test_dates_parse_once_per_distinct_value(values):
    from icp_migrate.transforms import dates

    column = pd.Series(values, dtype=object)
    pd.testing.assert_series_equal(dates.parse_dates(column), dates._parse(column))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["e1", "e2", "e3"]), st.one_of(
    st.none(), st.sampled_from(["b", "a", "中", "A", "a;b", ""]))), max_size=15))
def test_grouped_joins_equal_groupby_agg(rows):
    from icp_migrate.rules.conflict_table import _joined
    from icp_migrate.transforms.text import join_groups

    frame = pd.DataFrame(rows, columns=["k", "v"], dtype=object)
    distinct = frame.groupby("k")["v"].agg(
        lambda v: ";".join(sorted({str(x) for x in v.dropna()}))) if rows else pd.Series()
    assert _joined(frame["k"], frame["v"]).to_dict() == distinct.to_dict()
    present = frame.dropna()
    assert join_groups(present["k"], present["v"], ";").to_dict() == present.groupby(
        "k", sort=False)["v"].agg(";".join).to_dict()
