"""Entity references, ring filters and pages, store URLs and settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.model import (
    EntityRef,
    Page,
    Ring,
    RingFilter,
    RingMember,
    RingStatus,
    ring_index,
)
from graphfraud.settings import Settings, get_settings, named_keys
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


def _ids(index: pd.DataFrame, rows: np.ndarray) -> list[str]:
    return index["ring_id"].to_numpy()[rows].tolist()


def test_a_page_sorts_ties_by_ring_id_either_way() -> None:
    rings = [_ring("R3", 2.0, 3), _ring("R1", 2.0, 2), _ring("R2", 5.0, 2), _ring("R4", 1.0, 4)]
    index = ring_index(rings)
    assert _ids(index, Page().of(index)) == ["R2", "R1", "R3", "R4"]
    assert _ids(index, Page(sort="size", descending=False).of(index)) == ["R1", "R2", "R3", "R4"]
    assert _ids(index, Page(offset=1, limit=2).of(index)) == ["R1", "R3"]
    assert _ids(index, Page(sort="ring_id", limit=3).of(index)) == ["R4", "R3", "R2"]
    some = np.array([0, 2, 3])  # R1, R3, R4
    assert _ids(index, Page(sort="size", descending=False).of(index, some)) == ["R1", "R3", "R4"]


def test_a_page_by_time_puts_rings_never_seen_last() -> None:
    seen = [_ring("R1", 1.0, 2), _ring("R2", 1.0, 2), _ring("R3", 1.0, 2)]
    seen[0].first_detected = datetime(2026, 1, 2, tzinfo=UTC)
    seen[2].first_detected = datetime(2026, 1, 1, tzinfo=UTC)
    index = ring_index(seen)
    assert _ids(index, Page(sort="first_detected").of(index)) == ["R1", "R3", "R2"]
    ascending = Page(sort="first_detected", descending=False)
    assert _ids(index, ascending.of(index)) == ["R3", "R1", "R2"]


def test_a_ring_filter_keeps_rings_passing_every_bound() -> None:
    index = ring_index([_ring("R1", 2.0, 3)])

    def kept(flt: RingFilter, members_of: list[str] | None = None) -> bool:
        return _ids(index, flt.select(index, with_account=members_of or [])) == ["R1"]

    assert kept(RingFilter(min_score=2.0, min_size=3, max_size=3, account="R1-0"), ["R1"])
    assert not kept(RingFilter(min_score=2.5))
    assert not kept(RingFilter(max_size=2))
    assert not kept(RingFilter(typology="money_cycle"))
    assert not kept(RingFilter(status=RingStatus.BENIGN))
    assert not kept(RingFilter(account="someone else"), [])
    assert not kept(RingFilter(assignee="Ana"))
    assert not kept(RingFilter(active=False))
    assert kept(RingFilter(active=None))


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHFRAUD_STORE_URL", "duckdb:///elsewhere.duckdb")
    get_settings.cache_clear()
    try:
        assert get_settings().store_url == "duckdb:///elsewhere.duckdb"
    finally:
        get_settings.cache_clear()


def test_api_keys_carry_names_or_a_digest_of_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAPHFRAUD_API_READ_KEYS", '["k-one", "k-two"]')
    monkeypatch.setenv("GRAPHFRAUD_API_INVESTIGATOR_KEYS", '{"k-three": "Ana Lima"}')
    settings = Settings()
    read = [(k.secret.get_secret_value(), k.name) for k in settings.api_read_keys]
    assert read == [("k-one", "key 51ad7fe8"), ("k-two", "key 13c9b36b")]
    assert [k.name for k in settings.api_investigator_keys] == ["Ana Lima"]
    assert named_keys(["k-one"]) == named_keys(["k-one"])
    assert "k-one" not in read[0][1]


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
