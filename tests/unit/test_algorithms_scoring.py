"""Scoring: named additive contributions measured on ring signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from algorithms.pipeline import find_rings
from algorithms.scoring import CONTRIBUTIONS, densest_window, score_rings
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import GraphBuilder, device_farm, household, marketplace

EVERYTHING = DetectionSettings(min_score=0.0)
DEFAULTS = DetectionSettings()
REFERENCE = 10.0  # the sharing surprise households reach, in these tests


def _signals(**values: float) -> pd.DataFrame:
    base = {
        "size": 4, "strength": 1.0, "density": 1.0, "exclusivity": 1.0, "surprise": 5.0,
        "burst_members": 1, "seeds": 0, "seed_neighbours": 0, "direct_links": 0,
        "direct_members": 0, "cycle_members": 0, "lockstep_members": 1,
    }  # fmt: skip
    return pd.DataFrame([{**base, **values}])


def _score(signals: pd.DataFrame, settings: DetectionSettings = DEFAULTS) -> pd.DataFrame:
    return score_rings(signals, reference=REFERENCE, settings=settings)


def _contribution(name: str, **values: float) -> float:
    return float(_score(_signals(**values))[name].iloc[0])


def test_the_score_is_the_sum_of_the_named_contributions() -> None:
    scores = _score(_signals(burst_members=4, seeds=1, surprise=14.0))
    assert scores["score"].iloc[0] == pytest.approx(scores[list(CONTRIBUTIONS)].sum(axis=1)[0])


def test_each_contribution_is_capped_by_its_weight() -> None:
    settings = DetectionSettings(score_weights={name: 2.0 for name in CONTRIBUTIONS})
    extreme = _signals(strength=1e6, burst_members=4, lockstep_members=4, seeds=50,
                       direct_links=50, direct_members=50, cycle_members=4,
                       surprise=1e6)  # fmt: skip
    scores = _score(extreme, settings)
    assert (scores[list(CONTRIBUTIONS)] <= 2.0 + 1e-9).all(axis=None)


def test_a_zero_weight_switches_a_contribution_off() -> None:
    settings = DetectionSettings(score_weights={"known_bad": 0.0})
    assert _score(_signals(seeds=3), settings)["known_bad"].iloc[0] == 0


def test_sharing_no_more_surprising_than_households_earns_no_structure() -> None:
    assert _contribution("structure", surprise=REFERENCE) == 0


def test_structure_grows_with_surprise_beyond_households_up_to_its_weight() -> None:
    half, full, beyond = (
        _contribution("structure", surprise=s) for s in (1.5 * REFERENCE, 2 * REFERENCE, 1e3)
    )
    assert 0 < half < full == beyond == DEFAULTS.score_weights["structure"]


def test_structure_alone_reports_a_ring_without_burst_labels_or_money() -> None:
    scores = _score(_signals(surprise=3 * REFERENCE))
    assert scores["score"].iloc[0] >= DEFAULTS.min_score


def test_no_behavioural_signal_alone_reports_a_household() -> None:
    for values in ({"burst_members": 4}, {"seeds": 1}, {"lockstep_members": 4}):
        assert _score(_signals(**values))["score"].iloc[0] < DEFAULTS.min_score, values


def test_members_created_together_raise_burstiness() -> None:
    assert _contribution("burstiness", burst_members=4) > _contribution("burstiness")


def test_two_members_created_together_by_chance_earn_little_burstiness() -> None:
    pair = _contribution("burstiness", burst_members=2, size=3)
    whole = _contribution("burstiness", burst_members=3, size=3)
    assert pair < whole / 2


def test_known_bad_seeds_raise_the_score_and_more_seeds_raise_it_more() -> None:
    none, one, three = (_contribution("known_bad", seeds=n) for n in (0, 1, 3))
    assert none == 0 < one < three


def test_ties_to_known_bad_accounts_outside_count_less_than_seeds_inside() -> None:
    assert 0 < _contribution("known_bad", seed_neighbours=1) < _contribution("known_bad", seeds=1)


def test_money_sent_round_a_cycle_counts_as_money_flow() -> None:
    assert _contribution("money_flow", cycle_members=4) > 0


def test_referrals_and_payments_within_a_family_are_no_money_flow() -> None:
    assert _contribution("money_flow", direct_links=5, direct_members=4) == 0


def test_referrals_joining_more_members_than_a_household_are_money_flow() -> None:
    assert _contribution("money_flow", size=12, direct_links=11, direct_members=12) > 0


def test_densest_window_counts_events_within_the_window_per_group() -> None:
    times = np.array(["2024-01-01", "2024-01-02", "2024-03-01", "2024-01-01"], "datetime64[s]")
    best = densest_window(np.array([0, 0, 0, 1]), times, window=np.timedelta64(7, "D"), n_groups=3)
    assert best.tolist() == [2, 1, 0]


def test_densest_window_ignores_missing_times() -> None:
    times = np.array(["NaT", "2024-01-01"], "datetime64[s]")
    best = densest_window(np.array([0, 0]), times, window=np.timedelta64(1, "D"), n_groups=1)
    assert best.tolist() == [1]


def test_a_device_farm_outscores_a_household_sharing_as_much() -> None:
    g = GraphBuilder()
    farm = device_farm(g, "F", 4)
    home = household(g, "H", 4)
    rings = {frozenset(r.accounts): r.score for r in find_rings(
        g.links(), g.accounts(), settings=EVERYTHING, seed=0, engine="igraph").rings}  # fmt: skip
    assert rings[frozenset(farm)] > rings[frozenset(home)]


def test_a_labelled_member_raises_its_rings_score() -> None:
    clean, labelled = GraphBuilder(), GraphBuilder()
    device_farm(clean, "F", 5)
    device_farm(labelled, "F", 5, bad=1)
    score = [
        find_rings(g.links(), g.accounts(), settings=EVERYTHING, seed=0, engine="igraph")
        .rings[0]
        .score
        for g in (clean, labelled)
    ]
    assert score[1] > score[0]


def test_every_contribution_is_in_the_evidence_and_they_add_up() -> None:
    g, _ = marketplace()
    for ring in find_rings(
        g.links(), g.accounts(), settings=DEFAULTS, seed=0, engine="igraph"
    ).rings:
        contributions = ring.evidence.score.contributions
        assert set(contributions) == set(CONTRIBUTIONS)
        assert sum(contributions.values()) == pytest.approx(ring.score, abs=1e-3)
