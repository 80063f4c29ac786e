"""A run's records spilled to disk as Arrow IPC files: the memory a run needs no longer grows
with its records' text.

The records (and their domains) are written a read chunk at a time (`SpillWriter`) into a
private folder (mode 0700, as `tempfile.mkdtemp` makes it) under the system's temporary
folder (TMPDIR), never PREFECT_HOME: the files hold personal data. A `SpilledFrame` reads
them as compact.Rows, memory-mapped, so only what is read is in memory, and only while it
is converted:
- `columns`: a few columns of every record (the record suite, steps 1-3, the graph);
- `parts`: every column of one part's records at a time. The records are first written
  again, once, into one file per part (a part's records are spread over every chunk), and
  each part's file is read, then removed, when the part is drawn.

A frame's files are removed when nothing refers to the frame any more; the folder when the
process ends (atexit, which the CLI's exit runs too). A process killed outright (SIGKILL)
cannot remove it: the next process that spills removes the folders of processes that no
longer run (`sweep`), so certificate numbers do not stay on disk for long.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .compact import CompactFrame, arrow_schema, as_frame, batches_of, shifted_table
from .frames import Schema

PREFIX = "icp-migrate-spill-"  # + the owning process's id + "-" + a random part

_lock = threading.Lock()
_folder: Path | None = None
_names = itertools.count()


def folder() -> Path:
    """This process's spill folder (made on first use, the folders of dead processes swept
    first); removed when the process exits."""
    global _folder
    with _lock:
        if _folder is None or not _folder.exists():
            root = Path(tempfile.gettempdir())
            sweep(root)
            _folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
            atexit.register(shutil.rmtree, _folder, True)
        return _folder


def sweep(root: Path) -> list[Path]:
    """Remove the spill folders under `root` of processes that no longer run (of this
    user); returns them."""
    removed = []
    for path in root.glob(f"{PREFIX}*"):
        pid = path.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)) or not _owned(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _owned(path: Path) -> bool:
    try:
        return path.stat().st_uid == os.getuid()
    except OSError:
        return False


def _new_path(what: str) -> Path:
    return folder() / f"{next(_names):06d}-{what}.arrow"


class _Files:
    """A frame's spill files, removed when no frame refers to them any more."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        weakref.finalize(self, _remove, list(paths))


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class SpillWriter:
    """Writes a frame of `schema` to one spill file, a chunk at a time (`add`); `finish`
    gives the SpilledFrame."""

    def __init__(self, schema: Schema, what: str) -> None:
        self.schema = schema
        self.path = _new_path(what)
        self._arrow = arrow_schema(schema)
        self._writer = pa.ipc.new_file(str(self.path), self._arrow)
        self._files = _Files([self.path])  # removed if the writing stops half-way

    def add(self, frame: CompactFrame | SpilledFrame) -> None:
        """Append the frame's rows (a spilled frame's read file by file)."""
        tables = [frame.table] if isinstance(frame, CompactFrame) else frame.tables()
        for table in tables:
            self._writer.write_table(table)

    def finish(self) -> SpilledFrame:
        self._writer.close()
        return SpilledFrame([self._files], self.schema)


