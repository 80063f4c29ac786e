"""The target store on SQLite and PostgreSQL: migrations, loads, snapshots, errors."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from icp_migrate import plan as plan_module
from icp_migrate.errors import TargetError
from icp_migrate.plan import Plan
from icp_migrate.store import load, migrate, schema
from icp_migrate.store.load import fail_run, load_plan, start_run
from icp_migrate.store.snapshot import read_snapshot
from icp_migrate.store.target import _reason, display_url, open_target, parse_url

T0 = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
STORE_TABLES = ("entities", "accounts", "website_filings", "domains")
USCC = "91330106MA27XXXXXX"  # not a real code; the store does not validate
RIC = "330106199001011234"


@pytest.fixture
def engine(target_url):
    engine = open_target(target_url)
    yield engine
    engine.dispose()


def frame(rows: list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows give the leading columns; later columns of the contract (accounts' admin_email)
    are None."""
    width = len(rows[0]) if rows else len(columns)
    result = pd.DataFrame(rows, columns=list(columns[:width])).reindex(columns=list(columns))
    result = result.astype(object).where(result.notna(), None) if width < len(columns) else result
    if "filed_on" in result:
        result["filed_on"] = pd.to_datetime(result["filed_on"])
    return result


def entity(entity_id: str, cert: str, kind="enterprise", name=None, filing=None) -> tuple:
    cert_type = "uscc" if kind == "enterprise" else "resident_id"
    return (entity_id, kind, name or f"{entity_id} 有限公司", cert_type, cert, "浙", filing,
            False, False, filing is not None)  # fmt: skip


def website(number: str, account_id: str, entity_id: str, filed_on="2015-03-02") -> tuple:
    return (number, account_id, entity_id, "domain", "站点", None, filed_on, "m1")


W1, W2, W3 = "浙ICP备12345678号-1", "浙ICP备87654321号-1", "浙ICP备12345678号-2"


def first_plan() -> Plan:
    entities = [
        entity("E1", USCC, filing="浙ICP备12345678号"),
        entity("E2", RIC, kind="individual", name="王伟"),
    ]
    accounts = [("A1", "E1", "filing", False), ("A2", "E2", "filing", False)]
    websites = [website(W1, "A1", "E1"), website(W2, "A2", "E2", filed_on=None)]
    domains = [("example.cn", "example.cn", W1), ("xn--fiqs8s.cn", "中国.cn", W2)]
    dispositions = [
        (1, "a.csv", "line 2", "m1", "loaded", None, None, "E1", W1, None, None),
        (2, "a.csv", "line 3", "m1", "loaded", None, "no valid certificate", "E2", W2, None,
         None),
        (3, "a.csv", "line 4", "m2", "quarantined", "no website filing number", None, None, None,
         None, None),
    ]
    links = [
        (1, "a.csv", "line 2", "E1", "same_certificate", USCC),
        (2, "a.csv", "line 3", "E2", "shared_filing_number", "浙ICP备87654321号"),
    ]
    return Plan(
        entities=frame(entities, plan_module.ENTITY_COLUMNS),
        accounts=frame(accounts, plan_module.ACCOUNT_COLUMNS),
        website_filings=frame(websites, plan_module.WEBSITE_COLUMNS),
        domains=frame(domains, plan_module.DOMAIN_COLUMNS),
        dispositions=frame(dispositions, plan_module.DISPOSITION_COLUMNS),
        links=frame(links, plan_module.LINK_COLUMNS),
        input_count=3,
    )


def second_plan() -> Plan:
    """E1 gains cloud resources (same admin) and a second website."""
    plan = first_plan()
    plan.entities.loc[plan.entities.entity_id == "E1", "has_cloud_resources"] = True
    a1 = plan.accounts.account_id == "A1"
    plan.accounts.loc[a1, "account_kind"] = "filing_and_resources"
    plan.accounts.loc[a1, "real_name_verification_required"] = True
    extra = frame([website(W3, "A1", "E1", "2016-05-06")], plan_module.WEBSITE_COLUMNS)
    plan.website_filings = pd.concat([plan.website_filings, extra], ignore_index=True)
    extra = frame([("shop.example.cn", "shop.example.cn", W3)], plan_module.DOMAIN_COLUMNS)
    plan.domains = pd.concat([plan.domains, extra], ignore_index=True)
    return plan


def run(engine, run_id: str, plan: Plan) -> None:
    start_run(engine, run_id, T0, ["a.csv"])
    load_plan(engine, run_id, plan, {"records_in": plan.input_count, "loaded": 2})


