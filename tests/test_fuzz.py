"""Fuzzing every reader and the pure pipeline: no input crashes them, no record is lost.

Each example writes a dirty legacy source (mixed GB18030/UTF-8 lines, BOMs in the middle,
NUL bytes, lone quotes, CRLF, 1 MB fields, thousands of domains, deep or huge JSON, random
bytes, truncation), reads it with `read_source`, maps it with `to_canonical` and decides
it with the rules (`run_rules`). Invariants: only SourceError/MappingError, and only for a
whole-file problem; one record per physical record (a CSV record spans lines only inside
quotes); exactly one disposition per record; quarantined records carry a reason.

The quick tier runs in `make test`; `make fuzz` runs the `slow` tier (>= 10^5 lines).
"""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import org_code, resident_id, resident_id_15, run_rules, uscc_for
from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.errors import MappingError, SourceError
from icp_migrate.mapping import resolve_mapping
from icp_migrate.readers import read_source
from icp_migrate.transforms.mapping_apply import to_canonical
from test_flow import HEADER

# Generated physical lines (text files) and rows (databases), per reader, this session.
LINES: Counter[str] = Counter()
SLOW_LINES = {"csv": 35_000, "jsonl": 30_000, "sql": 20_000, "mixed": 20_000}  # >= 10^5
BOM = b"\xef\xbb\xbf"
MB = 1 << 20

HOSTILE = ["'); DROP TABLE entities;--", "<script>alert(1)</script>", "[red]x[/red]",
           "\u202egnp.exe", "a\x00b", "\x1b[31mred", '"', '""', "'", ",", "\r", "\ufeff",
           "\u2028", "\x85", "%s%n", "{0}", "${jndi:x}", "NULL", "nan", "   ", "\t",
           "ＡＢＣ１２３", "ﾃｽﾄ", "\\", "\\N", ";", "、", "\x1c\x1d"]
PROVINCES = ["浙江省", "浙江", "浙", "四川", "川", "北京市", "火星", "", " 浙 江 "]
PRODUCTS = ["域名", "企业建站", "旺铺", "邮箱", "虚拟主机", "", "ＤＯＭＡＩＮ"]
KINDS = ["企业", "个人", "事业单位", "政府机关", "社会团体", "民办非企业单位", "基金会",
         "律师事务所", "外星人", ""]
CERT_TYPES = ["统一社会信用代码", "组织机构代码证", "营业执照", "身份证", "护照",
              "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "驾照", ""]
DATES = ["2015-03-02", "2015/3/2", "2015年3月2日", "20150302", "2019-01-01", "2021-06-30",
         "2015-02-30", "yesterday", "0000-00-00", "", "99999999", "2015-3", "１９９９－０１－０１"]
JSON_KINDS = ["individual", "organization", "alien", ""]
ID_TYPES = ["uscc", "org_code", "business_license", "resident_id", "passport",
            "hk_macao_permit", "taiwan_permit", "licence", ""]
ORG_KINDS = ["enterprise", "public_institution", "government", "law_firm", "?"]


# ---------------------------------------------------------------- random values
def rand_text(rng: random.Random, size: int = 12) -> str:
    ranges = [(0x20, 0x7E), (0x4E00, 0x9FFF), (0x00, 0x1F), (0x7F, 0x9F), (0xFF01, 0xFF5E),
              (0x2000, 0x206F), (0x0, 0x10FFFF)]
    out = []
    for _ in range(rng.randint(0, size)):
        low, high = rng.choice(ranges)
        code = rng.randint(low, high)
        out.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "?")
    return "".join(out)


def maybe(rng: random.Random, value: str, hostile: float = 0.08) -> str:
    """`value`, or now and then something hostile, random, huge or a mangled copy."""
    roll = rng.random()
    if roll < hostile / 2:
        return rng.choice(HOSTILE)
    if roll < hostile:
        return rand_text(rng)
    if roll < hostile + 0.02:
        return value + rng.choice(HOSTILE) + value
    if roll < hostile + 0.025:
        return value.replace("0", "０").replace("1", " 1 ").replace("-", "－")
    return value


