"""Canonical records normalized per domain.md: the frame grouping and planning work on."""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc

from ..canonical import ENTITY_TYPES, PERSON_CERTS, PRODUCTS
from ..frames import RECORD_DOMAINS, RECORDS, conform
from ..mapping_messages import vocabulary_key
from .certificates import normalize_certificates
from .dates import parse_dates
from .domains import explode_domains
from .icp_numbers import normalize_filing_numbers
from .provinces import normalize_provinces
from .text import (
    blank_to_none,
    compact_column,
    join_texts,
    map_bulk,
    simple_squash,
    squash,
    squash_column,
)


def normalize_records(canonical: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, record_domains) from the canonical frame of every source of a run.

    `canonical` has a unique `row_id` plus the bookkeeping and RAW_FIELDS columns.
    """
    raw = canonical.reset_index(drop=True)
    out = raw[["row_id", "source", "locator", "layout", "read_error", "member_id"]].copy()
    warnings: list[pd.Series] = []

    out["product"] = raw["product"]
    out["in_scope_product"] = raw["product"].isin(PRODUCTS)

    certs = normalize_certificates(raw)
    entity_type = raw["entity_type"]
    known_type = entity_type.isin(ENTITY_TYPES)
    person_cert = certs["cert_type"].isin(PERSON_CERTS)
    fallback = pd.Series("organization", index=raw.index).where(~person_cert, "individual")
    out["entity_type"] = entity_type.where(known_type, fallback)
    warnings.append(_unknown_value("entity_type", "entity type", entity_type,
                                   entity_type.notna() & ~known_type, raw["layout"]))
    out["is_person"] = out["entity_type"].eq("individual") | person_cert
    for column in certs.columns:
        out[column] = certs[column]
    warnings.append(certs["cert_warning"])

    out["entity_name"] = squash_column(raw["entity_name"])
    out["name_key"] = compact_column(raw["entity_name"]).where(~out["is_person"], None)

    numbers = normalize_filing_numbers(raw)
    for column in numbers.columns:
        out[column] = numbers[column]
    warnings.append(_when(numbers["entity_number_problem"].notna(),
                          "entity filing number ignored: " + numbers["entity_number_problem"]
                          .astype(str)))

    province, unknown = normalize_provinces(raw["province"])
    out["province"] = province
    warnings.append(_when(unknown, "unknown province " + province.astype(str)))
    # name fallback compares names within a province: no province, no name key
    out["name_key"] = (province.astype("str") + "|" + out["name_key"].astype("str")).where(
        out["name_key"].notna() & province.notna() & ~unknown, None)

    out["filed_on"] = parse_dates(raw["filed_on"])
    out["date_problem"] = _when(raw["filed_on"].notna() & out["filed_on"].isna(),
                                "unparseable date " + raw["filed_on"].astype(str).str[:30])
    out.loc[raw["filed_on"].isna(), "date_problem"] = "filing date missing"
    out.loc[out["filed_on"].notna(), "date_problem"] = None

    for column in ("website_name", "homepage"):
        out[column] = squash_column(raw[column])
    out["admin_email"] = _email(raw["admin_email"])
    out["cloud_admin_email"] = _email(raw["cloud_admin_email"])
    out["has_cloud"] = raw["has_cloud"].eq("true")
    warnings.append(_unknown_value("has_cloud", "has_cloud value", raw["has_cloud"],
                                   raw["has_cloud"].notna() & ~raw["has_cloud"].isin(
                                       ["true", "false"]), raw["layout"], " (read as no)"))

    record_domains, domain_problems = explode_domains(raw[["row_id", "domains"]])
    warnings.append(raw["row_id"].map(domain_problems))
    out["warnings"] = join_texts(warnings, raw.index)
    readable = out["read_error"].isna()
    out.loc[~readable, "warnings"] = None
    kept_domains = record_domains[record_domains["row_id"].isin(out.loc[readable, "row_id"])]
    return conform(out, RECORDS), conform(kept_domains, RECORD_DOMAINS)


def _email(values: pd.Series) -> pd.Series:
    return map_bulk(blank_to_none(values), lambda t: pc.utf8_lower(simple_squash(t)),
                    lambda v: squash(v).lower())


def _unknown_value(field: str, what: str, values: pd.Series, unknown: pd.Series,
                   layout: pd.Series, meaning: str = "") -> pd.Series:
    """`unknown entity type 'Firm': add it under values.entity_type in mapping M (or
    _vocabulary.yaml)` where `unknown`, else None."""
    told = pd.Series(None, index=values.index, dtype=object)
    if unknown.any():
        told[unknown] = [f"unknown {what} {v!r}{meaning}: "
                         + vocabulary_key(field, None if pd.isna(m) else str(m))
                         for v, m in zip(values[unknown], layout[unknown], strict=True)]
    return told


def _when(mask: pd.Series, text: pd.Series) -> pd.Series:
    return text.where(mask, None).astype(object)
