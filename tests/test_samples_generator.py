"""The sample generator: deterministic, readable by the standard library, every case present,
and its ground truth re-derivable from the files' text alone by the rules of domain.md."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
import sqlite3
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import idna
import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from icp_migrate.samples import CSV_HEADER, GROUND_TRUTH_COLUMNS, SampleSet, generate
from icp_migrate.samples import checkdigits as cd
from icp_migrate.samples.model import a_labels
from icp_migrate.samples.people import Factory, Numbers
from icp_migrate.samples.truth import DISPOSITIONS, LINKS, resolve
from icp_migrate.samples.vocab import CERT_TYPE_ZH, ENTITY_TYPE_ZH, PROVINCES

REPO = Path(__file__).resolve().parents[1]
FILES = ("hichina_beian.csv", "hichina_beian_utf8.csv", "winport_shops.jsonl",
         "hichina_legacy.db")

# Every case the brief asks for, as tagged in the ground truth's note column.
REQUIRED_TAGS = {
    *(f"type_{t}" for t in ENTITY_TYPE_ZH),
    "cert_uscc", "uscc_letter_prefix", "cert_business_licence", "cert_rid18",
    "rid_area_newer_than_birth", "cert_passport", "cert_hkmo", "cert_taiwan",
    "org_code_elsewhere", "org_code_dash", "org_code_no_dash", "rid15_elsewhere",
    "agency_member", "spread_members_layouts", "same_name_individuals",
    "repeated_website", "duplicate_identical", "duplicate_extra_domain",
    "website_number_conflict", "domain_conflict", "entity_number_of_two_certificates",
    "depends_on_ambiguous_number",
    "oos_product_mail", "oos_product_vhost", "oos_product_blank", "oos_product_before_bad_date",
    "oos_date_cutoff_day", "oos_date_after_cutoff", "date_last_day_in_scope", "date_missing",
    "date_unparseable", "date_iso", "date_slash", "date_chinese", "date_compact",
    "icp_spaces", "icp_fullwidth_hyphen", "icp_fullwidth_digits", "icp_fullwidth_letters",
    "icp_legacy_abbr", "icp_commercial_licence", "icp_bad_digit_count", "icp_entity_number_only",
    "icp_blank", "cert_spaces", "cert_fullwidth_digits", "cert_lowercase_check_char",
    "cert_fullwidth_hyphen",
    "province_full", "province_short", "province_abbr",
    "domain_scheme", "domain_www", "domain_upper", "domain_trailing_dot", "domain_port_path",
    "domains_several", "domain_idn_unicode", "domain_idn_fullstop", "domain_xn_form",
    "invalid_cert_linked_by_entity_number", "invalid_cert_linked_by_website_number",
    "cert_blank", "cert_wrong_check_char", "cert_wrong_length", "uscc_bad_inner_org_code",
    "invalid_cert_unlinked", "individual_same_name_not_merged", "name_fallback", "name_spaces",
    "eno_blank", "cloud_same_admin", "cloud_different_admin", "cloud_no", "cloud_blank",
    "name_html", "name_quotes", "name_comma",
    "csv_unescaped_quote", "csv_missing_comma", "gb18030_undecodable", "json_truncated",
    "json_python_repr", "json_missing_site_no", "json_missing_icp", "json_missing_filed_on",
}

# note tag -> (disposition, link kind) every record carrying it must end with
OUTCOMES = {
    "duplicate_identical": ("duplicate", None),
    "duplicate_extra_domain": ("duplicate", None),
    "website_number_conflict": ("needs_review", ""),
    "domain_conflict": ("needs_review", ""),
    "depends_on_ambiguous_number": ("needs_review", ""),
    "invalid_cert_linked_by_entity_number": ("loaded", "shared_filing_number"),
    "invalid_cert_linked_by_website_number": ("loaded", "shared_filing_number"),
    "name_fallback": ("loaded", "name_fallback"),
    "invalid_cert_unlinked": ("quarantined", ""),
    "date_last_day_in_scope": ("loaded", "same_certificate"),
    **{t: ("out_of_scope", "") for t in ("oos_product_mail", "oos_product_vhost",
                                          "oos_product_blank", "oos_product_before_bad_date",
                                          "oos_date_cutoff_day", "oos_date_after_cutoff")},
    **{t: ("quarantined", "") for t in (
        "date_missing", "date_unparseable", "icp_commercial_licence", "icp_bad_digit_count",
        "icp_entity_number_only", "icp_blank", "csv_unescaped_quote", "csv_missing_comma",
        "gb18030_undecodable", "json_truncated", "json_python_repr", "json_missing_site_no",
        "json_missing_icp", "json_missing_filed_on")},
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    return generate(tmp_path_factory.mktemp("samples"), entities=90, seed=11)


@pytest.fixture(scope="module")
def truth(sample: SampleSet) -> pd.DataFrame:
    return pd.read_csv(sample.ground_truth, dtype=str, keep_default_na=False)


def notes(truth: pd.DataFrame) -> pd.Series:
    return truth["note"].str.split(";")


# --- a reference reader: the files' text, by the standard library only -------------------

def _csv_records(path: Path, encoding: str) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8")
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    assert lines[0].rstrip(b"\r").decode(encoding) == ",".join(CSV_HEADER)
    assert lines[-1] == b""
    out = []
    for n, raw in enumerate(lines[1:-1], start=2):
        rec: dict[str, Any] = {"file": path.name, "locator": f"line {n}", "readable": False}
        out.append(rec)
        try:
            text = raw.rstrip(b"\r").decode(encoding)
        except UnicodeDecodeError:
            continue
        row = next(csv.reader([text]))
        if len(row) != len(CSV_HEADER):
            continue
        f = dict(zip(CSV_HEADER, row, strict=True))
        rec.update(
            readable=True, product=f["产品类型"], entity_type=ZH_TYPE[f["主体性质"]],
            name=f["主办单位名称"], cert_type=ZH_CERT.get(f["证件类型"], ""),
            cert=f["证件号码"], eno=f["主体备案号"], web=f["网站备案号"],
            domains=[f["网站域名"]], province=f["省份"], date=f["备案日期"],
        )
    return out


def _jsonl_records(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text("utf-8").split("\n")[:-1], start=1):
        rec: dict[str, Any] = {"file": path.name, "locator": f"line {n}", "readable": False}
        out.append(rec)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "site_no" not in obj.get("icp", {}):
            continue
        s = obj["subject"]
        rec.update(
            readable=True, product="旺铺", entity_type=s.get("org_kind", "individual"),
            name=s["name"], cert_type=s["id_type"] or "", cert=s["id_no"],
            eno=obj["icp"]["subject_no"], web=obj["icp"]["site_no"], domains=obj["domains"],
            province=s["province"], date=obj.get("filed_on"),
        )
    return out


def _db_records(path: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(path)
    domains: dict[int, list[str]] = {}
    for site_id, domain in db.execute("SELECT site_id, domain FROM site_domains ORDER BY rowid"):
        domains.setdefault(site_id, []).append(domain)
    rows = db.execute(
        "SELECT s.site_id, s.product, s.site_icp_no, s.filed_at, b.subject_type, b.name,"
        " b.cert_type, b.cert_no, b.province, b.subject_icp_no"
        " FROM sites s JOIN subjects b USING (subject_id)"
        " JOIN members m USING (member_id) ORDER BY s.site_id").fetchall()
    db.close()
    return [{
        "file": path.name, "locator": f"sites.site_id={r[0]}", "readable": True,
        "product": r[1], "web": r[2], "date": r[3], "entity_type": ZH_TYPE[r[4]], "name": r[5],
        "cert_type": ZH_CERT.get(r[6], ""), "cert": r[7], "province": r[8], "eno": r[9],
        "domains": domains.get(r[0], []),
    } for r in rows]


def read_all(out_dir: Path) -> list[dict[str, Any]]:
    return [*_csv_records(out_dir / FILES[0], "gb18030"),
            *_csv_records(out_dir / FILES[1], "utf-8"),
            *_jsonl_records(out_dir / FILES[2]), *_db_records(out_dir / FILES[3])]


ZH_TYPE = {v: k for k, v in ENTITY_TYPE_ZH.items()}
ZH_CERT = {v: k for k, v in CERT_TYPE_ZH.items()}
_ABBR = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀黔滇藏陕陇青宁新"
WEBSITE_NO = re.compile(f"^[{_ABBR}]ICP备([0-9]{{1,8}}|[0-9]{{10}})号-[0-9]+$")
ENTITY_NO = re.compile(f"^[{_ABBR}]ICP备([0-9]{{1,8}}|[0-9]{{10}})号$")
PROVINCE_OF = {text: i for i, p in enumerate(PROVINCES) for text in (p.full, p.short, p.abbr)}


def norm_icp(text: str | None, pattern: re.Pattern[str]) -> str | None:
    if not text:
        return None
    s = "".join(unicodedata.normalize("NFKC", text).split())
    s = s[:1].translate(str.maketrans("川贵云甘", "蜀黔滇陇")) + s[1:]
    return s if pattern.match(s) else None


def norm_date(text: str | None) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text or "", fmt).date()
        except ValueError:
            pass
    return None


def norm_domains(cells: list[str]) -> list[str]:
    out = []
    for cell in cells:
        for d in re.split(r"[;；,、\s]+", cell.strip()):
            d = re.sub(r"^[A-Za-z]+://", "", d).split("/")[0].split(":")[0].rstrip(".。")
            d = idna.encode(d, uts46=True).decode("ascii").lower()
            out.append(d.removeprefix("www."))
    return out


def rederive(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Columns for truth.resolve computed from text, and the key ids used."""
    ids: dict[str, dict[Any, int]] = {k: {} for k in ("num", "key", "name", "dom")}

    def intern(kind: str, value: Any) -> int:
        return ids[kind].setdefault(value, len(ids[kind]))

    cols: dict[str, list[int]] = {c: [] for c in (
        "file", "seq", "readable", "product_ok", "date_state", "web_part", "web_k", "eno",
        "key", "cert_kind", "is_org", "nameprov", "note", "dom_rec", "dom_id")}
    seq: Counter[str] = Counter()
    for i, r in enumerate(records):
        cols["file"].append(FILES.index(r["file"]))
        cols["seq"].append(seq[r["file"]])
        seq[r["file"]] += 1
        cols["readable"].append(int(r["readable"]))
        cols["note"].append(0)
        if not r["readable"]:
            for c in ("product_ok", "date_state", "web_k", "cert_kind", "is_org"):
                cols[c].append(0)
            for c in ("web_part", "eno", "key", "nameprov"):
                cols[c].append(-1)
            continue
        cols["product_ok"].append(int(r["product"] in ("域名", "企业建站", "旺铺")))
        day = norm_date(r["date"])
        cols["date_state"].append(2 if day is None else int(day >= dt.date(2019, 1, 1)))
        web = norm_icp(r["web"], WEBSITE_NO)
        cols["web_part"].append(intern("num", web.split("-")[0]) if web else -1)
        cols["web_k"].append(int(web.split("-")[1]) if web else 0)
        eno = norm_icp(r["eno"], ENTITY_NO)
        cols["eno"].append(intern("num", eno) if eno else -1)
        key = cd.identity_key(r["cert_type"], r["cert"]) if r["cert_type"] and r["cert"] else None
        cols["key"].append(intern("key", key) if key else -1)
        clean = cd.clean_certificate(r["cert"] or "")
        kind = {"uscc": 1, "org_code": 2}.get(r["cert_type"], 0)
        cols["cert_kind"].append(3 if r["cert_type"] == "resident_id" and len(clean) == 15
                                 else kind)
        is_org = r["entity_type"] != "individual"
        cols["is_org"].append(int(is_org))
        name = "".join(unicodedata.normalize("NFKC", r["name"]).split())
        cols["nameprov"].append(intern("name", (name, PROVINCE_OF[r["province"]]))
                                if is_org else -1)
        for d in norm_domains(r["domains"]):
            cols["dom_rec"].append(i)
            cols["dom_id"].append(intern("dom", d))
    frame = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
    disp, ent, link = resolve(frame)
    keys = {v: k for k, v in ids["key"].items()}
    return pd.DataFrame({
        "file": [r["file"] for r in records], "locator": [r["locator"] for r in records],
        "disposition": [DISPOSITIONS[d] for d in disp],
        "entity_key": [keys[e] if e >= 0 else "" for e in ent],
        "link_kind": [LINKS[k] if k >= 0 else "" for k in link],
    }), ids["key"]


