"""A text file read and decoded a block of bytes at a time (readers.blocks) gives the lines,
records and locators that decoding it whole gives, and holds about one chunk's lines."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from icp_migrate.errors import SourceError
from icp_migrate.mapping import builtin_mappings
from icp_migrate.readers import blocks, csv_reader, read_chunks, read_source
from icp_migrate.readers.blocks import LineWindow, decoded_blocks
from icp_migrate.readers.lines import decode_lines
from test_chunks import cells
from test_csv_reader import FRAGMENT, OPTIONS

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
ENCODINGS = st.sampled_from([("utf-8", "gb18030"), ("gb18030", "utf-8"), ("utf-8",), ("gbk",),
                             ("utf-16",)])


@SETTINGS
@given(st.lists(FRAGMENT, max_size=30).map(b"".join), ENCODINGS, st.integers(1, 40))
# a bad line, then "\r" after the last "\n": no line, decoded whole (line by line) or in
# blocks (the "\r" alone, in UTF-8)
@example(b"\x81\n\r", ("utf-8", "gb18030"), 1)
@example(b"ab\n\r", ("utf-8",), 3)
def test_blocks_decode_the_lines_the_whole_file_decodes(tmp_path, monkeypatch, data, encodings,
                                                        block_bytes):
    """Any bytes (UTF-8, GB18030, bad bytes, BOMs, CR, NUL), any block size: the blocks'
    lines joined are the whole file's, each undecodable line in its place."""
    monkeypatch.setattr(blocks, "BLOCK_BYTES", block_bytes)
    path = tmp_path / "file.txt"
    path.write_bytes(data)
    whole = decode_lines(data, encodings)
    window = LineWindow(decoded_blocks(path, encodings, "file.txt"))
    window.load()
    assert window.held.lines == whole.lines
    assert window.held.errors == whole.errors


CSV_CELL = st.one_of(st.sampled_from(["", "x", "中文", '"q"', '"a,b"', '"', '""', "\r",
                                      "é", '"two\nlines"']),
                     st.text(alphabet='ab,"中', max_size=4))
HEADER = ",".join(next(m for m in builtin_mappings() if m.reader == "csv").source_columns)
WIDTH = HEADER.count(",") + 1
CSV_LINE = st.lists(CSV_CELL, min_size=WIDTH - 2, max_size=WIDTH + 1).map(",".join)
PLAIN = st.integers(0, 999).map(lambda i: f"{i}" + ",中x" * (WIDTH - 1))


@SETTINGS
@given(st.lists(st.one_of(CSV_LINE, PLAIN, PLAIN, st.just("")), max_size=80),
       st.sampled_from(["utf-8", "gb18030"]), st.booleans(), st.integers(1, 60),
       st.integers(1, 9))
def test_a_csv_read_in_blocks_and_chunks_is_read_whole(tmp_path, monkeypatch, lines, encoding,
                                                       bom, block_bytes, every):
    """Records, cells, read errors and line numbers: the same whatever blocks and chunks
    the file is read in (quotes, records spanning lines and blank lines near the cuts)."""
    data = ("\ufeff" * bom + "\n".join([HEADER, *lines, "1" + ",x" * (WIDTH - 1)])).encode(encoding)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    whole, _ = read_source(str(path))
    monkeypatch.setattr(blocks, "BLOCK_BYTES", block_bytes)
    chunks, _ = read_chunks(str(path), None, every)
    pd.testing.assert_frame_equal(cells(pd.concat(list(chunks), ignore_index=True)),
                                  cells(whole))


@SETTINGS
@given(st.lists(st.one_of(
    st.fixed_dictionaries({"a": st.text(alphabet="x中\"", max_size=3)}).map(
        lambda d: json.dumps(d, ensure_ascii=False)),
    st.sampled_from(["", "{broken", "[1]", "   "])), max_size=40),
    st.integers(1, 50), st.integers(1, 7))
def test_json_lines_read_in_blocks_and_chunks_are_read_whole(tmp_path, monkeypatch, lines,
                                                              block_bytes, every):
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(['{"shop_id": 1, "icp": {}, "subject": {}}', *lines]),
                    encoding="utf-8")
    whole, _ = read_source(str(path))
    monkeypatch.setattr(blocks, "BLOCK_BYTES", block_bytes)
    chunks, _ = read_chunks(str(path), None, every)
    parted = pd.concat(list(chunks), ignore_index=True)
    pd.testing.assert_frame_equal(cells(parted), cells(whole))
    assert parted["locator"].tolist() == whole["locator"].tolist()


def test_the_window_holds_about_one_chunk_of_lines(tmp_path, monkeypatch):
    """A 60,000-line export read 1,000 lines at a time in 4 KB blocks: the window never
    holds more than a chunk, its search for a cut and a block of lines."""
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 4096)
    lines = [f"{i},x,y,z" for i in range(60_000)]
    lines[30_000] = 'm,"opens and never closes'
    path = tmp_path / "big.csv"
    path.write_text("\n".join(["a,b,c,d", *lines]), encoding="utf-8")
    window = LineWindow(decoded_blocks(path, ("utf-8",), "big.csv"))
    held, records = [], 0
    for frame in csv_reader.csv_chunks(window, OPTIONS, 1_000):
        held.append(len(window.held.lines))
        records += len(frame)
    assert records == 60_000 and len(held) > 50
    assert max(held) <= 1_000 + 1_000 + csv_reader.MAX_RECORD_LINES + 4096 // 8


def test_a_head_of_blank_lines_longer_than_64kb_still_finds_the_header(tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("\n" * 100_000 + HEADER + "\n" + "x" * 70_000 + "\n", encoding="utf-8")
    frame, mapping = read_source(str(path))  # found, not "empty file" or "header only"
    assert mapping.name == "hichina_beian_csv" and frame["locator"].tolist() == ["line 100002"]
    blank = tmp_path / "blank.csv"
    blank.write_text("\n" * 100_000 + " \r\n", encoding="utf-8")
    with pytest.raises(SourceError, match="empty file"):
        read_source(str(blank))


def test_a_file_gone_after_it_was_opened_is_a_source_error(tmp_path):
    """The layout is checked when the source is opened; the rest is read as the chunks are
    drawn: a file gone by then is a SourceError (one clear line), not a traceback."""
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "\n" + "1" + ",x" * (WIDTH - 1) + "\n", encoding="utf-8")
    chunks, _ = read_chunks(str(path), None, 1)
    path.unlink()
    with pytest.raises(SourceError, match="f.csv: cannot read"):
        list(chunks)