def dump(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in schema.metadata.tables.items()
            if name in STORE_TABLES
        }


def row_versions(engine) -> dict[str, list[tuple]]:
    """PostgreSQL's xmin per row: it changes on any UPDATE, even to identical values."""
    with engine.connect() as connection:
        return {
            name: sorted(connection.execute(text(f"SELECT xmin::text, * FROM {name}")))
            for name in STORE_TABLES
        }


def normalized(df: pd.DataFrame) -> list[dict]:
    df = df.sort_values(list(df.columns[:1])).reset_index(drop=True).astype(object)
    return df.where(df.notna(), None).to_dict("records")


def test_columns_match_plan_contract():
    expected = {
        "entities": plan_module.ENTITY_COLUMNS,
        "accounts": plan_module.ACCOUNT_COLUMNS,
        "website_filings": plan_module.WEBSITE_COLUMNS,
        "domains": plan_module.DOMAIN_COLUMNS,
        "record_dispositions": ("run_id",) + plan_module.DISPOSITION_COLUMNS,
        "entity_links": ("run_id",) + plan_module.LINK_COLUMNS,
    }
    for name, columns in expected.items():
        assert tuple(schema.metadata.tables[name].columns.keys()) == columns
    assert set(schema.runs.columns.keys()) >= set(load.COUNT_COLUMNS)


def test_upgrade_creates_tables_matching_models(engine):
    assert set(inspect(engine).get_table_names()) == set(schema.metadata.tables) | {
        "alembic_version"
    }
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
        if engine.dialect.name == "postgresql":
            where = (
                connection.execute(
                    text(
                        "SELECT table_schema FROM information_schema.tables "
                        "WHERE table_name = 'alembic_version'"
                    )
                )
                .scalars()
                .all()
            )
            current = connection.execute(text("SELECT current_schema()")).scalar_one()
            # other tests' schemas may exist meanwhile; ours has it and public has not
            assert current in where and "public" not in where and current.startswith("t_")


def test_reopening_an_upgraded_store_is_harmless(target_url, engine):
    run(engine, "r1", first_plan())
    again = open_target(target_url)
    try:
        assert dump(again) == dump(engine)
    finally:
        again.dispose()


def test_load_then_snapshot_returns_the_plan(engine):
    assert all(
        getattr(read_snapshot(engine), name).empty
        for name in ("entities", "accounts", "website_filings", "domains")
    )
    plan = first_plan()
    run(engine, "r1", plan)
    snapshot = read_snapshot(engine)
    for name in ("entities", "accounts", "website_filings", "domains"):
        assert normalized(getattr(snapshot, name)) == normalized(getattr(plan, name)), name
    assert snapshot.entities.has_cloud_resources.dtype == bool
    assert snapshot.accounts.real_name_verification_required.dtype == bool
    assert pd.api.types.is_datetime64_any_dtype(snapshot.website_filings.filed_on)
    assert snapshot.dispositions.empty and snapshot.links.empty
    with engine.connect() as connection:
        saved = connection.execute(select(schema.runs)).mappings().one()
        assert (saved["status"], saved["records_in"], saved["loaded"]) == ("completed", 3, 2)
        assert saved["finished_at"] is not None and saved["sources"] == '["a.csv"]'
        assert connection.execute(
            select(schema.record_dispositions.c.disposition).order_by(
                schema.record_dispositions.c.row_id
            )
        ).scalars().all() == ["loaded", "loaded", "quarantined"]
        assert (
            connection.execute(
                select(schema.entity_links.c.link_key).where(schema.entity_links.c.row_id == 1)
            ).scalar_one()
            == USCC
        )


def test_loading_the_same_plan_twice_changes_nothing(engine):
    run(engine, "r1", first_plan())
    before = dump(engine)
    versions = row_versions(engine) if engine.dialect.name == "postgresql" else None
    run(engine, "r2", first_plan())
    assert dump(engine) == before
    if versions is not None:
        assert row_versions(engine) == versions


def test_second_plan_adds_website_and_widens_account(engine):
    run(engine, "r1", first_plan())
    before = dump(engine)
    run(engine, "r2", second_plan())
    after = dump(engine)
    changed = {name: sorted(set(after[name]) - set(before[name])) for name in STORE_TABLES}
    assert [row[0] for row in changed["entities"]] == ["E1"]
    assert changed["accounts"] == [("A1", "E1", "filing_and_resources", True, None)]
    assert [row[0] for row in changed["website_filings"]] == [W3]
    assert [row[0] for row in changed["domains"]] == ["shop.example.cn"]
    assert all(
        set(before[name]) - set(after[name]) <= {r for r in before[name] if r[0] in ("E1", "A1")}
        for name in STORE_TABLES
    )