# --- tests ---------------------------------------------------------------------------------

def test_every_layout_file_is_written_and_parses(sample: SampleSet) -> None:
    assert [p.name for p in sample.run_order] == list(FILES)
    lines, undecodable = [], 0
    for raw in sample.layouts["gb"].read_bytes().split(b"\r\n")[:-1]:
        try:
            lines.append(raw.decode("gb18030"))
        except UnicodeDecodeError:
            undecodable += 1
    utf8 = sample.layouts["utf8"].read_text("utf-8-sig").splitlines()
    assert undecodable >= 1
    for rows in (list(csv.reader(lines)), list(csv.reader(utf8))):
        assert tuple(rows[0]) == CSV_HEADER
    counts = {len(r) for r in [*csv.reader(lines), *csv.reader(utf8)]}
    assert counts == {17, 18, 19}  # 17: a missing comma, 19: an unescaped quote
    parsed = bad = 0
    for line in sample.layouts["jsonl"].read_text("utf-8").splitlines():
        try:
            json.loads(line)
            parsed += 1
        except json.JSONDecodeError:
            bad += 1
    assert parsed > 10 and bad >= 2
    db = sqlite3.connect(sample.layouts["db"])
    cols = {t: [c[1] for c in db.execute(f"PRAGMA table_info({t})")]
            for t in ("members", "subjects", "sites", "site_domains")}
    db.close()
    assert cols == {
        "members": ["member_id", "email"],
        "subjects": ["subject_id", "member_id", "subject_type", "name", "cert_type", "cert_no",
                     "province", "subject_icp_no", "admin_email", "has_cloud",
                     "cloud_admin_email"],
        "sites": ["site_id", "subject_id", "product", "site_name", "site_icp_no", "home_url",
                  "filed_at"],
        "site_domains": ["site_id", "domain"],
    }


