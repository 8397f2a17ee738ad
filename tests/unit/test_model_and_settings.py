"""Entity references, store URLs and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.model import EntityRef
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