def cert(rng: random.Random, n: int) -> str:
    value = rng.choice([uscc_for, resident_id, resident_id_15, org_code])(n)
    roll = rng.random()
    if roll < 0.05:
        value = value[:-1] + str((int(value[-1]) + 1) % 10) if value[-1].isdigit() else value
    elif roll < 0.1:
        value = f"{value[:6]} {value[6:12]}-{value[12:]}".lower()
    elif roll < 0.12:
        value = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([9, 15, 18, 40])))
    return maybe(rng, value)


def icp(rng: random.Random, n: int, site: bool) -> str:
    province = rng.choice(["浙", "蜀", "川", "京", "粤", "贵", "X", ""])
    digits = f"{n:08d}" if rng.random() < 0.9 else str(n)
    value = f"{province}ICP备{digits}号"
    if site:
        value += f"-{rng.randint(1, 4)}"
    roll = rng.random()
    if roll < 0.05:
        value = value.replace("-", "－").replace("ICP", " I C P ")
    elif roll < 0.08:
        value = "京ICP证030173号"
    elif roll < 0.12:
        value = ""
    return maybe(rng, value)


def domains(rng: random.Random, n: int) -> list[str]:
    pool = [f"site{n}.com", f"WWW.Site{n}.CN.", f"http://s{n}.cn:8080/a?b", "例子.公司",
            "xn--fsqu00a.xn--55qx5d", "-bad-.com", "a..b", "user@mail.cn", "x" * 300 + ".cn",
            f"s{n}.com/路径", "", "localhost"]
    return [maybe(rng, rng.choice(pool)) for _ in range(rng.randint(0, 4))]


def csv_cells(rng: random.Random) -> list[str]:
    n = rng.randrange(40)  # few entities: duplicates and conflicts happen
    sep = rng.choice([";", "；", ",", "、", " ", " ; "])
    return [maybe(rng, f"m{rng.randrange(9)}"), maybe(rng, rng.choice(PRODUCTS)),
            maybe(rng, rng.choice(KINDS)), maybe(rng, rng.choice(["杭州某某有限公司", "王伟",
                                                                   "李娜", "Ａ公司"])),
            maybe(rng, rng.choice(CERT_TYPES)), cert(rng, n), icp(rng, n, False),
            maybe(rng, "网站"), icp(rng, n, True), sep.join(domains(rng, n)),
            maybe(rng, f"http://site{n}.com"), maybe(rng, rng.choice(PROVINCES)),
            maybe(rng, "张三"), maybe(rng, f"138{n:08d}"), maybe(rng, f"a{n}@b.cn"),
            maybe(rng, rng.choice(DATES)), maybe(rng, rng.choice(["是", "否", ""])),
            maybe(rng, rng.choice(["", "ops@b.cn"]))]


# ---------------------------------------------------------------- byte-level dirt
def mangle(rng: random.Random, line: bytes) -> bytes:
    roll = rng.random()
    if roll < 0.03:
        return line[:rng.randint(0, len(line))]  # truncated, maybe mid-character
    if roll < 0.05:
        at = rng.randint(0, len(line))
        return line[:at] + BOM + line[at:]
    if roll < 0.06:
        at = rng.randint(0, len(line))
        return line[:at] + b"\x00" + line[at:]
    if roll < 0.07:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 80)))
    if roll < 0.08:
        return rng.choice([b"", b"   ", b"\r", b"\t\r", BOM, b"\x0b\x0c"])
    if roll < 0.09:
        at = rng.randint(0, len(line))
        return line[:at] + b'"' + line[at:]  # a lone quote
    return line


def encode(rng: random.Random, text: str) -> bytes:
    return text.encode("gb18030" if rng.random() < 0.25 else "utf-8")


