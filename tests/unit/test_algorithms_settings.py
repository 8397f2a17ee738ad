"""Detection settings: defaults, environment overrides, partial dicts merged over defaults."""

from __future__ import annotations

import pytest

from graphfraud.settings import DEFAULT_LINK_WEIGHTS, DetectionSettings, Settings


def test_a_nested_environment_variable_sets_a_detection_knob(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAPHFRAUD_DETECTION__HUB_CAP", "80")
    assert Settings().detection.hub_cap == 80


def test_a_partial_weight_dict_keeps_the_other_defaults() -> None:
    weights = DetectionSettings(link_weights={"SHIPS_TO": 0.5}).link_weights
    assert weights == {**DEFAULT_LINK_WEIGHTS, "SHIPS_TO": 0.5}


def test_score_weights_from_the_environment_merge_over_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAPHFRAUD_DETECTION__SCORE_WEIGHTS", '{"known_bad": 0}')
    weights = Settings().detection.score_weights
    assert weights["known_bad"] == 0
    assert weights["burstiness"] == DetectionSettings().score_weights["burstiness"]
