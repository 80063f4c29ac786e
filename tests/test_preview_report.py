"""A dry run's report: the run's own report built from a scratch target (the target's
data in a transaction rolled back after it), marked preview; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_flow import dump, migrate, sources


def summary_json(reports: Path, run_id: str) -> dict:
    """summary.json with the run's id as RUN and its times left out."""
    text = (reports / run_id / "summary.json").read_text(encoding="utf-8")
    content = json.loads(text.replace(run_id, "RUN"))
    for run in [content["run"], *content["history"]]:
        run.pop("started_at"), run.pop("finished_at", None)
    return content


@pytest.mark.usefixtures("prefect_harness")
def test_a_dry_run_reports_what_its_load_would_and_leaves_the_target_as_it_was(
        samples, target_url, tmp_path):
    reports = tmp_path / "reports"
    migrate(sources=sources(samples)[:1], target=target_url, reports_dir=str(reports))
    before = dump(target_url)

    preview = migrate(sources=sources(samples), target=target_url, dry_run=True,
                      reports_dir=str(reports))
    after = dump(target_url)
    assert all(before[name].equals(after[name]) for name in before)  # nothing stayed
    folder = reports / preview.run_id
    assert {p.name for p in folder.iterdir()} == {"index.html", "summary.json", "gx",
                                                  "preview.csv"}
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<span class="status preview">preview</span>' in page
    assert "Preview (a dry run): nothing was loaded" in page

    loaded = migrate(sources=sources(samples), target=target_url, reports_dir=str(reports))
    previewed, real = summary_json(reports, preview.run_id), summary_json(reports, loaded.run_id)
    assert previewed["run"].pop("status") == "preview"
    assert real["run"].pop("status") == "completed"
    assert previewed["history"][-1].pop("status") == "preview"
    assert real["history"][-1].pop("status") == "completed"
    assert previewed == real  # every section as the load then made it
    assert previewed["reconciliation"]["records_in"] == preview.records_in


@pytest.mark.usefixtures("prefect_harness")
def test_a_dry_run_on_a_new_sqlite_file_reports_from_an_empty_store(samples, tmp_path):
    reports, target = tmp_path / "reports", tmp_path / "new.db"
    preview = migrate(sources=sources(samples), target=f"sqlite:///{target}", dry_run=True,
                      reports_dir=str(reports))
    assert not target.exists()
    content = json.loads((reports / preview.run_id / "summary.json").read_text("utf-8"))
    assert content["run"]["status"] == "preview"
    assert content["run"]["target"] == f"sqlite:///{target}"  # not the scratch file
    assert [run["run_id"] for run in content["history"]] == [preview.run_id]


def test_a_scratch_target_rolls_back_whatever_ends_its_block(target_url):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from icp_migrate.store.load import start_run
    from icp_migrate.store.scratch import preview_target
    from icp_migrate.store.target import target_engine

    with target_engine(target_url) as engine:
        with pytest.raises(RuntimeError, match="midway"), preview_target(engine.url) as scratch:
            start_run(scratch, "run-1", datetime.now(UTC), ["a.csv"])  # commits: a no-op
            with scratch.connect() as connection:  # another checkout: the same transaction
                count = connection.execute(sa.text("SELECT count(*) FROM runs")).scalar()
            assert count == 1
            raise RuntimeError("midway")
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_dry_run_creates_or_upgrades_no_table_of_the_target(samples, target_url, tmp_path):
    """Our tables are made (or upgraded) inside the preview's transaction and go with it:
    a dry run on an existing target without them, or with an older schema, leaves it so."""
    import sqlalchemy as sa

    from icp_migrate.store import migrate as schema
    from icp_migrate.store.target import database_file

    file = database_file(target_url)
    if file is not None:
        Path(file).touch()  # an existing SQLite file, empty

    def state() -> tuple[set[str], str | None]:
        engine = sa.create_engine(target_url)
        try:
            with engine.connect() as connection:
                return (set(sa.inspect(connection).get_table_names()),
                        schema.current_revision(connection))
        finally:
            engine.dispose()

    assert state() == (set(), None)
    preview = migrate(sources=sources(samples), target=target_url, dry_run=True,
                      reports_dir=str(tmp_path / "reports"))
    assert state() == (set(), None)
    assert preview.status == "dry_run" and preview.records_in > 100
    content = json.loads((tmp_path / "reports" / preview.run_id / "summary.json")
                         .read_text("utf-8"))
    assert content["run"]["status"] == "preview"
    assert content["reconciliation"]["records_in"] == preview.records_in

    engine = sa.create_engine(target_url)
    try:
        schema.upgrade(engine, "0006")
    finally:
        engine.dispose()
    tables = state()
    assert tables[1] == "0006"
    migrate(sources=sources(samples), target=target_url, dry_run=True,
            reports_dir=str(tmp_path / "reports"))
    assert state() == tables  # still at 0006, the same tables


@pytest.mark.usefixtures("prefect_harness")
def test_a_dry_run_on_a_foreign_target_needs_init_and_leaves_it_foreign(samples, tmp_path):
    """A database that holds other tables (the legacy one, say) is refused as a run's target
    unless `--init`; a dry run with `--init` previews into our tables made inside its
    transaction, and the database keeps only its own."""
    import sqlite3

    from icp_migrate.errors import TargetError

    foreign = tmp_path / "legacy.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE members (id TEXT PRIMARY KEY)")
        connection.execute("INSERT INTO members VALUES ('m1')")
    connection.close()
    before = foreign.read_bytes()
    url = f"sqlite:///{foreign}"
    with pytest.raises(TargetError, match="holds other tables"):
        migrate(sources=sources(samples), target=url, dry_run=True,
                reports_dir=str(tmp_path / "reports"))
    preview = migrate(sources=sources(samples), target=url, dry_run=True, init=True,
                      reports_dir=str(tmp_path / "reports"))
    assert preview.status == "dry_run" and preview.records_in > 100
    assert foreign.read_bytes() == before
