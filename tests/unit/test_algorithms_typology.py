"""Typology: the best-fitting pattern, with reasons built from the evidence."""

from __future__ import annotations

from typing import Any

import pytest

from algorithms.pipeline import find_rings
from algorithms.typology import MIXED, TYPOLOGIES, classify_ring
from tests.unit.planted_graphs import marketplace


def _evidence(**changes: Any) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "size": 10,
        "shared_identifiers": [],
        "covered_by_kind": {},
        "links": {"direct": [], "members_on_cycle": 0, "cycle": []},
        "creators": [],
    }
    evidence.update(changes)
    return evidence


def _shared(kind: str, members: int) -> dict[str, Any]:
    return {"kind": kind, "key": f"{kind}-1", "display": None, "members": members, "accounts": 11}


@pytest.mark.parametrize(
    ("kind", "typology"),
    [("Device", "device_farm"), ("PaymentInstrument", "payment_sharing"),
     ("Address", "drop_address")],
)  # fmt: skip
def test_the_kind_shared_by_most_members_names_a_sharing_ring(kind: str, typology: str) -> None:
    evidence = _evidence(shared_identifiers=[_shared(kind, 9)], covered_by_kind={kind: 9})
    assert classify_ring(evidence)[0] == typology


def test_a_money_cycle_through_most_members_beats_shared_devices() -> None:
    links = {"direct": [], "members_on_cycle": 8, "cycle": ["a", "b", "c"]}
    evidence = _evidence(links=links, covered_by_kind={"Device": 10})
    name, reasons = classify_ring(evidence)
    assert name == "money_cycle"
    assert "a → b → c → a" in reasons[0]


def test_referrals_joining_most_members_are_promo_abuse() -> None:
    referrals = {"kind": "REFERRED", "links": 9, "members": 10, "count": 9, "amount": 0.0}
    links = {"direct": [referrals], "members_on_cycle": 0, "cycle": []}
    assert classify_ring(_evidence(links=links))[0] == "promo_abuse"


def test_buyers_of_a_members_storefront_are_creator_collusion() -> None:
    shop = {"key": "C-17", "display": None, "members": 9, "only_creator_members": 7,
            "owned_by": "A-1"}  # fmt: skip
    name, reasons = classify_ring(_evidence(creators=[shop], covered_by_kind={"Device": 10}))
    assert name == "creator_collusion"
    assert reasons == [
        "9 of the other 9 members order through creator C-17, owned by member A-1",
        "7 of them order through no other creator",
    ]


def test_a_storefront_nobody_in_the_ring_owns_is_not_collusion() -> None:
    shop = {"key": "C-17", "display": None, "members": 9, "only_creator_members": 0,
            "owned_by": None}  # fmt: skip
    assert classify_ring(_evidence(creators=[shop]))[0] != "creator_collusion"


def test_a_ring_no_pattern_covers_is_mixed() -> None:
    evidence = _evidence(shared_identifiers=[_shared("Device", 2)], covered_by_kind={"Device": 2})
    assert classify_ring(evidence) == (MIXED, ["no pattern covers 30% of the members"])


def test_reasons_state_the_numbers_of_the_evidence() -> None:
    evidence = _evidence(shared_identifiers=[_shared("Device", 9)], covered_by_kind={"Device": 9})
    assert classify_ring(evidence)[1] == [
        "9 of 10 members use shared devices (largest: Device-1, 9 members, 11 accounts overall)"
    ]


def test_planted_rings_get_the_typology_they_were_planted_as() -> None:
    g, planted = marketplace()
    found = {frozenset(r.accounts): r.typology for r in find_rings(g.links(), g.accounts()).rings}
    for typology in set(planted) & set(TYPOLOGIES):
        assert found[frozenset(planted[typology])] == typology
