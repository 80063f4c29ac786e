"""A run decided in parts (rules/parts.py) plans exactly what it plans decided whole: the
same rows in the same order, on a first run and on later runs against a store that holds
earlier batches, open conflicts and decided ones.

The rest of the suite can run in parts too: `ICP_MIGRATE_RECORDS_PER_PART=3 make test`
(.ci/run runs the rules and the across-run histories so); tests/test_scale.py compares the
tables of a 100k run in parts with the whole run's (slow tier).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from icp_migrate import rules, settings
from icp_migrate.compact import CompactFrame
from icp_migrate.errors import UsageError
from icp_migrate.pipeline.run import StageClock
from icp_migrate.pipeline.stages import prepare_sources
from icp_migrate.plan import Plan
from icp_migrate.rules.ledger import conflict_kind
from icp_migrate.rules.parts import part_count, split_run
from icp_migrate.rules.screen import screen
from icp_migrate.rules.steps import expectation_failures
from icp_migrate.samples import generate
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.snapshot import read_snapshot
from icp_migrate.store.target import target_engine
from test_flow import RUN_ORDER

CUTOFF = pd.Timestamp("2019-01-01")
FRAMES = ("entities", "accounts", "website_filings", "domains", "dispositions", "links",
          "conflicts", "changes", "removed_domains")
# the keys no part may share with another (the values rules compare across records)
KEY_COLUMNS = ("cert_key", "entity_filing_number", "website_entity_number",
               "website_filing_number", "name_key")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[CompactFrame,
                                                                        CompactFrame]]:
    """Two batches of a generated set: the first two files, then all four (held as Arrow,
    as a run holds them)."""
    folder = tmp_path_factory.mktemp("parts")
    generate(folder, entities=400, seed=5)
    files = [str(folder / name) for name in RUN_ORDER]
    return [prepare_sources(chosen, None, StageClock())
            for chosen in (files[:2], files)]


def assert_same_plans(records: CompactFrame, domains: CompactFrame, known: Plan,
                      per_part: int) -> Plan:
    """The plan of the records decided whole, as pandas frames, equals theirs decided in
    parts, held as Arrow (as a run holds them)."""
    whole = rules.decide(records.to_frame(), domains.to_frame(), known, CUTOFF,
                         records_per_part=len(records))
    parted = rules.decide(records, domains, known, CUTOFF, records_per_part=per_part)
    assert part_count(len(records), per_part) > 1
    for name in FRAMES:
        a, b = getattr(whole, name), getattr(parted, name)
        assert list(a.dtypes) == list(b.dtypes), name
        pd.testing.assert_frame_equal(a, b, obj=name)
    assert whole.input_count == parted.input_count == len(records)
    return whole


def stored(tmp_path: Path, plan: Plan) -> Plan:
    """What a store holds after loading `plan` (a real SQLite target)."""
    with target_engine(f"sqlite:///{tmp_path / 'store.db'}") as engine:
        start_run(engine, "run-1", datetime.now(UTC), ["batch 1"])
        load_plan(engine, "run-1", plan, {})
        return read_snapshot(engine)


def decided(snapshot: Plan) -> Plan:
    """The snapshot with every other open conflict decided, as a reviewer would: changed
    websites kept, certificate pairs merged or separated, other keys assigned or rejected."""
    ledger = snapshot.ledger.copy()
    for number, (conflict, rows) in enumerate(ledger.groupby("conflict_id", sort=True)):
        if number % 2:
            continue
        kind, first = conflict_kind(conflict), sorted(rows["claimant"].dropna())[0]
        decision, chosen = {"changed": ("keep", first),
                            "certificates": ("merge", first) if number % 4 else ("separate", None),
                            }.get(kind, ("assign", first) if number % 4 else ("reject", None))
        ledger.loc[rows.index, ["decision", "chosen"]] = (decision, chosen)
    snapshot.ledger = ledger
    return snapshot


def test_whole_run_columns_read_in_small_batches_plan_the_same(generated, monkeypatch):
    """Steps 1-3, the graph's keys and the near-miss names read 37 records at a time (a run
    reads BATCH_ROWS): the same plan as read whole."""
    monkeypatch.setattr(rules.parts, "BATCH_ROWS", 37)
    monkeypatch.setattr(rules, "BATCH_ROWS", 37)
    records, domains = generated[1]
    assert len(records) > 10 * 37
    assert_same_plans(records, domains, Plan(), per_part=len(records) // 3)


def test_a_first_run_in_parts_plans_what_it_plans_whole(generated):
    records, domains = generated[1]
    plan = assert_same_plans(records, domains, Plan(), per_part=97)
    assert len(plan.conflicts) and len(plan.entities) > 300  # the set has conflicts to hold


def test_a_later_run_in_parts_plans_what_it_plans_whole(generated, tmp_path):
    first = rules.decide(*generated[0], Plan(), CUTOFF)
    snapshot = stored(tmp_path, first)
    assert len(snapshot.ledger) and len(snapshot.entities)
    plan = assert_same_plans(*generated[1], snapshot, per_part=61)
    assert plan.dispositions["disposition"].eq("needs_review").any()


def test_a_run_after_review_decisions_in_parts_plans_what_it_plans_whole(generated, tmp_path):
    first = rules.decide(*generated[0], Plan(), CUTOFF)
    snapshot = decided(stored(tmp_path, first))
    assert snapshot.ledger["decision"].notna().any()
    plan = assert_same_plans(*generated[1], snapshot, per_part=61)
    assert plan.links["link_kind"].eq("review_decision").any()


def test_no_key_crosses_parts_and_every_row_is_in_one_part(generated, tmp_path):
    first = rules.decide(*generated[0], Plan(), CUTOFF)
    snapshot = stored(tmp_path, first)
    records, domains = (held.to_frame() for held in generated[1])
    screened = screen(records, expectation_failures(rules.scope_flags(records, CUTOFF)), CUTOFF)
    parts = list(split_run(records, domains, screened, snapshot, 5))
    assert len(parts) == 5
    assert sorted(np.concatenate([p.records["row_id"].to_numpy() for p in parts])) == sorted(
        records["row_id"])
    for name in ("entities", "accounts", "website_filings", "domains", "ledger"):
        assert sum(len(getattr(p.snapshot, name)) for p in parts) == len(getattr(snapshot,
                                                                                 name))
    for column in KEY_COLUMNS:
        owners = pd.concat([p.records[[column]].assign(part=n) for n, p in enumerate(parts)])
        assert owners.dropna().groupby(column)["part"].nunique().max() == 1, column
    domain_owners = pd.concat([p.domains[["domain"]].assign(part=n)
                               for n, p in enumerate(parts)])
    assert domain_owners.groupby("domain")["part"].nunique().max() == 1
    for part in parts:  # a part's records carry their own screen and domains only
        assert part.screened["row_id"].tolist() == part.records["row_id"].tolist()
        assert part.domains["row_id"].isin(part.records["row_id"]).all()


@pytest.mark.parametrize(("records", "per_part", "parts"), [
    (0, None, 1), (125_000, None, 1), (125_001, None, 2), (1_000_000, None, 8),
    (10, 3, 4), (10, 10, 1), (5, 1, 5)])
def test_part_count(records, per_part, parts, monkeypatch):
    monkeypatch.setattr(rules.parts, "RECORDS_PER_PART", 125_000)  # `make test-parts` sets 3
    assert part_count(records, per_part) == parts


def test_the_records_per_part_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(settings.PART_RECORDS_ENV, raising=False)
    assert settings.records_per_part() is None
    monkeypatch.setenv(settings.PART_RECORDS_ENV, "50000")
    assert settings.records_per_part() == 50_000
    for bad in ("0", "-3", "many", "1.5"):
        monkeypatch.setenv(settings.PART_RECORDS_ENV, bad)
        with pytest.raises(UsageError, match="ICP_MIGRATE_RECORDS_PER_PART must be a whole"):
            settings.records_per_part()


def test_the_seconds_of_a_run_in_parts_cover_all_of_decide(generated):
    """The split (drawn part by part) and the merge are counted in group and plan, not
    left to the flow's untimed share."""
    records, domains = generated[1]
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    rules.decide(records, domains, Plan(), CUTOFF, seconds=seconds, records_per_part=97)
    wall = time.perf_counter() - started
    assert set(seconds) == {"group", "plan"}
    assert seconds["group"] + seconds["plan"] >= 0.95 * wall - 0.01


