"""Coded links: every engine numbers the links' ends in (kind, key) order for detection."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graphfraud.errors import StoreError
from graphfraud.model import CodedLinks
from graphfraud.store import GraphStore, open_store
from graphfraud.store.duckdb import DuckDBStore
from tests.contract.conftest import Opener
from tests.contract.test_store_contract import accounts, link, small_graph


def decoded(coded: CodedLinks) -> list[tuple[object, ...]]:
    """The coded links with their ends looked up again, sorted: comparable to ``links()``."""
    nodes, links = coded.nodes, coded.links
    kind, key = nodes["kind"].astype(str).to_numpy(), nodes["key"].astype(str).to_numpy()
    src, dst = links["src"].to_numpy(), links["dst"].to_numpy()
    return rows(kind[src], key[src], links["kind"], kind[dst], key[dst], links=links)


def plain(links: pd.DataFrame) -> list[tuple[object, ...]]:
    ends = [links[c] for c in ("src_kind", "src_key", "kind", "dst_kind", "dst_key")]
    return rows(*ends, links=links)


def rows(*ends: object, links: pd.DataFrame) -> list[tuple[object, ...]]:
    text = [pd.Series(end).astype(str).tolist() for end in ends]
    times = [[pd.Timestamp(v) for v in links[c]] for c in ("first_seen", "last_seen")]
    return sorted(zip(*text, *times, links["count"].tolist(), strict=True))


def test_coded_links_decode_to_the_links(store: GraphStore) -> None:
    store.upsert_entities(accounts())
    store.upsert_links(small_graph())
    coded = store.coded_links()
    assert decoded(coded) == plain(store.links())
    assert coded.links["src"].dtype.kind == "i"
    assert coded.links["dst"].dtype.kind == "i"


def test_nodes_are_numbered_in_kind_and_key_order_with_every_account(store: GraphStore) -> None:
    store.upsert_entities(accounts())
    store.upsert_entities(pd.DataFrame({"kind": ["Account"], "key": ["A0-unlinked"]}))
    store.upsert_links(small_graph())
    coded = store.coded_links()
    nodes = coded.nodes
    pairs = list(zip(nodes["kind"].astype(str), nodes["key"].astype(str), strict=True))
    assert pairs == sorted(pairs)
    assert len(set(pairs)) == len(pairs)
    assert nodes["key"].iloc[coded.accounts].tolist() == ["A0-unlinked", "A1", "A2", "A3", "A4"]
    assert {"dev-1", "dev-9", "pi_abc"} <= set(nodes["key"])


def test_coded_links_filter_by_kind_and_time(store: GraphStore) -> None:
    store.upsert_entities(accounts())
    store.upsert_links(small_graph())
    paid = store.coded_links(kinds=["PAYS_WITH"])
    assert decoded(paid) == plain(store.links(kinds=["PAYS_WITH"]))
    assert store.coded_links(since="2026-02-01").links.empty
    assert len(store.coded_links(since="2026-01-03").links) == 5


def test_codes_follow_the_data_not_the_load_order(opener: Opener) -> None:
    rows = [*small_graph().to_dict("records"), link("A5", "HAS_PHONE", "Phone", "+15550100")]
    seen = []
    for order in (slice(None), slice(None, None, -1)):
        store = opener.open(empty=True)
        store.upsert_links(pd.DataFrame(rows[order]))
        store.upsert_entities(accounts().iloc[order])
        coded = store.coded_links()
        triples = coded.links[["src", "dst"]].assign(kind=coded.links["kind"].astype(str))
        seen.append(
            (
                coded.nodes.astype(str).to_numpy().tolist(),
                sorted(triples.itertuples(index=False, name=None)),
            )
        )
    assert seen[0] == seen[1]


def test_a_link_whose_end_is_no_entity_is_an_error_not_a_silent_loss(tmp_path: Path) -> None:
    # Only a store written around the contract can hold one: the embedded engine's own tables.
    with open_store(f"duckdb:///{tmp_path / 'graph.duckdb'}") as store:
        store.upsert_entities(accounts())
        store.upsert_links(small_graph())
        assert isinstance(store, DuckDBStore)
        store._db.execute(
            "INSERT INTO links VALUES ('Account', 'A9', 'USES_DEVICE', 'Device', 'dev-x', "
            "NULL, NULL, 1, NULL)"
        )
        with pytest.raises(StoreError, match="1 links have an end that is not among"):
            store.coded_links()
