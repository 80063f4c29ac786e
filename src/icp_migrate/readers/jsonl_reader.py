"""JSON Lines exports: one nested object per line, fields picked by dotted paths."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd

from .blocks import LineWindow
from .lines import DecodedLines


def _pick(obj: Any, path: str) -> Any:
    return _pick_parts(obj, tuple(path.split(".")))


def _pick_parts(obj: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


_MISSING = object()


def _as_text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or value is _MISSING:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(t for t in (_as_text(v) for v in value) if t)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def keys_of(obj: dict[str, Any], prefix: str = "", depth: int = 0) -> set[str]:
    """Every dotted path present in a decoded line (for layout detection)."""
    keys: set[str] = set()
    for key, value in obj.items():
        path = f"{prefix}{key}"
        keys.add(path)
        if isinstance(value, dict) and depth < 8:
            keys |= keys_of(value, path + ".", depth + 1)
    return keys


def first_object(decoded: DecodedLines, probe: int = 50) -> dict[str, Any] | None:
    """The first line that decodes to a JSON object, within the first `probe` lines."""
    for line in decoded.lines[:probe]:
        if line and line.strip():
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                return obj
    return None


def jsonl_chunks(window: LineWindow, paths: tuple[str, ...],
                 required: dict[str, tuple[str, ...]],
                 lines_per_chunk: int | None) -> Iterator[pd.DataFrame]:
    """`read_jsonl_records`' frames of `lines_per_chunk` lines at a time (None: one frame),
    the window holding one chunk's lines at a time; an empty file gives one empty frame."""
    every = lines_per_chunk or sys.maxsize
    held = window.load(every)
    while True:
        stop = min(held, every)
        yield read_jsonl_records(window.held, paths, required, 0, stop, first=window.first)
        window.drop(stop)
        held = window.load(every)
        if not held:
            return


def read_jsonl_records(
    decoded: DecodedLines, paths: tuple[str, ...], required: dict[str, tuple[str, ...]],
    start: int = 0, stop: int | None = None, first: int = 0,
) -> pd.DataFrame:
    """Frame with one column per dotted path plus `locator` and `read_error`, of the lines
    start..stop (a record is one line: any line may begin a chunk); `decoded.lines[0]` is
    the file's line `first` (0-based), as the locators say."""
    split = [tuple(p.split(".")) for p in paths]
    needed = [(alts[0], [tuple(p.split(".")) for p in alts]) for alts in required.values()]
    nothing: list[str | None] = [None] * len(paths)
    rows: list[list[str | None]] = []
    locators: list[str] = []
    errors: list[str | None] = []
    for index, line in enumerate(decoded.lines[start:stop], start=start):
        if line is not None and not line.strip():
            continue
        locators.append(f"line {first + index + 1}")
        obj, error = _load(line, decoded.errors.get(index))
        values = nothing
        if obj is not None:
            missing = [name for name, alts in needed
                       if all(_pick_parts(obj, p) is _MISSING for p in alts)]
            if missing:
                error = "missing required field " + ", ".join(missing)
            try:
                values = [_as_text(_pick_parts(obj, parts)) for parts in split]
            except RecursionError:  # json.loads nests deeper than _as_text can recurse
                error = "invalid JSON line: nested too deeply"
        errors.append(error)
        rows.append(values)
    frame = pd.DataFrame(dict(zip(paths, zip(*rows, strict=True), strict=True)) if rows
                         else {p: () for p in paths}, dtype=object)
    frame["locator"] = locators
    frame["read_error"] = errors
    return frame


def _load(line: str | None, decode_error: str | None) -> tuple[dict | None, str | None]:
    if line is None:
        return None, decode_error or "undecodable bytes"
    if "\x00" in line:
        return None, "invalid JSON line: NUL byte"
    try:
        obj = json.loads(line)
    except RecursionError:
        return None, "invalid JSON line: nested too deeply"
    except ValueError as exc:
        return None, f"invalid JSON line: {exc.__class__.__name__} at column {_column(exc)}"
    if not isinstance(obj, dict):
        return None, f"invalid JSON line: a {type(obj).__name__}, not an object"
    problem = _unstorable(obj) if _RISKY_ESCAPE.search(line) else None
    if problem:  # "\u0000" and a lone "\ud800" decode, but no database takes them
        return None, f"invalid JSON line: {problem}"
    return obj, None


_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _unstorable(obj: Any) -> str | None:
    """What in a decoded line no target can store: a NUL character or a lone surrogate."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a lone surrogate escape (not Unicode text)"
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _column(exc: ValueError) -> int | str:
    return getattr(exc, "colno", "?")
