"""A source read a chunk at a time (readers: `read_chunks`, `csv_chunks`; stages:
`read_normalized`) gives the records and domains the whole file gives: the CSV cuts fall
only where no record can span them, whatever quotes, multi-line records, blank or
undecodable lines come near a cut."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_migrate.pipeline import stages
from icp_migrate.readers import csv_reader, read_chunks
from icp_migrate.readers.blocks import LineWindow
from icp_migrate.readers.lines import DecodedLines, decode_lines
from test_csv_reader import HEADER, LINE, OPTIONS
from test_flow import RUN_ORDER

PLAIN = st.integers(0, 999).map(lambda i: f"{i},x,y,z")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(LINE, PLAIN, PLAIN), max_size=60), st.integers(1, 12))
def test_csv_chunks_hold_the_records_of_the_whole_file(lines, every):
    decoded = DecodedLines([HEADER, *lines], {i + 1: "undecodable bytes" for i, line
                                              in enumerate(lines) if line is None}, "mixed")
    whole = csv_reader.read_csv_records(decoded, OPTIONS)
    chunks = list(csv_reader.csv_chunks(LineWindow.whole(decoded), OPTIONS, every))
    pd.testing.assert_frame_equal(cells(pd.concat(chunks, ignore_index=True)), cells(whole))


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A reader's frame as its values (a chunk of blank lines only has no text to infer
    pandas' `str` dtype from; the mapping makes every column object: the last test)."""
    return frame.astype(object).where(frame.notna(), None)


def test_a_cut_never_falls_inside_a_quoted_record_or_its_reach():
    plain = [f"{i},x,y,z" for i in range(200)]
    lines = [HEADER, *plain[:10], 'm,"two', 'lines",c,d', *plain[10:100], 'b,"never closed',
             *plain[100:]]
    decoded = decode_lines("\n".join(lines).encode(), ("utf-8",))
    cuts = csv_reader.chunk_starts(decoded, OPTIONS, 4, 1, 5)
    opened = [i for i, line in enumerate(lines) if line.count('"') % 2]
    assert len(cuts) > 20
    for cut in cuts:  # no opening quote within the reach before a cut
        assert not [o for o in opened if cut - csv_reader.MAX_RECORD_LINES < o <= cut], cut
    whole = csv_reader.read_csv_records(decoded, OPTIONS)
    chunks = list(csv_reader.csv_chunks(LineWindow.whole(decoded), OPTIONS, 5))
    assert len(chunks) == len(cuts) + 1
    pd.testing.assert_frame_equal(cells(pd.concat(chunks, ignore_index=True)), cells(whole))


@pytest.mark.parametrize("name", RUN_ORDER)
def test_every_layout_read_in_chunks_is_read_whole(samples, name, monkeypatch):
    """The samples' dirt (broken rows, mixed encodings, invalid JSON lines) read 7 lines at
    a time: the same normalized records and domains, numbered the same."""
    source = str(samples / name)
    whole = stages.read_normalized(source, None, first_row_id=3)
    monkeypatch.setattr(stages, "LINES_PER_CHUNK", 7)
    chunks, _ = read_chunks(source, None, 7)
    assert len(list(chunks)) > 1
    parted = stages.read_normalized(source, None, first_row_id=3)
    for held_whole, held_parted in zip(whole, parted, strict=True):
        a, b = held_whole.to_frame(), held_parted.to_frame()
        pd.testing.assert_frame_equal(a, b)
        assert list(a.dtypes) == list(b.dtypes)