def test_a_domain_of_no_record_is_an_error_not_a_silent_link(generated):
    records, domains = (held.to_frame() for held in generated[1])
    stray = domains.head(1).assign(row_id=int(records["row_id"].max()) + 1)
    screened = screen(records, expectation_failures(rules.scope_flags(records, CUTOFF)), CUTOFF)
    with pytest.raises(ValueError, match="not among the run's records"):
        list(split_run(records, pd.concat([domains, stray]), screened, Plan(), 3))


@examples(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 20))),
                max_size=90))
def test_the_graph_joins_exactly_the_nodes_that_share_a_value(links):
    """_Graph.components (each node joined to the first node holding its value) against a
    union-find over the same links: the same components, labelled by their lowest node in
    order (so the parts are the same as a graph with a node per value gives)."""
    from icp_migrate.rules.parts import _Graph

    graph = _Graph(31)
    nodes = graph.new_nodes(31)
    graph.link(nodes[[n for n, _ in links]],
               [None if v is None else f"v{v}" for _, v in links])
    labels = graph.components()
    parent = list(range(31))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    holders: dict[int, int] = {}
    for node, value in links:
        if value is not None:
            parent[find(node)] = find(holders.setdefault(value, node))
    roots = [find(n) for n in range(31)]
    first_of_root: dict[int, int] = {}
    expected = [first_of_root.setdefault(r, len(first_of_root)) for r in roots]
    assert labels.tolist() == expected


def test_the_graph_holds_the_nodes_it_was_made_for():
    """A link packs its node into the bits the graph's capacity needs: a node beyond it
    is an error, not a link to some other node."""
    from icp_migrate.rules.parts import _Graph

    graph = _Graph(5)
    assert graph.node_bits == 3
    graph.new_nodes(5)
    with pytest.raises(ValueError, match="holds 5 nodes, not 6"):
        graph.new_nodes(1)


@examples(max_examples=200, deadline=None)
@given(st.integers(-5, 5), st.integers(0, 30), st.lists(st.integers(-10, 40), max_size=40),
       st.sampled_from(["ascending", "descending", "gap"]))
def test_row_positions_are_those_of_a_plain_index(start, count, wanted, shape):
    """row_index (a RangeIndex for consecutive ids) finds every id where pd.Index finds
    it, and an id it lacks nowhere (-1)."""
    from icp_migrate.rules.parts import row_index

    ids = np.arange(start, start + count)
    if shape == "descending":
        ids = ids[::-1].copy()
    elif shape == "gap" and count > 2:
        ids[-1] += 1
    wanted = np.array(wanted, dtype=np.int64)
    assert (row_index(ids).get_indexer(wanted).tolist()
            == pd.Index(ids).get_indexer(wanted).tolist())
