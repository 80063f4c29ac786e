"""Readers: each legacy source becomes a frame of its own columns plus bookkeeping.

Bookkeeping columns: `source` (as named on the command line, passwords hidden),
`locator` (where the record is in its source), `layout` (mapping name) and `read_error`
(why the record could not be read, else None). Readers never drop a record: a broken row
keeps its locator and carries a `read_error`.
"""

from .detect import SourceSpec, open_source, preflight, read_chunks, read_source

__all__ = ["SourceSpec", "open_source", "preflight", "read_chunks", "read_source"]
