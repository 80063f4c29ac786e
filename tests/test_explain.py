"""`icp-migrate explain KEY` after a real flow run on data/samples/ (SQLite and PostgreSQL):
each key kind, the JSON checked against the dispositions and links tables, certificates
masked, ids whole."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import make_url, text

from icp_migrate.errors import UsageError
from icp_migrate.masking import mask, mask_key, mask_text
from icp_migrate.pipeline.explain import deciding_step, gather, parse_key
from test_cli import cli, one_line_error
from test_flow import migrate, sources

KEYS = ("key", "entity", "accounts", "records", "conflicts", "changes")
RECORD_KEYS = {"source", "locator", "disposition", "reasons", "link_kind", "link_key"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def migrated(request, tmp_path_factory) -> Iterator[str]:
    """A target holding one real flow run of the samples; yields its URL."""
    request.getfixturevalue("prefect_harness")
    folder = tmp_path_factory.mktemp("explain")
    samples = Path(__file__).resolve().parents[1] / "data" / "samples"
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'target.db'}"
        schema = None
    else:
        admin = request.getfixturevalue("pg_admin")
        schema = f"t_{uuid.uuid4().hex}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        from conftest import PG_TEST_URL

        url = make_url(PG_TEST_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    assert migrate(sources=sources(samples), target=url).status == "completed"
    yield url
    if schema:
        with request.getfixturevalue("pg_admin").begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def tables(url: str) -> dict[str, pd.DataFrame]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return {name: pd.read_sql(text(f"SELECT * FROM {name}"), c, dtype=object)
                    for name in ("entities", "accounts", "website_filings", "entity_links",
                                 "record_dispositions")}
    finally:
        engine.dispose()


def explained(url: str, key: str) -> dict:
    engine = sa.create_engine(url)
    try:
        return gather(engine, key)
    finally:
        engine.dispose()


def name_of(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def test_each_key_kind_explains_the_entity_from_the_tables(migrated):
    t = tables(migrated)
    links = t["entity_links"]
    # an entity joined by a certificate and by a shared filing number
    entity_id = links[links["link_kind"] == "shared_filing_number"]["entity_id"].iloc[0]
    entity = t["entities"].set_index("entity_id").loc[entity_id]
    account = t["accounts"][t["accounts"]["entity_id"] == entity_id]["account_id"].iloc[0]
    website = t["website_filings"][t["website_filings"]["entity_id"] == entity_id][
        "website_filing_number"].iloc[0]
    linked = links[links["entity_id"] == entity_id]
    one = linked.iloc[0]
    line = one["locator"].removeprefix("line ")
    keys = [entity_id, account, website, entity["entity_filing_number"],
            f"{name_of(one['source'])}:{one['locator']}"]
    if one["locator"].startswith("line "):
        keys.append(f"{name_of(one['source'])}:{line}")
    for key in keys:
        model = explained(migrated, key)
        assert list(model) == list(KEYS), key
        assert model["entity"]["entity_id"] == entity_id, key

    model = explained(migrated, entity_id)
    shown = json.dumps(model, ensure_ascii=False)
    assert entity["cert_number"] not in shown  # masked, and in its masked form
    assert model["entity"]["cert_number"] == mask(entity["cert_number"])
    assert {a["account_id"] for a in model["accounts"]} == set(
        t["accounts"][t["accounts"]["entity_id"] == entity_id]["account_id"])
    # every linked record is listed with its link and its disposition, from the tables
    dispositions = t["record_dispositions"]
    by_record = {(r["source"], r["locator"]): r for r in model["records"]}
    assert {(s, loc) for s, loc in linked[["source", "locator"]].itertuples(index=False)} <= \
        set(by_record)
    for link in linked.itertuples():
        record = by_record[(link.source, link.locator)]
        assert RECORD_KEYS <= set(record)
        assert record["link_kind"] == link.link_kind
        assert record["link_key"] == mask_key(link.link_key)
        row = dispositions[(dispositions["run_id"] == link.run_id)
                           & (dispositions["row_id"] == link.row_id)].iloc[0]
        assert record["disposition"] == row["disposition"]
        assert record["reasons"] == (None if pd.isna(row["reasons"])
                                     else mask_text(row["reasons"]))
    assert {r["link_kind"] for r in model["records"]} >= {"same_certificate",
                                                          "shared_filing_number"}


def test_link_keys_of_certificates_are_masked_and_ids_whole(migrated):
    links = tables(migrated)["entity_links"]
    for kind in ("upgraded_15_digit_id", "org_code_in_uscc"):
        link = links[links["link_kind"] == kind].iloc[0]
        model = explained(migrated, link["entity_id"])
        shown = json.dumps(model, ensure_ascii=False)
        number = link["link_key"].split(":", 1)[1]
        assert number not in shown
        assert mask_key(link["link_key"]) in shown
        assert link["entity_id"] in shown and link["run_id"] in shown  # ids whole


def test_a_quarantined_record_shows_itself_and_its_reasons(migrated):
    dispositions = tables(migrated)["record_dispositions"]
    quarantined = dispositions[(dispositions["disposition"] == "quarantined")
                               & dispositions["entity_id"].isna()
                               & dispositions["locator"].str.startswith("sites.")].iloc[0]
    key = f"{name_of(quarantined['source'])}:{quarantined['locator']}"
    model = explained(migrated, key)
    assert model["entity"] is None and model["accounts"] == []
    [record] = model["records"]
    assert (record["source"], record["locator"]) == (quarantined["source"],
                                                     quarantined["locator"])
    assert record["disposition"] == "quarantined"
    assert record["reasons"] == mask_text(quarantined["reasons"])


def test_a_record_held_for_review_shows_its_open_conflict(migrated):
    dispositions = tables(migrated)["record_dispositions"]
    held = dispositions[dispositions["disposition"] == "needs_review"].iloc[0]
    model = explained(migrated, f"{name_of(held['source'])}:{held['locator']}")
    [conflict] = [c for c in model["conflicts"] if c["conflict_id"] == held["conflict_key"]]
    assert conflict["status"] == "open" and conflict["decision"] is None
    assert {k["claimant"] for k in conflict["competitors"]} == set(
        held["candidates"].split(";"))
    assert all("*" in k["cert_number"] for k in conflict["competitors"])


def test_a_key_matching_nothing_is_a_usage_error(migrated):
    for key in ("ent_0000000000000000dead", "浙ICP备99999999号-9", "nowhere.csv:12"):
        with pytest.raises(UsageError, match="matches nothing"):
            explained(migrated, key)
    with pytest.raises(UsageError, match="cannot read"):
        parse_key("hello")


def test_the_command_prints_tables_or_json_and_fails_in_one_line(migrated, tmp_path):
    links = tables(migrated)["entity_links"]
    link = links[links["link_kind"] == "upgraded_15_digit_id"].iloc[0]
    printed = cli("explain", link["entity_id"], "--target", migrated, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert link["entity_id"] in printed.stdout and "upgraded_15_digit_id" in printed.stdout
    assert link["link_key"].split(":", 1)[1] not in printed.stdout
    assert f"{name_of(link['source'])}:{link['locator']}" in printed.stdout  # pasteable back
    as_json = cli("explain", f"{name_of(link['source'])}:{link['locator']}", "--json",
                  "--target", migrated, cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    model = json.loads(as_json.stdout)
    assert list(model) == list(KEYS) and model["entity"]["entity_id"] == link["entity_id"]
    missing = cli("explain", "ent_0000000000000000dead", "--target", migrated, cwd=tmp_path)
    assert missing.returncode == 2
    assert "matches nothing" in one_line_error(missing)


def test_the_deciding_step_follows_the_disposition_order():
    assert deciding_step("quarantined", "record_readable: broken CSV row", None).startswith(
        "step 1")
    assert deciding_step("out_of_scope", "product not migrated: 邮箱", None) == \
        "step 2: product_migrated"
    assert deciding_step("quarantined", "website_filing_number_usable: missing", None) == \
        "step 3: website_filing_number_usable"
    assert deciding_step("needs_review", "x", "number:浙ICP备1号") == "step 4: identity"
    assert deciding_step("needs_review", "x", "domain:a.cn") == "step 5: disputed domain"
    assert deciding_step("duplicate", "same website", None) == "step 6: duplicate"
    assert deciding_step("loaded", None, None) == "step 7: loaded"


def test_the_model_masks_changed_values_and_keeps_ids():
    from icp_migrate.pipeline.explain import build

    changes = pd.DataFrame([{"run_id": "20261202T025116Z-e7304af0", "seq": 1,
                             "subject": "website", "subject_key": "浙ICP备05347733号-1",
                             "field": "member_id", "old_value": "13909579709",
                             "new_value": "hc4639299", "cause": "website:浙ICP备05347733号-1"}])
    entity = {"entity_id": "ent_ae25002377225038f57a", "name": "x",
              "cert_number": "330106199001011234"}
    model = build("ent_ae25002377225038f57a", "entity", entity, ["浙江省|x", "y"],
                  pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), changes)
    assert model["entity"]["aliases"] == ["y"]
    assert model["entity"]["cert_number"] == "3301**********1234"
    [change] = model["changes"]
    assert change["old_value"] == mask("13909579709") and change["new_value"] == "hc4639299"
    assert change["run_id"] == "20261202T025116Z-e7304af0"
    assert change["cause"] == "website:浙ICP备05347733号-1"
