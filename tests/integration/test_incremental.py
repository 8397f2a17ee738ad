"""Incremental re-detection on a real DuckDB store: only the touched components change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from algorithms.incremental import ENGINE, baseline, redetect_touched
from algorithms.pipeline import DetectionResult, detect_rings
from graphfraud.model import RingChange
from graphfraud.settings import DetectionSettings
from graphfraud.store import GraphStore, open_store
from tests.integration.test_detection import _load
from tests.unit.planted_graphs import EPOCH, HOUR, GraphBuilder, marketplace

SETTINGS = DetectionSettings()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    opened = open_store(f"duckdb:///{tmp_path / 'graph.duckdb'}")
    _load(opened, marketplace()[0])
    yield opened
    opened.close()


@pytest.fixture
def detected(store: GraphStore) -> DetectionResult:
    return detect_rings(store, settings=SETTINGS, seed=1)


def _join_the_farm(store: GraphStore, account: str) -> None:
    """A new account signs up and logs in from both devices of the planted device farm."""
    new = GraphBuilder()
    new.account(account, created=EPOCH + 3 * HOUR)
    for device in ("F-dev0", "F-dev1"):
        new.use(account, "Device", "USES_DEVICE", device, at=EPOCH + 4 * HOUR)
    store.upsert_entities(new.accounts())
    store.upsert_links(new.links())


def test_a_new_member_grows_its_ring_under_the_same_id(
    store: GraphStore, detected: DetectionResult
) -> None:
    farm = next(ring for ring in detected.rings if ring.typology == "device_farm")
    _join_the_farm(store, "NEW1")

    result = redetect_touched(store, ["NEW1"], settings=SETTINGS, seed=1)

    assert [(ring.ring_id, ring.size) for ring in result.rings_found] == [
        (farm.ring_id, farm.size + 1)
    ]
    last = store.ring_history(farm.ring_id).appearances[-1]
    assert (last.change, last.joined) == (RingChange.GROWN, ("NEW1",))
    assert result.run is not None
    assert result.run.engine == ENGINE


def test_rings_elsewhere_are_kept_with_their_verdicts(
    store: GraphStore, detected: DetectionResult
) -> None:
    farm = next(ring for ring in detected.rings if ring.typology == "device_farm")
    others = [ring for ring in detected.rings if ring.ring_id != farm.ring_id]
    store.set_ring_status(others[0].ring_id, "confirmed", actor="ana")
    _join_the_farm(store, "NEW1")

    result = redetect_touched(store, ["NEW1"], settings=SETTINGS, seed=1)

    assert result.rings_kept == len(others)
    assert result.accounts == farm.size + 1
    for ring in others:
        stored = store.ring(ring.ring_id)
        assert (stored.accounts, stored.score) == (ring.accounts, ring.score)
        assert store.ring_history(ring.ring_id).appearances[-1].change is RingChange.SAME
    assert store.ring(others[0].ring_id).status == "confirmed"


def test_on_planted_rings_the_result_matches_a_full_run_on_the_grown_graph(
    store: GraphStore, detected: DetectionResult
) -> None:
    _join_the_farm(store, "NEW1")
    redetect_touched(store, ["NEW1"], settings=SETTINGS, seed=1)
    incremental = {frozenset(ring.accounts) for ring in store.rings().rings}

    full = detect_rings(store, settings=SETTINGS, seed=1, write=False)

    assert incremental == {frozenset(ring.accounts) for ring in full.rings}


def test_facts_kept_from_the_full_run_serve_append_after_append(
    store: GraphStore, detected: DetectionResult
) -> None:
    kept = baseline(store, settings=SETTINGS)
    assert kept is not None
    assert kept.run_id == detected.run.run_id
    for account in ("NEW1", "NEW2"):
        _join_the_farm(store, account)
        result = redetect_touched(store, [account], settings=SETTINGS, seed=1, kept=kept)
        assert "reading" in result.timings
        assert "baseline" not in result.timings
    incremental = {frozenset(ring.accounts) for ring in store.rings().rings}

    full = detect_rings(store, settings=SETTINGS, seed=1, write=False)

    assert incremental == {frozenset(ring.accounts) for ring in full.rings}
    assert any({"NEW1", "NEW2"} <= ring for ring in incremental)


def test_an_account_outside_every_ring_changes_nothing(
    store: GraphStore, detected: DetectionResult
) -> None:
    lone = GraphBuilder()
    lone.account("LONER", created=EPOCH)
    lone.use("LONER", "Device", "USES_DEVICE", "nobody-else")
    store.upsert_entities(lone.accounts())
    store.upsert_links(lone.links())

    result = redetect_touched(store, ["LONER"], settings=SETTINGS, seed=1)

    assert result.rings_found == []
    assert result.rings_kept == len(detected.rings)
    assert {r.ring_id for r in store.rings().rings} == {r.ring_id for r in detected.rings}


def test_without_stored_rings_nothing_is_written(store: GraphStore) -> None:
    result = redetect_touched(store, ["F0"], settings=SETTINGS, seed=1)

    assert result.run is None
    assert store.runs() == []
