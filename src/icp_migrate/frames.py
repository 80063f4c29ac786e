"""The declared schema of every frame passed between stages: its columns, in order, and one
pandas dtype per column. Producers end with `conform(frame, schema)` (the dtypes made
exact at the boundary); `check(frame, schema)` lists the differences (tests/test_frames.py).

The names come from the column tuples of canonical.py and plan.py; only the dtypes are
added here. The frames no tuple names yet (records, record_domains, screened) are
declared here, once.

Dtypes (one per column, the same in every frame that has the column's meaning):
- text: `object` holding `str` or None (never NaN/NA). Not pandas 3's pyarrow `str`: the
  normalizers and rules hand columns to pyarrow compute, numpy and Python sets as object
  arrays, so a `str` frame pays a conversion at every stage (measured on 100k records:
  normalize 3.0 -> 5.6 s, decide 3.2 -> 6.8 s). Arrow-backed text pays off only once every
  stage works in Arrow (docs/performance.md).
- bool: `bool` (never null); row ids and change sequence numbers: `int64`.
- dates: `datetime64[ns]` at midnight (NaT for null), in records and website_filings
  alike; the store writes them as DATE.
Problems name columns, dtypes and Python types, never values (values may be personal data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    TEXT = "object"  # str or None
    BOOL = "bool"  # never null
    INT = "int64"  # never null
    DATE = "datetime64[ns]"  # dates at midnight, NaT for null

    @property
    def dtype(self) -> str:
        return self.value


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[tuple[str, Kind], ...]
    closed: bool = True  # no other columns allowed

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def only(self, names: Sequence[str]) -> Schema:
        """These of the schema's columns, in the schema's order."""
        return self.without(*(column for column in self.names if column not in names))

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


BOOL, INT, DATE = Kind.BOOL, Kind.INT, Kind.DATE

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
    "cert_valid": BOOL, "has_cloud": BOOL, "filed_on": DATE})
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
                problems.append(f"{schema.name}.{name}: {kind.name.lower()} column {problem}")
    return problems


def _kind_problem(values: pd.Series, kind: Kind) -> str | None:
    dtype = values.dtype
    if str(dtype) != kind.dtype:
        return f"of dtype {dtype}, declared {kind.dtype}"
    if kind is not Kind.TEXT:
        return None  # bool and int64 hold no null; datetime64[ns] holds NaT
    array = values.to_numpy()
    present = pd.notna(array)
    nulls = array[~present]
    wrong_nulls = sum(1 for v in nulls if v is not None)
    if wrong_nulls:
        kinds = sorted({type(v).__name__ for v in nulls if v is not None})
        return f"holding {wrong_nulls} nulls of type {kinds}, not None"
    wrong = [type(v).__name__ for v in array[present] if type(v) is not str]
    if wrong:
        return f"holding {len(wrong)} values of type {sorted(set(wrong))}"
    return None


def conform(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The frame with each declared column in its declared dtype (nulls of a text column
    made None). Values are kept: a bool or int64 column must hold no null, a date column
    only dates (datetime64, Timestamps, datetime.date or ISO text)."""
    out = frame.copy(deep=False)
    for name, kind in schema.columns:
        if name not in out.columns:
            continue
        column = out[name]
        if kind is Kind.TEXT:
            if column.dtype != object:  # e.g. pandas' str (Arrow) dtype
                out[name] = pd.Series(shared_objects(column), index=out.index, dtype=object)
                continue
            array = column.to_numpy(dtype=object)  # no copy for an object column
            nulls = pd.isna(array)
            if any(v is not None for v in array[nulls]):
                array = array.copy()
                array[nulls] = None
                out[name] = pd.Series(array, index=out.index, dtype=object)
        elif str(column.dtype) != kind.dtype:
            if column.isna().any() and kind is not Kind.DATE:
                raise ValueError(f"{schema.name}.{name}: nulls in a {kind.dtype} column")
            out[name] = (pd.to_datetime(column) if kind is Kind.DATE else column).astype(
                kind.dtype)
    return out


def shared_objects(values: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The values as an object array, nulls None, each distinct value one Python object.

    Converting Arrow-backed text to object makes a new str per row; a column of a million
    rows that holds 300 provinces, one source path or one layout name would keep a million
    copies. Factorized first, equal values share one object (same values, same order)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    table = np.empty(len(uniques) + 1, dtype=object)  # the last slot: None, for code -1
    table[:len(uniques)] = uniques
    return table[codes]


def empty(schema: Schema) -> pd.DataFrame:
    """A frame of no rows with the schema's columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=kind.dtype) for name, kind in schema.columns})


def empty_of(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty frame of the declared schema with these columns (plan.empty_frame), else
    of text columns."""
    for declared in SCHEMAS.values():
        if declared.names == tuple(columns):
            return empty(declared)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
