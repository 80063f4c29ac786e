"""The expected outcome of a run: each record's disposition, entity and link, and the accounts.

An independent statement of the rules (domain.md, steps 1-7) applied to what each record
means, not to its text: the generator knows which certificate, filing number and domains a
dirty cell stands for. Vectorised over the ledger's arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .records import AFTER_CUTOFF, BAD_DATE, FILE_NAMES, FILES, ORG_CODE, RID15, USCC
from .writers import SITE_ID_BASE

PENDING, LOADED, DUPLICATE, OUT_OF_SCOPE, QUARANTINED, NEEDS_REVIEW = range(6)
DISPOSITIONS = ("", "loaded", "duplicate", "out_of_scope", "quarantined", "needs_review")
LINKS = ("same_certificate", "org_code_in_uscc", "upgraded_15_digit_id", "shared_filing_number",
         "name_fallback")
SAME, ORG_IN_USCC, UPGRADED, SHARED, NAME = range(5)
GROUND_TRUTH_COLUMNS = ("file", "locator", "disposition", "entity_key", "website_filing_number",
                        "link_kind", "note")


def _unique_links(left: pd.DataFrame, right: pd.DataFrame, on: str) -> pd.DataFrame:
    """Per record: how many entities its numbers (or name) reach, and one of them."""
    hits = left.merge(right, on=on)[["rec", "ent"]].drop_duplicates()
    return hits.groupby("rec")["ent"].agg(["nunique", "first"])


def resolve(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(disposition, entity index or -1, link kind or -1) for every ledger row."""
    n = len(c["seq"])
    disp = np.full(n, PENDING, np.int8)
    ent = np.full(n, -1, np.int64)
    link = np.full(n, -1, np.int8)

    def settle(mask: np.ndarray, value: int) -> None:
        disp[mask & (disp == PENDING)] = value

    # 1-3: unreadable; product and date; no usable website number
    settle(c["readable"] == 0, QUARANTINED)
    settle(c["product_ok"] == 0, OUT_OF_SCOPE)
    settle(c["date_state"] == BAD_DATE, QUARANTINED)
    settle(c["date_state"] == AFTER_CUTOFF, OUT_OF_SCOPE)
    settle(c["web_part"] < 0, QUARANTINED)

    # 4: identity
    cand = disp == PENDING
    key, kind = c["key"].astype(np.int64), c["cert_kind"]
    valid = cand & (key >= 0)
    ent[valid] = key[valid]
    link[valid] = SAME
    with_uscc = np.unique(key[valid & (kind == USCC)])
    link[valid & (kind == ORG_CODE) & np.isin(key, with_uscc)] = ORG_IN_USCC
    link[valid & (kind == RID15)] = UPGRADED

    has_eno = valid & (c["eno"] >= 0)
    carriers = pd.DataFrame({
        "num": np.concatenate([c["eno"][has_eno], c["web_part"][valid]]),
        "ent": np.concatenate([key[has_eno], key[valid]]),
    }).drop_duplicates()
    inv = np.nonzero(cand & (key < 0))[0]
    inv_eno = inv[c["eno"][inv] >= 0]
    numbers = pd.DataFrame({"rec": np.concatenate([inv_eno, inv]),
                            "num": np.concatenate([c["eno"][inv_eno], c["web_part"][inv]])})
    by_number = _unique_links(numbers, carriers, "num")
    one = by_number[by_number["nunique"] == 1]
    ent[one.index] = one["first"]
    link[one.index] = SHARED
    disp[by_number.index[by_number["nunique"] > 1]] = NEEDS_REVIEW

    rest = inv[~np.isin(inv, by_number.index)]
    orgs = rest[(c["is_org"][rest] == 1) & (c["nameprov"][rest] >= 0)]
    named = valid & (c["is_org"] == 1)
    names = pd.DataFrame({"np": c["nameprov"][named], "ent": key[named]}).drop_duplicates()
    by_name = _unique_links(pd.DataFrame({"rec": orgs, "np": c["nameprov"][orgs]}), names, "np")
    one = by_name[by_name["nunique"] == 1]
    ent[one.index] = one["first"]
    link[one.index] = NAME
    disp[by_name.index[by_name["nunique"] > 1]] = NEEDS_REVIEW
    settle((ent < 0) & cand, QUARANTINED)

    # 4b: different valid certificates stating one entity filing number may be one entity:
    # every record carrying either (or joined to either) waits for a person
    stated = pd.DataFrame({"eno": c["eno"][has_eno], "ent": key[has_eno]}).drop_duplicates()
    per_eno = stated.groupby("eno")["ent"].nunique()
    pairs = stated.loc[stated["eno"].isin(per_eno.index[per_eno > 1]), "ent"].unique()
    settle(cand & (ent >= 0) & np.isin(ent, pairs), NEEDS_REVIEW)

    # 5: one website number or one domain under two entities
    web = c["web_part"].astype(np.int64) * 1_000_000 + c["web_k"]
    res = np.nonzero(disp == PENDING)[0]
    frame = pd.DataFrame({"rec": res, "web": web[res], "ent": ent[res]})
    per_web = frame.groupby("web")["ent"].nunique()
    disputed = set(per_web.index[per_web > 1])
    doms = pd.DataFrame({"rec": c["dom_rec"], "dom": c["dom_id"]})
    doms = doms.merge(frame, on="rec")
    per_dom = doms.groupby("dom")["ent"].nunique()
    disputed |= set(doms.loc[doms["dom"].isin(per_dom.index[per_dom > 1]), "web"])
    settle(np.isin(web, list(disputed)) & (ent >= 0), NEEDS_REVIEW)

    # 6-7: the first record of an (entity, website) in run order loads, later ones duplicate
    res = np.nonzero(disp == PENDING)[0]
    res = res[np.lexsort((c["seq"][res], c["file"][res]))]
    dup = pd.DataFrame({"ent": ent[res], "web": web[res]}).duplicated().to_numpy()
    disp[res[dup]] = DUPLICATE
    disp[res[~dup]] = LOADED

    held = (disp != LOADED) & (disp != DUPLICATE)
    ent[held] = -1
    link[held] = -1
    return disp, ent, link


