"""A folder of the user's own layouts ($ICP_MIGRATE_MAPPINGS): its YAML files add layouts for
detection and for `--mapping NAME`, replace a built-in one of the same name (with a
warning), and a broken one stops a run with one line naming the file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from icp_migrate import settings
from icp_migrate.errors import MappingError
from icp_migrate.mapping import (
    MAPPINGS_DIR,
    available_mappings,
    builtin_mappings,
    resolve_mapping,
)
from icp_migrate.readers import preflight
from icp_migrate.run_settings import RunOptions
from test_cli import cli, one_line_error

# A fourth layout: a partner's re-export of the HiChina filing list with an English header.
ENGLISH = {"会员ID": "member", "产品类型": "product", "主体性质": "holder_kind",
           "主办单位名称": "holder", "证件类型": "cert_kind", "证件号码": "cert_no",
           "主体备案号": "holder_filing", "网站名称": "site", "网站备案号": "site_filing",
           "网站域名": "site_domains", "网站首页": "home", "省份": "province",
           "负责人": "contact", "联系电话": "contact_phone", "电子邮箱": "contact_email",
           "备案日期": "filed", "云资源": "cloud", "资源管理员邮箱": "cloud_admin"}
FIELDS = {"member_id": "member", "product": "product", "entity_type": "holder_kind",
          "entity_name": "holder", "cert_type": "cert_kind", "cert_number": "cert_no",
          "entity_filing_number": "holder_filing", "website_name": "site",
          "website_filing_number": "site_filing", "domains": "site_domains",
          "homepage": "home", "province": "province", "responsible_person": "contact",
          "phone": "contact_phone", "admin_email": "contact_email", "filed_on": "filed",
          "has_cloud": "cloud", "cloud_admin_email": "cloud_admin"}
LAYOUT = "\n".join([
    "name: partner_beian_csv",
    "description: a partner's re-export of the HiChina filing list, English header",
    "reader: csv",
    "detect:",
    "  columns: [member, site_filing, cert_no, holder]",
    "fields:",
    *(f"  {field}: {column}" for field, column in FIELDS.items()),
    "",
])


@pytest.fixture
def user_folder(tmp_path, monkeypatch) -> Path:
    """The user's folder with the partner layout, named by ICP_MIGRATE_MAPPINGS."""
    folder = tmp_path / "my-mappings"
    folder.mkdir()
    (folder / "partner_beian_csv.yaml").write_text(LAYOUT, encoding="utf-8")
    monkeypatch.setenv(settings.MAPPINGS_ENV, str(folder))
    return folder


def partner_export(samples: Path) -> Path:
    """The UTF-8 sample's records, byte for byte, under the partner's English header."""
    original = (samples / "hichina_beian_utf8.csv").read_bytes().decode("utf-8-sig")
    header, rest = original.split("\n", 1)
    english = ",".join(ENGLISH[column] for column in header.strip().split(","))
    path = samples / "partner_export.csv"
    path.write_text(english + "\n" + rest, encoding="utf-8")
    return path


def test_without_the_setting_only_the_built_in_layouts(monkeypatch):
    monkeypatch.delenv(settings.MAPPINGS_ENV, raising=False)
    assert [m.name for m in available_mappings()] == [m.name for m in builtin_mappings()] == [
        "hichina_beian_csv", "hichina_legacy_db", "winport_shops_jsonl"]
    assert MAPPINGS_DIR.name == "mappings" and (MAPPINGS_DIR / "_vocabulary.yaml").is_file()