def test_one_truth_row_per_physical_record(sample: SampleSet, truth: pd.DataFrame) -> None:
    assert tuple(truth.columns) == GROUND_TRUTH_COLUMNS
    records = read_all(sample.out_dir)
    assert list(zip(truth["file"], truth["locator"], strict=True)) == [
        (r["file"], r["locator"]) for r in records]
    assert len(truth) == sample.records
    assert not truth.duplicated(["file", "locator"]).any()
    assert 2.5 < len(truth) / sample.entities < 4.5
    assert set(truth["disposition"]) == set(DISPOSITIONS[1:])
    assert set(truth["link_kind"]) == {"", *LINKS}


def test_ground_truth_rederives_from_the_text(sample: SampleSet, truth: pd.DataFrame) -> None:
    """The files' text, read and normalized by the spec, gives the same outcome per record."""
    again, _ = rederive(read_all(sample.out_dir))
    cols = ["file", "locator", "disposition", "entity_key", "link_kind"]
    diff = truth[cols].compare(again[cols])
    assert diff.empty, diff.join(truth["note"]).head(20).to_string()


def test_website_numbers_are_normalized_and_blank_only_when_unusable(truth: pd.DataFrame) -> None:
    web = truth["website_filing_number"]
    assert web[web != ""].map(lambda s: bool(WEBSITE_NO.match(s))).all()
    assert not web[web != ""].str.contains("[川贵云甘]ICP").any()
    blank = truth[web == ""]
    assert set(blank["disposition"]) == {"quarantined"}


