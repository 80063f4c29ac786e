"""Readers and layout detection: dirty files keep every record; unreadable sources fail clearly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from icp_migrate.errors import MappingError, SourceError
from icp_migrate.mapping import builtin_mappings, load_mapping, resolve_mapping
from icp_migrate.readers import read_source
from icp_migrate.transforms.mapping_apply import to_canonical

HEADER = ("会员ID,产品类型,主体性质,主办单位名称,证件类型,证件号码,主体备案号,网站名称,网站备案号,"
          "网站域名,网站首页,省份,负责人,联系电话,电子邮箱,备案日期,云资源,资源管理员邮箱")
ROW = ('m1,域名,企业,"杭州<b>某某</b>,有限公司",统一社会信用代码,91330106MA2B3C4D5E,'
       '浙ICP备12345678号,站,浙ICP备12345678号－1,"a.com; 例子。公司",http://a.com,浙江,张三,13800000000,a@b.cn,'
       '2015年3月2日,是,')


def write(path: Path, lines: list[str], encoding: str = "utf-8", bom: bool = False) -> Path:
    data = "\n".join(lines).encode(encoding) + b"\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def canonical(path: Path | str, mapping=None):
    frame, chosen = read_source(str(path), mapping)
    return to_canonical(frame, chosen), chosen


@pytest.mark.parametrize("encoding, bom", [("gb18030", False), ("utf-8", True),
                                           ("utf-8", False)])
def test_csv_in_every_encoding(tmp_path, encoding, bom):
    out, mapping = canonical(write(tmp_path / "x.csv", [HEADER, ROW], encoding, bom))
    assert mapping.name == "hichina_beian_csv"
    row = out.iloc[0]
    assert row["entity_name"] == "杭州<b>某某</b>,有限公司"
    assert row["product"] == "domain" and row["cert_type"] == "uscc" and row["has_cloud"] == "true"
    assert row["locator"] == "line 2" and row["read_error"] is None


def test_csv_broken_rows_keep_their_place_and_never_swallow_others(tmp_path):
    lines = [HEADER, ROW, 'm3,"broken,row', ROW.replace("m1", "m4"),
             'm5,域名,企业,"two', 'lines",统一社会信用代码,x,,,浙ICP备1号-1,,,,,,,20150302,,',
             "", ROW.replace("m1", "m6") + ",,,", "only,three,fields"]
    out, _ = canonical(write(tmp_path / "x.csv", lines))
    assert out["locator"].tolist() == ["line 2", "line 3", "line 4", "line 5", "line 8",
                                       "line 9"]
    assert out["member_id"].tolist() == ["m1", None, "m4", "m5", "m6", None]
    assert out["read_error"].notna().tolist() == [False, True, False, False, False, True]
    assert out.loc[3, "entity_name"] == "two\nlines"


def test_csv_undecodable_line_and_mixed_encodings(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(HEADER.encode("gb18030") + b"\n" + ROW.encode("gb18030") + b"\n"
                     + ROW.replace("m1", "m2").encode("utf-8") + b"\n" + b"m3,\xff\xfe\x80\n"
                     + b"m4,\x00" + b"," * 16 + b"\n")
    out, _ = canonical(path)
    assert out["member_id"].tolist() == ["m1", "m2", None, None]
    assert "undecodable" in out.loc[2, "read_error"]
    assert "NUL" in out.loc[3, "read_error"]
    assert out.loc[1, "entity_name"] == "杭州<b>某某</b>,有限公司"


def test_jsonl_nested_fields_invalid_lines_and_missing_keys(tmp_path):
    good = {"shop_id": "1", "member_id": "tb_1", "shop_url": "https://shop1.taobao.com",
            "shop_name": "店", "filed_on": "2016-05-01",
            "subject": {"kind": "organization", "org_kind": "enterprise", "name": "某公司",
                        "id_type": "uscc", "id_no": "91330106MA2B3C4D5E", "province": "浙江",
                        "contact": {"name": "张", "phone": "1", "email": "a@b.cn"}},
            "icp": {"subject_no": "浙ICP备16012345号", "site_no": "浙ICP备16012345号-1"},
            "domains": ["a.cn", "b.cn"], "cloud": {"has_resources": True, "admin_email": None}}
    person = json.loads(json.dumps(good))
    person["subject"] = {"kind": "individual", "name": "王伟", "id_type": "resident_id"}
    missing = {k: v for k, v in good.items() if k != "icp"}
    path = tmp_path / "shops.jsonl"
    path.write_text("\n".join([json.dumps(good, ensure_ascii=False), "{not json", "[1,2]",
                               json.dumps(person, ensure_ascii=False), "",
                               json.dumps(missing)]) + "\n", encoding="utf-8")
    out, mapping = canonical(path)
    assert mapping.name == "winport_shops_jsonl"
    assert out["locator"].tolist() == ["line 1", "line 2", "line 3", "line 4", "line 6"]
    assert out["read_error"].notna().tolist() == [False, True, True, False, True]
    assert "missing required field icp.site_no" in out.loc[4, "read_error"]
    first = out.iloc[0]
    assert (first["product"], first["entity_type"], first["domains"], first["has_cloud"]) == (
        "winport_shop", "enterprise", "a.cn;b.cn", "true")
    assert out.loc[3, "entity_type"] == "individual"


def legacy_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE members(member_id TEXT, email TEXT);
            CREATE TABLE subjects(subject_id INTEGER, member_id TEXT, subject_type TEXT,
              name TEXT, cert_type TEXT, cert_no TEXT, province TEXT, subject_icp_no TEXT,
              admin_email TEXT, has_cloud INTEGER, cloud_admin_email TEXT);
            CREATE TABLE sites(site_id INTEGER, subject_id INTEGER, product TEXT,
              site_name TEXT, site_icp_no TEXT, home_url TEXT, filed_at TEXT);
            CREATE TABLE site_domains(site_id INTEGER, domain TEXT);
            INSERT INTO members VALUES ('m1', 'x@y.cn');
            INSERT INTO subjects VALUES (1, 'm1', '企业', '某公司', '统一社会信用代码',
              '91330106MA2B3C4D5E', '浙', '浙ICP备1号', 'a@b.cn', 1, NULL);
            INSERT INTO sites VALUES (10, 1, '企业建站', '站', '浙ICP备1号-1', NULL, '2015/3/2');
            INSERT INTO sites VALUES (11, 1, '邮箱', '站2', '浙ICP备1号-2', NULL, '20150302');
            INSERT INTO site_domains VALUES (10, 'b.cn'), (10, 'a.cn');
        """)
    return path


