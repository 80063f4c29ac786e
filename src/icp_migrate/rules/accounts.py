"""The account plan (domain.md rule 4): entities, their accounts, websites and domains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..identity import filing_account_id_for, resources_account_id_for
from ..plan import ACCOUNT_COLUMNS, ENTITY_COLUMNS, WEBSITE_COLUMNS, Plan

# Which record describes an entity best: a USCC or 18-digit ID over older certificates.
CERT_RANK = {"uscc": 0, "resident_id": 0, "passport": 1, "hk_macao_permit": 1,
             "taiwan_permit": 1, "org_code": 2, "business_license": 3}
NO_CERT_RANK = 9
# What plan_accounts reads of a kept record (the rest of a record is not carried into it).
KEPT_COLUMNS = ("row_id", "disposition", "entity_id", "preferred", "entity_type",
                "entity_name", "cert_type", "cert_valid", "cert_number", "province",
                "entity_filing_number", "website_entity_number", "has_cloud", "admin_email",
                "cloud_admin_email", "website_filing_number", "product", "website_name",
                "homepage", "filed_on", "member_id")


def plan_accounts(kept: pd.DataFrame, domains: pd.DataFrame, snapshot: Plan) -> Plan:
    """Plan frames for the entities of `kept` (loaded and duplicate records with entity_id).

    Entity attributes and cloud flags combine what the store holds with the new records:
    the store's entity comes first among equals, so a later batch never downgrades a
    USCC to an old organization code, and cloud flags only widen.

    Each account's `admin_email` is picked like the entity's province (`_entities`): the
    first e-mail known among the entity's rows ordered by certificate rank (a merge's
    preferred record first), then the store's row, then input order. A filing or
    filing_and_resources account takes the records' `admin_email` (the store's: its filing
    account's e-mail); a resources account the `cloud_admin_email` of the records whose
    resources administrator differs from the filing one (the store's: its resources
    account's e-mail). So a rerun picks what the store holds, an account stored without
    an e-mail (before revision 0007) gets the records' one, and only a better-described
    record replaces a stored e-mail (a history row, rules/history.py).
    """
    entities, emails = _entities(kept, snapshot.entities, snapshot.accounts)
    filing_ids = pd.Series([filing_account_id_for(e) for e in entities["entity_id"]],
                           index=entities["entity_id"].to_numpy(), dtype=object)
    accounts = _accounts(entities, filing_ids, emails)
    loaded = kept[kept["disposition"].eq("loaded")]
    websites = pd.DataFrame({
        "website_filing_number": loaded["website_filing_number"],
        "account_id": loaded["entity_id"].map(filing_ids),
        "entity_id": loaded["entity_id"],
        "product": loaded["product"],
        "website_name": loaded["website_name"],
        "homepage": loaded["homepage"],
        "filed_on": loaded["filed_on"].dt.date,
        "member_id": loaded["member_id"],
    })[list(WEBSITE_COLUMNS)]
    return Plan(entities=entities, accounts=accounts,
                website_filings=sorted_by(websites, "website_filing_number").astype(object),
                domains=sorted_by(domains, "domain").astype(object))


def sorted_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The frame ordered by one text column (code point order, nulls last, ties kept in
    order), index reset: pyarrow's sort, several times faster than pandas' on text."""
    return frame.take(text_order(frame[column])).reset_index(drop=True)


def text_order(values: pd.Series | pa.ChunkedArray) -> np.ndarray:
    """The positions that sort `values` (text) as `sorted_by` does: Python's order of str,
    which is the order of their UTF-8 bytes, Arrow's (a stable sort, nulls last)."""
    keys = values if isinstance(values, pa.ChunkedArray) else pa.array(
        values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    return pc.array_sort_indices(keys, null_placement="at_end").to_numpy()


def _entities(kept: pd.DataFrame, stored: pd.DataFrame,
              stored_accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The entities (ENTITY_COLUMNS) and each entity's administrator e-mails
    (`entity_id`, `filing_email`, `resources_email`), picked in one order."""
    differs = (kept["has_cloud"] & kept["cloud_admin_email"].notna()
               & kept["cloud_admin_email"].ne(kept["admin_email"]))
    new = pd.DataFrame({
        "entity_id": kept["entity_id"],
        "entity_type": kept["entity_type"],
        "name": kept["entity_name"],
        "cert_type": kept["cert_type"].where(kept["cert_valid"], None),
        "cert_number": kept["cert_number"].where(kept["cert_valid"], None),
        "province": kept["province"],
        "entity_filing_number": kept["entity_filing_number"].fillna(
            kept["website_entity_number"]),
        "stated_number": kept["entity_filing_number"],
        "has_cloud_resources": kept["has_cloud"],
        "resources_admin_differs": differs,
        "filing_email": kept["admin_email"],
        "resources_email": kept["cloud_admin_email"].where(differs, None),
        "order": 1 + kept["row_id"].astype("int64"),
        # a merge decision names the certificate the merged entity goes under
        "preferred": kept["preferred"] if "preferred" in kept else False,
    })
    old = stored[stored["entity_id"].isin(new["entity_id"])]
    old = old.assign(order=0, stated_number=old["entity_filing_number"].where(
        old["entity_number_stated"].fillna(False).astype(bool), None))
    old = old.merge(_stored_emails(stored_accounts), on="entity_id", how="left")
    rows = pd.concat([old, new], ignore_index=True)
    rank = rows["cert_type"].map(CERT_RANK).fillna(NO_CERT_RANK).to_numpy(dtype="float64",
                                                                         copy=True)
    rank[rows["preferred"].fillna(False).to_numpy(dtype=bool)] = -1
    codes, ids = pd.factorize(rows["entity_id"], sort=True)
    # each entity's rows best first: by certificate rank, then the store's row, then input order
    order = np.lexsort((rows["order"].to_numpy(dtype="int64"), rank, codes))
    codes = codes[order]
    starts = _run_starts(codes)  # each entity's best row
    entities = pd.DataFrame({"entity_id": np.asarray(ids, dtype=object)})
    for column in ("entity_type", "name", "cert_type", "cert_number", "province",
                   "entity_filing_number", "filing_email", "resources_email"):
        values = rows[column].to_numpy(dtype=object)[order]
        if column in ("cert_type", "cert_number"):  # from one record, never mixed
            entities[column] = values[starts]
            continue
        present = np.flatnonzero(pd.notna(values))  # each entity's first non-null value
        first = np.full(len(ids), None, dtype=object)
        firsts = present[_run_starts(codes[present])]
        first[codes[firsts]] = values[firsts]
        if column in ("name", "entity_type"):  # the best row's, else the first known
            best = values[starts]
            first = np.where(pd.notna(best), best, first)
        entities[column] = first
    stated = rows[["entity_id", "stated_number"]].dropna().drop_duplicates()
    stated = stated.assign(entity_number_stated=True).rename(
        columns={"stated_number": "entity_filing_number"})
    entities = entities.merge(stated.drop_duplicates(["entity_id", "entity_filing_number"]),
                              on=["entity_id", "entity_filing_number"], how="left")
    entities["entity_number_stated"] = entities["entity_number_stated"].fillna(False).astype(
        bool)
    for column in ("has_cloud_resources", "resources_admin_differs"):  # any row's flag
        flags = rows[column].fillna(False).to_numpy(dtype=bool)[order]
        entities[column] = np.bincount(codes, weights=flags, minlength=len(ids)) > 0
    emails = entities[["entity_id", "filing_email", "resources_email"]].astype(object)
    return entities[list(ENTITY_COLUMNS)].astype(object), emails


def _stored_emails(accounts: pd.DataFrame) -> pd.DataFrame:
    """Each stored entity's filing and resources account e-mails (None when not held)."""
    resources = accounts["account_kind"].eq("resources")
    emails = accounts["admin_email"].astype(object)
    frame = pd.DataFrame({"entity_id": accounts["entity_id"],
                          "filing_email": emails.where(~resources, None),
                          "resources_email": emails.where(resources, None)})
    return frame.groupby("entity_id", sort=False).first().reset_index()


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """Positions where a run of equal codes (sorted) begins."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def _accounts(entities: pd.DataFrame, filing_ids: pd.Series,
              emails: pd.DataFrame) -> pd.DataFrame:
    cloud = entities["has_cloud_resources"].astype(bool)
    differs = entities["resources_admin_differs"].astype(bool) & cloud
    filing = pd.DataFrame({
        "account_id": filing_ids.to_numpy(),
        "entity_id": entities["entity_id"],
        "account_kind": np.where(cloud & ~differs, "filing_and_resources", "filing"),
        "real_name_verification_required": cloud & ~differs,
        "admin_email": emails["filing_email"].to_numpy(),
    })
    resources = pd.DataFrame({
        "account_id": entities.loc[differs, "entity_id"].map(resources_account_id_for),
        "entity_id": entities.loc[differs, "entity_id"],
        "account_kind": "resources",
        "real_name_verification_required": True,
        "admin_email": emails.loc[differs, "resources_email"].to_numpy(),
    })
    accounts = pd.concat([filing, resources], ignore_index=True)[list(ACCOUNT_COLUMNS)]
    return sorted_by(accounts, "account_id").astype(object)
