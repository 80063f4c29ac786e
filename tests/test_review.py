"""Conflict review end to end: export the open conflicts, decide, apply, and the next run loads."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from icp_migrate.pipeline.review import ReviewFileError, apply_decisions, export_conflicts
from icp_migrate.store.target import open_target
from test_flow import dump, migrate, sources


def _rows(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _write(path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.usefixtures("prefect_harness")
def test_export_decide_apply_rerun(samples, target_url, tmp_path):
    first = migrate(sources=sources(samples), target=target_url)
    assert first.dispositions["needs_review"] > 0
    engine = open_target(target_url)
    try:
        exported = tmp_path / "review.csv"
        count = export_conflicts(engine, exported)
        rows = _rows(exported)
        assert count == len(rows) > 0 and all(r["decision"] == "" for r in rows)
        # conflicts decided by assign/reject first (certificate pairs take merge/separate)
        rows.sort(key=lambda r: r["kind"] in ("certificates", "changed"))
        text = exported.read_text(encoding="utf-8-sig")
        truth = pd.read_csv(samples / "ground_truth.csv", dtype=str, keep_default_na=False)
        for key in truth["entity_key"]:
            assert not key or key.split(":", 1)[1] not in text  # certificates masked

        # stale, unknown and malformed decisions: one clear error, nothing applied
        bad = [dict(r) for r in rows]
        bad[0]["decision"] = "assign:ent_nobody"
        _write(tmp_path / "bad.csv", bad)
        with pytest.raises(ReviewFileError, match="not one of the entities"):
            apply_decisions(engine, tmp_path / "bad.csv", "tester")
        bad[0]["decision"], bad[0]["conflict_id"] = "reject", "website:nope"
        _write(tmp_path / "bad.csv", bad)
        with pytest.raises(ReviewFileError, match="not an open conflict"):
            apply_decisions(engine, tmp_path / "bad.csv", "tester")
        bad[0]["conflict_id"], bad[0]["decision"] = rows[0]["conflict_id"], "maybe"
        _write(tmp_path / "bad.csv", bad)
        with pytest.raises(ReviewFileError, match="takes assign:<id> or reject"):
            apply_decisions(engine, tmp_path / "bad.csv", "tester")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT COUNT(*) FROM review_decisions")).scalar() == 0

        # assign the first conflict to its first candidate, reject the second
        decided = [dict(r) for r in rows]
        chosen = decided[0]["candidate_ids"].split(";")[0]
        decided[0]["decision"] = f"assign:{chosen}"
        if len(decided) > 1:
            decided[1]["decision"] = "reject"
        _write(tmp_path / "decided.csv", decided)
        applied = apply_decisions(engine, tmp_path / "decided.csv", "tester")
        assert applied == min(2, len(rows))
        assert export_conflicts(engine, tmp_path / "after.csv") == len(rows) - applied
    finally:
        engine.dispose()

    second = migrate(sources=sources(samples), target=target_url)
    tables = dump(target_url)
    latest = tables["record_dispositions"]
    latest = latest[latest["run_id"] == second.run_id]
    first_key = rows[0]["conflict_id"]
    of_first = latest[latest["conflict_key"].eq(first_key) | latest["entity_id"].eq(chosen)]
    assert (of_first.loc[of_first["entity_id"].eq(chosen), "disposition"]
            .isin(["loaded", "duplicate"]).any())
    assert second.dispositions["needs_review"] < first.dispositions["needs_review"]
    with open_target(target_url).connect() as c:
        who = c.execute(sa.text("SELECT decided_by FROM review_decisions")).scalars().all()
    assert set(who) == {"tester"}

    # decided conflicts stay decided on later runs
    third = migrate(sources=sources(samples), target=target_url)
    assert third.dispositions == second.dispositions
