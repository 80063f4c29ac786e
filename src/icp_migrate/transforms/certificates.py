"""Certificates: normalized numbers, validity, and the identity key naming the entity."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..canonical import CERT_TYPES, ORGANIZATION_CERTS, PERSON_CERTS
from ..mapping_messages import vocabulary_key
from .checkdigits import mod_11_10_valid, org_code_valid, ric_check_chars, ric_check_ok, uscc_valid
from .text import compact, map_bulk, simple_compact

KEY_PREFIX = {
    "uscc": "ORG:", "org_code": "ORG:", "business_license": "BL:", "resident_id": "RID:",
    "passport": "PASSPORT:", "hk_macao_permit": "HKMO:", "taiwan_permit": "TW:",
}
_DOCUMENT = re.compile(r"^[A-Z0-9]{5,20}$")
# first two digits of a resident ID: province-level area codes of GB/T 2260
_PROVINCE_CODES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
                   "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54",
                   "61", "62", "63", "64", "65", "71", "81", "82", "83", "91"}


def clean_number(raw: str) -> str:
    """NFKC, no spaces, dashes or brackets around a check character, upper case."""
    return re.sub(r"[-_.()（）]", "", compact(raw)).upper()


def _clean_in_bulk(text: pa.Array) -> pa.Array:
    """clean_number of nfkc'd simple values (text.py)."""
    return pc.utf8_upper(pc.replace_substring_regex(simple_compact(text), r"[-_.()]", ""))


def normalize_certificates(frame: pd.DataFrame) -> pd.DataFrame:
    """From `cert_type`, `cert_number`, `entity_type`: the certificate columns of a record.

    Returns cert_type (resolved from the number's shape where the stated type does not
    fit), cert_number (normalized; 15-digit IDs upgraded to 18), cert_valid, cert_key
    (identity key, None unless valid), cert_upgraded (a 15-digit ID was upgraded),
    cert_problem (why it is not valid) and cert_warning.
    """
    layout = frame["layout"] if "layout" in frame else pd.Series(None, index=frame.index)
    number = map_bulk(frame["cert_number"], _clean_in_bulk, clean_number).astype("str")
    number = number.where(number.notna() & (number != ""), None)
    stated = frame["cert_type"].where(frame["cert_type"].isin(CERT_TYPES), None)
    person = frame["entity_type"].eq("individual") | stated.isin(PERSON_CERTS)
    length = number.str.len()
    digits = number.str.fullmatch(r"\d+").fillna(False).astype(bool)
    resolved = stated.copy()
    organization = ~person & (stated.isna() | stated.isin(ORGANIZATION_CERTS))
    resolved[organization & (length == 18)] = "uscc"
    resolved[organization & (length == 9)] = "org_code"
    resolved[organization & (length == 15) & digits] = "business_license"
    resident = person & (stated.isna() | stated.eq("resident_id"))
    resolved[resident & length.isin([15, 18])] = "resident_id"

    out = pd.DataFrame(index=frame.index)
    out["cert_type"] = resolved.astype(object)
    out["cert_number"] = number.astype(object)
    out["cert_upgraded"] = False
    valid = pd.Series(False, index=frame.index)

    def check(kind: str, test) -> None:
        rows = resolved.eq(kind) & number.notna()
        if rows.any():
            valid[rows] = test(number[rows].to_numpy(dtype=object))

    check("uscc", uscc_valid)
    check("org_code", org_code_valid)
    check("business_license", mod_11_10_valid)
    for kind in ("passport", "hk_macao_permit", "taiwan_permit"):
        check(kind, lambda v: np.array([bool(_DOCUMENT.match(x)) for x in v], dtype=bool))
    _resident_ids(out, valid, resolved.eq("resident_id") & number.notna())

    out["cert_valid"] = valid.astype(bool)
    prefix = resolved.map(KEY_PREFIX).astype(object)  # "str" + all-None object fails
    body = out["cert_number"].where(~resolved.eq("uscc"), out["cert_number"].str[8:17])
    out["cert_key"] = (prefix + body).where(out["cert_valid"], None).astype(object)
    out["cert_problem"] = _problems(out, stated, frame["cert_type"], layout)
    area = out["cert_number"].str[:2]
    unknown_area = out["cert_valid"] & resolved.eq("resident_id") & ~area.isin(_PROVINCE_CODES)
    out["cert_warning"] = pd.Series(None, index=frame.index, dtype=object).mask(
        unknown_area, "resident ID area code not in GB/T 2260")
    # a valid number whose stated type is unknown: kept, and the author told what to add
    told = out["cert_valid"] & frame["cert_type"].notna() & stated.isna()
    if told.any():
        out.loc[told, "cert_warning"] = [
            ("" if pd.isna(w) else f"{w}; ")
            + f"certificate type {t!r} is unknown (read as {k} from the number): "
            + vocabulary_key("cert_type", None if pd.isna(m) else str(m))
            for w, t, k, m in zip(out.loc[told, "cert_warning"], frame.loc[told, "cert_type"],
                                  resolved[told], layout[told], strict=True)]
    return out


