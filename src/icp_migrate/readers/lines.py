"""Physical lines of a legacy text file, decoded line by line where the file mixes encodings."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import cast

import numpy as np

BOM = "\ufeff"


@dataclass
class DecodedLines:
    """`lines[i]` is physical line i+1; undecodable lines are None with `errors[i]` set."""

    lines: list[str | None]
    errors: dict[int, str]
    encoding: str  # the encoding of the whole file, or "mixed"


def undecodable(encodings: tuple[str, ...], column: str | None = None) -> str:
    """The read_error of bytes that none of `encodings` decodes (in `column`, if named)."""
    where = f" in column {column!r}" if column else ""
    return f"undecodable bytes{where} (not " + " or ".join(encodings) + ")"


def decode_value(raw: bytes, encodings: tuple[str, ...]) -> str | None:
    """One value (a database column's bytes) in the first of `encodings` that decodes it
    whole, as a file line is decoded; None if none does."""
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def decode_lines(data: bytes, encodings: tuple[str, ...],
                 start_of_file: bool = True) -> DecodedLines:
    """Decode whole lines (a file, or a block of it: `start_of_file` says whether it starts
    the file, where a BOM is dropped) in one encoding if it fits them all, else each line
    with the first that fits."""
    if start_of_file and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = encodings[0] if encodings else "utf-8"
    try:
        text = data.decode(first)
        return DecodedLines(_split(text), {}, first)
    except (UnicodeDecodeError, LookupError):
        pass
    return _decode_escaped(data, encodings) or _decode_each(data, encodings)


def _decode_each(data: bytes, encodings: tuple[str, ...]) -> DecodedLines:
    """Each line decoded with the first of `encodings` that fits it (None if none does)."""
    lines: list[str | None] = []
    errors: dict[int, str] = {}
    used: set[str] = set()
    for number, raw in enumerate(data.split(b"\n")):
        line = _decode_line(raw, encodings, used)
        if line is None:
            errors[number] = undecodable(encodings)
        lines.append(line)
    if lines and lines[-1] == "":
        lines.pop()
    return DecodedLines(lines, errors, used.pop() if len(used) == 1 else "mixed")


def _decode_line(raw: bytes, encodings: tuple[str, ...], used: set[str]) -> str | None:
    for encoding in encodings:
        try:
            line = _clean(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
        if not raw.isascii():
            used.add(encoding)
        return line
    return None


_ESCAPED = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of bad bytes
# ASCII-compatible encodings whose multi-byte characters never hold the byte "\\n"
_ALIGNED = {"utf-8", "gb18030", "gbk", "gb2312", "big5", "ascii"}


def aligned(encodings: tuple[str, ...]) -> bool:
    """Whether every one of `encodings` keeps "\\n" a byte of its own (lines align)."""
    try:
        return bool(encodings) and all(codecs.lookup(e).name in _ALIGNED for e in encodings)
    except LookupError:
        return False


def _decode_escaped(data: bytes, encodings: tuple[str, ...]) -> DecodedLines | None:
    """_decode_each's result from bulk decodes, without a decode per line.

    The file is decoded with the first encoding and errors="surrogateescape", a block of
    lines at a time (never the whole file as one more string); a line that holds no
    escaped byte decoded cleanly, as it would alone ("\\n" is one byte in every encoding
    here, so lines align). The other lines of the block are joined and decoded the same
    way with the next encoding, and so on (`_decode_rest`); a line no encoding decodes is
    None. None when an encoding is not one whose lines align (the caller decodes line by
    line).
    """
    if not aligned(encodings):
        return None
    lines: list[str | None] = []
    errors: dict[int, str] = {}
    used: set[str] = set()
    first = encodings[0]
    for start, stop in _blocks(data):
        block = cast("list[str | None]",
                     data[start:stop].decode(first, "surrogateescape").split("\n"))
        if len(block) != data.count(b"\n", start, stop) + 1:
            return None  # lines do not align (the caller decodes line by line)
        if stop < len(data):
            block.pop()  # the "" after the block's last "\n"
        redo = []  # the lines `first` does not decode
        for index, line in enumerate(block):
            if line.isascii():  # type: ignore[union-attr]
                if line.endswith("\r"):  # type: ignore[union-attr]
                    block[index] = line[:-1]  # type: ignore[index]
                continue
            if _ESCAPED.search(line) is None:  # type: ignore[arg-type]
                used.add(first)
                if line.endswith("\r") or BOM in line:  # type: ignore[union-attr,operator]
                    block[index] = _clean(line)  # type: ignore[arg-type]
                continue
            redo.append(index)
        if redo:
            decoded = _decode_rest(_line_bytes(data, start, stop, redo), encodings[1:], used)
            if decoded is None:
                return None
            for index, line in zip(redo, decoded, strict=True):
                block[index] = line
                if line is None:
                    errors[len(lines) + index] = undecodable(encodings)
        lines.extend(block)
    if lines and lines[-1] == "":
        lines.pop()
    return DecodedLines(lines, errors, used.pop() if len(used) == 1 else "mixed")


def _line_bytes(data: bytes, start: int, stop: int, wanted: list[int]) -> list[bytes]:
    """The bytes of lines `wanted` (indices, ascending) of the block data[start:stop]."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8, stop - start, start) == 10) + start
    bounds = np.concatenate([[start - 1], ends, [stop]])  # line i: bounds[i]+1 .. bounds[i+1]
    at = np.asarray(wanted, dtype=np.int64)
    return [data[a:b] for a, b in zip((bounds[at] + 1).tolist(), bounds[at + 1].tolist(),
                                      strict=True)]


def _decode_rest(raws: list[bytes], encodings: tuple[str, ...],
                 used: set[str]) -> list[str | None] | None:
    """Each of `raws` (one line's bytes, not ASCII) in the first of `encodings` that decodes
    it whole, None where none does: all of them joined and decoded at once per encoding.
    None when the decoded lines do not align with `raws`."""
    if not encodings:
        return [None] * len(raws)
    encoding = encodings[0]
    text = b"\n".join(raws).decode(encoding, "surrogateescape")
    parts = text.split("\n")
    if len(parts) != len(raws):
        return None
    if _ESCAPED.search(text) is None:  # all decoded (the common case: one pass)
        used.add(encoding)
        return [_clean(p) for p in parts] if "\r" in text or BOM in text else list(parts)
    out: list[str | None] = []
    again = []
    for index, line in enumerate(parts):
        if _ESCAPED.search(line) is None:
            used.add(encoding)
            out.append(_clean(line))
        else:
            out.append(None)
            again.append(index)
    if again:
        rest = _decode_rest([raws[k] for k in again], encodings[1:], used)
        if rest is None:
            return None
        for index, decoded in zip(again, rest, strict=True):
            out[index] = decoded
    return out


BLOCK_BYTES = 1 << 23  # 8 MiB of a file decoded at a time


def _blocks(data: bytes) -> list[tuple[int, int]]:
    """(start, stop) of consecutive blocks of whole lines (each but the last ends with a
    "\\n"), about BLOCK_BYTES each."""
    blocks, start = [], 0
    while start < len(data):
        stop = data.find(b"\n", start + BLOCK_BYTES)
        stop = len(data) if stop < 0 else stop + 1
        blocks.append((start, stop))
        start = stop
    return blocks


def _clean(line: str) -> str:
    # CRLF files, and BOMs left in the middle by concatenated exports
    if line.endswith("\r"):
        line = line[:-1]
    return line.replace(BOM, "") if BOM in line else line


def _split(text: str) -> list[str | None]:
    # split on "\n" only: str.splitlines() also breaks on \x1c, \x85, U+2028 inside fields
    # what follows the last "\n" is a line only if something but a "\r" is left of it
    # once cleaned (the escaped and per-line decodes drop it the same way)
    if BOM in text:
        parts = [_clean(p) for p in text.split("\n")]
    else:  # _clean without a call per line: one "\r" goes from each line's end (CRLF)
        parts = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
        if parts[-1].endswith("\r"):
            parts[-1] = parts[-1][:-1]  # the last line has no "\n" after it to replace
    if parts[-1] == "":
        parts.pop()
    return list(parts)
