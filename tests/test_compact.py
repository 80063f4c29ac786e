"""Records held as Arrow (compact.py) give back exactly the pandas frames they were made
of: the schema's dtypes, text as str or None, the same values in the same order, whole, by
columns and by rows; and a run held so plans what the same records plan as pandas frames
(tests/test_parts.py compares whole runs and runs in parts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_migrate import frames
from icp_migrate.compact import CompactFrame, FrameRows, held
from icp_migrate.pipeline.stages import normalize_sources, read_normalized
from icp_migrate.readers import read_chunks
from icp_migrate.spill import SpilledFrame
from icp_migrate.transforms.mapping_apply import to_canonical
from test_flow import RUN_ORDER

TEXT = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
SCHEMA = frames.schema("cells", ("row_id", "name", "flag", "day"),
                       {"row_id": frames.INT, "flag": frames.BOOL, "day": frames.DATE})
ROW = st.tuples(TEXT, st.booleans(), st.one_of(st.none(), st.dates(
    min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2030-12-31").date())))


def cells(rows: list[tuple], first: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame({
        "row_id": np.arange(first, first + len(rows), dtype=np.int64),
        "name": pd.Series([r[0] for r in rows], dtype=object),
        "flag": np.array([r[1] for r in rows], dtype=bool),
        "day": pd.to_datetime(pd.Series([r[2] for r in rows], dtype=object)).astype(
            "datetime64[ns]")})
    return frames.conform(frame, SCHEMA)


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, max_size=25), st.lists(ROW, max_size=25), st.data())
def test_held_rows_come_back_as_they_went_in(first, second, data):
    a, b = cells(first), cells(second, first=100)
    joined = CompactFrame.joined([CompactFrame.of(a, SCHEMA), CompactFrame.of(b, SCHEMA)],
                                 SCHEMA)
    whole = pd.concat([a, b], ignore_index=True)
    pd.testing.assert_frame_equal(joined.to_frame(), whole)
    assert frames.check(joined.to_frame(), SCHEMA) == []
    pd.testing.assert_frame_equal(joined.columns(("name", "row_id")), whole[["name", "row_id"]])
    positions = np.array(data.draw(st.lists(st.integers(0, max(len(whole) - 1, 0)),
                                            max_size=10 if len(whole) else 0)), dtype=np.int64)
    for rows in (joined, FrameRows(whole)):
        pd.testing.assert_frame_equal(rows.rows(positions),
                                      whole.take(positions).reset_index(drop=True))
    moved = joined.shifted("row_id", 7).to_frame()
    pd.testing.assert_frame_equal(moved, whole.assign(row_id=whole["row_id"] + 7))
    size = data.draw(st.integers(1, 30))
    for rows in (joined, FrameRows(whole)):  # batches: the columns, `size` rows at a time
        batches = list(rows.batches(("name", "row_id"), size))
        assert all(len(b) <= size for b in batches) and len(batches) >= 1
        pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True),
                                      whole[["name", "row_id"]])


def test_equal_text_comes_back_as_one_object():
    frame = cells([("省", True, None)] * 3 + [(None, False, None)])
    names = CompactFrame.of(frame, SCHEMA).to_frame()["name"].to_numpy()
    assert names[0] is names[1] is names[2] and names[3] is None


@pytest.mark.parametrize("spill", [True, False], ids=["spilled", "in-memory"])
@pytest.mark.parametrize("name", RUN_ORDER)
def test_a_source_held_as_arrow_is_its_normalized_records(samples, name, spill):
    """Every sample layout's records and domains, read a chunk at a time and held as
    Arrow (spilled to disk, or in memory), equal the pandas frames normalize_records gives
    for the whole file, whole, by columns and part by part."""
    source = str(samples / name)
    chunks, chosen = read_chunks(source, None, 10_000_000)
    want, want_domains = normalize_sources([to_canonical(f, chosen) for f in chunks], 4)
    records, domains = read_normalized(source, None, first_row_id=4, spill=spill)
    assert isinstance(records, SpilledFrame if spill else CompactFrame)
    pd.testing.assert_frame_equal(records.to_frame(), want)
    pd.testing.assert_frame_equal(domains.to_frame(), want_domains)
    assert frames.check(records.to_frame(), frames.RECORDS) == []
    pd.testing.assert_frame_equal(records.columns(("name_key", "row_id")),
                                  want[["name_key", "row_id"]])
    labels = np.arange(len(want)) % 3
    for number, part in enumerate(records.parts(labels, 3)):
        pd.testing.assert_frame_equal(part, want[labels == number].reset_index(drop=True))
    if not spill:
        assert records.nbytes < want.memory_usage(deep=True).sum()


def test_held_passes_pandas_frames_wrapped_and_held_rows_as_they_are():
    frame = cells([("a", True, None)])
    assert isinstance(held(frame), FrameRows)
    compact = CompactFrame.of(frame, SCHEMA)
    assert held(compact) is compact
    assert len(CompactFrame.joined([], SCHEMA)) == 0
