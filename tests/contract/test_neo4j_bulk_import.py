"""A Neo4j database built by bulk import holds what the upserts would have written.

One import (it restarts the session's server) of a load with every kind of value the files
must carry: attributes of mixed types, text with quotes, commas and line breaks, missing
values, events with and without refs. Its reads are compared with the embedded store's, which
takes the same load through ``write_graph``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graphfraud.errors import ConfigError
from graphfraud.model import EntityRef, Ring, RingMember
from graphfraud.store import open_store
from graphfraud.store.base import GraphStore, aggregate_entities, conform_events, conform_links
from graphfraud.store.neo4j import Neo4jStore
from tests.neo4j_server import Neo4jForTests, opened_store, wipe

pytestmark = pytest.mark.neo4j

Load = tuple[pa.Table, pa.Table, pa.Table]


def a_load() -> Load:
    entities = aggregate_entities(
        pa.table(
            {
                "kind": ["Account", "Account", "Account", "Device", "Merchant"],
                "key": ["A1", "A2", 'A"3', "d,1", "m1"],
                "display": ['Ann, "the" buyer\nline two', "", None, None, "Shop"],
                "created_at": pa.array(
                    [pd.Timestamp("2026-01-01 10:00:00.123456"), None, None, None, None],
                    pa.timestamp("us"),
                ),
                "label": ["fraud", None, None, None, None],
                "attributes": [
                    '{"country":"ID","kyc_level":2,"seller":true}',
                    '{"country":"VN","kyc_level":"high","score":0.5}',
                    None,
                    '{"os":"android"}',
                    None,
                ],
            }
        )
    )
    links = conform_links(
        pd.DataFrame(
            [
                {"src_kind": "Account", "src_key": "A1", "kind": "USES_DEVICE",
                 "dst_kind": "Device", "dst_key": "d,1", "first_seen": "2026-01-01 00:00:00.000000",
                 "last_seen": "2026-01-02 03:04:05.000006", "count": 2, "amount": None},
                {"src_kind": "Account", "src_key": 'A"3', "kind": "USES_DEVICE",
                 "dst_kind": "Device", "dst_key": "d,1", "first_seen": "2026-01-03 00:00:00.000000",
                 "last_seen": "2026-01-03 00:00:00.000000", "count": 1, "amount": None},
                {"src_kind": "Account", "src_key": "A1", "kind": "TRANSACTS_WITH",
                 "dst_kind": "Account", "dst_key": "A2", "first_seen": "2026-01-01 00:00:00.000000",
                 "last_seen": "2026-01-05 00:00:00.000000", "count": 3, "amount": 99.5},
                {"src_kind": "Account", "src_key": "A2", "kind": "BUYS_AT",
                 "dst_kind": "Merchant", "dst_key": "m1",
                 "first_seen": "2026-01-01 00:00:00.000000",
                 "last_seen": "2026-01-01 00:00:00.000000", "count": 1, "amount": 7.0},
            ]
        )
    )  # fmt: skip
    events = conform_events(
        pd.DataFrame(
            [
                {"event_id": "o/1", "source": "orders", "kind": "order", "account": "A1",
                 "time": "2026-01-02", "amount": 12.5, "refs": ["Device:d,1", "Account:A2"]},
                {"event_id": "o/2", "source": "orders", "kind": "order", "account": "A2",
                 "time": None, "amount": None, "refs": []},
            ]
        )
    )  # fmt: skip
    # As a loader hands them over: kinds dictionary-encoded.
    entities = entities.set_column(0, "kind", pc.dictionary_encode(entities["kind"]))
    return entities, links, events


def rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """A frame's rows, sorted, with every missing value as None (engines differ in NaN/None)."""
    found = frame.astype(object).where(frame.notna(), None)
    return sorted(map(tuple, found.values.tolist()), key=repr)


@pytest.fixture(scope="module")
def home(neo4j_server: Neo4jForTests) -> Path:
    if neo4j_server.home is None:
        pytest.skip("bulk import needs the server's folder: the tests' own server, not one given")
    return neo4j_server.home


@pytest.fixture(scope="module")
def imported(neo4j_server: Neo4jForTests, home: Path) -> Iterator[tuple[Neo4jStore, str]]:
    """A store whose one load was bulk-imported, and its fingerprint key from before."""
    wipe(neo4j_server)
    with Neo4jStore(neo4j_server.url, settings=neo4j_server.settings, bulk_home=home) as store:
        key = store.fingerprint_key()
        store.write_graph(*a_load())
        yield store, key


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    """The embedded store, with the same load written through ``write_graph``."""
    path = tmp_path_factory.mktemp("merged") / "graph.duckdb"
    with open_store(f"duckdb:///{path}") as store:
        store.write_graph(*a_load())
        yield store


def test_imported_entities_read_back_as_merged_ones(
    imported: tuple[Neo4jStore, str], merged: GraphStore
) -> None:
    assert rows(imported[0].entities()) == rows(merged.entities())


def test_imported_links_read_back_as_merged_ones(
    imported: tuple[Neo4jStore, str], merged: GraphStore
) -> None:
    assert rows(imported[0].links()) == rows(merged.links())


def test_imported_events_read_back_as_merged_ones(
    imported: tuple[Neo4jStore, str], merged: GraphStore
) -> None:
    assert imported[0].events().equals(merged.events())
    assert imported[0].events(refs=["Account:A2"])["event_id"].tolist() == ["o/1"]


def test_an_import_keeps_the_fingerprint_key(imported: tuple[Neo4jStore, str]) -> None:
    store, key = imported
    assert store.fingerprint_key() == key


def test_an_imported_store_takes_merges_and_rings_as_any(
    imported: tuple[Neo4jStore, str], merged: GraphStore
) -> None:
    store, _ = imported
    entities, links, events = a_load()
    # Keys are constrained again, so the same rows merge into the nodes the import made.
    store.upsert_links(links)
    store.upsert_entities(entities)
    store.upsert_events(events)
    assert store.stats() == merged.stats()
    assert rows(store.links()) == rows(merged.links())
    members = [RingMember("A1"), RingMember("A2")]
    store.write_rings([Ring(ring_id="R1", score=1.0, typology="test", members=members)])
    assert store.ring("R1").accounts == ["A1", "A2"]
    assert store.neighbourhood(EntityRef("Device", "d,1")).edges["src_key"].nunique() == 2


def test_bulk_import_refuses_a_database_with_data(
    neo4j_server: Neo4jForTests, home: Path, imported: tuple[Neo4jStore, str]
) -> None:
    with pytest.raises(ConfigError, match="already holds data: load without --bulk"):
        Neo4jStore(neo4j_server.url, settings=neo4j_server.settings, bulk_home=home)


def test_bulk_import_refuses_a_server_whose_files_it_cannot_reach(
    neo4j_server: Neo4jForTests, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"nothing runs there.*load without --bulk"):
        Neo4jStore(neo4j_server.url, settings=neo4j_server.settings, bulk_home=tmp_path)
    opened_store(neo4j_server).close()  # the server is left as it was
