"""Evaluation against planted ground truth: ring and member metrics, top-k, baselines."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from algorithms.evaluation import (
    ALL,
    as_nested,
    combine_evaluations,
    components_baseline,
    evaluate_rings,
    explain_misses,
    louvain_baseline,
    size_band,
)
from algorithms.pipeline import find_rings
from algorithms.projection import project_accounts
from graphfraud.model import GroundTruth
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import marketplace

SETTINGS = DetectionSettings()


def _truth() -> GroundTruth:
    rings = pd.DataFrame(
        [("R1", "device_farm", a) for a in "abcd"] + [("R2", "money_cycle", a) for a in "xyz"],
        columns=["ring_id", "typology", "account_id"],
    )
    benign = pd.DataFrame(
        [("household-1", "household", a) for a in ("h1", "h2", "h3")],
        columns=["structure_id", "kind", "account_id"],
    )
    return GroundTruth(rings=rings, benign=benign)


def test_a_ring_overlapping_half_or_more_counts_as_found() -> None:
    metrics = evaluate_rings([["a", "b", "c", "q"]], _truth())
    assert metrics.loc["device_farm", "found"] == 1
    assert metrics.loc["device_farm", "ring_recall"] == 1.0


def test_a_ring_overlapping_less_than_half_is_not_found() -> None:
    metrics = evaluate_rings([["a", "q", "r", "s"]], _truth())
    assert metrics.loc["device_farm", "found"] == 0
    assert metrics.loc[ALL, "ring_precision"] == 0.0


def test_precision_and_recall_over_all_rings() -> None:
    metrics = evaluate_rings([["a", "b", "c", "d"], ["q", "r", "s"]], _truth())
    assert metrics.loc[ALL, ["ring_recall", "ring_precision", "ring_f1"]].tolist() == [
        0.5, 0.5, 0.5
    ]  # fmt: skip


def test_member_metrics_count_accounts() -> None:
    metrics = evaluate_rings([["a", "b", "x", "q"]], _truth())
    assert metrics.loc[ALL, "member_recall"] == pytest.approx(3 / 7)
    assert metrics.loc[ALL, "member_precision"] == pytest.approx(3 / 4)


def test_precision_at_top_looks_at_the_best_rings_only() -> None:
    detected = [["a", "b", "c", "d"], ["q", "r", "s"], ["x", "y", "z"]]
    metrics = evaluate_rings(detected, _truth(), top=2)
    assert metrics.loc[ALL, ["top", "top_correct"]].tolist() == [2, 1]


def test_a_detected_household_in_the_top_counts_as_benign() -> None:
    metrics = evaluate_rings([["h1", "h2", "h3"], ["a", "b", "c", "d"]], _truth())
    assert metrics.loc[ALL, "benign_in_top"] == 1


def test_typology_accuracy_compares_named_and_planted_typologies() -> None:
    detected = [["a", "b", "c", "d"], ["x", "y", "z"]]
    metrics = evaluate_rings(detected, _truth(), typologies=["device_farm", "promo_abuse"])
    assert metrics.loc[ALL, "typology_accuracy"] == 0.5


def test_runs_combine_by_summing_counts() -> None:
    one = evaluate_rings([["a", "b", "c", "d"]], _truth())
    other = evaluate_rings([["q", "r", "s"]], _truth())
    combined = combine_evaluations([one, other])
    assert combined.loc[ALL, ["detected", "correct"]].tolist() == [2, 1]
    assert combined.loc[ALL, "ring_precision"] == 0.5


def test_nested_metrics_are_json_method_typology_metric() -> None:
    nested = as_nested({"graphfraud": evaluate_rings([["a", "b", "c", "d"]], _truth())})
    parsed = json.loads(json.dumps(nested))
    assert parsed["graphfraud"]["device_farm"]["ring_recall"] == 1.0
    assert parsed["graphfraud"]["money_cycle"]["ring_precision"] is None


def test_components_baseline_glues_everyone_behind_a_shared_cafe_ip() -> None:
    g, planted = marketplace()
    groups = components_baseline(g.links())
    assert set(planted["cafe"]) <= set(groups[0])


def test_louvain_baseline_returns_groups_biggest_first() -> None:
    g, _ = marketplace()
    projection = project_accounts(
        g.links(), accounts=None, settings=DetectionSettings(), engine="igraph"
    )
    groups = louvain_baseline(projection, seed=1)
    sizes = [len(group) for group in groups]
    assert sizes == sorted(sizes, reverse=True)
    assert min(sizes) >= 3


@pytest.fixture(scope="module")
def diagnosed() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A household, three café customers and three loners planted as "rings", the money
    cycle left out of the truth: three misses of different causes and one false positive."""
    g, planted = marketplace()
    result = find_rings(g.links(), g.accounts(), settings=SETTINGS, seed=1, keep_candidates=True)
    claimed = {
        "F": planted["device_farm"],
        "H": planted["household"],
        "C": planted["cafe"][:3],
        "L": planted["loners"][:3],
    }
    rings = pd.DataFrame(
        [(ring, "device_farm", a, False) for ring, members in claimed.items() for a in members],
        columns=["ring_id", "typology", "account_id", "camouflaged"],
    )
    benign = pd.DataFrame(columns=["structure_id", "kind", "account_id"])
    return explain_misses(result, GroundTruth(rings, benign), settings=SETTINGS, top=50)


def test_each_miss_is_given_the_stage_that_lost_it(diagnosed: tuple) -> None:
    misses = diagnosed[0].set_index("ring_id")
    assert misses["cause"].to_dict() == {
        "C": "hubs only",
        "H": "scored low",
        "L": "nothing shared",
    }
    assert misses.loc["C", "hub_shares"] == "IP:1"
    assert misses.loc["H", "candidate_size"] == 4


def test_a_found_ring_is_no_miss(diagnosed: tuple) -> None:
    assert "F" not in set(diagnosed[0]["ring_id"])


def test_rings_in_the_top_matching_nothing_planted_are_false_positives(
    diagnosed: tuple,
) -> None:
    positives = diagnosed[1]
    assert len(positives) == 3  # the money cycle, the referral star, the creator collusion
    assert set(positives["structure"]) == {"background"}
    assert (positives["score"] >= SETTINGS.min_score).all()


@pytest.mark.parametrize(("size", "band"), [(3, "3-5"), (6, "6-10"), (30, "11-30"), (31, "31+")])
def test_size_bands(size: int, band: str) -> None:
    assert size_band(size) == band
