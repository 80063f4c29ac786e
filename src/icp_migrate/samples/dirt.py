"""The ways real exports are dirty: each renderer writes a clean value the way legacy data does.

Every renderer returns the text as written and the tags naming the dirt it applied; the
tags end up in the ground truth's `note`. A Cycler hands out variants in seeded-shuffled
rounds so even a small sample contains each of them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from .model import Domain, between, pick
from .vocab import Province

T = TypeVar("T")
_FW_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


class Cycler(Generic[T]):
    """`first` once, in its order; then shuffled blocks that hold each item equally often."""

    def __init__(self, items: Sequence[T], rng: random.Random, first: Sequence[T] = ()) -> None:
        self._block = list(items) * max(1, 240 // len(items))
        self._np = np.random.default_rng(rng.getrandbits(64))  # shuffles 50x faster
        self._queue = list(reversed(first))

    def __call__(self) -> T:
        queue = self._queue
        if not queue:
            block = self._block
            queue.extend([block[i] for i in self._np.permutation(len(block))])
        return queue.pop()


ICP_STYLES = ("plain",) * 5 + ("spaces", "fw_hyphen", "fw_digits", "fw_letters", "mixed")


def icp(number: str, province: Province, style: str, legacy: bool) -> tuple[str, list[str]]:
    """A clean ICP number (`浙ICP备12345678号-2`) as legacy data writes it."""
    tags = []
    if legacy and province.legacy_icp:
        number = province.legacy_icp + number[1:]
        tags.append("icp_legacy_abbr")
    if style in ("spaces", "mixed"):
        number = number.replace("ICP备", " ICP备 ", 1).replace("号", " 号 ").strip()
        tags.append("icp_spaces")
    if style in ("fw_hyphen", "mixed") and "-" in number:
        number = number.replace("-", "－")
        tags.append("icp_fullwidth_hyphen")
    if style in ("fw_digits", "mixed"):
        number = number.translate(_FW_DIGITS)
        tags.append("icp_fullwidth_digits")
    if style == "fw_letters":
        number = number.replace("ICP", "ＩＣＰ")
        tags.append("icp_fullwidth_letters")
    return number, tags


CERT_STYLES = ("plain",) * 4 + ("spaces", "fw_digits", "lower")


def certificate(cert_type: str, cert: str, style: str) -> tuple[str, list[str]]:
    """A valid certificate as written: spaces, full-width digits, a lower-case letter."""
    if style == "spaces" and cert_type in ("uscc", "resident_id", "business_license"):
        return f"{cert[:6]} {cert[6:14]} {cert[14:]}", ["cert_spaces"]
    if style == "fw_digits" and cert_type != "passport":
        return cert.translate(_FW_DIGITS), ["cert_fullwidth_digits"]
    if style == "lower" and cert[-1].isalpha() and cert_type in ("uscc", "resident_id"):
        return cert[:-1] + cert[-1].lower(), ["cert_lowercase_check_char"]
    if style == "lower" and cert_type == "passport":
        return cert.lower(), ["passport_lowercase"]
    return cert, []


def invalid_certificate(cert_type: str, cert: str, how: str) -> tuple[str, list[str]]:
    """A certificate that fails validation: blank, wrong check character, wrong length."""
    if how == "blank" or cert_type in ("passport", "hk_macao_permit", "taiwan_permit"):
        return "", ["cert_blank"]
    if how == "wrong_length":
        return cert[:-2] + cert[-1], ["cert_wrong_length"]
    last = cert[-1]
    digits = "0123456789"
    wrong = digits[(digits.index(last) + 3) % 10] if last in digits else "7"
    return cert[:-1] + wrong, ["cert_wrong_check_char"]


DOMAIN_STYLES = ("plain",) * 4 + ("scheme", "www", "upper", "trailing_dot", "port_path", "combo")
IDN_STYLES = ("unicode", "fullstop", "alabel", "alabel_upper")


def domain(d: Domain, style: str, idn_style: str) -> tuple[str, list[str]]:
    """A domain as a legacy form field holds it: scheme, www., case, dot, port and path."""
    if d.unicode != d.ascii:
        if idn_style == "unicode":
            return d.unicode, ["domain_idn_unicode"]
        if idn_style == "fullstop":
            return d.unicode.replace(".", "。"), ["domain_idn_unicode", "domain_idn_fullstop"]
        text = d.ascii.upper() if idn_style == "alabel_upper" else d.ascii
        return text, ["domain_xn_form"]
    name = d.ascii
    if style == "scheme":
        return "http://" + name, ["domain_scheme"]
    if style == "www":
        return "www." + name, ["domain_www"]
    if style == "upper":
        return name.upper(), ["domain_upper"]
    if style == "trailing_dot":
        return name + ".", ["domain_trailing_dot"]
    if style == "port_path":
        return f"{name}:8080/index.html", ["domain_port_path"]
    if style == "combo":
        return f"HTTPS://WWW.{name.upper()}/shop/", ["domain_scheme", "domain_www", "domain_upper",
                                                     "domain_port_path"]
    return name, []


DOMAIN_SEPARATORS = (";", "；", ",", "、", " ", "; ", " , ")


def join_domains(written: list[str], sep: str) -> tuple[str, list[str]]:
    if len(written) < 2:
        return "".join(written), []
    return sep.join(written), ["domains_several"]


DATE_STYLES = ("iso", "slash", "chinese", "compact")


def date(d: dt.date, style: str) -> tuple[str, list[str]]:
    """The four date formats of domain.md."""
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}", ["date_slash"]
    if style == "chinese":
        return f"{d.year}年{d.month}月{d.day}日", ["date_chinese"]
    if style == "compact":
        return d.strftime("%Y%m%d"), ["date_compact"]
    return d.isoformat(), ["date_iso"]


UNPARSEABLE_DATES = ("0000-00-00", "2016-02-30", "2015/13/2", "待补充", "不详")
PROVINCE_STYLES = ("full", "short", "abbr")


def province(p: Province, style: str) -> tuple[str, list[str]]:
    if style == "short":
        return p.short, ["province_short"]
    if style == "abbr":
        return p.abbr, ["province_abbr"]
    return p.full, ["province_full"]


def spaced_name(name: str, rng: random.Random) -> str:
    """The same name with spaces (ASCII or ideographic) inside: equal after normalization."""
    cut = between(rng, 2, len(name) - 1)
    return name[:cut] + pick(rng, (" ", "　", "  ")) + name[cut:]


NAME_STYLES = ("plain",) * 6 + ("html", "quotes", "comma")


def org_name(name: str, style: str, city: str) -> tuple[str, list[str]]:
    """Organization names as entered in old web forms: HTML, quotes, commas."""
    head, tail = name[: len(city)], name[len(city):]
    if style == "html":
        return f"{head}<b>{tail[:3]}</b>{tail[3:]}", ["name_html"]
    if style == "quotes":
        return f'{head}"{tail[:3]}"{tail[3:]}', ["name_quotes"]
    if style == "comma":
        return f"{name},{city}分部", ["name_comma"]
    return name, []
