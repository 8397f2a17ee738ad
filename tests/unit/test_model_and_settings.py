"""Entity references, ring filters and pages, store URLs and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.model import EntityRef, Page, Ring, RingFilter, RingMember, RingStatus
from graphfraud.settings import get_settings
from graphfraud.store import open_store


def test_entity_ref_round_trips_through_text() -> None:
    ref = EntityRef.parse("IP:2001:db8::1")
    assert ref == EntityRef("IP", "2001:db8::1")
    assert str(ref) == "IP:2001:db8::1"


def test_bare_key_takes_the_default_kind() -> None:
    assert EntityRef.parse("A-17", default_kind="Account") == EntityRef("Account", "A-17")


def test_bare_key_without_default_kind_is_rejected() -> None:
    with pytest.raises(InputError, match="Kind:key"):
        EntityRef.parse("A-17")


def _ring(ring_id: str, score: float, size: int) -> Ring:
    members = [RingMember(f"{ring_id}-{i}") for i in range(size)]
    return Ring(ring_id, score, "device_farm", members)


def test_a_page_in_memory_sorts_ties_by_ring_id_either_way() -> None:
    rings = [_ring("R3", 2.0, 3), _ring("R1", 2.0, 2), _ring("R2", 5.0, 2), _ring("R4", 1.0, 4)]
    assert [r.ring_id for r in Page().of(rings)] == ["R2", "R1", "R3", "R4"]
    ascending = Page(sort="size", descending=False).of(rings)
    assert [r.ring_id for r in ascending] == ["R1", "R2", "R3", "R4"]
    assert [r.ring_id for r in Page(offset=1, limit=2).of(rings)] == ["R1", "R3"]


def test_a_ring_filter_keeps_rings_passing_every_bound() -> None:
    ring = _ring("R1", 2.0, 3)
    assert RingFilter(min_score=2.0, min_size=3, max_size=3, account="R1-0").matches(ring)
    assert not RingFilter(min_score=2.5).matches(ring)
    assert not RingFilter(max_size=2).matches(ring)
    assert not RingFilter(typology="money_cycle").matches(ring)
    assert not RingFilter(status=RingStatus.BENIGN).matches(ring)
    assert not RingFilter(account="someone else").matches(ring)


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHFRAUD_STORE_URL", "duckdb:///elsewhere.duckdb")
    get_settings.cache_clear()
    try:
        assert get_settings().store_url == "duckdb:///elsewhere.duckdb"
    finally:
        get_settings.cache_clear()


def test_store_url_picks_a_file(tmp_path: Path) -> None:
    with open_store(f"duckdb:///{tmp_path}/sub/graph.duckdb") as store:
        assert store.stats().entity_total == 0
    assert (tmp_path / "sub" / "graph.duckdb").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("graph.duckdb", "has no scheme"),
        ("duckdb://", "names no database file"),
        ("sqlite:///x.db", "unknown engine 'sqlite'"),
    ],
)
def test_bad_store_urls_say_why(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        open_store(url)
