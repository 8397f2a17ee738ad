"""Detection settings: defaults, environment overrides, partial dicts merged over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphfraud.errors import ConfigError
from graphfraud.settings import (
    DEFAULT_LINK_WEIGHTS,
    DetectionSettings,
    Settings,
    detection_settings,
)


def test_a_nested_environment_variable_sets_a_detection_knob(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAPHFRAUD_DETECTION__HUB_FENCE", "2.5")
    assert Settings().detection.hub_fence == 2.5


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


def test_assignments_set_knobs_and_single_entries_of_dict_knobs() -> None:
    settings = detection_settings(
        DetectionSettings(), assignments=["min_score=2", "score_weights.burstiness=0"]
    )
    assert settings.min_score == 2.0
    assert settings.score_weights["burstiness"] == 0
    assert settings.score_weights["structure"] == DetectionSettings().score_weights["structure"]


def test_a_settings_file_is_applied_before_assignments(tmp_path: Path) -> None:
    path = tmp_path / "detection.yaml"
    path.write_text("min_score: 3\nmax_ring_size: 50\n", encoding="utf-8")
    settings = detection_settings(DetectionSettings(), file=path, assignments=["min_score=4"])
    assert (settings.min_score, settings.max_ring_size) == (4.0, 50)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("min_score", "is not name=value"),
        ("no_such_knob=1", "no_such_knob"),
        ("max_ring_size=many", "max_ring_size"),
    ],
)
def test_a_bad_assignment_is_a_config_error_naming_it(assignment: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        detection_settings(DetectionSettings(), assignments=[assignment])
