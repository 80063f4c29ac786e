"""`explain KEY`: why the target holds what it holds about one entity or record. `parse_key`
and `build` are pure (the model, masked, JSON-able); `gather` asks the store."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ..errors import UsageError
from ..masking import mask, mask_email, mask_key, mask_text
from ..rules.steps import STEPS
from ..store import explain as store
from ..transforms.icp_numbers import parse_filing_number

KEY_FORMS = ("a website or entity filing number, ent_…, acc_…, or SOURCE:LINE "
             "(hichina_beian.csv:12, hichina_beian.csv:line 12, "
             "hichina_legacy.db:sites.site_id=10000001)")
_ID = re.compile(r"^(ent|acc)_[0-9a-f]{8,}$")
_STEP_OF = {step.name: step.number for step in STEPS}
_IDENTITY_KINDS = ("number", "name", "certificates")  # conflicts of step 4 (identity)


def parse_key(key: str) -> tuple[str, Any]:
    """(kind, value): entity, account, website, entity_number, or record (source, locator)."""
    key = key.strip()
    found = _ID.match(key)
    if found:
        return ("entity" if found.group(1) == "ent" else "account"), key
    if "ICP" in key.upper() and ":" not in key:
        entity_number, website, problem = parse_filing_number(key)
        if problem is None:
            return ("website", website) if website else ("entity_number", entity_number)
    if ":" in key:
        source, locator = (part.strip() for part in key.rsplit(":", 1))
        if source and locator:
            return "record", (source, f"line {locator}" if locator.isdigit() else locator)
    raise UsageError(f"cannot read {key!r} as a key: expected {KEY_FORMS}")


def matching_sources(known: list[str], given: str) -> list[str]:
    """The stored sources (absolute paths, URLs) that `given` names: itself, or its last
    path parts (`hichina_beian.csv`, `samples/hichina_beian.csv`)."""
    tail = given.replace("\\", "/").lstrip("./")
    return [s for s in known if s == given or s.replace("\\", "/").endswith("/" + tail)]


def gather(engine: Engine, key: str) -> dict[str, Any]:
    """The explanation of `key` from the target's latest state; UsageError if it names
    nothing there."""
    kind, value = parse_key(key)
    with engine.connect() as c:
        entity_id: str | None = None
        records = None
        if kind == "record":
            records = store.records_at(c, matching_sources(store.sources(c), value[0]),
                                       value[1])
            linked = records["entity_id"].dropna()
            entity_id = str(linked.iloc[0]) if len(linked) else None
        else:
            named = store.entities_named(c, kind, value)
            if len(named) > 1:
                raise UsageError(f"{key} names several entities: {', '.join(named)}")
            entity_id = named[0] if named else None
            if entity_id is None and kind == "website":
                records = store.records_of_website(c, value)
        if entity_id is None and (records is None or records.empty):
            raise UsageError(f"{key} matches nothing in the target")
        if entity_id is None:
            assert records is not None
            held = records["conflict_key"].dropna().tolist()
            return build(key, kind, None, [], _empty(), _empty(), records,
                         store.conflicts(c, "", held), _empty())
        focus = records
        records = store.records_of_entity(c, entity_id)
        accounts = store.accounts(c, entity_id)
        websites = store.websites(c, entity_id)
        held = records["conflict_key"].dropna().tolist()
        keys = {entity_id, *accounts["account_id"], *websites["website_filing_number"],
                *websites["domain"].dropna(), *records["website_filing_number"].dropna()}
        conflicts = store.conflicts(c, entity_id, held)
        entity = store.entity(c, entity_id) or claimant(entity_id, conflicts)
        model = build(key, kind, entity, store.names(c, entity_id), accounts, websites,
                      records, conflicts, store.changes(c, keys))
    if focus is not None:
        model["key"]["records"] = [_record(r) for r in focus.itertuples(index=False)]
    return model


def claimant(entity_id: str, conflicts: pd.DataFrame) -> dict[str, Any]:
    """An entity never loaded (it competes in conflicts only), as its conflicts describe it."""
    described = conflicts[conflicts["claimant"] == entity_id] if len(conflicts) else conflicts
    first = described.iloc[0] if len(described) else {}
    return {"entity_id": entity_id, "name": first.get("name"),
            "cert_type": first.get("cert_type"), "cert_number": first.get("cert_number")}


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]


def build(key: str, kind: str, entity: dict[str, Any] | None, names: list[str],
          accounts: pd.DataFrame, websites: pd.DataFrame, records: pd.DataFrame,
          conflicts: pd.DataFrame, changes: pd.DataFrame) -> dict[str, Any]:
    """The explanation as one JSON-able object, personal data masked: certificates whole
    (they are known to be personal), free text (reasons, warnings, values) by shape."""
    return {
        "key": {"key": key, "kind": kind},
        "entity": _entity(entity, names),
        "accounts": [_account(a, entity or {}, websites) for a in accounts.itertuples()],
        "records": [_record(r) for r in records.itertuples(index=False)],
        "conflicts": _conflicts(conflicts),
        "changes": [{"run_id": g.run_id, "seq": int(g.seq), "subject": g.subject,
                     "subject_key": g.subject_key, "field": g.field,
                     "old_value": _masked(g.old_value), "new_value": _masked(g.new_value),
                     "cause": _text(g.cause)} for g in changes.itertuples()],
    }


def _masked(value: object) -> str | None:
    shown = _text(value)
    return None if shown is None else mask_text(shown)


def _entity(row: dict[str, Any] | None, names: list[str]) -> dict[str, Any] | None:
    if row is None:
        return None
    own = _text(row.get("name"))
    aliases = [n for n in (name.split("|", 1)[-1] for name in names) if n != own]
    return {"entity_id": row["entity_id"], "entity_type": _text(row.get("entity_type")),
            "name": own, "aliases": sorted(set(aliases)),
            "cert_type": _text(row.get("cert_type")), "cert_number": mask(row.get("cert_number")),
            "province": _text(row.get("province")),
            "entity_filing_number": _text(row.get("entity_filing_number")),
            "has_cloud_resources": bool(row.get("has_cloud_resources")),
            "resources_admin_differs": bool(row.get("resources_admin_differs"))}


def account_reason(kind: str, has_resources: bool, admin_differs: bool) -> str:
    """Why an account has its kind (rule R4), from the entity's stored flags."""
    if not has_resources:
        return "R4: no cloud resources in the legacy data: one filing account"
    if kind == "filing_and_resources":
        return ("R4: cloud resources with the same administrator as the filings (or none "
                "named): one account, real-name verification required")
    if kind == "resources":
        return ("R4: cloud resources under a different administrator: a separate resources "
                "account, real-name verification required")
    if admin_differs:
        return ("R4: cloud resources under a different administrator: the filing account "
                "needs no real-name verification, the resources have their own account")
    return "R4: filing account"


