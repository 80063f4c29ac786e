"""Hostile strings (SQL, HTML/JS, rich markup, control characters, RTL marks) in legacy data:
stored literally through the real flow, shown as text by the CLI, never executed or styled."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from builders import uscc_for
from icp_migrate.transforms.text import squash
from test_cli import cli
from test_flow import HEADER, migrate

HOSTILE = {
    "sql": "'); DROP TABLE entities;--",
    "sql_or": "x' OR '1'='1'; DELETE FROM accounts; --",
    "quotes": 'O"Brien \\" \'q\' ``',
    "script": '<script>alert("x")</script>',
    "img": "<img src=x onerror=alert(1)>",
    "markup": "[red]x[/red]",
    "markup_link": "[bold][link=http://evil.example]y[/link]",
    "markup_close": "[/] [/bold] z",
    "escape": "esc\x1b[31m red\x1b[0m",
    "bell": "bell\x07 back\x08 del\x7f c1\x85",
    "rtl": "\u202eexe.txt\u202c 名",
    "zero_width": "a\u200bb\ufeffc\u2060d",
    "format": "%s %d {0} {name} $HOME `id`",
    "backslash": "C:\\new\\table\\x00",
    "wide": "店🐉 ＡＢＣ\u3000１２３",
    "spaces": "  a\t\tb  ",
}
NUL_NAME = "nul\x00byte"
LEGACY_SCHEMA = """
CREATE TABLE members (member_id TEXT PRIMARY KEY, email TEXT);
CREATE TABLE subjects (subject_id INTEGER PRIMARY KEY, member_id TEXT, subject_type TEXT,
  name TEXT, cert_type TEXT, cert_no TEXT, province TEXT, subject_icp_no TEXT,
  admin_email TEXT, has_cloud INTEGER, cloud_admin_email TEXT);
CREATE TABLE sites (site_id INTEGER PRIMARY KEY, subject_id INTEGER, product TEXT,
  site_name TEXT, site_icp_no TEXT, home_url TEXT, filed_at TEXT);
CREATE TABLE site_domains (site_id INTEGER, domain TEXT);
"""
# A file name that is SQL and markup at once (no "/" allowed in a file name).
SOURCE_NAME = "[bold]h'); DROP TABLE runs;--.csv"


def csv_line(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def hostile_sources(folder: Path) -> tuple[list[str], dict[str, str]]:
    """A CSV, a JSONL file and a legacy database with one organization per hostile string
    (its name and its website's name), plus one NUL record in each; returns the sources and
    cert -> raw name."""
    names: dict[str, str] = {}
    rows = [",".join(HEADER)]
    lines = []
    for i, (key, text) in enumerate(HOSTILE.items()):
        cert = uscc_for(3000 + i)
        names[cert] = text
        rows.append(csv_line(["m-" + key, "域名", "企业", text, "统一社会信用代码", cert, "",
                              text, f"浙ICP备{30000000 + i}号-1", f"c{i}.example.cn", "",
                              "浙江", "", "", "", "2015-03-02", "否", ""]))
        cert = uscc_for(4000 + i)
        names[cert] = text
        lines.append(json.dumps({
            "shop_id": str(i), "member_id": "tb-" + key, "shop_name": text,
            "filed_on": "2016-05-01", "shop_url": f"https://shop{i}.taobao.com",
            "subject": {"kind": "organization", "org_kind": "enterprise", "name": text,
                        "id_type": "uscc", "id_no": cert, "province": "浙江"},
            "icp": {"subject_no": "", "site_no": f"浙ICP备{40000000 + i}号-1"},
            "domains": [f"j{i}.example.cn"]}, ensure_ascii=i % 2 == 0))
    rows.append(csv_line(["m-nul", "域名", "企业", NUL_NAME, "统一社会信用代码",
                          uscc_for(3999), "", "x", "浙ICP备39999999号-1", "n.example.cn", "",
                          "浙江", "", "", "", "2015-03-02", "否", ""]))
    lines.append(json.dumps({  # "\u0000" escaped: valid JSON, but no database takes it
        "shop_id": "nul", "shop_name": NUL_NAME, "filed_on": "2016-05-01",
        "subject": {"kind": "organization", "name": NUL_NAME, "id_type": "uscc",
                    "id_no": uscc_for(4999), "province": "浙江"},
        "icp": {"site_no": "浙ICP备49999999号-1"}, "domains": ["nul.example.cn"]}))
    db_path = folder / "legacy.db"
    with closing(sqlite3.connect(db_path)) as connection, connection:
        connection.executescript(LEGACY_SCHEMA)
        for i, text in enumerate([*HOSTILE.values(), NUL_NAME]):
            cert = uscc_for(5000 + i)
            if text != NUL_NAME:
                names[cert] = text
            connection.execute("INSERT INTO subjects VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                               (i, "d", "企业", text, "统一社会信用代码", cert, "浙江", "",
                                "", 0, None))
            connection.execute("INSERT INTO sites VALUES (?,?,?,?,?,?,?)",
                               (i, i, "企业建站", text, f"浙ICP备{50000000 + i}号-1", "",
                                "2014/7/1"))
            connection.execute("INSERT INTO site_domains VALUES (?,?)", (i, f"d{i}.example.cn"))
    csv_path = folder / SOURCE_NAME
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    jsonl_path = folder / "shops.jsonl"
    jsonl_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(csv_path), str(jsonl_path), str(db_path)], names


@pytest.fixture(scope="session")
def cli_env(prefect_harness) -> dict[str, str]:
    """CLI subprocesses on the session's Prefect test API: no run starts a server of its own."""
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "ICP_MIGRATE_LOCK_WAIT": "120"}


