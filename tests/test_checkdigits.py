"""The numpy check-digit tests agree with python-stdnum, the reference, on every input."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from icp_migrate.transforms import checkdigits as cd
from oracles import mod_11_10, ric, uscc

USCC_CHARS = cd.USCC_ALPHABET
uscc_like = st.text(alphabet=USCC_CHARS + "IOZ-a ", min_size=16, max_size=19)
digits = st.text(alphabet="0123456789", min_size=17, max_size=17)


def _valid_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17 + "0")


@settings(max_examples=400)
@given(st.lists(uscc_like, max_size=30))
@example(["91110000600037341L", "91110000600037341X", "A1110000600037341L"])
def test_uscc_check_character_equals_stdnum(values):
    got = cd.uscc_check_ok(np.array(values, dtype=object))
    for value, ok in zip(values, got, strict=True):
        expected = (len(value) == 18 and all(c in USCC_CHARS for c in value)
                    and value[-1] == uscc.calc_check_digit(value))
        assert ok == expected, value
        if value[:8].isdigit():
            # where stdnum accepts the format at all, it is the oracle
            assert ok == uscc.is_valid(value), value


@given(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17))
def test_any_uscc_with_its_check_character_passes_even_letter_first(body):
    assert cd.uscc_check_ok(np.array([_valid_uscc(body)], dtype=object))[0]


@settings(max_examples=300)
@given(st.lists(digits, max_size=30))
def test_resident_id_check_character_equals_stdnum(heads):
    values = np.array(heads, dtype=object)
    chars = cd.ric_check_chars(values)
    for head, char in zip(heads, chars, strict=True):
        assert char == ric.calc_check_digit(head + "0")
    full = np.array([h + c for h, c in zip(heads, chars, strict=True)], dtype=object)
    assert cd.ric_check_ok(full).all()


@given(digits, st.sampled_from("0123456789X"))
def test_resident_id_wrong_check_character_fails(head, char):
    value = head + char
    assert cd.ric_check_ok(np.array([value], dtype=object))[0] == (
        char == ric.calc_check_digit(value))


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="0123456789", min_size=14, max_size=16), max_size=30))
def test_business_registration_numbers_equal_stdnum(values):
    got = cd.mod_11_10_valid(np.array(values, dtype=object))
    for value, ok in zip(values, got, strict=True):
        assert ok == (len(value) == 15 and mod_11_10.is_valid(value)), value


def test_organization_codes_known_values():
    values = np.array(["600037341", "D2143569X", "123456789", "60003734", ""], dtype=object)
    assert cd.org_code_valid(values).tolist() == [True, True, False, False, False]


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8))
def test_organization_code_with_computed_check_passes_and_others_fail(body):
    codes = np.array([[cd.ORG_ALPHABET.index(c) for c in body]])
    check = int(cd.org_code_check_char(codes)[0])
    char = "X" if check == 10 else str(check)
    wrong = "0" if char != "0" else "1"
    got = cd.org_code_valid(np.array([body + char, body + wrong], dtype=object))
    assert got.tolist() == [True, False]


def test_uscc_valid_also_checks_the_embedded_organization_code():
    good = "91110000600037341L"  # embeds 600037341, a valid organization code
    body = "9111000060003734" + "2"  # same, with a wrong organization check digit
    bad = _valid_uscc(body)
    assert cd.uscc_check_ok(np.array([bad], dtype=object))[0]
    assert cd.uscc_valid(np.array([good, bad], dtype=object)).tolist() == [True, False]


def test_empty_input():
    assert cd.uscc_valid(np.array([], dtype=object)).tolist() == []
    assert cd.ric_check_ok(np.array([], dtype=object)).tolist() == []
