"""The detection pipeline on frames: planted rings found, look-alikes not, evidence complete."""

from __future__ import annotations

import igraph
import pandas as pd
import pytest

from algorithms.pipeline import STAGES, DetectionResult, find_rings
from graphfraud.model import RingEvidence
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import EPOCH, HOUR, marketplace

SETTINGS = DetectionSettings()

RINGS = ("device_farm", "money_cycle", "promo_abuse", "creator_collusion")


@pytest.fixture(scope="module")
def planted() -> dict[str, list[str]]:
    return marketplace()[1]


@pytest.fixture(scope="module")
def detected() -> DetectionResult:
    g, _ = marketplace()
    return find_rings(g.links(), g.accounts(), settings=SETTINGS, seed=1, engine="igraph")


def _memberships(result: DetectionResult) -> set[frozenset[str]]:
    return {frozenset(ring.accounts) for ring in result.rings}


def test_every_planted_ring_is_found_exactly(detected: DetectionResult, planted: dict) -> None:
    for typology in RINGS:
        assert frozenset(planted[typology]) in _memberships(detected), typology


def test_a_household_and_cafe_customers_are_not_rings(
    detected: DetectionResult, planted: dict
) -> None:
    accounts = set().union(*_memberships(detected))
    assert not accounts & set(planted["household"] + planted["cafe"] + planted["loners"])


def test_the_cafe_ip_is_reported_as_a_hub(detected: DetectionResult) -> None:
    hubs = detected.hubs
    assert hubs[["kind", "key"]].values.tolist() == [["IP", "C-ip"]]


def test_rings_come_best_first(detected: DetectionResult) -> None:
    scores = [ring.score for ring in detected.rings]
    assert scores == sorted(scores, reverse=True)


def test_evidence_round_trips_through_json(detected: DetectionResult) -> None:
    for ring in detected.rings:
        assert RingEvidence.from_json(ring.evidence.to_json()) == ring.evidence


def test_evidence_counts_shared_identifiers_in_the_whole_graph(detected: DetectionResult) -> None:
    farm = next(r for r in detected.rings if r.typology == "device_farm")
    devices = [s for s in farm.evidence.shared_identifiers if s.kind == "Device"]
    assert {(s.key, s.members, s.accounts) for s in devices} == {
        ("F-dev0", 8, 8), ("F-dev1", 8, 8)
    }  # fmt: skip


def test_the_referrer_of_a_referral_star_is_its_organiser(detected: DetectionResult) -> None:
    promo = next(r for r in detected.rings if r.typology == "promo_abuse")
    organisers = [m.account for m in promo.members if m.role == "organiser"]
    assert organisers == ["P0"]


def test_members_carry_role_pagerank_and_degree(detected: DetectionResult) -> None:
    for ring in detected.rings:
        assert sum(m.pagerank for m in ring.members) == pytest.approx(1.0, abs=1e-3)
        assert all(m.degree >= 1 for m in ring.members if ring.typology != "creator_collusion")


def test_every_stage_is_timed(detected: DetectionResult) -> None:
    timings = detected.timings
    assert set(timings) == set(STAGES) - {"reading", "writing"}


def test_progress_reports_each_stage_in_order() -> None:
    g, _ = marketplace()
    seen: list[str] = []
    find_rings(g.links(), g.accounts(), progress=lambda stage, done, total: seen.append(stage))
    assert [s for s in STAGES if s in seen] == [s for s in dict.fromkeys(seen) if s in STAGES]
    assert "scoring" in seen


def test_the_same_seed_gives_the_same_rings() -> None:
    g, _ = marketplace()
    first = find_rings(g.links(), g.accounts(), seed=3)
    again = find_rings(g.links(), g.accounts(), seed=3)
    assert [r.ring_id for r in first.rings] == [r.ring_id for r in again.rings]


def test_the_networkx_engine_finds_the_same_rings() -> None:
    g, _ = marketplace()
    fast = find_rings(g.links(), g.accounts())
    reference = find_rings(g.links(), g.accounts(), engine="networkx")
    assert _memberships(fast) == _memberships(reference)
    assert [r.score for r in fast.rings] == pytest.approx([r.score for r in reference.rings])


def test_the_networkx_engine_never_calls_igraph(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reference engine is an independent path only if no stage falls back to igraph.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("igraph called by the networkx engine")

    g, _ = marketplace()
    monkeypatch.setattr(igraph, "Graph", refuse)
    reference = find_rings(g.links(), g.accounts(), engine="networkx")
    assert len(reference.rings) == len(RINGS)


def test_stored_ids_persist_when_membership_mostly_persists() -> None:
    g, planted = marketplace()
    previous = {"R-farm": planted["device_farm"][:7]}
    result = find_rings(g.links(), g.accounts(), previous=previous)
    farm = next(r for r in result.rings if r.typology == "device_farm")
    assert farm.ring_id == "R-farm"


def test_a_ring_sharing_things_pairwise_is_not_cut_into_pairs() -> None:
    # A promotional ring of seven as the generator plants one (standard family, seed 1): each
    # thing is shared by two to five members, so a finer split leaves pairs. Members tied
    # across those pairs make it one ring, not households chained together.
    g, _ = marketplace()
    members = [g.account(f"Q{i}", created=EPOCH + 6 * i * HOUR) for i in range(7)]
    shares = {
        ("Address", "SHIPS_TO", "home"): [0, 2, 5, 6],
        ("Device", "USES_DEVICE", "phone"): [2, 4],
        ("Email", "HAS_EMAIL", "mailbox"): [0, 1, 3, 4, 5],
        ("IP", "LOGS_IN_FROM", "proxy"): [0, 3, 4, 5, 6],
        ("IP", "LOGS_IN_FROM", "second-proxy"): [1, 2],
        ("Phone", "HAS_PHONE", "sim"): [0, 4],
    }
    for (kind, link, key), users in shares.items():
        for i in users:
            g.use(members[i], kind, link, f"Q-{key}", at=EPOCH + 2 * HOUR)
    for member in members[1:]:
        g.link(members[0], "REFERRED", member, at=EPOCH + 3 * HOUR)
    result = find_rings(g.links(), g.accounts(), settings=SETTINGS, seed=1, engine="igraph")
    assert frozenset(members) in _memberships(result)


def test_rings_below_the_minimum_score_are_not_reported() -> None:
    g, _ = marketplace()
    strict = find_rings(
        g.links(), g.accounts(), settings=DetectionSettings(min_score=100), seed=0, engine="igraph"
    )
    assert strict.rings == []


def test_display_text_of_identifiers_reaches_the_evidence() -> None:
    g, _ = marketplace()

    def describe(frame: pd.DataFrame) -> list[str | None]:
        return [f"shown {key}" for key in frame["key"]]

    result = find_rings(
        g.links(), g.accounts(), settings=SETTINGS, seed=0, engine="igraph", describe=describe
    )
    shared = result.rings[0].evidence.shared_identifiers[0]
    assert shared.display == f"shown {shared.key}"


def test_an_empty_graph_gives_no_rings() -> None:
    g, _ = marketplace()
    result = find_rings(g.links().iloc[:0], g.accounts().iloc[:0])
    assert result.rings == []