def test_every_case_is_present_several_times(truth: pd.DataFrame) -> None:
    counts = Counter(t for tags in notes(truth) for t in tags)
    missing = sorted(t for t in REQUIRED_TAGS if counts[t] < 2)
    assert not missing, missing


def test_each_case_ends_as_the_rules_say(truth: pd.DataFrame) -> None:
    tags = notes(truth)
    for tag, (disposition, link) in OUTCOMES.items():
        rows = truth[tags.map(lambda t, tag=tag: tag in t)]
        assert len(rows), tag
        assert set(rows["disposition"]) == {disposition}, tag
        if link is not None:
            assert set(rows["link_kind"]) == {link}, tag
    org_code = truth[tags.map(lambda t: "org_code_elsewhere" in t)]
    assert set(org_code["link_kind"]) == {"org_code_in_uscc"}
    assert set(org_code["disposition"]) == {"loaded", "duplicate"}
    rid15 = truth[tags.map(lambda t: "rid15_elsewhere" in t)]
    assert set(rid15["link_kind"]) == {"upgraded_15_digit_id"}
    same_name = truth[tags.map(lambda t: "same_name_individuals" in t)
                      & (truth["entity_key"] != "")]
    assert same_name["entity_key"].nunique() >= 4
    held = truth[truth["disposition"].isin(["out_of_scope", "quarantined", "needs_review"])]
    assert (held["entity_key"] == "").all() and (held["link_kind"] == "").all()
    kept = truth[truth["disposition"].isin(["loaded", "duplicate"])]
    assert (kept["entity_key"] != "").all() and (kept["link_kind"] != "").all()


