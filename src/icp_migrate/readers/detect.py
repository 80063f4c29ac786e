"""Which layout a source holds, detected from its content, and reading it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import sqlalchemy as sa

from ..errors import MappingError, SourceError
from ..mapping import Mapping, available_mappings
from .blocks import LineWindow, decoded_blocks
from .csv_reader import csv_chunks, header_of
from .jsonl_reader import first_object, jsonl_chunks, keys_of
from .lines import DecodedLines, decode_lines
from .sql_reader import sql_chunks

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_ENCODINGS = ("utf-8", "gb18030")


@dataclass(frozen=True)
class SourceSpec:
    """A source as given on the command line: a file path or a SQLAlchemy URL."""

    text: str

    @property
    def is_url(self) -> bool:
        return "://" in self.text

    @property
    def label(self) -> str:
        if not self.is_url:
            return self.text
        try:
            return sa.make_url(self.text).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return self.text.split("://", 1)[0] + "://…"


@dataclass
class OpenedSource:
    spec: SourceSpec
    mapping: Mapping
    path: Path | None = None
    encodings: tuple[str, ...] = DEFAULT_ENCODINGS
    engine: sa.Engine | None = None


HEAD_BYTES = 1 << 16


def preflight(texts: list[str], forced: Mapping | None = None) -> list[str]:
    """Each source's layout, detected from its first 64 KB (or its tables), before a run
    starts: a missing file, an unknown layout or an unreachable database fails in a second."""
    names = []
    for text in texts:
        opened = open_source(text, forced)
        if opened.engine is not None:
            opened.engine.dispose()
        names.append(opened.mapping.name)
    return names


def open_source(text: str, forced: Mapping | None = None) -> OpenedSource:
    """Open a source and pick its mapping (detected unless forced) from its head (a file's
    first 64 KB, or as many more whole lines as hold two that are not blank) or its
    tables; SourceError if unreadable."""
    spec = SourceSpec(text)
    if spec.is_url:
        return _open_database(spec, text, forced)
    path = Path(text)
    if not path.exists():
        raise SourceError(f"{spec.label}: no such file")
    if path.is_dir():
        raise SourceError(f"{spec.label}: is a directory, not a file")
    try:
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                return _open_database(spec, f"sqlite:///{path.resolve()}", forced)
            handle.seek(0)
            encodings = (forced.csv.encodings if forced and forced.reader == "csv"
                         else DEFAULT_ENCODINGS)
            head = _head(handle, encodings)
    except OSError as exc:
        raise SourceError(f"{spec.label}: cannot read ({exc.strerror})") from None
    if not any(line is None or line.strip(" \t\r\ufeff") for line in head.lines):
        raise SourceError(f"{spec.label}: empty file")
    mapping = forced or _detect_text(spec, head)
    if mapping.reader == "csv":
        _check_csv_header(spec, head, mapping)
    elif mapping.reader == "sql":
        raise MappingError(f"mapping {mapping.name} reads databases, but {spec.label} is a file")
    return OpenedSource(spec, mapping, path=path, encodings=encodings)


def _head(handle: BinaryIO, encodings: tuple[str, ...]) -> DecodedLines:
    """The whole lines of the file's first HEAD_BYTES, or of as many more bytes as hold two
    lines that are not blank (a header and a record), or the whole file."""
    size = HEAD_BYTES
    data = handle.read(size + 1)
    while True:
        if len(data) <= size:  # the whole file
            return decode_lines(data, encodings)
        end = data.rfind(b"\n", 0, size) + 1
        if end:
            head = decode_lines(data[:end], encodings)
            if sum(1 for line in head.lines if line is None or line.strip()) >= 2:
                return head
        size *= 4
        data += handle.read(size + 1 - len(data))


def _first_line(decoded: DecodedLines) -> str | None:
    for line in decoded.lines:
        if line is None:
            return None
        if line.strip():
            return line.strip()
    return None


def _detect_text(spec: SourceSpec, decoded: DecodedLines) -> Mapping:
    first = _first_line(decoded)
    if first is None:
        raise SourceError(f"{spec.label}: cannot decode the first line as UTF-8 or GB18030")
    candidates = available_mappings()
    if first.startswith("{"):
        obj = first_object(decoded)
        keys = keys_of(obj) if obj else set()
        for mapping in candidates:
            if mapping.reader == "jsonl" and set(mapping.detect_columns) <= keys:
                return mapping
    else:
        for mapping in candidates:
            found = header_of(decoded, mapping.csv) if mapping.reader == "csv" else None
            if found and set(mapping.detect_columns) <= set(found[1]):
                return mapping
    names = ", ".join(m.name for m in candidates)
    raise SourceError(f"{spec.label}: unknown layout (matches none of {names}; "
                      "use --mapping NAME|FILE)")


def _check_csv_header(spec: SourceSpec, decoded: DecodedLines, mapping: Mapping) -> None:
    found = header_of(decoded, mapping.csv)
    if found is None:
        raise SourceError(f"{spec.label}: no readable header row")
    header_index, header = found
    counts = Counter(header)
    doubled = [c for c in mapping.source_columns if counts[c] > 1]
    if doubled:  # which of the two is the certificate? ambiguous for every record
        raise SourceError(f"{spec.label}: column {doubled[0]!r} appears twice in the header")
    for name, columns in mapping.fields.items():
        if not set(columns) & set(header):
            raise MappingError(f"mapping {mapping.name}: fields.{name}: column "
                               f"{columns[0]!r} is not in the header of {spec.label}")
    if not any(line is None or line.strip() for line in decoded.lines[header_index + 1:]):
        raise SourceError(f"{spec.label}: header only, no records")


# The drivers installed with icp-migrate, for URLs that name none (`mysql://…`).
_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql",
            "postgresql": "postgresql+psycopg"}


def with_driver(url: str) -> str:
    """`url` naming an installed driver where it names none (`mysql://` → `mysql+pymysql://`)."""
    scheme, sep, rest = url.partition("://")
    return f"{_DRIVERS[scheme]}{sep}{rest}" if sep and scheme in _DRIVERS else url


def _reason(exc: BaseException) -> str:
    """A driver error's message, without PyMySQL's `(code, "message")` tuple around it."""
    cause = getattr(exc, "orig", None) or exc
    args: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"{args[1]} (error {args[0]})"
    return str(cause).strip().splitlines()[0]


def _open_database(spec: SourceSpec, url: str, forced: Mapping | None) -> OpenedSource:
    try:
        engine = sa.create_engine(with_driver(url))
        tables = set(sa.inspect(engine).get_table_names())
    except (sa.exc.SQLAlchemyError, ImportError, ValueError) as exc:
        reason = _reason(exc)
        raise SourceError(f"{spec.label}: cannot connect to the database ({reason})") from None
    if forced is not None:
        mapping = forced
    else:
        matches = [m for m in available_mappings()
                   if m.reader == "sql" and set(m.detect_tables) <= tables]
        if not matches:
            raise SourceError(f"{spec.label}: unknown layout (no mapping matches its tables "
                              f"{sorted(tables)[:8]}; use --mapping NAME|FILE)")
        mapping = matches[0]
    if mapping.reader != "sql":
        raise MappingError(f"mapping {mapping.name} reads files, but {spec.label} is a database")
    missing = set(mapping.detect_tables) - tables
    if missing:
        raise SourceError(f"{spec.label}: tables missing for {mapping.name}: {sorted(missing)}")
    return OpenedSource(spec, mapping, engine=engine)


def read_source(text: str, forced: Mapping | None = None) -> tuple[pd.DataFrame, Mapping]:
    """The source's records in its own columns, plus source/locator/layout/read_error."""
    chunks, mapping = read_chunks(text, forced)
    frames = list(chunks)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True), mapping


