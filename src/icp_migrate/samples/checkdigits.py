"""Check characters of Chinese certificates, written here from the standards.

The generator is the oracle the pipeline is tested against, so it computes every check
character itself (GB 32100, GB 11714, GB 11643) and never calls the pipeline's
normalizers; python-stdnum is used only for ISO 7064 MOD 11,10.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from operator import mul

from stdnum.iso7064 import mod_11_10

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_CHECK = "10X98765432"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_ORG_VALUE = {c: i for i, c in enumerate(_ORG_CHARS)}


def uscc_check(first17: str) -> str:
    """GB 32100-2015: the 18th character of a Unified Social Credit Code."""
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check(first8: str) -> str:
    """GB 11714-1997: the check character of an organization code (A=10 ... Z=35)."""
    total = sum(map(mul, map(_ORG_VALUE.__getitem__, first8), _ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def business_licence_check(first14: str) -> str:
    """GB/T 17710 (ISO 7064 MOD 11,10): the check digit of a 15-digit registration number."""
    return str(mod_11_10.calc_check_digit(first14))


def rid_check(first17: str) -> str:
    """GB 11643-1999: the check character of an 18-character resident ID."""
    total = sum(map(mul, map(int, first17), _RID_WEIGHTS))
    return _RID_CHECK[total % 11]


def make_org_code(body8: str) -> str:
    return body8 + org_code_check(body8)


def make_uscc(prefix2: str, area6: str, org_code9: str) -> str:
    first17 = prefix2 + area6 + org_code9
    return first17 + uscc_check(first17)


def make_business_licence(area6: str, serial8: str) -> str:
    return area6 + serial8 + business_licence_check(area6 + serial8)


def make_rid(area6: str, birth: dt.date, seq3: str) -> str:
    first17 = area6 + birth.strftime("%Y%m%d") + seq3
    return first17 + rid_check(first17)


def rid15_of(rid18: str) -> str:
    """The first-generation 15-digit form of a 19xx-born resident ID."""
    assert rid18[6:8] == "19", rid18
    return rid18[:6] + rid18[8:17]


def upgrade_rid15(rid15: str) -> str:
    first17 = rid15[:6] + "19" + rid15[6:]
    return first17 + rid_check(first17)


# --- validators, used by the tests and by the ledger's self-checks --------------------


def clean_certificate(text: str) -> str:
    """NFKC, no spaces or dashes, upper case: the form every check below expects."""
    out = unicodedata.normalize("NFKC", text)
    return "".join(out.split()).replace("-", "").upper()


def is_valid_org_code(code: str) -> bool:
    return (
        len(code) == 9
        and all(c in _ORG_CHARS for c in code[:8])
        and code[8] == org_code_check(code[:8])
    )


def is_valid_uscc(code: str) -> bool:
    return (
        len(code) == 18
        and all(c in USCC_ALPHABET for c in code)
        and code[17] == uscc_check(code[:17])
        and is_valid_org_code(code[8:17])
    )


def is_valid_business_licence(code: str) -> bool:
    return len(code) == 15 and code.isdigit() and mod_11_10.is_valid(code)


def _real_date(text: str) -> bool:
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def is_valid_rid18(code: str) -> bool:
    return (
        len(code) == 18
        and code[:17].isdigit()
        and _real_date(code[6:14])
        and code[17] == rid_check(code[:17])
    )


def is_valid_rid15(code: str) -> bool:
    return len(code) == 15 and code.isdigit() and _real_date("19" + code[6:12])


def identity_key(cert_type: str, text: str) -> str | None:
    """The identity key a certificate names, or None when it is invalid (identity.py)."""
    code = clean_certificate(text)
    if cert_type == "uscc":
        return "ORG:" + code[8:17] if is_valid_uscc(code) else None
    if cert_type == "org_code":
        return "ORG:" + code if is_valid_org_code(code) else None
    if cert_type == "business_license":
        return "BL:" + code if is_valid_business_licence(code) else None
    if cert_type == "resident_id":
        if is_valid_rid18(code):
            return "RID:" + code
        return "RID:" + upgrade_rid15(code) if is_valid_rid15(code) else None
    prefix = {"passport": "PASSPORT:", "hk_macao_permit": "HKMO:", "taiwan_permit": "TW:"}
    return prefix[cert_type] + code if code else None
