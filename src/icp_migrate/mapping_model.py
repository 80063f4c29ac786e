"""The typed mapping (`icp_migrate.mapping` loads and checks the YAML files): a legacy
layout's reader, its fields' source columns, constants and value maps."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ReaderKind = Literal["csv", "jsonl", "sql"]


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quotechar: str = '"'
    encodings: tuple[str, ...] = ("utf-8", "gb18030")


@dataclass(frozen=True)
class SqlOptions:
    query: str
    key: str
    locator: str
    domains_query: str | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    reader: ReaderKind
    path: Path
    # canonical field -> source columns (CSV header, dotted JSON path, SQL column); the
    # first non-blank of several wins
    fields: dict[str, tuple[str, ...]]
    detect_columns: tuple[str, ...] = ()
    detect_tables: tuple[str, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    csv: CsvOptions = CsvOptions()
    sql: SqlOptions | None = None
    # canonical fields whose source key a record must carry to be readable (JSON Lines:
    # a line without them is quarantined as unreadable)
    required: tuple[str, ...] = ("website_filing_number",)

    def required_paths(self) -> dict[str, tuple[str, ...]]:
        return {name: self.fields[name] for name in self.required}

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every source column the mapping reads, in a stable order."""
        seen: dict[str, None] = {}
        for columns in self.fields.values():
            seen.update(dict.fromkeys(columns))
        return tuple(seen)

    def missing_columns(self, available: set[str] | list[str]) -> list[str]:
        """Source columns the mapping names that a source does not have."""
        have = set(available)
        return [c for c in self.source_columns if c not in have]


def value_key(raw: str) -> str:
    """How raw codes are compared with value-map keys."""
    return unicodedata.normalize("NFKC", raw).strip().lower()
