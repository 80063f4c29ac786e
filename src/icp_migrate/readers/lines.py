"""Physical lines of a legacy text file, decoded line by line where the file mixes encodings."""

from __future__ import annotations

from dataclasses import dataclass

BOM = "\ufeff"


@dataclass
class DecodedLines:
    """`lines[i]` is physical line i+1; undecodable lines are None with `errors[i]` set."""

    lines: list[str | None]
    errors: dict[int, str]
    encoding: str  # the encoding of the whole file, or "mixed"


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
    raw_lines = data.split(b"\n")
    lines: list[str | None] = []
    errors: dict[int, str] = {}
    used: set[str] = set()
    for number, raw in enumerate(raw_lines):
        line = None
        for encoding in encodings:
            try:
                line = _clean(raw.decode(encoding))
            except UnicodeDecodeError:
                continue
            if not raw.isascii():
                used.add(encoding)
            break
        if line is None:
            errors[number] = "undecodable bytes (not " + " or ".join(encodings) + ")"
        lines.append(line)
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
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [_clean(p) for p in parts]