@pytest.mark.usefixtures("prefect_harness")
def test_a_users_layout_is_detected_and_migrated_by_the_flow(user_folder, samples, tmp_path):
    from icp_migrate.flows.migrate import migrate

    partner = partner_export(samples)
    assert preflight([str(partner)]) == ["partner_beian_csv"]
    assert [m.name for m in available_mappings()][0] == "partner_beian_csv"

    ours = migrate(sources=[str(partner)], target=f"sqlite:///{tmp_path / 'partner.db'}",
                   reports_dir=str(tmp_path / "r1"))
    builtin = migrate(sources=[str(samples / "hichina_beian_utf8.csv")],
                      target=f"sqlite:///{tmp_path / 'builtin.db'}",
                      reports_dir=str(tmp_path / "r2"))
    # the same records under another header: the same outcome, record for record
    assert ours.status == "completed" and ours.dispositions["loaded"] > 0
    assert ours.dispositions == builtin.dispositions
    assert (ours.entities, ours.websites, ours.domains, ours.accounts) == (
        builtin.entities, builtin.websites, builtin.domains, builtin.accounts)
    assert list(ours.records_by_source.values()) == list(builtin.records_by_source.values())

    # --mapping NAME finds it too; a run records it by its file (a re-run reads that file)
    assert resolve_mapping("partner_beian_csv").path == user_folder / "partner_beian_csv.yaml"
    options = RunOptions.from_user([str(partner)], target=str(tmp_path / "forced.db"),
                                   mapping="partner_beian_csv",
                                   reports_dir=str(tmp_path / "r3"))
    assert options.mapping == str(user_folder / "partner_beian_csv.yaml")
    forced = migrate(**options.flow_parameters())
    assert forced.dispositions == ours.dispositions


def test_a_users_layout_of_a_built_in_name_replaces_it_with_a_warning(user_folder, samples,
                                                                    caplog, monkeypatch):
    logger = logging.getLogger("icp_migrate")
    monkeypatch.setattr(logger, "propagate", True)  # caplog listens at the root
    mine = user_folder / "beian.yaml"
    mine.write_text((MAPPINGS_DIR / "hichina_beian_csv.yaml").read_text(encoding="utf-8")
                    .replace("description: ", "description: ours - "), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="icp_migrate"):
        names = [m.name for m in available_mappings()]
        assert resolve_mapping("hichina_beian_csv").path == mine
        assert preflight([str(samples / "hichina_beian.csv")]) == ["hichina_beian_csv"]
    assert sorted(names) == sorted(["partner_beian_csv", "hichina_beian_csv",
                                    "hichina_legacy_db", "winport_shops_jsonl"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"mapping hichina_beian_csv: {mine} replaces the built-in layout "
                        "of that name"]  # once, however often the layouts are listed
    # recorded by its file, not by the built-in name
    assert RunOptions.from_user(target="x.db", mapping="hichina_beian_csv").mapping == str(mine)


def test_unknown_names_list_the_users_layouts_too(user_folder):
    with pytest.raises(MappingError, match=r"built-in: .*; in ICP_MIGRATE_MAPPINGS: "
                                           r"partner_beian_csv\)"):
        resolve_mapping("nope")


@pytest.mark.parametrize("content, problem", [
    ("name: broken\nfields: [unclosed\n", "not valid YAML (ParserError at line 3)"),
    ("- a list\n- not a mapping\n", "(top): expected a mapping of keys"),
    ("name: x\nreader: csv\nfields: [a, b]\ndetect: {columns: [a]}\n",
     "(structure): not a mapping file (AttributeError)"),
    (LAYOUT.replace("reader: csv", "reader: xls"), "reader (line 3): must be csv, jsonl or sql"),
])
def test_a_bad_file_in_the_folder_stops_the_run_in_one_line_naming_it(user_folder, samples,
                                                                      tmp_path, content,
                                                                      problem):
    bad = user_folder / "zz_bad.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        available_mappings()
    message = str(raised.value)
    assert message.startswith(f"mapping {bad}: ") and problem in message and "\n" not in message

    result = cli("run", str(samples / "hichina_beian.csv"), "--dry-run", cwd=tmp_path,
                 env={settings.MAPPINGS_ENV: str(user_folder)})
    assert result.returncode == 2, result.stderr
    line = one_line_error(result)
    assert str(bad) in line and problem in line


def test_two_files_of_one_name_or_a_missing_folder_are_clear_errors(user_folder, tmp_path,
                                                                   monkeypatch):
    (user_folder / "again.yaml").write_text(LAYOUT, encoding="utf-8")
    with pytest.raises(MappingError, match="name 'partner_beian_csv' is taken by "
                                           "again.yaml in the same folder"):
        available_mappings()
    monkeypatch.setenv(settings.MAPPINGS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MappingError, match=r"^ICP_MIGRATE_MAPPINGS=.*nowhere: no such folder$"):
        resolve_mapping("partner_beian_csv")