def _account(a: Any, entity: dict[str, Any], websites: pd.DataFrame) -> dict[str, Any]:
    own = websites[websites["account_id"] == a.account_id] if len(websites) else websites
    listed = [{"website_filing_number": number,
               "website_name": _text(group["website_name"].iloc[0]),
               "domains": group["domain"].dropna().tolist()}
              for number, group in (own.groupby("website_filing_number", sort=True)
                                    if len(own) else [])]
    return {"account_id": a.account_id, "account_kind": a.account_kind,
            "real_name_verification_required": bool(a.real_name_verification_required),
            "admin_email": mask_email(_text(a.admin_email)),
            "why": account_reason(a.account_kind, bool(entity.get("has_cloud_resources")),
                                  bool(entity.get("resources_admin_differs"))),
            "websites": listed}


def deciding_step(disposition: str, reasons: str | None, conflict_key: str | None) -> str:
    """The step of the disposition order (docs/rules.md) that decided a record."""
    head = (reasons or "").split(":", 1)[0].split(";", 1)[0].strip()
    if head in _STEP_OF:
        return f"step {_STEP_OF[head]}: {head}"
    if disposition == "out_of_scope":
        return ("step 2: product_migrated" if (reasons or "").startswith("product")
                else "step 2: filed_before_cutoff")
    if disposition == "needs_review":
        kind = (conflict_key or "").split(":", 1)[0]
        return ("step 4: identity" if kind in _IDENTITY_KINDS
                else f"step 5: disputed {kind or 'key'}")
    if disposition == "quarantined":
        return ("a review decision" if "decision" in (reasons or "") or "decided" in
                (reasons or "") else "step 4: identity")
    return {"duplicate": "step 6: duplicate", "loaded": "step 7: loaded"}.get(
        disposition, disposition)


def _record(r: Any) -> dict[str, Any]:
    reasons = _text(r.reasons)
    candidates = _text(r.candidates)
    return {"source": r.source, "locator": r.locator, "run_id": r.run_id,
            "member_id": _text(r.member_id), "disposition": r.disposition,
            "step": deciding_step(r.disposition, reasons, _text(r.conflict_key)),
            "reasons": _masked(reasons), "warnings": _masked(r.warnings),
            "entity_id": _text(r.entity_id),
            "website_filing_number": _text(r.website_filing_number),
            "link_kind": _text(r.link_kind), "link_key": mask_key(r.link_key) or None,
            "conflict_id": _text(r.conflict_key),
            "candidates": candidates.split(";") if candidates else []}


def _conflicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for conflict_id, rows in (frame.groupby("conflict_id", sort=True) if len(frame) else []):
        first = rows.iloc[0]
        decided = _text(first["decision"])
        out.append({
            "conflict_id": conflict_id, "kind": first["kind"],
            "opened_run_id": first["opened_run_id"], "status": "decided" if decided else "open",
            "decision": decided, "chosen": _text(first["chosen"]),
            "decided_by": _text(first["decided_by"]), "decided_at": _text(first["decided_at"]),
            "competitors": [{
                "claimant": k.claimant, "owner": _text(k.owner), "role": _text(k.role),
                "cert_type": _text(k.cert_type), "cert_number": mask(k.cert_number),
                "name": _text(k.name), "websites": _text(k.websites),
                "domains": _text(k.domains), "records": _text(k.records)}
                for k in rows.itertuples()]})
    return out
