"""The legacy database (`hichina_legacy_db`) on the machine's real MariaDB through PyMySQL:
each test creates its own database (`mysql_url`), loads the legacy tables and drops it after.

In CI (`CI=true`) a missing or unreachable MariaDB fails these tests; elsewhere they skip."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from icp_migrate.errors import SourceError
from icp_migrate.readers import read_source
from icp_migrate.transforms.mapping_apply import to_canonical
from mariadb import SAMPLE_DB, copy_legacy, execute, set_bytes, stored_hex
from test_cli import cli, one_line_error
from test_flow import TABLES, dump, migrate

ID_NUMBER = "330106198001011234"
BAD = ID_NUMBER.encode() + b"\xff"  # neither UTF-8 nor GB18030
UNDECODABLE = "undecodable bytes in column {!r} (not utf-8 or gb18030)"


def read(source: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the reader's frame without its `source` column, the canonical records)."""
    frame, mapping = read_source(str(source))
    assert mapping.name == "hichina_legacy_db"
    canonical = to_canonical(frame, mapping)
    return (frame.drop(columns="source").reset_index(drop=True),
            canonical.drop(columns="source").reset_index(drop=True))


def same_values(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal column by column and value by value (None for None, equal strings); a
    record's domains as a set: the mapping's `ORDER BY domain` follows the server's
    collation (case-insensitive on MySQL, bytes on SQLite), and nothing downstream depends
    on their order."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        for i, (a, b) in enumerate(zip(got[column], want[column], strict=True)):
            a, b = _plain(a), _plain(b)
            if column == "domains" and a is not None and b is not None:
                a, b = sorted(a.split(";")), sorted(b.split(";"))
            assert a == b, f"{column}[{i}]: {a!r} != {b!r}"


def _plain(value: object) -> object:
    return None if value is None or value is pd.NA or (
        isinstance(value, float) and value != value) else value


def sqlite_with_bad_certificate(folder: Path) -> Path:
    """The sample legacy database, subject 2000002's cert_no the ID number plus a byte that is
    not UTF-8 (as test_personal_data's)."""
    path = folder / "legacy.db"
    shutil.copy(SAMPLE_DB, path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE subjects SET cert_no = CAST(? AS TEXT) WHERE subject_id = 2000002",
                   (BAD,))
    return path


def sites_of_subject(subject_id: int) -> list[str]:
    with closing(sqlite3.connect(SAMPLE_DB)) as db:
        return [f"sites.site_id={site}" for site, in db.execute(
            "SELECT site_id FROM sites WHERE subject_id = ? ORDER BY site_id", (subject_id,))]


@pytest.mark.parametrize("charset", ["utf8mb4", "gbk"])
def test_the_sample_tables_on_mariadb_read_as_from_sqlite(mysql_url, charset):
    copy_legacy(mysql_url, charset=charset)
    if charset == "gbk":  # the server really holds GBK bytes, not UTF-8
        assert stored_hex(mysql_url, "SELECT HEX(name) FROM subjects "
                                     "WHERE subject_id = 2000002") == ["C5CBCEB0"]  # 潘伟
    frame, records = read(mysql_url)
    want_frame, want_records = read(SAMPLE_DB)
    assert len(records) == 45 and frame["read_error"].isna().all()
    same_values(frame, want_frame)
    same_values(records, want_records)


def test_gbk_text_that_is_also_valid_utf8_reads_in_the_column_charset(mysql_url):
    """A GBK column is decoded as GBK: the UTF-8-else-GB18030 guess of files would read
    these names (about 3% of two-character names) as Latin letters."""
    name, site = "陆茂", "魔路"
    for text in (name, site):
        assert text.encode("gbk").decode("utf-8") != text  # the trap is real
    copy_legacy(mysql_url, charset="gbk")
    execute(mysql_url, f"UPDATE subjects SET name = '{name}' WHERE subject_id = 2000002",
            f"UPDATE sites SET site_name = '{site}' WHERE site_id = 10000002")
    frame, _ = read(mysql_url)
    row = frame.set_index("site_id").loc["10000002"]
    assert (row["name"], row["site_name"], row["read_error"]) == (name, site, None)


def test_latin1_and_binary_columns_holding_legacy_bytes_are_guessed_as_files_are(mysql_url):
    """A legacy application wrote its GBK or UTF-8 bytes into latin1 columns; the server's
    conversion would make mojibake of them; the reader takes the bytes and decodes them."""
    copy_legacy(mysql_url, types={"subjects.name": "VARCHAR(255) CHARACTER SET latin1",
                                  "sites.site_name": "VARBINARY(255)",
                                  "site_domains.domain": "VARCHAR(512) CHARACTER SET latin1"})
    set_bytes(mysql_url, "subjects", "name", "潘伟".encode("gbk"), "subject_id = 2000002")
    set_bytes(mysql_url, "sites", "site_name", "站点".encode("utf-8"), "site_id = 10000002")
    set_bytes(mysql_url, "site_domains", "domain", "例子.中国".encode("gb18030"),
              "site_id = 10000001 AND domain = 'autoa39c832.cc.'")
    frame, _ = read(mysql_url)
    rows = frame.set_index("site_id")
    assert rows.loc["10000002", "name"] == "潘伟"
    assert rows.loc["10000002", "site_name"] == "站点"
    assert "例子.中国" in rows.loc["10000001", "domains"].split(";")
    assert rows["read_error"].isna().all()
    same = frame.drop(columns=["site_name", "domains"])
    same_values(same[frame["site_id"] != "10000002"],
                read(SAMPLE_DB)[0].drop(columns=["site_name", "domains"])[
                    frame["site_id"] != "10000002"])


@pytest.mark.parametrize("kind", ["VARBINARY(64)", "VARCHAR(64) CHARACTER SET latin1",
                                  "BLOB"])
def test_undecodable_bytes_quarantine_only_their_records(mysql_url, tmp_path, kind):
    copy_legacy(mysql_url, types={"subjects.cert_no": kind})
    set_bytes(mysql_url, "subjects", "cert_no", BAD, "subject_id = 2000002")
    frame, _ = read(mysql_url)
    broken = sites_of_subject(2000002)
    assert broken
    errors = frame.set_index("locator")["read_error"]
    assert set(errors[errors.notna()].index) == set(broken)
    assert set(errors[broken]) == {UNDECODABLE.format("cert_no")}
    assert frame.set_index("locator").loc[broken, "cert_no"].isna().all()  # nothing of it kept
    # the same record from SQLite, with the same bytes, reads the same way
    same_values(frame, read(sqlite_with_bad_certificate(tmp_path))[0])


def test_an_undecodable_domain_quarantines_its_site_only(mysql_url):
    copy_legacy(mysql_url, types={"site_domains.domain": "VARBINARY(512)"})
    set_bytes(mysql_url, "site_domains", "domain", b"bad\xff.cn",
              "site_id = 10000001 AND domain = 'autoa39c832.cc.'")
    frame, _ = read(mysql_url)
    errors = frame.set_index("locator")["read_error"]
    assert errors[errors.notna()].to_dict() == {
        "sites.site_id=10000001": UNDECODABLE.format("domain")}


def test_a_failing_query_is_one_line_and_leaves_the_connection_as_it_was(mysql_url):
    from dataclasses import replace

    from icp_migrate.mapping import builtin_mappings
    from icp_migrate.readers.sql_reader import read_sql_records

    copy_legacy(mysql_url)
    mapping = next(m for m in builtin_mappings() if m.name == "hichina_legacy_db")
    assert mapping.sql is not None
    broken = replace(mapping, sql=replace(mapping.sql, domains_query="SELECT nope FROM sites"))
    engine = sa.create_engine(mysql_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(SourceError, match="the mapping's query failed: .*nope") as info:
            read_sql_records(engine, broken, "legacy")
        assert "\n" not in str(info.value)
        with engine.connect() as conn:  # the pool's one connection: decoding again
            assert conn.exec_driver_sql("SELECT @@character_set_results, name FROM subjects "
                                        "WHERE subject_id = 2000002").one() == ("utf8mb4",
                                                                                "潘伟")
        assert len(read_sql_records(engine, mapping, "legacy")) == 45
    finally:
        engine.dispose()


def dispositions(url: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            table = pd.read_sql(sa.text("SELECT * FROM record_dispositions ORDER BY row_id"),
                                conn)
    finally:
        engine.dispose()
    return table.drop(columns=["run_id", "source"])


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("charset, bad_certificate", [("utf8mb4", False), ("gbk", True)])
def test_the_flow_from_mariadb_gives_the_dispositions_of_sqlite(mysql_url, tmp_path, charset,
                                                                bad_certificate):
    types = {"subjects.cert_no": "VARCHAR(64) CHARACTER SET latin1"} if bad_certificate else {}
    copy_legacy(mysql_url, charset=charset, types=types)
    sqlite_source = SAMPLE_DB
    if bad_certificate:
        set_bytes(mysql_url, "subjects", "cert_no", BAD, "subject_id = 2000002")
        sqlite_source = sqlite_with_bad_certificate(tmp_path)
    targets = {name: f"sqlite:///{tmp_path / (name + '.db')}" for name in ("mysql", "sqlite")}
    from_mysql = migrate(sources=[mysql_url], target=targets["mysql"])
    from_sqlite = migrate(sources=[str(sqlite_source)], target=targets["sqlite"])
    assert from_mysql.status == from_sqlite.status == "completed"
    assert from_mysql.records_in == from_sqlite.records_in == 45
    got, want = dispositions(targets["mysql"]), dispositions(targets["sqlite"])
    same_values(got, want)
    stored = {name: dump(url) for name, url in targets.items()}
    for table in TABLES:  # and the same entities, accounts, websites and domains stored
        mine, theirs = (stored[name][table] for name in ("mysql", "sqlite"))
        runs = [c for c in mine.columns if "run" in c]
        same_values(mine.drop(columns=runs), theirs.drop(columns=runs))
    quarantined = got[got["reasons"].str.contains("undecodable", na=False)]
    assert sorted(quarantined["locator"]) == (sites_of_subject(2000002) if bad_certificate
                                              else [])
    assert set(quarantined["disposition"]) <= {"quarantined"}


@pytest.mark.parametrize("change, cause", [
    ({"password": "wrong-s3cret"}, "Access denied"),
    ({"port": 1}, "Can't connect"),
])
def test_a_database_that_cannot_be_reached_is_one_line_with_the_password_hidden(
        mysql_admin, change, cause):
    url = sa.make_url(str(mysql_admin.url)).set(**{"password": "s3cret", **change})
    text = url.render_as_string(hide_password=False)
    with pytest.raises(SourceError) as info:
        read_source(text)
    message = str(info.value)
    shown = url.render_as_string(hide_password=True)
    assert message.startswith(f"{shown}: cannot connect to the database (")
    assert cause in message and "\n" not in message
    assert "((" not in message  # the driver's (code, "message") tuple is unwrapped
    assert "s3cret" not in message and ":***@" in message


def test_the_cli_prints_one_line_for_a_wrong_password(mysql_admin, tmp_path):
    url = sa.make_url(str(mysql_admin.url)).set(password="wrong-s3cret")
    result = cli("run", url.render_as_string(hide_password=False), "--target",
                 f"sqlite:///{tmp_path / 'out.db'}", cwd=tmp_path)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "cannot connect to the database" in line and "Access denied" in line
    assert "s3cret" not in result.stderr + result.stdout and ":***@" in line


def test_a_mysql_url_without_a_driver_uses_pymysql(mysql_url):
    """`mysql://…` (no driver named) reads as `mysql+pymysql://…`: the driver installed."""
    copy_legacy(mysql_url, charset="utf8mb4")
    bare = "mysql://" + mysql_url.split("://", 1)[1]
    _frame, records = read(bare)
    _want_frame, want_records = read(SAMPLE_DB)
    same_values(records, want_records)