def huge(rng: random.Random) -> str:
    """Now and then per file: a 1 MB field, or a website with thousands of domains."""
    if rng.random() < 0.5:
        return "长" * (MB // 3)
    return rng.choice([";", " "]).join(f"d{i}.x.cn" for i in range(rng.randint(1000, 4000)))


def assemble(rng: random.Random, head: bytes, lines: list[bytes], extra: list[bytes]) -> bytes:
    for chunk in extra:  # hypothesis-made bytes, anywhere after the head
        lines.insert(rng.randint(0, len(lines)), chunk)
    newline = b"\r\n" if rng.random() < 0.2 else b"\n"
    data = head + newline + newline.join(lines) + (newline if rng.random() < 0.8 else b"")
    if rng.random() < 0.1:
        data = data[:rng.randint(len(head) + 1, len(data))]  # truncated file
    return data


# ---------------------------------------------------------------- the oracle
def physical_lines(data: bytes) -> list[bytes]:
    """Physical lines as the readers count them (split on LF only)."""
    data = data[3:] if data.startswith(BOM) else data
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def is_blank(raw: bytes) -> bool:
    raw = raw[:-1] if raw.endswith(b"\r") else raw
    for encoding in ("utf-8", "gb18030"):
        try:
            return not raw.decode(encoding).replace("\ufeff", "").strip()
        except UnicodeDecodeError:
            continue
    return False  # undecodable: a record of its own


def starts_of(frame: pd.DataFrame) -> list[int]:
    starts = [int(str(loc).removeprefix("line ")) - 1 for loc in frame["locator"]]
    assert starts == sorted(set(starts)), "locators must be unique and in file order"
    return starts


def check_csv_records(data: bytes, frame: pd.DataFrame) -> None:
    """Every non-blank line after the header starts a record or continues a quoted one."""
    raw = physical_lines(data)
    header = next(i for i, line in enumerate(raw) if not is_blank(line))
    covered: set[int] = set()
    for start, error in zip(starts_of(frame), frame["read_error"], strict=True):
        assert start > header and start not in covered, f"line {start + 1} read twice"
        end, quotes = start, raw[start].count(b'"')
        if pd.isna(error) and quotes % 2:  # a quoted field spanning lines: up to its close
            while quotes % 2:
                end += 1
                quotes += raw[end].count(b'"')
            assert end - start < 50
        else:
            assert pd.isna(error) or (isinstance(error, str) and error.strip())
        covered.update(range(start, end + 1))
    lost = [i + 1 for i in range(header + 1, len(raw)) if i not in covered
            and not is_blank(raw[i])]
    assert not lost, f"lines without a record: {lost[:10]}"


def check_jsonl_records(data: bytes, frame: pd.DataFrame) -> None:
    raw = physical_lines(data)
    expected = [i for i, line in enumerate(raw) if not is_blank(line)]
    assert starts_of(frame) == expected


def check_pipeline(canonical: pd.DataFrame) -> pd.DataFrame:
    """Rules over the records: exactly one disposition each, reasons where promised."""
    frame = canonical.reset_index(drop=True)
    frame.insert(0, "row_id", range(len(frame)))
    plan = run_rules(frame)
    out = plan.dispositions
    assert len(out) == len(frame) == plan.input_count
    assert sorted(out["row_id"]) == list(range(len(frame)))
    assert out["disposition"].isin(DISPOSITIONS).all(), out["disposition"].unique()
    merged = frame.merge(out, on="row_id", suffixes=("", "_d"))
    assert (merged["locator"] == merged["locator_d"]).all()
    explained = merged["disposition"].isin(["quarantined", "needs_review", "out_of_scope"])
    reasons = merged.loc[explained, "reasons"]
    assert reasons.map(lambda r: isinstance(r, str) and bool(r.strip())).all(), \
        merged.loc[explained, ["locator", "disposition", "reasons"]].head()
    unreadable = merged["read_error"].notna()
    assert merged.loc[unreadable, "disposition"].eq("quarantined").all()
    assert all(str(e) in str(r) for e, r in merged.loc[unreadable, ["read_error", "reasons"]]
               .itertuples(index=False))
    loaded = merged.loc[merged["disposition"].eq("loaded"), "website_filing_number_d"]
    assert set(loaded) <= set(plan.website_filings["website_filing_number"])
    assert plan.accounts["entity_id"].isin(plan.entities["entity_id"]).all()
    return out


def read_checked(path: Path, checker: Callable[[bytes, pd.DataFrame], None] | None,
                 intact: bool, forced: str | None = None) -> pd.DataFrame | None:
    """The canonical frame, or None after a whole-file error (allowed only if not intact)."""
    try:
        frame, mapping = read_source(str(path), resolve_mapping(forced) if forced else None)
    except (SourceError, MappingError) as exc:
        assert not intact, f"a readable source was refused: {exc}"
        assert str(exc).strip() and "\n" not in str(exc)
        return None
    if checker is not None:
        checker(path.read_bytes(), frame)
    canonical = to_canonical(frame, mapping)
    assert len(canonical) == len(frame)
    return canonical


# ---------------------------------------------------------------- the three layouts
HEADERS = ["utf-8", "utf-8-sig", "gb18030", "spaced", "reordered", "extra", "blank-first",
           "missing", "duplicate", "garbage"]
INTACT_HEADERS = HEADERS[:7]


def csv_file(rng: random.Random, variant: str, rows: int, extra: list[bytes]) -> bytes:
    order = list(range(len(HEADER)))
    names = list(HEADER)
    if variant == "reordered":
        rng.shuffle(order)
        names = [HEADER[i] for i in order]
    elif variant == "spaced":
        names = [f" {n} " for n in names]
    elif variant == "extra":
        names.append("备注")
    elif variant == "missing":
        names.remove("网站备案号")
    elif variant == "duplicate":
        names[rng.randrange(len(names))] = rng.choice(HEADER)
    head = ",".join(names)
    encoding = {"gb18030": "gb18030"}.get(variant, "utf-8")
    head_bytes = head.encode(encoding)
    if variant == "utf-8-sig":
        head_bytes = BOM + head_bytes
    elif variant == "blank-first":
        head_bytes = b"\n  \n" + head_bytes
    elif variant == "garbage":
        head_bytes = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    lines = []
    for _ in range(rows):
        cells = csv_cells(rng)
        cells = [cells[i] for i in order]
        if variant == "extra" and rng.random() < 0.5:
            cells.append(maybe(rng, "备注"))
        if rng.random() < 0.9:
            buffer = io.StringIO()
            quoting = csv.QUOTE_ALL if rng.random() < 0.2 else csv.QUOTE_MINIMAL
            # the writer quotes fields holding its line terminator: CR and LF then span lines
            csv.writer(buffer, quoting=quoting, lineterminator="\r\n").writerow(cells)
            text = buffer.getvalue()[:-2]
        else:
            text = ",".join(cells)  # unquoted: commas and quotes inside fields break it
        lines.append(mangle(rng, encode(rng, text)))
    if rng.random() < 0.08:
        cells = csv_cells(rng)
        cells[rng.choice([3, 7, 9, 9])] = huge(rng)
        lines.insert(rng.randint(0, len(lines)), ",".join(cells).encode("utf-8"))
    return assemble(rng, head_bytes, lines, extra)


def shop(rng: random.Random) -> dict:
    n = rng.randrange(40)
    kind = maybe(rng, rng.choice(JSON_KINDS))
    obj: dict = {
        "shop_id": str(58000000 + n), "member_id": maybe(rng, f"tb_{rng.randrange(9)}"),
        "shop_url": maybe(rng, f"https://shop{n}.taobao.com"), "shop_name": maybe(rng, "店"),
        "filed_on": maybe(rng, rng.choice(DATES)),
        "subject": {"kind": kind, "org_kind": maybe(rng, rng.choice(ORG_KINDS)),
                    "name": maybe(rng, rng.choice(["王伟", "某某公司"])),
                    "id_type": maybe(rng, rng.choice(ID_TYPES)), "id_no": cert(rng, n),
                    "province": maybe(rng, rng.choice(PROVINCES)),
                    "contact": {"name": "张三", "phone": f"139{n:08d}", "email": "a@b.cn"}},
        "icp": {"subject_no": icp(rng, n, False), "site_no": icp(rng, n, True)},
        "domains": domains(rng, n),
        "cloud": {"has_resources": rng.choice([True, False, None, "true", 1]),
                  "admin_email": rng.choice([None, "ops@b.cn", ""])},
    }
    for _ in range(rng.choice([0, 0, 0, 1, 2])):  # a missing key, or the wrong type
        parent = rng.choice([p for p in (obj, obj.get("subject"), obj.get("icp"),
                                         obj.get("cloud")) if isinstance(p, dict) and p])
        key = rng.choice(list(parent))
        if rng.random() < 0.5:
            del parent[key]
        else:
            parent[key] = rng.choice([None, 0, -1.5, 10**30, True, [], {}, [1, [2, {"a": 3}]],
                                      {"x": {"y": [None]}}, "", rand_text(rng)])
    return obj


def deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def json_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.95:
        text = json.dumps(shop(rng), ensure_ascii=rng.random() < 0.3)
        return text[:rng.randint(0, len(text))] if rng.random() < 0.03 else text
    special = [
        lambda: deep(rng.choice([10, 500, 990, 3000, 100_000])),
        lambda: json.dumps(shop(rng))[:-1] + ', "domains": ' + deep(rng.choice([300, 700, 990]))
        + "}",
        lambda: json.dumps(shop(rng))[:-1] + ', "subject": '
        + '{"a": ' * (d := rng.choice([300, 900])) + "1" + "}" * d + "}",
        lambda: rng.choice(["[1, 2]", '"text"', "null", "123", "{}", "NaN", "{", "}", "[]"]),
        lambda: '{"shop_id": 1, "icp": {"site_no": NaN}, "subject": {"name": Infinity}}',
        lambda: '{"shop_id": 1, "icp": {"site_no": 1e400}, "subject": {"id_no": '
        + "9" * rng.choice([20, 4000, 5000]) + "}}",
        lambda: '{"shop_id": 1, "shop_id": 2, "icp": {"site_no": "浙ICP备1号-1"}, "subject": {}}',
        lambda: '{"icp": {"site_no": "\\ud800"}, "subject": {"name": "\\u0000"}, "shop_id": 1}',
        lambda: rand_text(rng, 200),
    ]
    return rng.choice(special)()


def valid_shop(rng: random.Random) -> dict:
    """A shop line layout detection recognizes (the keys it looks for are all there)."""
    obj = shop(rng)
    subject = obj["subject"] if isinstance(obj.get("subject"), dict) else {}
    return obj | {"shop_id": "58000000", "subject": subject,
                  "icp": {"site_no": "浙ICP备00000001号-1"}}


def jsonl_file(rng: random.Random, rows: int, extra: list[bytes], intact: bool) -> bytes:
    first = (json.dumps(valid_shop(rng), ensure_ascii=False).encode("utf-8") if intact
             else mangle(rng, json_line(rng).encode("utf-8")))
    lines = [mangle(rng, encode(rng, json_line(rng))) for _ in range(rows)]
    if rng.random() < 0.08:
        big = huge(rng)
        changes = {"shop_name": big} if big.startswith("长") else {"domains": big.split(";")}
        lines.insert(rng.randint(0, len(lines)), json.dumps(shop(rng) | changes).encode())
    return assemble(rng, first, lines, extra)


def sql_file(rng: random.Random, path: Path, rows: int, extra: list[bytes]) -> int:
    """A legacy database with odd types in every column; returns its number of sites."""
    def odd(value: object) -> object:
        roll = rng.random()
        if roll < 0.04:
            return rng.choice([None, 0, -1, 2.5, 1e300, float("inf"), 10**18, True])
        if roll < 0.06:
            return rng.choice(extra) if extra else b"\xff\xfe\x00"  # a BLOB
        return maybe(rng, value) if isinstance(value, str) else value

    connection = sqlite3.connect(path)
    connection.executescript("""
        CREATE TABLE members (member_id TEXT PRIMARY KEY, email TEXT);
        CREATE TABLE subjects (subject_id INTEGER PRIMARY KEY, member_id TEXT,
          subject_type TEXT, name TEXT, cert_type TEXT, cert_no TEXT, province TEXT,
          subject_icp_no TEXT, admin_email TEXT, has_cloud INTEGER, cloud_admin_email TEXT);
        CREATE TABLE sites (site_id INTEGER PRIMARY KEY, subject_id INTEGER, product TEXT,
          site_name TEXT, site_icp_no TEXT, home_url TEXT, filed_at TEXT);
        CREATE TABLE site_domains (site_id INTEGER, domain TEXT);
    """)
    subjects = []
    for s in range(max(1, rows // 2)):
        n = rng.randrange(40)
        subjects.append((s, odd(f"m{rng.randrange(9)}"), odd(rng.choice(KINDS)), odd("某公司"),
                         odd(rng.choice(CERT_TYPES)), cert(rng, n), icp(rng, n, False),
                         odd("a@b.cn"), odd(rng.choice([0, 1])), odd("ops@b.cn")))
    connection.executemany("INSERT INTO subjects VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (s[0], s[1], s[2], s[3], s[4], s[5], odd(rng.choice(PROVINCES)), *s[6:]) for s in subjects])
    sites, site_domains = [], []
    for site in range(rows):
        n = rng.randrange(40)
        sites.append((site, odd(rng.randrange(len(subjects) + 3)), odd(rng.choice(PRODUCTS)),
                      odd("站"), odd(icp(rng, n, True)), odd(f"http://s{n}.cn"),
                      odd(rng.choice(DATES))))
        site_domains += [(odd(site), odd(d)) for d in domains(rng, n)]
    connection.executemany("INSERT INTO sites VALUES (?,?,?,?,?,?,?)", sites)
    connection.executemany("INSERT INTO site_domains VALUES (?,?)", site_domains)
    connection.commit()
    connection.close()
    return rows


# ---------------------------------------------------------------- the properties
EXTRA = st.lists(st.binary(max_size=120) | st.text(max_size=60).map(
    lambda t: t.encode("utf-8")), max_size=4)


def recipes(max_rows: int) -> st.SearchStrategy[dict]:
    """What hypothesis draws (and shrinks); the bulk of each file comes from the seed."""
    return st.fixed_dictionaries({
        "seed": st.integers(0, 2**32 - 1), "rows": st.integers(1, max_rows), "extra": EXTRA,
        "header": st.sampled_from(HEADERS), "intact": st.booleans(), "forced": st.booleans(),
    })


def fuzz_csv(recipe: dict, folder: Path) -> pd.DataFrame | None:
    rng = random.Random(recipe["seed"])
    data = csv_file(rng, recipe["header"], recipe["rows"], recipe["extra"])
    path = folder / "fuzz.csv"
    path.write_bytes(data)
    LINES["csv"] += len(physical_lines(data))
    body = physical_lines(data)[1 + (2 if recipe["header"] == "blank-first" else 0):]
    intact = recipe["header"] in INTACT_HEADERS and any(not is_blank(b) for b in body)
    forced = "hichina_beian_csv" if recipe["forced"] else None
    return read_checked(path, check_csv_records, intact, forced)


def fuzz_jsonl(recipe: dict, folder: Path) -> pd.DataFrame | None:
    rng = random.Random(recipe["seed"])
    data = jsonl_file(rng, recipe["rows"], recipe["extra"], recipe["intact"])
    path = folder / "fuzz.jsonl"
    path.write_bytes(data)
    LINES["jsonl"] += len(physical_lines(data))
    forced = "winport_shops_jsonl" if recipe["forced"] else None
    return read_checked(path, check_jsonl_records, recipe["intact"], forced)


def fuzz_sql(recipe: dict, folder: Path) -> pd.DataFrame | None:
    rng = random.Random(recipe["seed"])
    path = folder / "fuzz.db"
    sites = sql_file(rng, path, recipe["rows"], recipe["extra"])
    LINES["sql"] += sites
    forced = "hichina_legacy_db" if recipe["forced"] else None
    canonical = read_checked(path, None, True, forced)
    assert canonical is not None and len(canonical) == sites
    assert canonical["locator"].is_unique
    return canonical


def fuzz_mixed(recipe: dict, folder: Path) -> pd.DataFrame | None:
    """All three layouts in one run, as the flow concatenates them."""
    frames = [f for f in (fuzz_csv(recipe, folder), fuzz_jsonl(recipe, folder),
                          fuzz_sql(recipe, folder)) if f is not None]
    return pd.concat(frames, ignore_index=True)


def run_fuzz(body: Callable[[dict, Path], pd.DataFrame | None], examples: int,
             max_rows: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(recipes(max_rows))
    def prop(recipe: dict) -> None:
        with tempfile.TemporaryDirectory(prefix="icp-fuzz-") as tmp:
            canonical = body(recipe, Path(tmp))
            if canonical is not None:
                check_pipeline(canonical)

    prop()


FUZZERS = {"csv": fuzz_csv, "jsonl": fuzz_jsonl, "sql": fuzz_sql, "mixed": fuzz_mixed}


def fuzzed_lines() -> int:
    return LINES["csv"] + LINES["jsonl"] + LINES["sql"]


def test_fuzz_quick():
    """`make test`: a few examples of all three layouts in one run."""
    run_fuzz(fuzz_mixed, examples=6, max_rows=200)
    assert fuzzed_lines() > 0


@pytest.mark.slow
@pytest.mark.parametrize("layout", list(FUZZERS))
def test_fuzz_slow(layout, capsys):
    """`make fuzz`: examples until this layout's share of the 10^5 lines has run."""
    before, examples = fuzzed_lines(), 0
    while fuzzed_lines() - before < SLOW_LINES[layout]:
        run_fuzz(FUZZERS[layout], examples=10, max_rows=3000)
        examples += 10
    run = fuzzed_lines() - before
    with capsys.disabled():
        print(f"\nfuzzed {layout}: {run:,} generated lines in {examples} examples; "
              f"this session {fuzzed_lines():,} lines ({dict(LINES)})")
    assert run >= SLOW_LINES[layout]


# ---------------------------------------------------------------- named edge cases
def shop_line(**changes: object) -> str:
    return json.dumps(valid_shop(random.Random(1)) | changes, ensure_ascii=False)


def csv_row(**cells: str) -> str:
    values = csv_cells(random.Random(2))
    for name, value in cells.items():
        values[HEADER.index(name)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()[:-2]


HEADER_LINE = ",".join(HEADER)
EDGE_CASES = {
    "jsonl deep list in a field": ("jsonl", [shop_line(), shop_line()[:-1] + ', "domains": '
                                             + deep(990) + "}"]),
    "jsonl deep object in subject": ("jsonl", [shop_line(), shop_line()[:-1] + ', "subject": '
                                               + '{"a": ' * 900 + "1" + "}" * 900 + "}"]),
    "jsonl nested 100000 deep": ("jsonl", [shop_line(), deep(100_000)]),
    "jsonl 1 MB line": ("jsonl", [shop_line(shop_name="长" * MB)]),
    "jsonl 4000 domains": ("jsonl", [shop_line(domains=[f"d{i}.cn" for i in range(4000)])]),
    "jsonl 5000-digit number": ("jsonl", [shop_line(), '{"shop_id": ' + "9" * 5000 + "}"]),
    "jsonl wrong types": ("jsonl", [shop_line(icp={"site_no": ["浙ICP备1号-1"]}, subject=[],
                                              domains={"a": 1}, cloud="yes")]),
    "jsonl NUL and lone surrogate": ("jsonl", [shop_line(), shop_line(shop_name="a\x00b"),
                                               '{"icp": {"site_no": "\\udc00"}}']),
    "csv lone quote": ("csv", [HEADER_LINE, csv_row(),
                               '"' + csv_row(), csv_row(), csv_row() + '"']),
    "csv 1 MB field": ("csv", [HEADER_LINE, csv_row(主办单位名称="长" * MB)]),
    "csv 4000 domains": ("csv", [HEADER_LINE, csv_row(网站域名=";".join(
        f"d{i}.cn" for i in range(4000)))]),
    "csv NUL, CR and BOM mid-line": ("csv", [HEADER_LINE, csv_row(网站名称="a\x00b"),
                                            csv_row(网站名称="a\rb"),
                                            csv_row(网站名称="a\ufeffb")]),
    "csv hostile names": ("csv", [HEADER_LINE] + [csv_row(主办单位名称=h, 网站名称=h)
                                                  for h in HOSTILE]),
}


def test_named_edge_cases(tmp_path):
    """Each named case read alone, then all decided in one run."""
    frames = []
    for number, (name, (layout, lines)) in enumerate(EDGE_CASES.items()):
        path = tmp_path / f"edge{number}.{layout}"
        path.write_bytes(b"\n".join(line.encode("utf-8") for line in lines) + b"\n")
        checker = check_csv_records if layout == "csv" else check_jsonl_records
        try:
            frames.append(read_checked(path, checker, intact=True))
        except Exception as exc:
            raise AssertionError(f"edge case {name!r}: {exc!r}") from exc
    canonical = pd.concat(frames, ignore_index=True)
    unreadable = canonical.loc[canonical["read_error"].notna(), "read_error"]
    assert unreadable.str.contains("nested too deeply").sum() >= 2, unreadable.tolist()
    assert unreadable.str.contains("NUL").sum() >= 2 and unreadable.str.contains(
        "lone surrogate").sum() == 1
    check_pipeline(canonical)


def test_mixed_encodings_and_crlf_keep_every_line(tmp_path):
    rows = [csv_row(会员ID=f"m{i}", 主办单位名称="杭州某某有限公司") for i in range(6)]
    data = (",".join(HEADER).encode("gb18030") + b"\r\n"
            + b"\r\n".join(r.encode("gb18030" if i % 2 else "utf-8") for i, r in enumerate(rows))
            + b"\r\n" + BOM + rows[0].encode("utf-8") + b"\r\n")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    canonical = read_checked(path, check_csv_records, intact=True)
    assert canonical is not None
    assert canonical["read_error"].isna().all(), canonical["read_error"].tolist()
    assert canonical["member_id"].tolist() == [f"m{i}" for i in range(6)] + ["m0"]
    assert set(canonical["entity_name"]) == {"杭州某某有限公司"}
    check_pipeline(canonical)


def test_a_doubled_header_column_is_a_whole_file_error(tmp_path):
    """Which of two 证件号码 columns holds the certificate? Neither guess is safe."""
    path = tmp_path / "doubled.csv"
    path.write_text(f"{HEADER_LINE},证件号码\n{csv_row()},1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="'证件号码' appears twice in the header"):
        read_source(str(path))
    path.write_text(f"{HEADER_LINE},备注,备注\n{csv_row()},a,b\n", encoding="utf-8")
    canonical = read_checked(path, check_csv_records, intact=True)  # unread columns: fine
    assert canonical is not None and canonical["read_error"].isna().all()
