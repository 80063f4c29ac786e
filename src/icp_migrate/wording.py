"""Counts in words, as every command prints them: `1 record`, `2 records`, `1,500 entities`."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 record`, `2 records`; `many` when the plural is not the noun + s (`entities`)."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def names(items: list[str], limit: int = 6) -> str:
    """`a, b and c`; past `limit` names, `a, b, … and 3 more`."""
    shown = items if len(items) <= limit else [*items[:limit - 1], f"{len(items) - limit + 1} more"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