def test_legacy_database_by_url_or_by_file(tmp_path):
    path = legacy_db(tmp_path / "legacy.db")
    for source in (f"sqlite:///{path}", str(path)):
        out, mapping = canonical(source)
        assert mapping.name == "hichina_legacy_db"
        assert out["locator"].tolist() == ["sites.site_id=10", "sites.site_id=11"]
        assert out["domains"].tolist() == ["a.cn;b.cn", None]
        assert out["has_cloud"].tolist() == ["true", "true"]
        assert out["product"].tolist() == ["enterprise_website", "邮箱"]


def set_text(path: Path, statement: str, raw: bytes) -> None:
    """Store `raw` as TEXT (not a BLOB), as a legacy application writing bytes would."""
    with sqlite3.connect(path) as db:
        db.execute(statement.replace("?", "CAST(? AS TEXT)", 1), (raw,))


@pytest.mark.parametrize("statement", [
    "UPDATE sites SET site_name = ? WHERE site_id = 10",
    "UPDATE site_domains SET domain = ? WHERE domain = 'a.cn'",
])
def test_undecodable_text_in_a_legacy_database_quarantines_only_its_record(tmp_path,
                                                                          statement):
    path = legacy_db(tmp_path / "legacy.db")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO sites VALUES (12, 1, '邮箱', '站3', '浙ICP备1号-3', NULL, NULL)")
        db.execute("INSERT INTO site_domains VALUES (12, 'c.cn')")
    set_text(path, statement, "坏".encode("utf-8")[:2] + b"\xff.cn")
    for source in (f"sqlite:///{path}", str(path)):
        out, _ = canonical(source)
        assert out["locator"].tolist() == ["sites.site_id=10", "sites.site_id=11",
                                           "sites.site_id=12"]
        column = "site_name" if "site_name" in statement else "domain"
        assert out["read_error"].tolist() == [
            f"undecodable bytes in column {column!r} (not utf-8 or gb18030)", None, None]
        assert out["website_name"].tolist() == [None, "站2", "站3"]
        assert out["domains"].tolist() == [None, None, "c.cn"]


