"""The caching store gives the store's answers on a real marketplace, and the API serving from
it sees every change made through the API.

Directly: the walks and ring listings of a :class:`CachedStore` against those of the DuckDB
store it wraps, on a generated marketplace with hubs, where limits cut walks. Over HTTP: two
servers on copies of one DuckDB store, one answering from memory, the other (cache turned off)
from the store; every answer must be the same.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.schemas import entities_of, links_of
from graphfraud.errors import NotFound
from graphfraud.model import EntityRef, Page, RingFilter, RingStatus, Subgraph
from graphfraud.store import GraphStore, open_store
from graphfraud.store.cached import CachedStore
from tests.api_server import (
    INVESTIGATOR_KEY,
    ServedApi,
    api_settings,
    duckdb_marketplace,
    serving,
)
from tests.integration.test_api_service import wait_for


@pytest.fixture(scope="module")
def store_urls(marketplace: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Three copies of one filled store, made before any is opened: for direct reads, for a
    server reading memory and for one reading the store."""
    source = Path(duckdb_marketplace(marketplace, tmp_path_factory.mktemp("reads")).split("///")[1])
    urls = {}
    for name in ("direct", "memory", "store"):
        copy = tmp_path_factory.mktemp(name) / "graph.duckdb"
        shutil.copy(source, copy)
        urls[name] = f"duckdb:///{copy}"
    return urls


@pytest.fixture(scope="module")
def store(store_urls: dict[str, str]) -> Iterator[GraphStore]:
    with open_store(store_urls["direct"]) as opened:
        yield opened


@pytest.fixture(scope="module")
def model(store_urls: dict[str, str]) -> Iterator[CachedStore]:
    """A caching store over the same file as ``store`` (handles of one process share it)."""
    cached = CachedStore(open_store(store_urls["direct"]))
    cached.build()
    assert cached.ready
    yield cached
    cached.close()


def seen(found: Subgraph | None) -> tuple[Any, ...]:
    """A subgraph as the API shows it: entities in order, links in any order."""
    if found is None:
        return ()
    links = sorted(links_of(found.edges), key=repr)
    return entities_of(found.nodes), links, found.truncated


def some_entities(store: GraphStore, count: int) -> list[EntityRef]:
    """Ring members, random accounts and the most widely shared identifiers."""
    rng = random.Random(5)
    members = [m.account for r in store.rings(page=Page(limit=30)).rings for m in r.members]
    accounts = store.entities(kind="Account")["key"].tolist()
    links = store.links()
    hubs = links.groupby(["dst_kind", "dst_key"]).size().nlargest(5).index.tolist()
    return [
        *(EntityRef("Account", key) for key in members[:count]),
        *(EntityRef("Account", key) for key in rng.sample(accounts, count)),
        *(EntityRef(kind, key) for kind, key in hubs),
    ]


@pytest.mark.parametrize(("hops", "limit"), [(1, 200), (2, 200), (2, 12), (3, 60), (3, 2000)])
def test_the_walk_in_memory_is_the_stores(
    store: GraphStore, model: CachedStore, hops: int, limit: int
) -> None:
    truncated = 0
    for ref in some_entities(store, 25):
        expected = store.neighbourhood(ref, hops=hops, limit=limit)
        found = model.neighbourhood(ref, hops=hops, limit=limit)
        assert seen(found) == seen(expected), ref
        truncated += found.truncated
    if limit < 100:
        assert truncated, "the limit must have cut some walks for the test to mean anything"


def test_paths_sharing_and_surroundings_in_memory_are_the_stores(
    store: GraphStore, model: CachedStore
) -> None:
    refs = some_entities(store, 12)
    accounts = [ref for ref in refs if ref.kind == "Account"]
    linked = 0
    for a, b in itertools.pairwise(accounts):
        expected = store.path(a, b, max_hops=4)
        assert seen(model.path(a, b, max_hops=4)) == seen(expected), (a, b)
        linked += expected is not None
    assert linked, "some pairs must be linked for the test to mean anything"
    for ref in refs:
        pd.testing.assert_frame_equal(
            model.accounts_sharing(ref), store.accounts_sharing(ref), check_dtype=False
        )
    assert seen(model.surroundings(refs, limit=300)) == seen(store.surroundings(refs, limit=300))


def test_an_unknown_entity_is_not_found_in_memory(model: CachedStore) -> None:
    with pytest.raises(NotFound, match="no Account with key 'nobody'"):
        model.neighbourhood(EntityRef("Account", "nobody"), hops=1, limit=10)
    with pytest.raises(NotFound, match="no Planet"):
        model.neighbourhood(EntityRef("Planet", "mars"), hops=1, limit=10)