def test_spread_entity_is_in_every_layout(truth: pd.DataFrame) -> None:
    spread = truth[notes(truth).map(lambda t: "spread_members_layouts" in t)
                   & (truth["entity_key"] != "")]
    files = spread.groupby("entity_key")["file"].nunique()
    assert (files == 4).any()


def test_identity_keys_are_valid(sample: SampleSet, truth: pd.DataFrame) -> None:
    accounts = pd.read_csv(sample.accounts, dtype=str, keep_default_na=False)
    keys = set(truth["entity_key"]) - {""}
    assert set(accounts["entity_key"]) == set(truth.loc[truth["disposition"] == "loaded",
                                                        "entity_key"])
    for key in keys | set(accounts["entity_key"]):
        kind, number = key.split(":", 1)
        if kind == "ORG":
            assert cd.is_valid_org_code(number), key
        elif kind == "BL":
            assert len(number) == 15 and mod_11_10.is_valid(number), key
        elif kind == "RID":
            assert number[17] == ric.calc_check_digit(number), key  # stdnum wants all 18
            assert dt.datetime.strptime(number[6:14], "%Y%m%d"), key
        else:
            assert kind in ("PASSPORT", "HKMO", "TW") and number == number.upper() != "", key
    # Every certificate written as a USCC passes stdnum's check digit; stdnum rejects the
    # letter-prefixed ones (GB 32100 allows them) and skips the inner organization code.
    usccs = {cd.clean_certificate(r["cert"]) for r in read_all(sample.out_dir)
             if r.get("cert_type") == "uscc" and r["cert"]}
    valid = {u for u in usccs if cd.is_valid_uscc(u)}
    assert any(u[0].isalpha() for u in valid) and any(u[0].isdigit() for u in valid)
    for u in valid:
        assert uscc.calc_check_digit(u[:17]) == u[17]
        assert uscc.is_valid(u) == u[:8].isdigit()
    assert any(uscc.is_valid(u) and not cd.is_valid_uscc(u) for u in usccs)  # bad inner code