def read_chunks(text: str, forced: Mapping | None = None,
                lines_per_chunk: int | None = None,
                ) -> tuple[Iterator[pd.DataFrame], Mapping]:
    """`read_source`'s frame in chunks of about `lines_per_chunk` lines of a text file or
    rows of a database's query (None: one chunk), and the mapping. The source is opened
    and its layout checked here (its errors are raised at once); a text file is then read
    and decoded a block at a time as the chunks are drawn, so that its bytes, text and
    cells exist for about one chunk at a time."""
    opened = open_source(text, forced)
    return _chunks(opened, lines_per_chunk), opened.mapping


def _chunks(opened: OpenedSource, lines_per_chunk: int | None) -> Iterator[pd.DataFrame]:
    mapping = opened.mapping
    if opened.engine is not None:
        frames: Iterator[pd.DataFrame] = _disposing(
            sql_chunks(opened.engine, mapping, opened.spec.label, lines_per_chunk),
            opened.engine)
    else:
        assert opened.path is not None
        window = LineWindow(decoded_blocks(opened.path, opened.encodings, opened.spec.label))
        if mapping.reader == "csv":
            frames = csv_chunks(window, mapping.csv, lines_per_chunk)
        else:
            frames = jsonl_chunks(window, mapping.source_columns, mapping.required_paths(),
                                  lines_per_chunk)
    for frame in frames:
        frame["source"] = opened.spec.label
        frame["layout"] = mapping.name
        yield frame


def _disposing(frames: Iterator[pd.DataFrame], engine: sa.Engine) -> Iterator[pd.DataFrame]:
    """`frames`, the engine they are read through disposed of when they end (or fail)."""
    try:
        yield from frames
    finally:
        engine.dispose()
