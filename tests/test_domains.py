"""domains.py (bulk ASCII path, cjk_forms, idna for the rest) equals clean_domain and idna
value by value."""

from __future__ import annotations

import idna
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_migrate.transforms import domains as dom
from icp_migrate.transforms.idn import cjk_forms
from oracles import clean_domain_each, idna_pair, split_domains_each

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASCII_LABEL = st.text("abcxyz019-", min_size=1, max_size=12)
CJK_LABEL = st.text(st.one_of(CJK, st.sampled_from("ab09")), min_size=1, max_size=8)
ODD = st.sampled_from(["。", "．", "｡", ".", "..", "-", "--", "xn--", "XN--", "_", "@", ":80",
                       "/x?y#z", "\\", "http://", "HTTPS://www.", "www.", "é", "ß", "ǅ", "\u200d",
                       "\u0301", "ا", "Ａ", "١", "\x00", "\u3000", "\x1c", "；", "、"])


def _label() -> st.SearchStrategy[str]:
    alabel = CJK_LABEL.map(lambda t: "xn--" + t.encode("punycode").decode("ascii"))
    return st.one_of(ASCII_LABEL, CJK_LABEL, alabel, ODD, st.text(max_size=6))


TOKENS = st.lists(_label(), min_size=1, max_size=5).map(".".join) | st.lists(
    st.one_of(_label(), ODD), max_size=6).map("".join)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CJK_LABEL | ASCII_LABEL, min_size=1, max_size=4).map(".".join) | TOKENS)
def test_cjk_forms_agrees_with_idna(text):
    text = text.lower()
    fast = cjk_forms(text)
    if fast is not None:
        assert fast == idna_pair(text)


def test_cjk_forms_takes_the_common_shapes():
    assert cjk_forms("中文网.中国") == idna_pair("中文网.中国")
    assert cjk_forms("xn--fiq228c.cn") == idna_pair("xn--fiq228c.cn")
    assert cjk_forms("abc中文.com") == idna_pair("abc中文.com")
    assert cjk_forms("xn---bbk.cn") is None  # not canonical: idna decides (and rejects)


def test_cjk_block_is_valid_and_unmapped_in_idna():
    for code in range(0x4E00, 0xA000):
        char = chr(code)
        assert idna.uts46_remap(char) == char
        idna.core.check_label(char)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, min_size=1, max_size=20))
def test_clean_domains_equals_clean_domain_per_token(values):
    tokens = pd.Series(values, dtype=object)
    got = dom.clean_domains(tokens)
    pd.testing.assert_frame_equal(got, clean_domain_each(tokens).set_axis(tokens.index))
    assert got.map(type).equals(clean_domain_each(tokens).map(type))


def test_clean_domains_table():
    values = ["WWW.Example.COM", "http://a.b.cn:8080/x", "user@mail.example.cn.", "www.cn",
              "中文.中国", "XN--FIQ228C.CN", "bad_domain.cn", "", "-a.cn", "a..cn", "ex ample"]
    tokens = pd.Series(values, dtype=object, index=pd.Index(range(10, 21), name="row_id"))
    got = dom.clean_domains(tokens)
    want = clean_domain_each(pd.Series(values, dtype=object)).set_axis(tokens.index)
    pd.testing.assert_frame_equal(got, want)


SEPARATED = st.lists(st.one_of(TOKENS, st.sampled_from([" ", ";", "；", ",", "，", "、", "\t",
                                                         "\u3000", "\x1c", "\xa0", "\u2028"])),
                     max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), SEPARATED), min_size=1, max_size=12))
def test_split_tokens_equals_the_regex_split(values):
    domains = pd.Series(values, dtype=object, name="domains")
    row_ids = pd.Series(range(100, 100 + len(values)), name="row_id")
    got = dom.split_tokens(row_ids, domains)
    index = pd.Index(row_ids, name="row_id")
    want = split_domains_each(pd.Series(values, dtype=object, index=index))
    assert got.tolist() == want.tolist()
    assert got.index.tolist() == want.index.tolist()


def test_space_class_is_pythons_whitespace():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    matched = pc.match_substring_regex(pa.array(chars), f"^[{dom.SPACE_CLASS}]$").to_pylist()
    assert [c for c, m in zip(chars, matched, strict=True) if m] == [c for c in chars
                                                                      if c.isspace()]


@pytest.mark.parametrize("text", ["a.cn", "中文.中国", "xn--fiq228c.xn--fiqs8s"])
def test_explode_domains_keeps_its_shape(text):
    frame = pd.DataFrame({"row_id": [0, 1], "domains": [text + ";" + text, None]})
    good, problems = dom.explode_domains(frame)
    assert list(good.columns) == ["row_id", "domain", "unicode_domain"]
    assert len(good) == 1 and problems.empty


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
       | st.text(alphabet="ab09-中文美食网络\u4e00\u9fff", max_size=20))
def test_punycode_equals_the_codec(text):
    from icp_migrate.transforms.idn import punycode

    assert punycode(text) == text.encode("punycode").decode("ascii")