def test_accounts_follow_the_cloud_rule(sample: SampleSet, truth: pd.DataFrame) -> None:
    acc = pd.read_csv(sample.accounts, dtype=str, keep_default_na=False)
    assert list(acc.columns) == ["entity_key", "account_kind", "real_name_verification_required"]
    kinds = acc.groupby("entity_key")["account_kind"].apply(lambda s: tuple(sorted(s)))
    assert set(kinds) == {("filing",), ("filing_and_resources",), ("filing", "resources")}
    expected = {"filing": "false", "resources": "true", "filing_and_resources": "true"}
    assert (acc["real_name_verification_required"] == acc["account_kind"].map(expected)).all()
    tags = notes(truth)
    for tag, want in (("cloud_same_admin", ("filing_and_resources",)),
                      ("cloud_different_admin", ("filing", "resources")),
                      ("cloud_no", ("filing",)), ("cloud_blank", ("filing",))):
        ents = set(truth.loc[tags.map(lambda t, tag=tag: tag in t)
                             & (truth["disposition"] == "loaded"), "entity_key"])
        assert ents and {kinds[e] for e in ents} == {want}, tag


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", entities=25, seed=5)
    b = generate(tmp_path / "b", entities=25, seed=5)
    c = generate(tmp_path / "c", entities=25, seed=6)
    for name in (*FILES[:3], "ground_truth.csv", "ground_truth_accounts.csv"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert _dump(a.layouts["db"]) == _dump(b.layouts["db"])
    assert a.ground_truth.read_bytes() != c.ground_truth.read_bytes()


def _dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_entity_numbers_stay_unique_once_the_permuted_serials_are_spent() -> None:
    """Sets beyond ~3M records (the bench's 10M): numbers past the permutation's serials
    are drawn afresh, never one issued before (smaller sets are unchanged: the committed
    samples test says so)."""
    small = Numbers(random.Random(5), serials=50)
    places = [(PROVINCES[i % 3], 2016 + i % 2) for i in range(3000)]
    issued = [small.new(p, y) for p, y in places]
    texts = [small.text[i] for i in issued]
    assert len(set(texts)) == len(texts)
    assert all(re.fullmatch(r"..?ICP备\d{7,10}号", t) for t in texts)


def test_brands_stay_unique_past_a_million_names() -> None:
    factory = Factory(random.Random(4))
    serials = [*range(1, 2000), *range(10**6 - 1000, 10**6 + 1000),
               *range(5 * 10**6, 5 * 10**6 + 1000)]
    brands = [factory.brand(s) for s in serials]
    assert len(set(brands)) == len(brands)
    assert {len(b) for b in brands} == {3, 4}


def test_idna_shortcuts_match_the_idna_package() -> None:
    for d in ("中文网站.中国", "茶叶12.公司", "例子.公司", "书店7.cn", "plain.com"):
        assert a_labels(d) == idna.encode(d, uts46=True).decode("ascii")
    factory = Factory(random.Random(3))
    for _ in range(3000):
        d = factory.domain(idn=True)
        assert d.ascii == idna.encode(d.unicode, uts46=True).decode("ascii"), d


def test_committed_samples_are_current(tmp_path: Path) -> None:
    """data/samples is exactly generate(entities=40, seed=7)."""
    fresh = generate(tmp_path, entities=40, seed=7)
    committed = REPO / "data" / "samples"
    for name in (*FILES[:3], "ground_truth.csv", "ground_truth_accounts.csv"):
        assert (committed / name).read_bytes() == (fresh.out_dir / name).read_bytes(), name
    assert _dump(committed / FILES[3]) == _dump(fresh.layouts["db"])


@pytest.mark.slow
def test_scales_linearly(tmp_path: Path) -> None:
    start = time.perf_counter()
    s = generate(tmp_path, entities=6000, seed=1)
    assert time.perf_counter() - start < 60
    assert 2.5 < s.records / s.entities < 4.0
