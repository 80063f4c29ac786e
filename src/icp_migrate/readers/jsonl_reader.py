"""JSON Lines exports: one nested object per line, fields picked by dotted paths."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from .lines import DecodedLines


def _pick(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


_MISSING = object()


def _as_text(value: Any) -> str | None:
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


def read_jsonl_records(
    decoded: DecodedLines, paths: tuple[str, ...], required: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Frame with one column per dotted path plus `locator` and `read_error`."""
    columns: dict[str, list[str | None]] = {p: [] for p in paths}
    locators: list[str] = []
    errors: list[str | None] = []
    for index, line in enumerate(decoded.lines):
        if line is not None and not line.strip():
            continue
        locators.append(f"line {index + 1}")
        obj, error = _load(line, decoded.errors.get(index))
        if obj is not None:
            missing = [alts[0] for alts in required.values()
                       if all(_pick(obj, p) is _MISSING for p in alts)]
            if missing:
                error = "missing required field " + ", ".join(missing)
        errors.append(error)
        for path in paths:
            columns[path].append(_as_text(_pick(obj, path)) if obj is not None else None)
    frame = pd.DataFrame(columns, dtype=object)
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
    return obj, None


def _column(exc: ValueError) -> int | str:
    return getattr(exc, "colno", "?")
