"""Typology: the best-fitting pattern, with reasons built from the evidence."""

from __future__ import annotations

from typing import Any

import pytest

from algorithms.pipeline import find_rings
from algorithms.typology import MIXED, TYPOLOGIES, classify_ring
from graphfraud.model import RingEvidence
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import marketplace

SETTINGS = DetectionSettings()


def _classify(evidence: RingEvidence) -> tuple[str, list[str]]:
    return classify_ring(evidence, settings=SETTINGS)


def _evidence(**changes: Any) -> RingEvidence:
    """Evidence of a ring of ten, as its JSON form gives it (validated into the typed model)."""
    evidence: dict[str, Any] = {
        "size": 10,
        "shared_identifiers": [],
        "covered_by_kind": {},
        "links": {"direct": [], "members_on_cycle": 0, "cycle": []},
        "creators": [],
    }
    evidence.update(changes)
    return RingEvidence.model_validate(evidence)


def _shared(kind: str, members: int) -> dict[str, Any]:
    return {"kind": kind, "key": f"{kind}-1", "display": None, "members": members, "accounts": 11}


@pytest.mark.parametrize(
    ("kind", "typology"),
    [("Device", "device_farm"), ("PaymentInstrument", "payment_sharing"),
     ("Address", "drop_address")],
)  # fmt: skip
def test_the_kind_shared_by_most_members_names_a_sharing_ring(kind: str, typology: str) -> None:
    evidence = _evidence(shared_identifiers=[_shared(kind, 9)], covered_by_kind={kind: 9})
    assert _classify(evidence)[0] == typology


def test_a_money_cycle_through_most_members_beats_shared_devices() -> None:
    links = {"direct": [], "members_on_cycle": 8, "cycle": ["a", "b", "c"]}
    evidence = _evidence(links=links, covered_by_kind={"Device": 10})
    name, reasons = _classify(evidence)
    assert name == "money_cycle"
    assert "a → b → c → a" in reasons[0]


def test_referrals_joining_most_members_are_promo_abuse() -> None:
    referrals = {"kind": "REFERRED", "links": 9, "members": 10, "count": 9, "amount": 0.0}
    links = {"direct": [referrals], "members_on_cycle": 0, "cycle": []}
    assert _classify(_evidence(links=links))[0] == "promo_abuse"


def test_buyers_of_a_members_storefront_are_creator_collusion() -> None:
    shop = {"key": "C-17", "display": None, "members": 9, "only_creator_members": 7,
            "owned_by": "A-1"}  # fmt: skip
    name, reasons = _classify(_evidence(creators=[shop], covered_by_kind={"Device": 10}))
    assert name == "creator_collusion"
    assert reasons == [
        "9 of the other 9 members order through creator C-17, owned by member A-1",
        "7 of them order through no other creator",
    ]


def test_a_storefront_nobody_in_the_ring_owns_is_not_collusion() -> None:
    shop = {"key": "C-17", "display": None, "members": 9, "only_creator_members": 0,
            "owned_by": None}  # fmt: skip
    assert _classify(_evidence(creators=[shop]))[0] != "creator_collusion"


def test_a_ring_no_pattern_covers_is_mixed() -> None:
    evidence = _evidence(shared_identifiers=[_shared("Device", 2)], covered_by_kind={"Device": 2})
    assert _classify(evidence) == (MIXED, ["no pattern covers 30% of the members"])


def test_reasons_state_the_numbers_of_the_evidence() -> None:
    evidence = _evidence(shared_identifiers=[_shared("Device", 9)], covered_by_kind={"Device": 9})
    assert _classify(evidence)[1] == [
        "9 of 10 members use shared devices (largest: Device-1, 9 members, 11 accounts overall)"
    ]


def test_planted_rings_get_the_typology_they_were_planted_as() -> None:
    g, planted = marketplace()
    rings = find_rings(g.links(), g.accounts(), settings=SETTINGS, seed=0, engine="igraph").rings
    found = {frozenset(r.accounts): r.typology for r in rings}
    for typology in set(planted) & set(TYPOLOGIES):
        assert found[frozenset(planted[typology])] == typology
