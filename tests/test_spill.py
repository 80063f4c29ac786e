"""Records spilled to disk (spill.py): read back exactly as they were written (whole, by
columns, by rows, part by part, row ids shifted, several files joined), in a private folder
that nothing else reads, removed with the frames that use it; the folders a killed process
left are swept by the next."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_migrate import frames, spill
from icp_migrate.compact import CompactFrame
from icp_migrate.spill import SpilledFrame, SpillWriter
from test_compact import ROW, SCHEMA, cells


def spilled(chunks: list[pd.DataFrame]) -> SpilledFrame:
    writer = SpillWriter(SCHEMA, "test")
    for chunk in chunks:
        writer.add(CompactFrame.of(chunk, SCHEMA))
    return writer.finish()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(ROW, max_size=12), max_size=4), st.integers(0, 50),
       st.integers(1, 4), st.data())
def test_spilled_rows_come_back_as_they_went_in(chunks, offset, count, data):
    pieces, first = [], 0
    for rows in chunks:
        pieces.append(cells(rows, first))
        first += len(rows)
    whole = pd.concat(pieces, ignore_index=True) if pieces else cells([])
    halves = [spilled(pieces[:1]), spilled(pieces[1:])]
    frame = SpilledFrame.joined(halves, SCHEMA)
    assert len(frame) == len(whole)
    pd.testing.assert_frame_equal(frame.to_frame(), whole)
    moved = frame.shifted("row_id", offset)
    want = whole.assign(row_id=whole["row_id"] + offset)
    pd.testing.assert_frame_equal(moved.to_frame(), want)
    pd.testing.assert_frame_equal(moved.columns(("row_id", "name")), want[["row_id", "name"]])
    size = data.draw(st.integers(1, 20))
    batches = list(moved.batches(("row_id", "name"), size))
    assert all(len(b) <= size for b in batches) and len(batches) >= 1
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True),
                                  want[["row_id", "name"]])
    positions = np.array(data.draw(st.lists(st.integers(0, max(len(whole) - 1, 0)),
                                            max_size=8 if len(whole) else 0)), dtype=np.int64)
    pd.testing.assert_frame_equal(moved.rows(positions),
                                  want.take(positions).reset_index(drop=True))
    labels = np.array(data.draw(st.lists(st.integers(0, count - 1), min_size=len(whole),
                                         max_size=len(whole))), dtype=np.int64)
    drawn = list(moved.parts(labels, count))
    assert len(drawn) == count
    for number, part in enumerate(drawn):
        pd.testing.assert_frame_equal(part, want[labels == number].reset_index(drop=True))
    # frames read from several shifted files are joined with each one's row ids
    again = SpilledFrame.joined([moved, halves[0]], SCHEMA).to_frame()
    pd.testing.assert_frame_equal(again, pd.concat([want, whole.iloc[:len(pieces[0]) if pieces
                                                                    else 0]],
                                                   ignore_index=True))


def test_the_folder_is_private_and_files_go_with_their_frames():
    frame = spilled([cells([("x", True, None)])])
    paths = frame.paths
    assert all(path.parent == spill.folder() for path in paths)
    assert stat.S_IMODE(spill.folder().stat().st_mode) == 0o700
    assert all(path.exists() for path in paths)
    shifted = frame.shifted("row_id", 3)
    del frame
    assert all(path.exists() for path in paths)  # the shifted frame reads the same file
    del shifted
    assert not any(path.exists() for path in paths)


def test_drawn_parts_remove_their_files():
    frame = spilled([cells([("a", True, None), ("b", False, None)])])
    before = set(spill.folder().iterdir())
    drawn = frame.parts(np.array([1, 0]), 2)
    first = next(drawn)
    assert first["name"].tolist() == ["b"]
    assert len(set(spill.folder().iterdir()) - before) == 1  # the second part's file only
    assert next(drawn)["name"].tolist() == ["a"]
    assert set(spill.folder().iterdir()) == before


def rss_file_mb() -> float:
    """The file-backed pages this process has mapped and resident (what a memory-mapped
    spill file adds to its RSS and peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssFile in /proc/self/status")


def test_reading_a_spill_maps_one_chunk_at_a_time():
    """Eight chunks of about 24 MB each: read by batches or split into parts, the file's
    pages resident in this process never exceed about two chunks', not the whole file's."""
    text = "x" * 120
    chunks = [cells([(f"{k}-{i}-{text}", True, None) for i in range(200_000)],
                    first=k * 200_000) for k in range(8)]
    frame = spilled(chunks)
    del chunks
    assert sum(path.stat().st_size for path in frame.paths) > 180 * 2**20
    start, highest = rss_file_mb(), 0.0
    for batch in frame.batches(("row_id", "name"), 10**9):
        highest = max(highest, rss_file_mb() - start)
        assert len(batch) == 200_000
    for _ in frame.parts(np.arange(len(frame)) % 3, 3):
        highest = max(highest, rss_file_mb() - start)
    assert highest < 60, highest


def test_a_dead_process_folder_is_swept_and_a_live_one_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    gone = tmp_path / f"{spill.PREFIX}{dead}-abc"
    live = tmp_path / f"{spill.PREFIX}{os.getpid()}-def"
    other = tmp_path / "icp-migrate-preview-x"
    for path in (gone, live, other):
        path.mkdir()
        (path / "000001-records.arrow").write_bytes(b"certificate numbers")
    assert spill.sweep(tmp_path) == [gone]
    assert not gone.exists() and live.exists() and other.exists()


def test_a_process_removes_its_folder_when_it_exits(tmp_path):
    code = ("from icp_migrate import spill; print(spill.folder(), flush=True)")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env).stdout.strip()
    assert made.startswith(str(tmp_path / spill.PREFIX))
    assert not os.path.exists(made)


def test_an_empty_source_spills_an_empty_frame():
    frame = SpillWriter(frames.RECORD_DOMAINS, "domains").finish()
    assert len(frame) == 0
    assert frames.check(frame.to_frame(), frames.RECORD_DOMAINS) == []