class SpilledFrame:
    """A frame of a declared schema in spill files (one or more, in order): compact.Rows."""

    def __init__(self, files: list[_Files], schema: Schema, row_offset: int = 0) -> None:
        self._files = files
        self.schema = schema
        self._row_offset = row_offset  # added to row_id as it is read (`shifted`)
        counted = [(path, _batches(path)) for f in files for path in f.paths]
        self._batch_rows = [rows for _, batches in counted for rows in batches]  # as `tables`
        self._batches = {path: len(batches) for path, batches in counted}

    @classmethod
    def joined(cls, frames: Sequence[SpilledFrame], schema: Schema) -> SpilledFrame:
        """The frames' rows one after the other (their files, not copied). Frames read
        with different row offsets are written again with theirs applied."""
        if not frames:
            writer = SpillWriter(schema, "empty")
            return writer.finish()
        if all(frame._row_offset == 0 for frame in frames):
            return cls([f for frame in frames for f in frame._files], schema)
        writer = SpillWriter(schema, "joined")
        for frame in frames:
            writer.add(frame)
        return writer.finish()

    def __len__(self) -> int:
        return sum(self._batch_rows)

    @property
    def paths(self) -> list[Path]:
        return [path for f in self._files for path in f.paths]

    def shifted(self, column: str, offset: int) -> SpilledFrame:
        """The same rows, `offset` added to row_id as they are read (nothing rewritten)."""
        if column != "row_id":
            raise ValueError("a spilled frame shifts its row ids only")
        if not offset:
            return self
        return SpilledFrame(self._files, self.schema, self._row_offset + offset)

    def tables(self, names: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """Each record batch of each file (a chunk as it was spilled) as a table (`names`:
        only these columns), row ids shifted. Each is read through a memory map of its own:
        the file's pages it touches count in the process's memory only while the caller
        holds that batch, not for the rest of the file's reading."""
        for path in self.paths:
            for number in range(self._batches[path]):
                with pa.memory_map(str(path)) as source:
                    batch = pa.ipc.open_file(source).get_batch(number)
                table = pa.Table.from_batches([batch])
                del batch
                if names is not None:
                    table = table.select(list(names))
                yield shifted_table(table, "row_id", self._row_offset)

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        return as_frame(_concat(list(self.tables(names)), self.schema, names), self.schema)

    def batches(self, names: Sequence[str], size: int) -> Iterator[pd.DataFrame]:
        return batches_of(self.tables(names), self.schema, names, size)

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        starts = np.cumsum([0, *self._batch_rows])
        order = np.asarray(positions, dtype=np.int64)
        taken = []
        for number, table in enumerate(self.tables()):
            mine = (order >= starts[number]) & (order < starts[number + 1])
            taken.append((np.flatnonzero(mine), table.take(pa.array(order[mine] -
                                                                       starts[number]))))
        where = np.concatenate([w for w, _ in taken]) if taken else np.zeros(0, np.int64)
        table = _concat([t for _, t in taken], self.schema)
        return as_frame(table.take(pa.array(np.argsort(where, kind="stable"))), self.schema)

    def parts(self, labels: np.ndarray, count: int) -> Iterator[pd.DataFrame]:
        """Every column of the rows of each label 0..count-1, a part at a time (rows in
        their order). The rows are first written once into a file per part."""
        pending = self._by_part(labels, count)
        while pending:
            part = pending.popleft()
            frame = part.to_frame()
            del part  # its file removed
            yield frame

    def _by_part(self, labels: np.ndarray, count: int) -> deque[SpilledFrame]:
        """The rows written again, a file per label, read one file at a time."""
        writers = [SpillWriter(self.schema, f"part-{number}") for number in range(count)]
        start = 0
        for table in self.tables():
            mine = labels[start:start + table.num_rows]
            start += table.num_rows
            order = np.argsort(mine, kind="stable")
            bounds = np.searchsorted(mine[order], np.arange(count + 1))
            for number, writer in enumerate(writers):
                rows = order[bounds[number]:bounds[number + 1]]
                if len(rows):
                    writer.add(CompactFrame(table.take(pa.array(rows)), self.schema))
        return deque(writer.finish() for writer in writers)

    def to_frame(self) -> pd.DataFrame:
        return as_frame(_concat(list(self.tables()), self.schema), self.schema)


def _batches(path: Path) -> list[int]:
    """The rows of each record batch of the spill file `path`."""
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        return [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]


def _concat(tables: list[pa.Table], schema: Schema,
            names: Sequence[str] | None = None) -> pa.Table:
    if tables:
        return pa.concat_tables(tables)
    arrow = arrow_schema(schema)
    return arrow.empty_table().select(list(names)) if names is not None else arrow.empty_table()


# A source's (or a run's) normalized records and their domains: spilled in the process
# that runs the flow, held in memory on a distributed run's workers (compact.py)
Held = CompactFrame | SpilledFrame
Prepared = tuple[Held, Held]
