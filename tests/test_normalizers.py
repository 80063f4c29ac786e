"""Each normalizer on tiny tables, plus properties that hold for any input."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from icp_migrate.transforms.certificates import normalize_certificates
from icp_migrate.transforms.checkdigits import ORG_ALPHABET, org_code_check_char
from icp_migrate.transforms.dates import parse_dates
from icp_migrate.transforms.domains import clean_domain, explode_domains
from icp_migrate.transforms.icp_numbers import AUTHORITIES, parse_filing_number
from icp_migrate.transforms.provinces import province_name

FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@pytest.mark.parametrize("raw, entity, website, problem", [
    ("浙ICP备12345678号-1", "浙ICP备12345678号", "浙ICP备12345678号-1", None),
    ("浙ICP备１２３４５６７８号－2", "浙ICP备12345678号", "浙ICP备12345678号-2", None),
    (" 浙 icp 备 12345678 号 - 3 ", "浙ICP备12345678号", "浙ICP备12345678号-3", None),
    ("川ICP备05001234号-1", "蜀ICP备05001234号", "蜀ICP备05001234号-1", None),
    ("贵ICP备1234号-1", "黔ICP备1234号", "黔ICP备1234号-1", None),
    ("云ICP备1234号-1", "滇ICP备1234号", "滇ICP备1234号-1", None),
    ("甘ICP备1234号-1", "陇ICP备1234号", "陇ICP备1234号-1", None),
    ("京ICP备2021012345号-4", "京ICP备2021012345号", "京ICP备2021012345号-4", None),
    ("浙ICP备12345678-1号", "浙ICP备12345678号", "浙ICP备12345678号-1", None),
    ("浙ICP备12345678号", "浙ICP备12345678号", None, None),
    ("京ICP证030173号", None, None, "licence"),
    ("浙ICP备123456789号-1", None, None, "9 digits"),
    ("港ICP备12345678号-1", None, None, "not an ICP filing number"),
    ("12345678", None, None, "not an ICP filing number"),
])
def test_filing_numbers(raw, entity, website, problem):
    got_entity, got_website, got_problem = parse_filing_number(raw)
    assert (got_entity, got_website) == (entity, website)
    assert (got_problem is None) == (problem is None)
    if problem:
        assert problem in got_problem


@given(st.sampled_from(AUTHORITIES), st.integers(1, 99_999_999), st.integers(1, 99),
       st.booleans(), st.booleans())
def test_any_filing_number_survives_dirt(authority, number, suffix, fullwidth, spaced):
    clean = f"{authority}ICP备{number:08d}号-{suffix}"
    dirty = clean.translate(FULLWIDTH) if fullwidth else clean
    dirty = " ".join(dirty) if spaced else dirty
    assert parse_filing_number(dirty) == (clean.rsplit("-", 1)[0], clean, None)


@pytest.mark.parametrize("raw, expected", [
    ("2015-03-02", "2015-03-02"), ("2015/3/2", "2015-03-02"), ("2015年3月2日", "2015-03-02"),
    ("20150302", "2015-03-02"), ("２０１５－０３－０２", "2015-03-02"),
    ("2015-03-02 10:11:12", "2015-03-02"), (" 2015/12/31 ", "2015-12-31"),
    ("2015-02-30", None), ("2015-13-01", None), ("yesterday", None), ("", None),
    ("1899-01-01", None), ("02/03/2015", None),
])
def test_dates(raw, expected):
    got = parse_dates(pd.Series([raw], dtype=object)).iloc[0]
    assert (None if pd.isna(got) else got.strftime("%Y-%m-%d")) == expected


@given(st.dates(min_value=pd.Timestamp("1990-01-01").date(),
                max_value=pd.Timestamp("2030-12-31").date()))
def test_every_date_format_parses_to_the_same_day(day):
    forms = [day.isoformat(), f"{day.year}/{day.month}/{day.day}",
             f"{day.year}年{day.month}月{day.day}日", day.strftime("%Y%m%d")]
    got = parse_dates(pd.Series(forms, dtype=object))
    assert (got == pd.Timestamp(day)).all()


@pytest.mark.parametrize("raw, alabel, unicode_form", [
    ("Example.COM", "example.com", "example.com"),
    ("http://www.example.com:8080/path?q=1", "example.com", "example.com"),
    ("example.com.", "example.com", "example.com"),
    ("www.com", "www.com", "www.com"),
    ("ｅｘａｍｐｌｅ．ｃｎ", "example.cn", "example.cn"),
    ("中文网站.中国", "xn--fiq228c37oz8d.xn--fiqs8s", "中文网站.中国"),
    ("例子。公司", "xn--fsqu00a.xn--55qx5d", "例子.公司"),
    ("XN--FSQU00A.XN--FIQS8S", "xn--fsqu00a.xn--fiqs8s", "例子.中国"),
    ("bad_domain!", None, None),
    ("localhost", None, None),
    ("-bad.com", None, None),
])
def test_domains(raw, alabel, unicode_form):
    got_a, got_u, problem = clean_domain(raw)
    assert (got_a, got_u) == (alabel, unicode_form)
    assert (problem is None) == (alabel is not None)


def test_domain_lists_split_on_every_separator_and_keep_each_once():
    frame = pd.DataFrame({"row_id": [1, 2, 3], "domains": [
        "a.com;b.com；c.com,d.com，e.com、f.com g.com;A.COM", None, "nope!"]})
    rows, problems = explode_domains(frame)
    assert rows[rows["row_id"] == 1]["domain"].tolist() == [
        "a.com", "b.com", "c.com", "d.com", "e.com", "f.com", "g.com"]
    assert problems.index.tolist() == [3]


@settings(max_examples=200)
@given(st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,12}){0,2}\.(com|cn|net)", fullmatch=True))
def test_ascii_domains_are_idempotent(domain):
    alabel, unicode_form, _ = clean_domain(domain)
    if alabel is not None:
        assert clean_domain(alabel)[:2] == (alabel, unicode_form)
        assert clean_domain("HTTPS://WWW." + alabel.upper() + "/x")[0] == (
            alabel if not alabel.startswith("www.") or alabel.count(".") < 2 else alabel[4:])


@pytest.mark.parametrize("raw, full", [
    ("浙江省", "浙江省"), ("浙江", "浙江省"), ("浙", "浙江省"), (" 广西 ", "广西壮族自治区"),
    ("川", "四川省"), ("蜀", "四川省"), ("北京市", "北京市"), ("火星", None),
])
def test_provinces(raw, full):
    assert province_name(raw) == full


def _certs(rows):
    frame = pd.DataFrame(rows, columns=["cert_type", "cert_number", "entity_type"], dtype=object)
    return normalize_certificates(frame)


def test_certificates_table():
    out = _certs([
        ("uscc", " 9111 0000 6000 3734 1l ", "enterprise"),
        ("org_code", "60003734-1", "enterprise"),
        ("uscc", "600037341", "enterprise"),  # stated USCC but an organization code's shape
        ("business_license", "110108000000016", "enterprise"),
        ("business_license", "91110000600037341L", "enterprise"),  # new licences print a USCC
        ("resident_id", "110105491231002", "individual"),
        ("resident_id", "11010519491231002x", "individual"),
        ("resident_id", "110105194912310021", "individual"),  # wrong check character
        ("passport", "e 1234567", "individual"),
        ("uscc", "91110000600037341X", "enterprise"),
        (None, None, "enterprise"),
    ])
    assert out["cert_key"].tolist()[:7] == [
        "ORG:600037341", "ORG:600037341", "ORG:600037341", "BL:110108000000016",
        "ORG:600037341", "RID:11010519491231002X", "RID:11010519491231002X"]
    assert out["cert_valid"].tolist() == [True] * 7 + [False, True, False, False]
    assert out["cert_upgraded"].tolist()[5:7] == [True, False]
    assert out["cert_key"].iloc[8] == "PASSPORT:E1234567"
    assert out["cert_problem"].iloc[10] == "certificate number missing"


def test_resident_ids_with_area_codes_unknown_to_stdnum_stay_valid():
    head = "44030519800101001"  # 440305 did not exist in 1980: stdnum.ric.validate rejects
    number = head + ric.calc_check_digit(head + "0")
    assert not ric.is_valid(number)
    assert _certs([("resident_id", number, "individual")])["cert_valid"].iloc[0]


@settings(max_examples=200)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
       st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
       st.booleans(), st.booleans())
def test_any_valid_uscc_survives_normalization(prefix, org_body, spaced, fullwidth):
    check = int(org_code_check_char(np.array([[ORG_ALPHABET.index(c) for c in org_body]]))[0])
    org = org_body + ("X" if check == 10 else str(check))
    body = prefix + org
    code = body + uscc.calc_check_digit(body + "0")
    dirty = " ".join(code) if spaced else code
    if fullwidth:
        dirty = "".join(chr(ord(c) + 0xFEE0) for c in dirty if c != " ")
    assert unicodedata.normalize("NFKC", dirty).replace(" ", "") == code
    out = _certs([("uscc", dirty, "enterprise"), ("org_code", org, "enterprise")])
    assert out["cert_valid"].tolist() == [True, True]
    assert out["cert_key"].iloc[0] == out["cert_key"].iloc[1] == "ORG:" + org


@settings(max_examples=200)
@given(st.dates(min_value=pd.Timestamp("1900-01-01").date(),
                max_value=pd.Timestamp("1999-12-31").date()),
       st.integers(110000, 659999), st.integers(0, 999))
def test_fifteen_digit_ids_upgrade_to_the_eighteen_digit_key(birth, area, sequence):
    short = f"{area}{birth:%y%m%d}{sequence:03d}"
    head = f"{area}{birth:%Y%m%d}{sequence:03d}"
    full = head + ric.calc_check_digit(head + "0")
    out = _certs([("resident_id", short, "individual"), ("resident_id", full, "individual")])
    assert out["cert_key"].tolist() == ["RID:" + full] * 2
    assert out["cert_upgraded"].tolist() == [True, False]
