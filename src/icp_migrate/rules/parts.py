"""A run decided in parts that no key crosses, so `decide` holds one part's frames at a time.

Records meet only through keys: the entity a valid certificate names, a USCC's organization
code, the filing numbers (an entity number stated or inside a website number is one key),
the name key of the name fallback and the domains. They also meet through the store: two
records that share no key can name one stored entity (one by its certificate, the other by
a website it holds), and a conflict of the ledger binds its key to every claimant it named.
So every record, every row the store holds (entities, accounts, websites, domains) and
every ledger row is a node; each is joined to the values of its keys; the connected
components of that graph are groups that no rule can see across. A part is a set of whole
components: its records, their domains and the store's rows of the same components.

This module decides nothing itself: each part goes through the same chain as a whole run
(rules/dispositions.py), with two things of the whole run handed in: the screen of steps
1-3 and the names a near miss may point to (a fuzzy search, across components). The parts'
plans are then put back into the order a whole run gives (`merge_plans`), so a run decided
in parts loads the same rows in the same order as decided whole (tests/test_parts.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import frames
from ..compact import Rows, held
from ..identity import entity_ids
from ..numeric import distinct
from ..plan import Plan
from .accounts import text_order
from .grouping import NameChoices, name_choices
from .history import numbered
from .known import known_rows

# Records per part: at a million records, 8 parts lower a run's peak by about 450 MB for
# about 14% more of decide's time (docs/performance.md); more parts cost more time.
RECORDS_PER_PART = 125_000
# Records whose whole-run columns (the graph's keys, near-miss names) are converted from
# Arrow at a time: at ten million records, all at once would be about 5 GB of objects.
BATCH_ROWS = 500_000
# The store's frames a part takes its own rows of (the review decisions go whole to every
# part; the rest of a snapshot is empty).
SNAPSHOT_FRAMES = ("entities", "accounts", "website_filings", "domains", "ledger")
# The records' columns the graph joins by (_Graph.add_records): with the names near misses
# may point to (near_names) and row_id, all a run held as Arrow converts of every record
# to split it, BATCH_ROWS records at a time.
GRAPH_COLUMNS = ("cert_valid", "cert_key", "cert_type", "cert_number",
                 "entity_filing_number", "website_entity_number", "website_filing_number",
                 "name_key")


def part_count(records: int, per_part: int | None = None) -> int:
    """How many parts `records` records are decided in (`per_part`: records per part)."""
    size = RECORDS_PER_PART if per_part is None else per_part
    return max(1, -(-records // max(1, size)))


@dataclass
class Part:
    """One part of a run: its records (and their domains), what steps 1-3 said of them,
    and the store's rows of the same components."""

    records: pd.DataFrame
    domains: pd.DataFrame
    screened: pd.DataFrame
    snapshot: Plan


def split_run(records: pd.DataFrame | Rows, domains: pd.DataFrame | Rows,
              screened: pd.DataFrame | Rows, snapshot: Plan, parts: int,
              known: pd.DataFrame | None = None) -> Iterator[Part]:
    """The run in `parts` parts (fewer when it has fewer components), whole components
    each, in record order within a part (index 0..n-1); the store's rows not joined to any
    record go with the first part, so every row of `snapshot` is in exactly one part.
    `known`: the snapshot's known_rows, when the caller has them already. The records are
    read whole only in their GRAPH_COLUMNS; a part takes every column of its own rows
    (Rows.parts)."""
    records, domains, screened = held(records), held(domains), held(screened)
    known = known_rows(snapshot) if known is None else known
    count, record_part, domain_part, stored_part = _part_numbers(records, domains, snapshot,
                                                                 parts, known)
    drawn = zip(records.parts(record_part, count), domains.parts(domain_part, count),
                strict=True)
    for number, (part_records, part_domains) in enumerate(drawn):
        part_snapshot = Plan(decisions=snapshot.decisions)
        for name in SNAPSHOT_FRAMES:
            frame = getattr(snapshot, name)
            setattr(part_snapshot, name, frame[stored_part[name] == number].reset_index(
                drop=True))
        mine = np.flatnonzero(record_part == number)
        yield Part(records=part_records, domains=part_domains,
                   screened=screened.rows(mine),
                   snapshot=part_snapshot)
        del part_records, part_domains


