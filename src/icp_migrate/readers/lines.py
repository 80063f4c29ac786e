"""Physical lines of a legacy text file, decoded line by line where the file mixes encodings."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

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


def decode_lines(data: bytes, encodings: tuple[str, ...]) -> DecodedLines:
    """Decode a whole file if one encoding fits it, else each line with the first that fits."""
    if data.startswith(b"\xef\xbb\xbf"):
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


def _decode_escaped(data: bytes, encodings: tuple[str, ...]) -> DecodedLines | None:
    """_decode_each's result from whole-file decodes, without a decode per line.

    Each encoding decodes the whole file once with errors="surrogateescape"; a line that
    holds no escaped byte decoded cleanly, as it would alone ("\\n" is one byte in every
    encoding here, so lines align). Lines no encoding decodes cleanly take _decode_line.
    None when the files' lines do not align (the caller then decodes line by line).
    """
    try:
        if not encodings or any(codecs.lookup(e).name not in _ALIGNED for e in encodings):
            return None
    except LookupError:
        return None
    count = data.count(b"\n") + 1
    texts: list[list[str]] = []
    for encoding in encodings:
        texts.append(data.decode(encoding, "surrogateescape").split("\n"))
        if len(texts[-1]) != count:
            return None
    raw_lines: list[bytes] = []
    lines: list[str | None] = []
    errors: dict[int, str] = {}
    used: set[str] = set()
    for number, line in enumerate(texts[0]):
        if line.isascii():
            lines.append(_clean(line))
            continue
        for encoding, text in zip(encodings, texts, strict=True):
            candidate = text[number]
            if not _ESCAPED.search(candidate):
                used.add(encoding)
                lines.append(_clean(candidate))
                break
        else:  # every encoding failed here, or produced such characters: decide exactly
            raw_lines = raw_lines or data.split(b"\n")
            decoded = _decode_line(raw_lines[number], encodings, used)
            if decoded is None:
                errors[number] = undecodable(encodings)
            lines.append(decoded)
    if lines and lines[-1] == "":
        lines.pop()
    return DecodedLines(lines, errors, used.pop() if len(used) == 1 else "mixed")


def _clean(line: str) -> str:
    # CRLF files, and BOMs left in the middle by concatenated exports
    if line.endswith("\r"):
        line = line[:-1]
    return line.replace(BOM, "") if BOM in line else line


def _split(text: str) -> list[str | None]:
    # split on "\n" only: str.splitlines() also breaks on \x1c, \x85, U+2028 inside fields
    if BOM in text:
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        return [_clean(p) for p in parts]
    # _clean without a call per line: one "\r" goes from each line's end (CRLF files)
    parts = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    elif parts and parts[-1].endswith("\r"):
        parts[-1] = parts[-1][:-1]  # the last line has no "\n" after it to replace
    return list(parts)
