"""A run's records held as Arrow: text as UTF-8 buffers, not one Python object per cell.

A million normalized records and their domains take about 0.9 GB as pandas object columns
(every string a Python object with about 50 bytes of its own) and about a third of that as
Arrow. A run holds them from reading to the end of decide, so it holds them as Arrow
(`CompactFrame`). The rules still work on pandas frames of object columns (frames.py says
why), so they take what they need as such, converted on the way and let go after use:
- a few columns of every row (`columns`): the record suite, steps 1-3, the parts' graph;
- every column of one part's rows (`rows`): a part decided (rules/parts.py).

Tests and small callers hand the rules a pandas frame; `held` gives it the same two
methods (`FrameRows`), so the rules have one way to read records whatever holds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .frames import Kind, Schema, shared_objects

_ARROW_TYPES = {Kind.TEXT: pa.string(), Kind.BOOL: pa.bool_(), Kind.INT: pa.int64(),
                Kind.DATE: pa.timestamp("ns")}


class Rows(Protocol):
    """Records (or their domains) as the rules read them."""

    def __len__(self) -> int: ...

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        """These columns of every row, in row order (index 0..n-1)."""
        ...

    def batches(self, names: Sequence[str], size: int) -> Iterator[pd.DataFrame]:
        """These columns of every row, at most `size` rows at a time, in row order (each
        index 0..k-1; at least one batch, empty for no rows)."""
        ...

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        """Every column of the rows at `positions` (in their order; index 0..n-1)."""
        ...

    def parts(self, labels: np.ndarray, count: int) -> Iterator[pd.DataFrame]:
        """Every column of the rows labelled 0, then 1, ... count-1 (`labels`: one per
        row), one part at a time, each in row order (index 0..n-1)."""
        ...

    def to_frame(self) -> pd.DataFrame:
        """Every column of every row."""
        ...


class CompactFrame:
    """A frame of a declared schema (frames.py) held as one Arrow table. Its pandas frames
    have the schema's dtypes: text as object columns of str or None, equal values of a
    column one Python object (frames.shared_objects), as a normalized frame has them."""

    def __init__(self, table: pa.Table, schema: Schema) -> None:
        self.table = table
        self.schema = schema

    @classmethod
    def of(cls, frame: pd.DataFrame, schema: Schema) -> CompactFrame:
        """`frame` (conformed to `schema`) held as Arrow."""
        arrays = [pa.array(frame[name].to_numpy(), type=_ARROW_TYPES[kind], from_pandas=True)
                  for name, kind in schema.columns]
        return cls(pa.Table.from_arrays(arrays, names=list(schema.names)), schema)

    @classmethod
    def joined(cls, parts: Sequence[CompactFrame], schema: Schema) -> CompactFrame:
        """The parts' rows, one after the other (no copy of their buffers)."""
        if not parts:
            return cls(arrow_schema(schema).empty_table(), schema)
        return cls(pa.concat_tables([part.table for part in parts]), schema)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def shifted(self, column: str, offset: int) -> CompactFrame:
        """The same rows with `offset` added to the integer `column` (row ids)."""
        return CompactFrame(shifted_table(self.table, column, offset), self.schema)

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        return as_frame(self.table.select(list(names)), self.schema)

    def batches(self, names: Sequence[str], size: int) -> Iterator[pd.DataFrame]:
        return batches_of([self.table.select(list(names))], self.schema, names, size)

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        return as_frame(self.table.take(pa.array(positions, type=pa.int64())), self.schema)

    def parts(self, labels: np.ndarray, count: int) -> Iterator[pd.DataFrame]:
        return parts_of(self, labels, count)

    def to_frame(self) -> pd.DataFrame:
        return as_frame(self.table, self.schema)


class FrameRows:
    """A pandas frame read as `Rows` (tests, small callers)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        return self.frame[list(names)].reset_index(drop=True)

    def batches(self, names: Sequence[str], size: int) -> Iterator[pd.DataFrame]:
        frame = self.frame[list(names)]
        for start in range(0, max(len(frame), 1), size):
            yield frame.iloc[start:start + size].reset_index(drop=True)

    def rows(self, positions: np.ndarray) -> pd.DataFrame:
        return self.frame.take(positions).reset_index(drop=True)

    def parts(self, labels: np.ndarray, count: int) -> Iterator[pd.DataFrame]:
        return parts_of(self, labels, count)

    def to_frame(self) -> pd.DataFrame:
        return self.frame


def parts_of(rows: Rows, labels: np.ndarray, count: int) -> Iterator[pd.DataFrame]:
    """Rows.parts of rows held in memory: each part taken by its positions."""
    for number in range(count):
        yield rows.rows(np.flatnonzero(labels == number))


def batches_of(tables: Iterable[pa.Table], schema: Schema, names: Sequence[str],
               size: int) -> Iterator[pd.DataFrame]:
    """Rows.batches of the rows of `tables` (one after the other, their columns `names`):
    each table's rows `size` at a time, converted as they are drawn."""
    drawn = False
    for table in tables:
        for start in range(0, table.num_rows, size):
            drawn = True
            yield as_frame(table.slice(start, size), schema)
    if not drawn:
        yield as_frame(arrow_schema(schema).empty_table().select(list(names)), schema)


def held(records: pd.DataFrame | Rows) -> Rows:
    """`records` as Rows: a CompactFrame as it is, a pandas frame wrapped."""
    return FrameRows(records) if isinstance(records, pd.DataFrame) else records


def arrow_schema(schema: Schema) -> pa.Schema:
    """The Arrow types a frame of `schema` is held in."""
    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in schema.columns])


def shifted_table(table: pa.Table, column: str, offset: int) -> pa.Table:
    """`table` with `offset` added to its integer `column` (when it has it)."""
    if not offset or column not in table.column_names:
        return table
    index = table.schema.get_field_index(column)
    moved = pc.add(table.column(index), pa.scalar(offset, pa.int64()))
    return table.set_column(index, column, moved)


def as_frame(table: pa.Table, schema: Schema) -> pd.DataFrame:
    """The table as pandas, in the schema's dtypes (its own writable arrays: nothing of it
    refers to the table's buffers, which may be a memory-mapped file)."""
    kinds = dict(schema.columns)
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if kinds[name] is Kind.TEXT:
            columns[name] = pd.Series(shared_objects(column), dtype=object, copy=False)
        else:
            values = np.array(column.to_numpy(), copy=True)
            columns[name] = pd.Series(values, dtype=kinds[name].dtype, copy=False)
    return pd.DataFrame(columns, copy=False) if columns else pd.DataFrame(
        index=pd.RangeIndex(table.num_rows))