def _part_numbers(records: Rows, domains: Rows, snapshot: Plan, parts: int,
                  known: pd.DataFrame,
                  ) -> tuple[int, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(how many parts; the part of each record, of each domain row and of each row of the
    snapshot's SNAPSHOT_FRAMES), the graph and its columns let go on return. The records'
    and domains' keys are converted and hashed BATCH_ROWS rows at a time."""
    stored = sum(len(getattr(snapshot, name)) for name in SNAPSHOT_FRAMES)
    graph = _Graph(len(records) + stored)
    stores = stored > 0
    row_ids = row_index(records.columns(("row_id",))["row_id"])  # built once
    record_nodes = graph.new_nodes(len(records))
    done = 0
    for keys in records.batches(GRAPH_COLUMNS, BATCH_ROWS):
        graph.add_records(keys, record_nodes[done:done + len(keys)], by_entity_id=stores)
        done += len(keys)
    domain_rows = []
    for named in domains.batches(("row_id", "domain"), BATCH_ROWS):
        rows = _positions(row_ids, named["row_id"])
        graph.link(record_nodes[rows], named["domain"])
        domain_rows.append(rows)
    snapshot_nodes = {name: graph.add_stored(name, snapshot, known)
                      for name in SNAPSHOT_FRAMES}
    del row_ids
    component = graph.components()
    labels = distinct(component[record_nodes])  # the components holding records
    count = min(parts, len(labels))
    part_of_component = np.zeros(graph.size, dtype=np.int64)  # store-only: the first part
    part_of_component[labels] = np.arange(len(labels)) % max(count, 1)
    record_part = part_of_component[component[record_nodes]]
    stored_part = {name: part_of_component[component[nodes]]
                   for name, nodes in snapshot_nodes.items()}
    return count, record_part, record_part[np.concatenate(domain_rows)], stored_part


def near_names(records: Rows, screened: pd.DataFrame | Rows, known: pd.DataFrame,
               ) -> NameChoices:
    """The names a near miss may point to, taken over the whole run (grouping.name_choices
    of the valid records steps 1-3 left undecided, then the store's: `known`, its
    known_rows), with the notes of every name a part may ask about already found (those of
    the undecided records without a valid certificate: each province searched once for
    the run, not once per part). The records' name keys are read BATCH_ROWS at a time,
    each batch's distinct open ones kept."""
    undecided = held(screened).columns(("disposition",))["disposition"].isna().to_numpy()
    kept, asked, done = [], [], 0
    for batch in records.batches(("name_key", "cert_valid"), BATCH_ROWS):
        valid = batch["cert_valid"].fillna(False).to_numpy(dtype=bool)
        open_ = undecided[done:done + len(batch)]
        kept.append(batch.loc[open_ & valid, ["name_key"]].drop_duplicates())
        asked.append(batch.loc[open_ & ~valid, "name_key"].dropna().drop_duplicates())
        done += len(batch)
    choices = name_choices(pd.concat(kept, ignore_index=True), known)
    choices.notes(pd.concat(asked, ignore_index=True).astype(object))
    return choices


# How merge_plans orders each table: by its key, or in the records' order ("row_id")
MERGE_ORDER: dict[str, str | tuple[str, str]] = {
    "entities": "entity_id", "accounts": "account_id",
    "website_filings": "website_filing_number", "domains": "domain",
    "removed_domains": "domain", "dispositions": "row_id", "links": "row_id",
    "conflicts": ("conflict_key", "entity_id")}


def merge_plans(plans: list[Plan], row_ids: pd.Series | np.ndarray) -> Plan:
    """One plan from the plans of a run's parts (`row_ids`: the run's records' row ids, in
    record order), its rows in the order a whole run gives (`merge_table`), the history
    renumbered (`merge_history`). The parts' frames are let go one table at a time, as
    each is merged."""
    if len(plans) == 1:
        return plans[0]
    merged = Plan(input_count=sum(plan.input_count for plan in plans))
    for name in MERGE_ORDER:
        frames = [getattr(plan, name) for plan in plans]
        for plan in plans:
            setattr(plan, name, None)
        setattr(merged, name, merge_table(name, frames, row_ids))
    merged.changes = merge_history([plan.changes for plan in plans])
    return merged


def merge_table(name: str, frames: list[pd.DataFrame], row_ids: pd.Series | np.ndarray,
                ) -> pd.DataFrame:
    """The parts' frames of the plan's table `name` (any of its columns, with its
    MERGE_ORDER key) as one, in the order a whole run gives (`merge_order`)."""
    frame = pd.concat(frames, ignore_index=True)
    del frames[:]
    return frame.take(merge_order(name, frame, row_ids)).reset_index(drop=True)


def merge_columns(name: str) -> list[str]:
    """The columns merge_order reads of the table `name`."""
    order = MERGE_ORDER[name]
    return list(order) if isinstance(order, tuple) else [order]


def merge_order(name: str, keys: pd.DataFrame | pa.Table, row_ids: pd.Series | np.ndarray,
                ) -> np.ndarray:
    """The positions that put the parts' rows of the plan's table `name`, one after the
    other (`keys`: at least their merge_columns, index 0..n-1, as pandas or Arrow), in the
    order a whole run gives: the store's tables by their keys, dispositions and links in
    record order, conflicts by conflict and claimant."""
    order = MERGE_ORDER[name]
    if isinstance(keys, pa.Table) and order != "row_id" and not isinstance(order, tuple):
        return text_order(keys.column(order))  # text keys stay Arrow (no str per row)
    frame = keys if isinstance(keys, pd.DataFrame) else keys.select(
        merge_columns(name)).to_pandas()
    if order == "row_id":
        return np.argsort(_positions(row_ids, frame["row_id"]), kind="stable")
    if isinstance(order, tuple):
        return frame.sort_values(list(order)).index.to_numpy()
    return text_order(frame[order])


def merge_history(changes: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' history rows as the whole run's, renumbered (history.numbered)."""
    rows = [part for part in changes if len(part)]
    return frames.conform(numbered(rows), frames.CHANGES) if rows else changes[0]


def _positions(row_ids: pd.Index | pd.Series | np.ndarray, wanted: pd.Series) -> np.ndarray:
    """Where each of `wanted` is among `row_ids` (unique: pandas raises otherwise); a
    wanted id that is not among them is an error, not a silent -1."""
    index = row_ids if isinstance(row_ids, pd.Index) else row_index(row_ids)
    found = index.get_indexer(wanted.to_numpy())
    if (found < 0).any():
        raise ValueError("rows refer to row ids that are not among the run's records")
    return found


def row_index(row_ids: pd.Series | np.ndarray) -> pd.Index:
    """The row ids as an index to look positions up in: a RangeIndex when they are
    consecutive (a run's are: each source's numbered on from the last), whose look-ups
    are arithmetic, with no hash table (about 0.3 GB at ten million records)."""
    values = np.asarray(row_ids)
    if len(values) > 1 and values[-1] - values[0] == len(values) - 1 and bool(
            (np.diff(values) == 1).all()):
        return pd.RangeIndex(int(values[0]), int(values[-1]) + 1)
    return pd.Index(values)


class _Graph:
    """Nodes (records, the store's rows) joined by the values of their keys: a node and a
    value are linked; nodes sharing a value end in one component.

    A link is one 64-bit integer: its value's hash in the high bits, its node in the low
    `node_bits` (enough for `capacity` nodes), so the links are sorted in place, with no
    index array beside them; at ten million records (about 60M links) they take 0.5 GB
    where a hash and a node apart took 0.75 GB and twice that while sorted. A value
    stands as the high 64 - node_bits bits of its hash (40 bits at 10M records): two values
    sharing them (a few hundred pairs among 30M values, at random) only join two
    components into one part, which splits nothing a rule sees."""

    def __init__(self, capacity: int) -> None:
        self.size = 0  # nodes so far
        self.capacity = capacity
        self.node_bits = max(1, (capacity - 1).bit_length())
        if self.node_bits > 48:
            raise ValueError(f"a graph of {capacity:,} nodes leaves too few bits of hash")
        self._links: list[np.ndarray] = []

    def new_nodes(self, count: int) -> np.ndarray:
        """`count` new nodes' numbers."""
        if self.size + count > self.capacity:
            raise ValueError(f"the graph holds {self.capacity:,} nodes, not "
                             f"{self.size + count:,}")
        nodes = np.arange(self.size, self.size + count)
        self.size += count
        return nodes

    def link(self, nodes: np.ndarray, values: object) -> None:
        """Each of `nodes` joined to its value (None: to nothing)."""
        array = np.asarray(values, dtype=object)
        present = pd.notna(array)
        links = pd.util.hash_array(array[present], categorize=False)
        links >>= self.node_bits  # the hash's high bits, then the node in the low ones
        links <<= self.node_bits
        links |= nodes[present].astype(np.uint64)
        self._links.append(links)

    def add_records(self, records: pd.DataFrame, nodes: np.ndarray,
                    by_entity_id: bool) -> None:
        """Records' keys linked to their nodes (one per record). `by_entity_id`: a valid
        certificate joins by the entity id it names, as the store's rows and the ledger
        name entities (else by its identity key, the same grouping without a digest per
        key: a first run). Their domains are linked by the caller."""
        cert_valid = records["cert_valid"].fillna(False).to_numpy(dtype=bool)
        keys = records["cert_key"].where(cert_valid, None)
        self.link(nodes, entity_ids(keys) if by_entity_id else keys)
        self.link(nodes, _organization_codes(records["cert_type"], records["cert_number"]))
        self.link(nodes, records["cert_number"].where(records["cert_type"].eq("org_code"), None))
        for column in ("entity_filing_number", "website_entity_number",
                       "website_filing_number", "name_key"):
            self.link(nodes, records[column])

    def add_stored(self, name: str, snapshot: Plan, known: pd.DataFrame) -> np.ndarray:
        """A node per row of the store's frame `name` (`known`: the snapshot's known_rows,
        a row per stored website, in order)."""
        frame = getattr(snapshot, name)
        nodes = self.new_nodes(len(frame))
        if name == "ledger":
            for column in ("conflict_id", "claimant", "chosen"):
                self.link(nodes, frame[column])
            key = frame["conflict_key"].astype(object)
            self.link(nodes, key.str.split(":", n=1).str[1])  # the disputed value itself
            return nodes
        for column in ("entity_id", "website_filing_number", "entity_filing_number",
                       "domain"):
            if column in frame.columns:
                self.link(nodes, frame[column])
        if name == "entities":
            self.link(nodes, _organization_codes(frame["cert_type"], frame["cert_number"]))
        if name == "website_filings":  # its entity's numbers and name, as grouping sees them
            for column in ("website_entity_number", "name_key"):
                self.link(nodes, known[column].to_numpy(dtype=object))
        return nodes

    def components(self) -> np.ndarray:
        """Each node's component label. The links are sorted, so the links of one value
        are neighbours, and each is joined to the one before it when they share its value:
        a graph of the nodes alone, not of the nodes and every distinct value (at ten
        million records, about 30M values more)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        links = _drained(self._links, np.uint64)
        links.sort()
        node = np.uint64((1 << self.node_bits) - 1)
        same = np.empty(max(len(links) - 1, 0), dtype=bool)  # link i + 1's value is link i's
        for start in range(0, len(same), BATCH_ROWS):  # in batches: the temporaries too
            stop = min(start + BATCH_ROWS, len(same))
            same[start:stop] = (links[start + 1:stop + 1] ^ links[start:stop]) <= node
        np.bitwise_and(links, node, out=links)
        index = np.int32 if self.size < 2**31 else np.int64  # what scipy's CSR form uses
        nodes = links.astype(index)
        del links
        graph = coo_matrix((np.ones(int(same.sum()), dtype=np.int8),
                            (nodes[1:][same], nodes[:-1][same])), shape=(self.size, self.size))
        del nodes, same
        return connected_components(graph, directed=False)[1]


def _drained(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    """The arrays one after the other as one, `arrays` emptied as each is copied: the
    whole is held once, not twice as np.concatenate holds it."""
    out: np.ndarray = np.empty(sum(len(a) for a in arrays), dtype=dtype)
    at = 0
    arrays.reverse()
    while arrays:
        part = arrays.pop()
        out[at:at + len(part)] = part
        at += len(part)
        del part
    return out


def _organization_codes(cert_type: pd.Series, cert_number: pd.Series) -> pd.Series:
    """The organization code inside a USCC (characters 9-17), else None."""
    uscc = cert_type.eq("uscc").fillna(False) & cert_number.notna()
    return cert_number[uscc].astype(object).str[8:17].reindex(cert_number.index).astype(
        object).where(uscc, None)