def read_table(url: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return pd.read_sql(sa.text(query), connection)
    finally:
        engine.dispose()


@pytest.mark.usefixtures("prefect_harness")
def test_hostile_strings_are_stored_literally(target_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run's report folder lands here
    sources, names = hostile_sources(tmp_path)
    summary = migrate(sources=sources, target=target_url)
    assert summary.status == "completed"
    assert summary.dispositions["loaded"] == len(names)
    assert summary.dispositions["quarantined"] == 3  # the NUL records, one per layout

    entities = read_table(target_url, "SELECT cert_number, name FROM entities")
    stored = dict(zip(entities["cert_number"], entities["name"], strict=True))
    assert stored == {cert: squash(text) for cert, text in names.items()}
    sites = read_table(target_url, "SELECT e.cert_number, w.website_name FROM website_filings w "
                                   "JOIN entities e ON e.entity_id = w.entity_id")
    assert dict(zip(sites["cert_number"], sites["website_name"], strict=True)) == {
        cert: squash(text) for cert, text in names.items()}
    # the literal SQL did nothing: every table is there, the run is recorded whole
    runs = read_table(target_url, "SELECT status, sources FROM runs")
    assert runs["status"].tolist() == ["completed"]
    assert json.loads(runs["sources"].iat[0])[0].endswith(SOURCE_NAME)
    held = read_table(target_url, "SELECT source, disposition, reasons FROM record_dispositions")
    assert set(held["source"]) == set(sources)
    quarantined = held[held["disposition"].eq("quarantined")]
    assert quarantined["reasons"].str.contains("NUL").all(), quarantined["reasons"].tolist()
    # and the normal form keeps what a person must see: markup, quotes, scripts, SQL
    for key in ("sql", "sql_or", "quotes", "script", "markup", "markup_close", "format"):
        assert HOSTILE[key] in stored.values()
    assert "exe.txt 名" in stored.values()  # invisible direction marks dropped, text kept


def test_the_cli_prints_hostile_values_as_text(tmp_path, cli_env):
    sources, _ = hostile_sources(tmp_path)
    env = {**cli_env, "ICP_MIGRATE_TARGET": str(tmp_path / "out.db")}
    result = cli("run", *sources, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"read from {tmp_path / SOURCE_NAME}" in result.stdout
    assert f"extract {tmp_path / SOURCE_NAME}:" in result.stderr  # progress, unstyled
    shown = cli("show", "--limit", "100", cwd=tmp_path, env={**env, "COLUMNS": "250"})
    assert shown.returncode == 0, shown.stderr
    for key in ("sql", "script", "img", "markup", "markup_link", "markup_close", "format"):
        assert squash(HOSTILE[key]) in shown.stdout, key
    # no value may restyle or reorder the terminal: controls and direction marks are escaped
    for control in ("\x1b", "\x07", "\x08", "\x7f", "\x85", "\u202e"):
        assert control not in shown.stdout + shown.stderr + result.stdout + result.stderr
    assert "esc\\x1b[31m red\\x1b[0m" in shown.stdout


@pytest.mark.parametrize("name", ["[/red]x.csv", "[bold]y[/bold].csv",
                                  "esc\x1b[2J\u202eexe.csv"])
def test_error_lines_quote_file_names_as_text(tmp_path, name):
    result = cli("run", name, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].endswith(": no such file"), lines
    if name.isprintable():
        assert name in lines[0]
    assert "\x1b" not in lines[0] and "\u202e" not in lines[0]