def test_chunked_load_matches(engine, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_ROWS", 1)
    run(engine, "r1", first_plan())
    assert len(dump(engine)["domains"]) == 2
    with engine.connect() as connection:
        assert len(connection.execute(select(schema.record_dispositions)).all()) == 3


def test_start_run_marks_an_older_running_run_failed(engine):
    start_run(engine, "dead", T0, ["a.csv"])
    start_run(engine, "next", T0, ["a.csv"])
    with engine.connect() as connection:
        rows = dict(connection.execute(select(schema.runs.c.run_id, schema.runs.c.status)).all())
        error = connection.execute(
            select(schema.runs.c.error).where(schema.runs.c.run_id == "dead")
        ).scalar_one()
    assert rows == {"dead": "failed", "next": "running"}
    assert error == load.INTERRUPTED
    with pytest.raises(TargetError, match="run dead is failed"):
        load_plan(engine, "dead", first_plan(), {})


def test_fail_run_masks_certificate_numbers(engine):
    start_run(engine, "r1", T0, [])
    fail_run(engine, "r1", f"bad record {RIC}")
    with engine.connect() as connection:
        saved = connection.execute(select(schema.runs)).mappings().one()
    assert saved["status"] == "failed" and RIC not in saved["error"] and "3301" in saved["error"]


def test_a_failing_load_leaves_the_store_untouched(engine):
    run(engine, "r1", first_plan())
    before = dump(engine)
    bad = second_plan()
    bad.domains.loc[len(bad.domains)] = ["x.cn", "x.cn", "浙ICP备00000000号-9"]  # no such website
    start_run(engine, "r2", T0, [])
    with pytest.raises(TargetError, match="loading run r2 failed"):
        load_plan(engine, "r2", bad, {})
    assert dump(engine) == before


def test_unknown_counts_are_rejected(engine):
    start_run(engine, "r1", T0, [])
    with pytest.raises(ValueError, match="unknown run counts"):
        load_plan(engine, "r1", Plan(), {"laoded": 1})


@pytest.mark.postgres
@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://postgres:s3cret@127.0.0.1:1/test", "host 127.0.0.1:1 is unreachable"),
        (
            "postgresql://nobody:s3cret@127.0.0.1:5432/test",
            "authentication failed for user 'nobody'",
        ),
        (
            "postgresql://postgres:s3cret@127.0.0.1:5432/no_such_db",
            "database 'no_such_db' does not exist",
        ),
    ],
)
def test_postgres_errors_are_one_clear_line(pg_url, url, expected):
    with pytest.raises(TargetError) as caught:
        open_target(url)
    message = str(caught.value)
    assert expected in message and "s3cret" not in message and ":***@" in message
    assert "\n" not in message


def test_password_failure_is_named():
    url = parse_url("postgresql://u:pw@h/db")
    error = Exception('connection failed: FATAL:  password authentication failed for user "u"')
    assert _reason(error, url) == "authentication failed for user 'u'"


def test_urls_are_rewritten_and_shown_without_password():
    assert parse_url("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u:pw@h/db").drivername == "postgresql+psycopg"
    assert display_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(TargetError, match="unsupported target"):
        parse_url("mysql://u:pw@h/db")
    with pytest.raises(TargetError) as caught:
        parse_url("not a url://u:pw@h")
    assert "pw" not in str(caught.value)


def test_sqlite_missing_folder(tmp_path):
    with pytest.raises(TargetError, match="folder .*missing does not exist"):
        open_target(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")


def test_sqlite_read_only_target(tmp_path):
    # opened read-only through SQLite's URI mode: works as root too, unlike chmod
    path = tmp_path / "x.db"
    sqlite3.connect(path).close()
    with pytest.raises(TargetError, match="read-only") as caught:
        open_target(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert "\n" not in str(caught.value)


def test_sqlite_enforces_foreign_keys(tmp_path):
    engine = open_target(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() > 0
    finally:
        engine.dispose()


def test_sqlite_read_only_file_is_named():
    url = parse_url("sqlite:///x.db")
    error = Exception("attempt to write a readonly database")
    assert _reason(error, url) == "the SQLite file is read-only"


def test_a_store_from_a_newer_version_is_refused(target_url, engine):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(TargetError, match="cannot create or upgrade the tables in .*ffff"):
        open_target(target_url)
