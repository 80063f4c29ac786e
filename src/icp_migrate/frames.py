"""The declared schema of every frame passed between stages: its columns, in order, and the
kind of each column. A test-time contract (tests/test_frames.py): `check` is never called
by the flow.

The names come from the column tuples of canonical.py and plan.py; only the kinds are
added here. The frames no tuple names yet (records, record_domains, screened) are
declared here, once.

Kinds are judged by value, not dtype: the plan's frames are object columns by design
(plan.empty_frame, `.astype(object)`), so an object column of bools is a bool column.
A null (None, NaN, NA, NaT) is allowed in text and date columns, never in bool or int
columns. Problems name columns and Python types, never values (values may be personal
data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from .canonical import BOOKKEEPING, RAW_FIELDS
from .plan import (
    ACCOUNT_COLUMNS,
    CHANGE_COLUMNS,
    CONFLICT_COLUMNS,
    DISPOSITION_COLUMNS,
    DOMAIN_COLUMNS,
    ENTITY_COLUMNS,
    LINK_COLUMNS,
    WEBSITE_COLUMNS,
)


class Kind(Enum):
    TEXT = "text"  # str, or null
    BOOL = "bool"  # True/False, never null
    INT = "int"  # an integer (not a bool), never null
    DATE = "date"  # datetime.date values (or datetime64), or null
    TIMESTAMP = "timestamp"  # a datetime64 column (NaT for null)
    OBJECT = "object"  # anything: not checked


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[tuple[str, Kind], ...]
    closed: bool = True  # no other columns allowed

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def without(self, *names: str, name: str | None = None) -> Schema:
        unknown = set(names) - set(self.names)
        if unknown:
            raise ValueError(f"{self.name}: no columns {sorted(unknown)}")
        return Schema(name or self.name, tuple(c for c in self.columns if c[0] not in names),
                      self.closed)


def schema(name: str, columns: tuple[str, ...], kinds: Mapping[str, Kind] | None = None,
           default: Kind = Kind.TEXT, closed: bool = True) -> Schema:
    """`columns` in order, each of kind `kinds[column]`, else `default`."""
    kinds = kinds or {}
    unknown = set(kinds) - set(columns)
    if unknown:
        raise ValueError(f"{name}: kinds for columns it has not: {sorted(unknown)}")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{name}: a column named twice")
    return Schema(name, tuple((c, kinds.get(c, default)) for c in columns), closed)


BOOL, INT, DATE, TIMESTAMP = Kind.BOOL, Kind.INT, Kind.DATE, Kind.TIMESTAMP

# readers -> to_canonical -> (row ids given) normalize_records
CANONICAL = schema("canonical", BOOKKEEPING + RAW_FIELDS, {"row_id": INT})
# one source's canonical frame as extract returns it: row ids are given when the sources
# of a run are put together (flows/tasks.py: normalize)
EXTRACTED = CANONICAL.without("row_id", name="extracted")

# normalize_records -> (records, record_domains)
RECORD_COLUMNS = BOOKKEEPING + (
    "member_id", "product", "in_scope_product", "entity_type", "is_person",
    "cert_type", "cert_number", "cert_upgraded", "cert_valid", "cert_key", "cert_problem",
    "cert_warning", "entity_name", "name_key", "website_filing_number",
    "website_entity_number", "entity_filing_number", "website_number_problem",
    "entity_number_problem", "province", "filed_on", "date_problem", "website_name",
    "homepage", "admin_email", "cloud_admin_email", "has_cloud", "warnings")
RECORDS = schema("records", RECORD_COLUMNS, {
    "row_id": INT, "in_scope_product": BOOL, "is_person": BOOL, "cert_upgraded": BOOL,
    "cert_valid": BOOL, "has_cloud": BOOL, "filed_on": TIMESTAMP})
RECORD_DOMAINS = schema("record_domains", ("row_id", "domain", "unicode_domain"),
                        {"row_id": INT})
# screen -> decide: steps 1-3 (disposition and reasons null for the records left)
SCREENED = schema("screened", ("row_id", "disposition", "reasons"), {"row_id": INT})

# decide -> Decision, plan_decision -> Plan
DISPOSITIONS = schema("dispositions", DISPOSITION_COLUMNS, {"row_id": INT})
LINKS = schema("links", LINK_COLUMNS, {"row_id": INT})
CONFLICTS = schema("conflicts", CONFLICT_COLUMNS)
ENTITIES = schema("entities", ENTITY_COLUMNS, {
    "has_cloud_resources": BOOL, "resources_admin_differs": BOOL, "entity_number_stated": BOOL})
ACCOUNTS = schema("accounts", ACCOUNT_COLUMNS, {"real_name_verification_required": BOOL})
WEBSITE_FILINGS = schema("website_filings", WEBSITE_COLUMNS, {"filed_on": DATE})
DOMAINS = schema("domains", DOMAIN_COLUMNS)
# old and new values as the history shows them: text (dates as YYYY-MM-DD)
CHANGES = schema("changes", CHANGE_COLUMNS, {"seq": INT})

SCHEMAS = {s.name: s for s in (
    CANONICAL, EXTRACTED, RECORDS, RECORD_DOMAINS, SCREENED, DISPOSITIONS, LINKS, CONFLICTS,
    ENTITIES, ACCOUNTS, WEBSITE_FILINGS, DOMAINS, CHANGES)}


def check(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """The ways `frame` differs from `schema`: [] when it matches."""
    problems = []
    names = list(schema.names)
    present = [str(c) for c in frame.columns]
    missing = [c for c in names if c not in present]
    if missing:
        problems.append(f"{schema.name}: missing columns {missing}")
    extra = [c for c in present if c not in names]
    if extra and schema.closed:
        problems.append(f"{schema.name}: extra columns {extra}")
    if len(set(present)) != len(present):
        problems.append(f"{schema.name}: a column appears twice")
    ordered = [c for c in present if c in names]
    if not missing and ordered != names:
        problems.append(f"{schema.name}: columns out of order: {ordered}, declared {names}")
    for name, kind in schema.columns:
        if name in present and present.count(name) == 1:
            problem = _kind_problem(frame[name], kind)
            if problem:
                problems.append(f"{schema.name}.{name}: {kind.value} column {problem}")
    return problems


def _kind_problem(values: pd.Series, kind: Kind) -> str | None:
    dtype = values.dtype
    if kind is Kind.OBJECT:
        return None
    if kind is Kind.TIMESTAMP:
        return None if pd.api.types.is_datetime64_any_dtype(dtype) else f"of dtype {dtype}"
    if kind is Kind.DATE and pd.api.types.is_datetime64_any_dtype(dtype):
        return None
    if kind is Kind.TEXT and isinstance(dtype, pd.StringDtype):
        return None  # a string dtype holds str or its null
    if kind is Kind.BOOL and dtype.kind == "b":
        return None if not values.isna().any() else "holding nulls"
    if kind is Kind.INT and pd.api.types.is_integer_dtype(dtype) and not \
            pd.api.types.is_bool_dtype(dtype):
        return None if not values.isna().any() else "holding nulls"
    nulls = values.isna()
    if kind in (Kind.BOOL, Kind.INT) and nulls.any():
        return f"of dtype {dtype} holding {int(nulls.sum())} nulls"
    accepted = _ACCEPTS[kind]
    wrong = values[~nulls].map(lambda v: not accepted(v))
    if wrong.any():
        types = sorted({type(v).__name__ for v in values[~nulls][wrong]})
        return f"of dtype {dtype} holding {int(wrong.sum())} values of type {types}"
    return None


def _is_bool(v: object) -> bool:
    return isinstance(v, bool | np.bool_)


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not _is_bool(v)


_ACCEPTS = {
    Kind.TEXT: lambda v: isinstance(v, str),
    Kind.BOOL: _is_bool,
    Kind.INT: _is_int,
    Kind.DATE: lambda v: isinstance(v, dt.date),
}
