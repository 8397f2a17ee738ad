"""Detection settings: defaults, environment overrides, partial dicts merged over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphfraud.errors import ConfigError
from graphfraud.settings import (
    DEFAULT_LINK_WEIGHTS,
    DetectionSettings,
    Settings,
    describe_detection_settings,
    detection_settings,
    setting_rationales,
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


def test_changes_take_the_names_of_assignments_after_them() -> None:
    settings = detection_settings(
        DetectionSettings(),
        assignments=["min_score=2"],
        changes={"min_score": 3, "score_weights.burstiness": 0},
    )
    assert settings.min_score == 3.0
    assert settings.score_weights == {**DetectionSettings().score_weights, "burstiness": 0}


def test_bad_changes_are_a_config_error_naming_each() -> None:
    with pytest.raises(ConfigError) as raised:
        detection_settings(DetectionSettings(), changes={"no_such_knob": 1, "risk_restart": 2})
    assert "no_such_knob" in str(raised.value)
    assert "risk_restart" in str(raised.value)


def test_every_setting_has_its_own_rationale() -> None:
    rationales = setting_rationales()
    assert list(rationales) == list(DetectionSettings.model_fields)
    assert all(rationales.values())
    assert rationales["min_ring_size"].startswith("Smallest ring reported")
    assert len(set(rationales.values())) == len(rationales), "each reads its own comment"


def test_described_settings_show_the_value_in_force_beside_the_default() -> None:
    described = {
        row["name"]: row
        for row in describe_detection_settings(DetectionSettings(link_weights={"OWNS": 0.5}))
    }
    owns = described["link_weights"]
    assert (owns["default"]["OWNS"], owns["value"]["OWNS"]) == (0.25, 0.5)
    assert owns["type"] == {"additionalProperties": {"type": "number"}, "type": "object"}
    assert described["risk_restart"]["type"]["exclusiveMaximum"] == 1.0
