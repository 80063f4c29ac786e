"""What the store already holds, in the shape grouping compares new records with."""

from __future__ import annotations

import pandas as pd

from ..plan import Plan
from ..transforms.icp_numbers import normalize_filing_numbers
from ..transforms.text import compact_column


def known_rows(snapshot: Plan) -> pd.DataFrame:
    """One row per stored website: entity_id, cert_type, entity_filing_number,
    website_entity_number, name_key, website_filing_number."""
    sites = snapshot.website_filings[["website_filing_number", "entity_id"]].merge(
        snapshot.entities, on="entity_id", how="left")
    numbers = normalize_filing_numbers(pd.DataFrame({
        "website_filing_number": sites["website_filing_number"],
        "entity_filing_number": sites["entity_filing_number"]}))
    organization = ~sites["entity_type"].eq("individual")
    name = compact_column(sites["name"])
    name_key = (sites["province"].astype("str") + "|" + name.astype("str")).where(
        organization & name.notna() & sites["province"].notna(), None)
    return pd.DataFrame({
        "entity_id": sites["entity_id"],
        "cert_type": sites["cert_type"],
        "entity_filing_number": numbers["entity_filing_number"],
        "website_entity_number": numbers["website_entity_number"],
        "name_key": name_key,
        "website_filing_number": sites["website_filing_number"],
    }).astype(object)
