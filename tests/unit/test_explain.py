"""Explanations: structured parts from the evidence, and a summary stating only those parts."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from algorithms.pipeline import find_rings
from graphfraud.explain import CONTRIBUTION_MEANINGS, explain
from graphfraud.model import Ring, RingEvidence, RingMember
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import marketplace


def _ring(**evidence: Any) -> Ring:
    """A ring of nine whose evidence holds the given parts (in their JSON form)."""
    members = [RingMember(f"A-{i}") for i in range(9)]
    typed = RingEvidence.model_validate({"size": 9, **evidence})
    return Ring("R-1", 2.0, "creator_collusion", members, evidence=typed)


@pytest.fixture(scope="module")
def rings() -> dict[str, Ring]:
    g, _ = marketplace()
    found = find_rings(
        g.links(), g.accounts(), settings=DetectionSettings(), seed=0, engine="igraph"
    )
    return {ring.typology: ring for ring in found.rings}


def test_the_summary_names_size_creation_window_and_shared_things() -> None:
    ring = _ring(
        shared_by_kind={"Device": 2, "PaymentInstrument": 1},
        time_span={"created_within_days": 2.3, "burst_days": 30.0, "burst_members": 9},
    )
    assert explain(ring).summary == "9 accounts created within 3 days share 2 devices and 1 card."


def test_the_summary_tells_who_orders_only_through_a_members_storefront() -> None:
    shop = {"key": "C-17", "display": None, "members": 8, "only_creator_members": 4,
            "owned_by": "A-12"}  # fmt: skip
    ring = _ring(shared_by_kind={"Device": 2, "PaymentInstrument": 1}, creators=[shop],
                 time_span={"created_within_days": 3.0})  # fmt: skip
    assert explain(ring).summary == (
        "9 accounts created within 3 days share 2 devices and 1 card; "
        "4 of them ordered only through creator C-17, owned by member A-12."
    )


def test_a_clause_without_data_is_left_out() -> None:
    assert explain(_ring()).summary == "9 accounts."


def test_a_wide_creation_span_is_not_called_a_burst() -> None:
    ring = _ring(time_span={"created_within_days": 400.0, "burst_days": 30.0, "burst_members": 5})
    assert explain(ring).summary == "9 accounts (5 of them created within 30 days)."


def test_known_bad_members_are_counted() -> None:
    assert explain(_ring(known_bad={"seeds": ["A-1", "A-2"]})).summary == (
        "9 accounts; 2 are labelled known-bad."
    )


def test_every_number_in_a_real_summary_is_in_the_evidence(rings: dict[str, Ring]) -> None:
    for ring in rings.values():
        words = explain(ring).summary.replace(";", " ").replace(".", " ").split()
        evidence = ring.evidence.to_json()
        for word in words:
            if word.isdigit():
                assert word in evidence, (ring.typology, word)


def test_contributions_carry_their_meaning_and_add_up_to_the_score(rings: dict[str, Ring]) -> None:
    explanation = explain(rings["device_farm"])
    assert {c["meaning"] for c in explanation.contributions} <= set(CONTRIBUTION_MEANINGS.values())
    assert sum(c["value"] for c in explanation.contributions) == pytest.approx(
        explanation.score, abs=1e-3
    )


def test_shared_identifiers_carry_global_usage_counts(rings: dict[str, Ring]) -> None:
    shared = explain(rings["device_farm"]).shared_identifiers
    assert all({"members", "accounts"} <= set(s) for s in shared)


def test_the_explanation_is_json_serialisable(rings: dict[str, Ring]) -> None:
    for ring in rings.values():
        json.dumps(dataclasses.asdict(explain(ring)))


def test_money_cycles_and_referrals_are_told(rings: dict[str, Ring]) -> None:
    assert "5 of them pass money round in a cycle" in explain(rings["money_cycle"]).summary
    assert "6 of them are joined by 5 referrals" in explain(rings["promo_abuse"]).summary
