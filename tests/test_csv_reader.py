"""The CSV reader (bulk split of plain lines, per-line walk for the rest) gives the frame the
walk alone gives, and whole-file decoding what per-line decoding gives."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_migrate.mapping import builtin_mappings
from icp_migrate.readers import csv_reader
from icp_migrate.readers import lines as lines_module
from icp_migrate.readers.lines import DecodedLines, decode_lines
from oracles import csv_walk_only

OPTIONS = next(m.csv for m in builtin_mappings() if m.reader == "csv")
HEADER = "a,b,c,d"


def assert_same(decoded: DecodedLines) -> None:
    got = csv_reader.read_csv_records(decoded, OPTIONS)
    want = csv_walk_only(decoded, OPTIONS)
    pd.testing.assert_frame_equal(got, want)
    assert got.map(type).equals(want.map(type))


CELL = st.one_of(st.sampled_from(["", "x", "中文", " ", '"q"', '"a,b"', '"', '""', "\r", "\x00",
                                  "\x1c", "\u3000", '"multi', 'line"', "é"]),
                 st.text(alphabet='ab,"\r\x00 中', max_size=5))
LINE = st.one_of(st.lists(CELL, min_size=0, max_size=6).map(",".join), st.just(""),
                 st.just("   "), st.just(",,,"), st.just("1,2,3,4"), st.none())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=40))
def test_bulk_path_equals_the_walk(lines):
    decoded = DecodedLines([HEADER, *lines], {i + 1: "undecodable bytes" for i, line
                                              in enumerate(lines) if line is None}, "mixed")
    assert_same(decoded)


def test_stray_quotes_and_multiline_records_amid_plain_lines():
    plain = [f"{i},x,y,z" for i in range(120)]
    lines = [HEADER, *plain[:10], 'p,"open,q,r', *plain[10:30], 'm,"two', 'lines",c,d',
             *plain[30:90], "", 'b,"never closed', *plain[90:]]
    assert_same(decode_lines("\n".join(lines).encode(), ("utf-8",)))


def test_single_column_files_take_the_walk():
    decoded = decode_lines("only\nx\n\ny\n".encode(), ("utf-8",))
    header_index, header = csv_reader.header_of(decoded, OPTIONS)
    got = csv_reader.read_csv_records(decoded, OPTIONS)
    assert got["only"].tolist() == ["x", "y"] and header == ["only"] and header_index == 0
    pd.testing.assert_frame_equal(got, csv_walk_only(decoded, OPTIONS))


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab\r\n\ufeff中", max_size=30))
def test_line_split_equals_cleaning_each_line(text):
    """Each line cleaned, then an empty last one dropped: as the per-line decode does (a
    file ending in "\n\r" has no line after the "\n", whichever way it is decoded)."""
    parts = [lines_module._clean(p) for p in text.split("\n")]
    if parts and parts[-1] == "":
        parts.pop()
    assert lines_module._split(text) == parts


FRAGMENT = st.one_of(
    st.text(alphabet="a,中文\u3000é€\ufeff\r", max_size=6).map(lambda t: t.encode("utf-8")),
    st.text(alphabet="a,中文\u3000é€\r", max_size=6).map(lambda t: t.encode("gb18030")),
    st.sampled_from([b"\n", b"\r\n", b"\xff", b"\x81", b"\x81\n", b"\xe4\xb8", b"\xed\xa0\x80",
                     b"\x84\x31\xa4\x39", b"\xef\xbb\xbf", b"\x00"]))


@settings(max_examples=1500, deadline=None)
@given(st.lists(FRAGMENT, max_size=25).map(b"".join),
       st.sampled_from([("utf-8", "gb18030"), ("gb18030", "utf-8"), ("utf-8",), ("gbk",)]),
       st.sampled_from([1, 7, lines_module.BLOCK_BYTES]))
def test_whole_file_decoding_equals_decoding_each_line(data, encodings, block_bytes):
    """Blocks of a few bytes too: every block boundary case of the bulk decode."""
    kept, lines_module.BLOCK_BYTES = lines_module.BLOCK_BYTES, block_bytes
    try:
        got = decode_lines(data, encodings)
    finally:
        lines_module.BLOCK_BYTES = kept
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode(encodings[0])
        return  # decoded whole: the per-line path is not involved
    except UnicodeDecodeError:
        pass
    want = lines_module._decode_each(body, encodings)
    assert (got.lines, got.errors, got.encoding) == (want.lines, want.errors, want.encoding)