def _resident_ids(out: pd.DataFrame, valid: pd.Series, rows: pd.Series) -> None:
    """Validate 18-digit IDs; upgrade valid 15-digit ones (insert 19, add check char)."""
    number = out["cert_number"]
    short = rows & number.str.fullmatch(r"\d{15}").fillna(False).astype(bool)
    if short.any():
        head = (number[short].str[:6] + "19" + number[short].str[6:]).to_numpy(dtype=object)
        upgraded = pd.Series(head + ric_check_chars(head), index=number[short].index)
        out.loc[short, "cert_number"] = upgraded
        out.loc[short, "cert_upgraded"] = True
    long_rows = rows & out["cert_number"].str.len().eq(18)
    if not long_rows.any():
        return
    ids = out.loc[long_rows, "cert_number"]
    births = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
    plausible = births.notna() & (births.dt.year >= 1900) & (births <= pd.Timestamp.now())
    valid[long_rows] = ric_check_ok(ids.to_numpy(dtype=object)) & plausible.to_numpy()


def _problems(out: pd.DataFrame, stated: pd.Series, raw_type: pd.Series,
              layout: pd.Series) -> pd.Series:
    """Why a certificate is not valid, in words (None when valid).

    A stated type the vocabulary does not know is the problem only when the number's shape
    did not tell the type either: an 18-digit number of an individual stated as `ID Card` is
    read as a resident ID, and a bad check digit is then what is wrong with it (the unknown
    type is told beside it)."""
    problem = pd.Series(None, index=out.index, dtype=object)
    invalid = ~out["cert_valid"]
    resolved = out["cert_type"].notna()
    problem[invalid & resolved] = (
        "invalid " + out["cert_type"].astype(str) + " (check digit, length or format)")
    problem[invalid & ~resolved] = "certificate type unknown or not matching number"
    unknown = raw_type.notna() & stated.isna()
    if unknown.any():
        named = pd.Series([f"certificate type {t!r}" for t in raw_type[unknown]],
                          index=raw_type[unknown].index).reindex(out.index)
        where = pd.Series([vocabulary_key("cert_type", None if pd.isna(m) else str(m))
                           for m in layout[unknown]],
                          index=raw_type[unknown].index).reindex(out.index)
        untold = invalid & unknown & ~resolved  # the type is all there is to go on
        problem[untold] = "unknown " + named[untold] + ": " + where[untold]
        guessed = invalid & unknown & resolved
        problem[guessed] = (problem[guessed].astype(str) + ", the type read from the number; "
                            + named[guessed] + " is unknown: " + where[guessed])
    problem[out["cert_number"].isna()] = "certificate number missing"
    return problem
