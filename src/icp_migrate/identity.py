"""Stable ids: an entity's id is derived from its identity key, an account's from its entity.

Identity keys (see transforms/certificates.py) are `ORG:<9-char organization code>` for a
USCC or an old organization code, `BL:<15 digits>` for a business registration number,
`RID:<18-char resident ID>` (15-digit IDs upgraded first), and `PASSPORT:`, `HKMO:`,
`TW:` + the number as given. Deriving ids from keys makes them the same in every run and
every later batch, in any target, without a lookup.
"""

from __future__ import annotations

import hashlib

import pandas as pd

_NAMESPACE = "icp-migrate/v1/"


def _digest(text: str) -> str:
    return hashlib.sha256((_NAMESPACE + text).encode("utf-8")).hexdigest()[:20]


def entity_id_for(identity_key: str) -> str:
    return "ent_" + _digest("entity/" + identity_key)


def filing_account_id_for(entity_id: str) -> str:
    """The entity's filing account; its kind may later widen to filing_and_resources."""
    return "acc_" + _digest("filing/" + entity_id)


def resources_account_id_for(entity_id: str) -> str:
    return "acc_" + _digest("resources/" + entity_id)


def entity_ids(keys: pd.Series) -> pd.Series:
    """Vectorised over unique keys: ids for a column of identity keys (None stays None)."""
    uniq = keys.dropna().unique()
    table = {k: entity_id_for(k) for k in uniq}
    return keys.map(table)