def write_ground_truth(path: Path, c: dict[str, np.ndarray], keys: Sequence[str],
                       numbers: Sequence[str], note_paths: dict[str, Path],
                       chunk: int = 200_000) -> tuple[dict[str, int], np.ndarray]:
    """Write ground_truth.csv in run order; return disposition counts and loaded entities."""
    disp, ent, link = resolve(c)
    keys_arr, numbers_arr = np.asarray(keys, dtype=object), np.asarray(numbers, dtype=object)
    order = np.lexsort((c["seq"], c["file"]))
    header = True
    for code, file in enumerate(FILES):
        rows = order[c["file"][order] == code]
        with note_paths[file].open(encoding="utf-8") as notes:
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                frame = _rows(file, part, c, disp, ent, link, keys_arr, numbers_arr)
                frame["note"] = [notes.readline().rstrip("\n") for _ in range(len(part))]
                frame.to_csv(path, mode="w" if header else "a", header=header, index=False,
                             encoding="utf-8", lineterminator="\n")
                header = False
    if header:
        pd.DataFrame(columns=list(GROUND_TRUTH_COLUMNS)).to_csv(path, index=False)
    counts = np.bincount(disp, minlength=len(DISPOSITIONS))
    return ({d: int(n) for d, n in zip(DISPOSITIONS, counts, strict=True) if d and n},
            np.unique(ent[disp == LOADED]))


def _rows(file: str, part: np.ndarray, c: dict[str, np.ndarray], disp: np.ndarray,
          ent: np.ndarray, link: np.ndarray, keys: np.ndarray,
          numbers: np.ndarray) -> pd.DataFrame:
    seq = c["seq"][part].astype(np.int64)
    if file == "db":
        loc = "sites.site_id=" + pd.Series(SITE_ID_BASE + seq).astype(str)
    else:
        loc = "line " + pd.Series(seq + (1 if file == "jsonl" else 2)).astype(str)
    web_part, k = c["web_part"][part], c["web_k"][part]
    usable = (web_part >= 0) & (c["readable"][part] == 1)
    website = np.full(len(part), "", dtype=object)
    website[usable] = (pd.Series(numbers[web_part[usable]]) + "-"
                       + pd.Series(k[usable]).astype(str)).to_numpy()
    e, lk = ent[part], link[part]
    key_col = np.full(len(part), "", dtype=object)
    key_col[e >= 0] = keys[e[e >= 0]]
    return pd.DataFrame({
        "file": FILE_NAMES[file], "locator": loc.to_numpy(),
        "disposition": np.asarray(DISPOSITIONS, dtype=object)[disp[part]],
        "entity_key": key_col, "website_filing_number": website,
        "link_kind": np.where(lk >= 0, np.asarray(LINKS, dtype=object)[np.maximum(lk, 0)], ""),
    })


def accounts(loaded: np.ndarray, keys: Sequence[str], clouds: Sequence[str]) -> pd.DataFrame:
    """One row per account: rule 4 of domain.md, for entities with a loaded record."""
    rows = []
    for i in loaded:
        cloud = clouds[i]
        if cloud == "same":
            rows.append((keys[i], "filing_and_resources", "true"))
        else:
            rows.append((keys[i], "filing", "false"))
            if cloud == "different":
                rows.append((keys[i], "resources", "true"))
    frame = pd.DataFrame(rows, columns=["entity_key", "account_kind",
                                        "real_name_verification_required"])
    return frame.sort_values(["entity_key", "account_kind"], ignore_index=True)
