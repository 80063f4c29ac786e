"""The account plan (domain.md rule 4): entities, their accounts, websites and domains."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..identity import filing_account_id_for, filing_account_ids, resources_account_id_for
from ..plan import ACCOUNT_COLUMNS, ENTITY_COLUMNS, WEBSITE_COLUMNS, Plan

# Which record describes an entity best: a USCC or 18-digit ID over older certificates.
CERT_RANK = {"uscc": 0, "resident_id": 0, "passport": 1, "hk_macao_permit": 1,
             "taiwan_permit": 1, "org_code": 2, "business_license": 3}
NO_CERT_RANK = 9


def plan_accounts(kept: pd.DataFrame, domains: pd.DataFrame, snapshot: Plan) -> Plan:
    """Plan frames for the entities of `kept` (loaded and duplicate records with entity_id).

    Entity attributes and cloud flags combine what the store holds with the new records:
    the store's entity comes first among equals, so a later batch never downgrades a
    USCC to an old organization code, and cloud flags only widen.
    """
    entities = _entities(kept, snapshot.entities)
    accounts = _accounts(entities)
    loaded = kept[kept["disposition"].eq("loaded")]
    websites = pd.DataFrame({
        "website_filing_number": loaded["website_filing_number"],
        "account_id": filing_account_ids(loaded["entity_id"]),
        "entity_id": loaded["entity_id"],
        "product": loaded["product"],
        "website_name": loaded["website_name"],
        "homepage": loaded["homepage"],
        "filed_on": loaded["filed_on"].dt.date,
        "member_id": loaded["member_id"],
    })[list(WEBSITE_COLUMNS)].sort_values("website_filing_number").reset_index(drop=True)
    return Plan(entities=entities, accounts=accounts, website_filings=websites.astype(object),
                domains=domains.sort_values("domain").reset_index(drop=True).astype(object))


def _entities(kept: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    new = pd.DataFrame({
        "entity_id": kept["entity_id"],
        "entity_type": kept["entity_type"],
        "name": kept["entity_name"],
        "cert_type": kept["cert_type"].where(kept["cert_valid"], None),
        "cert_number": kept["cert_number"].where(kept["cert_valid"], None),
        "province": kept["province"],
        "entity_filing_number": kept["entity_filing_number"].fillna(
            kept["website_entity_number"]),
        "has_cloud_resources": kept["has_cloud"],
        "resources_admin_differs": kept["has_cloud"] & kept["cloud_admin_email"].notna()
        & kept["cloud_admin_email"].ne(kept["admin_email"]),
        "order": 1 + kept["row_id"].astype("int64"),
    })
    old = stored[stored["entity_id"].isin(new["entity_id"])].assign(order=0)
    rows = pd.concat([old, new], ignore_index=True)
    rows["rank"] = rows["cert_type"].map(CERT_RANK).fillna(NO_CERT_RANK)
    rows = rows.sort_values(["rank", "order"], kind="stable")
    grouped = rows.groupby("entity_id", sort=True)
    # groupby.first() takes each column's first non-null value in rank order
    entities = grouped[["entity_type", "name", "cert_type", "cert_number", "province",
                        "entity_filing_number"]].first()
    best = rows.drop_duplicates("entity_id").set_index("entity_id")
    for column in ("cert_type", "cert_number"):
        entities[column] = best[column]  # from one record, never mixed across records
    for column in ("name", "entity_type"):
        entities[column] = best[column].fillna(entities[column])
    flags = grouped[["has_cloud_resources", "resources_admin_differs"]].any()
    entities = entities.join(flags).reset_index()
    return entities[list(ENTITY_COLUMNS)].astype(object)


def _accounts(entities: pd.DataFrame) -> pd.DataFrame:
    cloud = entities["has_cloud_resources"].astype(bool)
    differs = entities["resources_admin_differs"].astype(bool) & cloud
    filing = pd.DataFrame({
        "account_id": entities["entity_id"].map(filing_account_id_for),
        "entity_id": entities["entity_id"],
        "account_kind": np.where(cloud & ~differs, "filing_and_resources", "filing"),
        "real_name_verification_required": cloud & ~differs,
    })
    resources = pd.DataFrame({
        "account_id": entities.loc[differs, "entity_id"].map(resources_account_id_for),
        "entity_id": entities.loc[differs, "entity_id"],
        "account_kind": "resources",
        "real_name_verification_required": True,
    })
    accounts = pd.concat([filing, resources], ignore_index=True)
    return accounts[list(ACCOUNT_COLUMNS)].sort_values("account_id").reset_index(
        drop=True).astype(object)