def test_legacy_database_text_in_gb18030_decodes(tmp_path):
    path = legacy_db(tmp_path / "legacy.db")
    set_text(path, "UPDATE sites SET site_name = ? WHERE site_id = 11", "站二".encode("gb18030"))
    set_text(path, "UPDATE site_domains SET domain = ? WHERE domain = 'b.cn'",
             "例子.中国".encode("gb18030"))
    out, _ = canonical(path)
    assert out["read_error"].tolist() == [None, None]
    assert out["website_name"].tolist() == ["站", "站二"]
    assert out["domains"].tolist() == ["a.cn;例子.中国", None]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "empty file"),
    (b"  \n\n", "empty file"),
    ((HEADER + "\n").encode("utf-8"), "header only"),
    (b"a,b,c\n1,2,3\n", "unknown layout"),
    (b'{"x": 1}\n', "unknown layout"),
    ("\ufeff".encode("utf-16") + HEADER.encode("utf-16-le"), "cannot decode"),
])
def test_unreadable_sources_fail_with_one_clear_line(tmp_path, content, message):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as info:
        read_source(str(path))
    assert "\n" not in str(info.value)


def test_unreachable_database_is_a_source_error_with_the_password_hidden():
    url = "postgresql+psycopg://u:s3cret@127.0.0.1:1/legacy?connect_timeout=2"
    with pytest.raises(SourceError, match="cannot connect") as info:
        read_source(url)
    assert "s3cret" not in str(info.value) and "***" in str(info.value)


def test_sqlite_file_without_the_legacy_tables_is_an_unknown_layout(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t(x)")
    with pytest.raises(SourceError, match="unknown layout"):
        read_source(str(path))


def test_every_builtin_mapping_loads():
    names = {m.name for m in builtin_mappings()}
    assert names == {"hichina_beian_csv", "winport_shops_jsonl", "hichina_legacy_db"}
    for mapping in builtin_mappings():
        assert resolve_mapping(mapping.name) == mapping
        assert "website_filing_number" in mapping.fields


@pytest.mark.parametrize("yaml_text, key", [
    ("name: x\nreader: csv\nfields: {nope: a}\ndetect: {columns: [a]}", "fields.nope"),
    ("name: x\nreader: xml\nfields: {}", "reader"),
    ("name: x\nreader: csv\nfields: {member_id: a}\ndetect: {columns: [a]}",
     "fields.website_filing_number"),
    ("name: x\nreader: sql\nfields: {website_filing_number: a}\ndetect: {tables: [t]}",
     "sql.query"),
    ("name: x\nreader: csv\nfields: {website_filing_number: a}\nbogus: 1", "bogus"),
    ("[unclosed", "not valid YAML"),
])
def test_bad_mapping_files_name_the_file_and_key(tmp_path, yaml_text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(MappingError, match="bad.yaml") as info:
        load_mapping(path)
    assert key in str(info.value)


FOURTH = """
name: english_semicolon_csv
description: a reseller's export with English headers, semicolon-delimited
reader: csv
csv: {delimiter: ";", encodings: [utf-8]}
detect: {columns: [Member, Site Licence]}
fields:
  member_id: Member
  product: Product
  entity_type: Holder Type
  entity_name: Holder
  cert_type: Document
  cert_number: Document No
  website_filing_number: Site Licence
  domains: Domains
  filed_on: Filed
values:
  product: {Shop: winport_shop}
  cert_type: {USCC: uscc}
"""


def test_a_fourth_layout_needs_only_a_mapping_file(tmp_path):
    mapping_path = tmp_path / "english.yaml"
    mapping_path.write_text(FOURTH, encoding="utf-8")
    data = tmp_path / "reseller.csv"
    write(data, ["Member;Product;Holder Type;Holder;Document;Document No;Site Licence;Domains;"
                 "Filed", "r1;Shop;company;ACME; USCC ;91330106MA2B3C4D5E;浙ICP备1号-1;"
                 "a.cn,b.cn;2016-01-02"])
    out, mapping = canonical(data, resolve_mapping(str(mapping_path)))
    row = out.iloc[0]
    assert mapping.name == "english_semicolon_csv"
    assert (row["product"], row["entity_type"], row["cert_type"], row["domains"]) == (
        "winport_shop", "enterprise", "uscc", "a.cn,b.cn")
    assert row["province"] is None  # unmapped fields are blank


def test_forced_mapping_must_fit_the_header(tmp_path):
    path = write(tmp_path / "x.csv", ["a,b", "1,2"])
    with pytest.raises(MappingError, match="fields.member_id"):
        read_source(str(path), resolve_mapping("hichina_beian_csv"))
