"""Identifiers of concurrent risk checks are normalised together, each as the loader would."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

import api.batching
from api.batching import IdentifierBatcher, RawIdentifier, normalise_identifiers
from loaders.normalise import NormaliseOptions, normalise


def _email(raw: str) -> RawIdentifier:
    return RawIdentifier("Email", raw, "US", "card", "key")


def test_each_identifier_gets_the_key_the_loader_makes() -> None:
    raws = ["J.Doe+x@GoogleMail.com", "nobody.example.com", "Ann@Example.org"]
    found = normalise_identifiers([_email(raw) for raw in raws])
    expected = normalise("Email", pd.Series(raws), NormaliseOptions(fingerprint_key="key"))
    assert [one.key for one in found] == ["jdoe@gmail.com", None, "ann@example.org"]
    assert [one.key for one in found] == [
        None if pd.isna(v) else v for v in expected.values.tolist()
    ]
    assert found[1].error == "not an email address: no '@'"


def test_a_region_naming_no_country_fails_only_its_own_identifiers() -> None:
    phones = [
        RawIdentifier("Phone", "0812-3456-7890", "Atlantis", "card", "key"),
        RawIdentifier("Phone", "0812-3456-7890", "ID", "card", "key"),
    ]
    bad, good = normalise_identifiers(phones)
    assert bad.key is None
    assert "Atlantis" in (bad.config_error or "")
    assert good.key == "+6281234567890"
    assert good.config_error is None


def test_concurrent_requests_are_normalised_in_one_call_per_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int]] = []

    def counted(kind: str, values: pd.Series, options: NormaliseOptions) -> object:
        calls.append((kind, len(values)))
        return normalise(kind, values, options)

    monkeypatch.setattr(api.batching, "normalise", counted)
    batcher = IdentifierBatcher()

    async def many() -> list[list[str | None]]:
        asked = [[_email(f"User{i}@Example.org"), _email(f"u{i}@x.org")] for i in range(5)]
        answers = await asyncio.gather(*(batcher.normalise(one) for one in asked))
        return [[found.key for found in answer] for answer in answers]

    keys = asyncio.run(many())
    assert keys == [[f"user{i}@example.org", f"u{i}@x.org"] for i in range(5)]
    assert calls == [("Email", 10)]


def test_recent_values_are_normalised_once_and_cards_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    normalised: list[str] = []

    def counting(identifiers: list[RawIdentifier]) -> list[api.batching.NormalisedIdentifier]:
        normalised.extend(one.raw for one in identifiers)
        return normalise_identifiers(identifiers)

    monkeypatch.setattr(api.batching, "normalise_identifiers", counting)
    recent = api.batching.RecentIdentifiers(size=2)
    card = RawIdentifier("PaymentInstrument", "4111 1111 1111 1111", "US", "card", "key")
    first = recent.normalise([_email("Ann@Example.org"), card])
    again = recent.normalise([_email("Ann@Example.org"), card])
    assert again == first
    assert normalised == ["Ann@Example.org", "4111 1111 1111 1111", "4111 1111 1111 1111"]


def test_the_least_recently_used_value_is_dropped_first() -> None:
    recent = api.batching.RecentIdentifiers(size=2)
    recent.normalise([_email("a@example.org"), _email("b@example.org")])
    recent.normalise([_email("a@example.org"), _email("c@example.org")])
    assert _email("a@example.org") in recent
    assert _email("b@example.org") not in recent
    assert _email("c@example.org") in recent
