"""The target's change history: every stored value a run replaces, with its cause.

A known website changes only by a review decision (`assign` moves it, `replace` loads a
new version); otherwise the store's row stays as it is. Domains move with decisions or
are removed with the version they belonged to; account kinds and real-name flags widen
by rule 4. An account's administrator e-mail filled in where the store held none (an
account loaded before revision 0007) replaces nothing and is no change; a stored e-mail
replaced by another (a better-described record, rules/accounts.py) is.
"""

from __future__ import annotations

import pandas as pd

from ..plan import CHANGE_COLUMNS, WEBSITE_COLUMNS, Plan, empty_frame
from ..transforms.text import is_in

WEBSITE_FIELDS = ("entity_id", "account_id", "product", "website_name", "homepage",
                  "filed_on", "member_id")
ACCOUNT_RULE = "rule 4: cloud resources (account flags only widen)"
# The account fields whose change is an "account kind changed" (rules/preview.py).
ACCOUNT_KIND_FIELDS = ("account_kind", "real_name_verification_required")
EMAIL_RULE = "rule 4: the administrator e-mail of the best-described record"
_SUBJECT_ORDER = {"website": 0, "domain": 1, "account": 2}
_ACCOUNT_FIELD_ORDER = {name: rank for rank, name in enumerate((*ACCOUNT_KIND_FIELDS,
                                                                 "admin_email"))}


def keep_known_websites(planned: pd.DataFrame, stored: pd.DataFrame,
                        causes: dict[str, str]) -> pd.DataFrame:
    """Planned websites, with the store's row for every known website no decision changes
    (the same content brought again changes nothing, not even fields outside the
    comparison such as the homepage)."""
    known = is_in(planned["website_filing_number"], stored["website_filing_number"]) & ~is_in(
        planned["website_filing_number"], causes)
    if not known.any():
        return planned
    rows = stored.set_index("website_filing_number").loc[
        planned.loc[known, "website_filing_number"]].reset_index()
    rows.index = planned.index[known]
    rows["filed_on"] = pd.to_datetime(rows["filed_on"]).dt.date.astype(object)
    out = planned.copy()
    out.loc[known, list(WEBSITE_COLUMNS)] = rows[list(WEBSITE_COLUMNS)].astype(object)
    return out


def changes(planned: Plan, snapshot: Plan, causes: dict[str, str],
            removed_domains: list[str]) -> pd.DataFrame:
    """CHANGE_COLUMNS: one row per stored value the plan replaces or removes."""
    parts = [_websites(planned.website_filings, snapshot.website_filings, causes),
             _domains(planned.domains, snapshot.domains, causes, removed_domains),
             _accounts(planned.accounts, snapshot.accounts)]
    return numbered([p for p in parts if len(p)])


def numbered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """CHANGE_COLUMNS: the rows of `parts` (without `seq`, or with it: it is made again) in
    the history's order, numbered: websites by number and field, then domains by domain,
    then accounts field by field, each by account id. The history of a whole run and the
    rows of its parts (rules/parts.py) come out the same."""
    if not parts:
        return empty_frame(CHANGE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    subject = out["subject"].map(_SUBJECT_ORDER)
    account = subject.eq(_SUBJECT_ORDER["account"])
    keys = pd.DataFrame({
        "subject": subject,
        "account_field": out["field"].map(_ACCOUNT_FIELD_ORDER).where(account, 0),
        "key": out["subject_key"],
        "field": out["field"].where(subject.eq(_SUBJECT_ORDER["website"]), ""),
    })
    order = keys.sort_values(list(keys.columns), kind="stable").index
    out = out.loc[order].reset_index(drop=True)
    out["seq"] = range(len(out))
    return out[list(CHANGE_COLUMNS)].astype(object)


def _text(values: pd.Series) -> pd.Series:
    """Values as the history shows them: dates as YYYY-MM-DD, nulls as None."""
    def shown(v: object) -> str | None:
        if v is None or v != v:
            return None
        strftime = getattr(v, "strftime", None)
        return strftime("%Y-%m-%d") if strftime else str(v)
    return values.astype(object).map(shown).astype(object)


def _websites(new: pd.DataFrame, old: pd.DataFrame, causes: dict[str, str]) -> pd.DataFrame:
    """Only a decision changes a stored website (keep_known_websites keeps the others)."""
    new = new[is_in(new["website_filing_number"], causes)]
    both = new.merge(old, on="website_filing_number", suffixes=("", "_old"))
    rows = []
    for name in WEBSITE_FIELDS:
        before, after = _text(both[f"{name}_old"]), _text(both[name])
        differs = before.ne(after) & ~(before.isna() & after.isna())
        rows.append(pd.DataFrame({
            "subject": "website", "subject_key": both.loc[differs, "website_filing_number"],
            "field": name, "old_value": before[differs], "new_value": after[differs],
            "cause": both.loc[differs, "website_filing_number"].map(causes)}))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["subject_key", "field"], kind="stable")


def _domains(new: pd.DataFrame, old: pd.DataFrame, causes: dict[str, str],
             removed: list[str]) -> pd.DataFrame:
    both = new.merge(old, on="domain", suffixes=("", "_old"))
    moved = both[both["website_filing_number"].ne(both["website_filing_number_old"])]
    cause = moved["domain"].map(causes).fillna(moved["website_filing_number"].map(causes))
    gone = old[old["domain"].isin(removed)]
    return pd.concat([
        pd.DataFrame({"subject": "domain", "subject_key": moved["domain"],
                      "field": "website_filing_number",
                      "old_value": moved["website_filing_number_old"],
                      "new_value": moved["website_filing_number"], "cause": cause}),
        pd.DataFrame({"subject": "domain", "subject_key": gone["domain"],
                      "field": "website_filing_number",
                      "old_value": gone["website_filing_number"], "new_value": None,
                      "cause": gone["website_filing_number"].map(causes)})],
        ignore_index=True).sort_values("subject_key", kind="stable")


def _accounts(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    both = new.merge(old, on="account_id", suffixes=("", "_old"))
    rows = []
    for name in ACCOUNT_KIND_FIELDS:
        differs = both[f"{name}_old"].astype(str).ne(both[name].astype(str))
        before, after = _text(both.loc[differs, f"{name}_old"]), _text(both.loc[differs, name])
        rows.append(pd.DataFrame({
            "subject": "account", "subject_key": both.loc[differs, "account_id"],
            "field": name, "old_value": before, "new_value": after, "cause": ACCOUNT_RULE}))
    # an e-mail filled in where none was stored is no change; one replaced is
    before, after = _text(both["admin_email_old"]), _text(both["admin_email"])
    replaced = before.notna() & after.notna() & before.ne(after)
    rows.append(pd.DataFrame({
        "subject": "account", "subject_key": both.loc[replaced, "account_id"],
        "field": "admin_email", "old_value": before[replaced], "new_value": after[replaced],
        "cause": EMAIL_RULE}))
    return pd.concat(rows, ignore_index=True)


def finish_plan(planned: Plan, snapshot: Plan, causes: dict[str, str],
                removed_domains: list[str]) -> Plan:
    """The account plan made safe for the store: known websites kept unless a decision
    changes them, and the history of what it replaces."""
    planned.website_filings = keep_known_websites(planned.website_filings,
                                                  snapshot.website_filings, causes)
    planned.changes = changes(planned, snapshot, causes, removed_domains)
    planned.removed_domains = pd.DataFrame({"domain": pd.Series(removed_domains, dtype=object)})
    return planned
