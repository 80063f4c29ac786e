"""What a mapping's author is told: the fields the rules use that a layout leaves unmapped
(a warning, once per mapping), unknown vocabulary values naming the mapping key to add (and
never confused with a known type whose number is wrong), and errors with the offending key's
YAML line and the valid names."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from icp_migrate import mapping_messages
from icp_migrate.canonical import RAW_FIELDS
from icp_migrate.errors import MappingError
from icp_migrate.mapping import load_mapping
from icp_migrate.transforms.certificates import normalize_certificates
from icp_migrate.transforms.records import normalize_records

MINIMAL = """\
name: thin_csv
reader: csv
detect: {columns: [site]}
fields:
  website_filing_number: site
  cert_type: kind
  cert_number: number
  admin_email: mail
"""
HINT = "add it under values.cert_type in mapping hichina_beian_csv (or _vocabulary.yaml)"
VALID_ID = "110101199003071233"  # 18 digits, check character right
BAD_CHECK_ID = "110101199003071234"  # the same with a wrong check character


def test_a_mapping_leaving_out_rule_fields_warns_once_naming_them(tmp_path, caplog,
                                                                   monkeypatch):
    monkeypatch.setattr(mapping_messages, "_WARNED", set())
    path = tmp_path / "thin.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="icp_migrate"):
        load_mapping(path)
        load_mapping(path)  # once per mapping
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1, warned
    message = warned[0]
    assert message.startswith(f"mapping thin_csv ({path}) leaves unmapped fields the rules use:")
    for name in ("province", "entity_filing_number", "has_cloud", "cloud_admin_email"):
        assert f"{name} (" in message
    assert "admin_email (" not in message.replace("cloud_admin_email (", "")  # it is mapped
    assert set(mapping_messages.RULE_FIELDS) <= set(RAW_FIELDS)  # the canonical names

    caplog.clear()
    full = tmp_path / "full.yaml"
    full.write_text(MINIMAL.replace("thin_csv", "full_csv") + "".join(
        f"  {f}: c{i}\n" for i, f in enumerate(["province", "entity_filing_number",
                                                "has_cloud", "cloud_admin_email"])),
        encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="icp_migrate"):
        load_mapping(full)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def _certs(cert_type: str, number: str, entity_type: str = "individual") -> pd.Series:
    frame = pd.DataFrame({"cert_type": [cert_type], "cert_number": [number],
                          "entity_type": [entity_type], "layout": ["hichina_beian_csv"]})
    return normalize_certificates(frame).iloc[0]


def test_an_unknown_type_names_the_mapping_key_and_a_bad_check_digit_stays_a_bad_check_digit():
    # the type tells nothing and neither does the number: the type is the problem
    unknown = _certs("Tax Card", "AB12", entity_type="enterprise")
    assert not unknown["cert_valid"]
    assert unknown["cert_problem"] == f"unknown certificate type 'Tax Card': {HINT}"
    # an ID card with a bad check digit: a bad resident ID first (it used to read "unknown
    # certificate type ID Card": the unknown stated type hid the number's own problem)
    bad = _certs("ID Card", BAD_CHECK_ID)
    assert bad["cert_type"] == "resident_id" and not bad["cert_valid"]
    assert bad["cert_problem"].startswith("invalid resident_id (check digit, length or format)")
    assert bad["cert_problem"].endswith(f"certificate type 'ID Card' is unknown: {HINT}")
    # the same number under a known type (身份证 is mapped to it): only the check digit
    known = _certs("resident_id", BAD_CHECK_ID)
    assert known["cert_problem"] == "invalid resident_id (check digit, length or format)"
    # a valid number under an unknown type is kept, with a warning saying what to add
    good = _certs("ID Card", VALID_ID)
    assert good["cert_valid"] and pd.isna(good["cert_problem"])
    assert good["cert_warning"] == ("certificate type 'ID Card' is unknown (read as "
                                    f"resident_id from the number): {HINT}")


def test_unknown_entity_types_and_cloud_flags_name_their_mapping_key():
    raw = {name: [None, None] for name in RAW_FIELDS}
    raw.update(row_id=[1, 2], source=["x.csv"] * 2, locator=["line 2", "line 3"],
               layout=["partner_csv"] * 2, read_error=[None, None],
               entity_type=["Firm", "enterprise"], has_cloud=["Y", "true"],
               website_filing_number=["浙ICP备05347733号-1", "浙ICP备05347734号-1"],
               filed_on=["2018-01-02"] * 2)
    records, _ = normalize_records(pd.DataFrame(raw))
    first, second = records["warnings"].iloc[0], records["warnings"].iloc[1]
    assert ("unknown entity type 'Firm': add it under values.entity_type in mapping "
            "partner_csv (or _vocabulary.yaml)") in first
    assert ("unknown has_cloud value 'Y' (read as no): add it under values.has_cloud in "
            "mapping partner_csv (or _vocabulary.yaml)") in first
    assert second is None or "unknown" not in second


@pytest.mark.parametrize("text, key, line, valid", [
    (MINIMAL + "  provnce: p\n", "fields.provnce", 9, "did you mean 'province'? valid: "
     + ", ".join(RAW_FIELDS)),
    (MINIMAL.replace("reader: csv\n", "reader: csv\nfeilds: {}\n"), "feilds", 3,
     "did you mean 'fields'? valid: constants, csv, description, detect, fields, name, "
     "reader, required, sql, values"),
    (MINIMAL + "constants:\n  product: domain\n  colour: red\n", "constants.colour", 11,
     "valid: " + ", ".join(RAW_FIELDS)),
    (MINIMAL + "values:\n  cert_type: {ID Card: resident_id}\n  certtype: {x: y}\n",
     "values.certtype", 11, "did you mean 'cert_type'?"),
    (MINIMAL + "required: [website_filing_number, province]\n", "required.province", 9,
     "valid: website_filing_number, cert_type, cert_number, admin_email"),
])
def test_mapping_errors_give_the_keys_line_and_the_valid_names(tmp_path, text, key, line, valid):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert message.startswith(f"mapping bad.yaml: {key} (line {line}): "), message
    assert valid in message and "\n" not in message
    assert text.splitlines()[line - 1].lstrip().startswith(
        (key.rsplit(".", 1)[-1], "required:"))


def test_a_missing_key_points_at_its_section_or_says_no_line(tmp_path):
    path = tmp_path / "sql.yaml"
    path.write_text("name: s\nreader: sql\ndetect: {tables: [t]}\nsql:\n  key: id\n"
                    "fields: {website_filing_number: n}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"^mapping sql\.yaml: sql\.query \(line 4\): "
                       "required for reader sql$"):
        load_mapping(path)
    path.write_text("reader: csv\nfields: {}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"^mapping sql\.yaml: name: required$"):
        load_mapping(path)