def test_store_metadata_is_read_once_and_follows_writes(tmp_path: Path) -> None:
    """Every API request asks which run's scores the store keeps: the caching store answers
    from memory after the first read (here with its store closed under it), and a write
    through it is what it answers next."""
    cached = CachedStore(open_store(f"duckdb:///{tmp_path / 'graph.duckdb'}"))
    first = cached.fingerprint_key()
    assert cached.scores_run() is None
    shared = "0123456789abcdef" * 4
    cached.set_fingerprint_key(shared)
    assert cached.fingerprint_key() == shared != first
    cached.inner.close()
    assert cached.fingerprint_key() == shared
    assert cached.scores_run() is None
    cached.close()


@pytest.mark.parametrize(
    ("flt", "page"),
    [
        (RingFilter(), Page(limit=500)),
        (RingFilter(min_score=2.0), Page(limit=7, offset=3)),
        (RingFilter(min_size=4, max_size=12), Page(sort="size", descending=False)),
        (RingFilter(status=RingStatus.NEW), Page(sort="ring_id", limit=5, offset=5)),
        (RingFilter(typology="device_farm"), Page(sort="size")),
        (RingFilter(typology="no such typology"), Page()),
    ],
    ids=["all", "min-score", "size-range", "status", "typology", "nothing"],
)
def test_ring_listings_in_memory_are_the_stores(
    store: GraphStore, model: CachedStore, flt: RingFilter, page: Page
) -> None:
    expected = store.rings(flt, page)
    found = model.rings(flt, page)
    assert found.total == expected.total
    assert [r.ring_id for r in found.rings] == [r.ring_id for r in expected.rings]
    assert found.rings == expected.rings


def test_bounds_in_memory_include_the_bound_as_the_store_does(
    store: GraphStore, model: CachedStore
) -> None:
    ring = store.rings(page=Page(limit=1, offset=3)).rings[0]
    for flt in (
        RingFilter(min_size=ring.size, max_size=ring.size),
        RingFilter(min_score=ring.score, typology=ring.typology),
    ):
        expected = store.rings(flt, Page(limit=500)).rings
        assert ring in expected
        assert model.rings(flt, Page(limit=500)).rings == expected


def test_an_accounts_rings_in_memory_are_the_stores(store: GraphStore, model: CachedStore) -> None:
    for ref in some_entities(store, 40)[:80]:
        flt = RingFilter(account=ref.key)
        assert model.rings(flt, Page()).rings == store.rings(flt, Page()).rings


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memory_and_store(store_urls: dict[str, str]) -> Iterator[tuple[ServedApi, ServedApi]]:
    """A server reading memory and one reading the store, each on its own copy."""
    off = api_settings().model_copy(update={"api_read_model": False})
    with (
        serving(api_settings(), store_urls["memory"], engine="duckdb") as memory,
        serving(off, store_urls["store"], engine="duckdb") as direct,
    ):
        yield memory, direct


def get(api: ServedApi, path: str, **params: Any) -> Any:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_says_where_reads_come_from(memory_and_store: tuple[ServedApi, ServedApi]) -> None:
    memory, direct = memory_and_store
    assert get(memory, "/health")["read_model"] == "ready"
    assert get(direct, "/health")["read_model"] == "off"


def test_memory_and_store_answer_alike_over_http(
    memory_and_store: tuple[ServedApi, ServedApi], store: GraphStore
) -> None:
    memory, direct = memory_and_store
    listing = get(direct, "/api/rings", limit=500)
    paths: list[tuple[str, dict[str, Any]]] = [
        ("/api/rings", {"limit": 500}),
        ("/api/rings", {"sort": "size", "order": "asc", "limit": 9, "offset": 2}),
        ("/api/rings", {"min_score": 1.5, "status": "new"}),
        *((f"/api/rings/{ring['ring_id']}", {}) for ring in listing["rings"]),
        *(
            (f"/api/accounts/{ref.key}/linkage", {"hops": hops, "limit": 40})
            for ref in some_entities(store, 10)
            if ref.kind == "Account"
            for hops in (1, 2)
        ),
    ]
    for path, params in paths:
        assert get(memory, path, **params) == get(direct, path, **params), (path, params)


def test_a_detection_run_replaces_the_rings_in_memory(
    memory_and_store: tuple[ServedApi, ServedApi],
) -> None:
    memory, _ = memory_and_store
    before = {r["ring_id"]: r for r in get(memory, "/api/rings", limit=500)["rings"]}
    with memory.client(INVESTIGATOR_KEY) as client:
        started = client.post("/api/jobs", json={"seed": 3})
    job = wait_for(memory, started.json()["job_id"])
    assert job["state"] == "succeeded"
    after = get(memory, "/api/rings", limit=500)["rings"]
    assert after
    (run,) = [r for r in get(memory, "/api/runs") if r["run_id"] == job["result"]["run_id"]]
    # Every ring listed was seen by the new run; those found before keep their first detection.
    assert {r["last_seen"] for r in after} == {run["finished_at"]}
    kept = [r for r in after if r["ring_id"] in before]
    assert kept
    assert all(r["first_detected"] == before[r["ring_id"]]["first_detected"] for r in kept)
    detail = get(memory, f"/api/rings/{after[0]['ring_id']}")
    assert detail["last_seen"] == after[0]["last_seen"]
