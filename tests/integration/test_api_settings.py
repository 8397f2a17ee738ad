"""Detection settings over HTTP: read them with their rationale, change them for one job."""

from __future__ import annotations

from typing import Any

import pytest

from graphfraud.settings import DetectionSettings
from tests.api_server import INVESTIGATOR_KEY, ServedApi
from tests.integration.test_api_service import wait_for


def test_settings_are_listed_with_default_value_and_rationale(api: ServedApi) -> None:
    with api.client() as client:
        settings = client.get("/api/settings/detection").json()
    by_name = {setting["name"]: setting for setting in settings}
    assert set(by_name) == set(DetectionSettings.model_fields)
    hub_fence = by_name["hub_fence"]
    assert hub_fence["type"]["type"] == "number"
    assert hub_fence["default"] == hub_fence["value"] == DetectionSettings().hub_fence
    assert "Tukey" in hub_fence["rationale"]
    assert all(setting["rationale"] for setting in settings), "every setting says why"
    assert by_name["score_weights"]["default"]["structure"] == 1.5


def test_a_job_runs_with_the_settings_it_was_given_and_the_run_records_them(
    api: ServedApi,
) -> None:
    changes = {"min_ring_size": 4, "score_weights.burstiness": 0}
    with api.client(INVESTIGATOR_KEY) as client:
        started = client.post("/api/jobs", json={"seed": 3, "settings": changes})
        assert started.status_code == 202, started.text
        assert started.json()["settings"] == changes
        job = wait_for(api, started.json()["job_id"])
        assert job["state"] == "succeeded", job
        runs = client.get("/api/runs").json()
        rings = client.get("/api/rings", params={"limit": 500}).json()["rings"]
    (run,) = [run for run in runs if run["run_id"] == job["job_id"]]
    assert run["settings"]["min_ring_size"] == 4
    assert run["settings"]["score_weights"] == {
        **DetectionSettings().score_weights,
        "burstiness": 0.0,
    }
    assert min(ring["size"] for ring in rings) >= 4, "the changed setting took effect"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"min_scor": 1}, "min_scor"),
        ({"min_score": "high"}, "min_score"),
        ({"risk_restart": 1.5}, "risk_restart"),
        ({"score_weights.burstiness": "none"}, "score_weights.burstiness"),
    ],
)
def test_a_bad_setting_is_422_naming_it_and_starts_nothing(
    api: ServedApi, settings: dict[str, Any], named: str
) -> None:
    with api.client(INVESTIGATOR_KEY) as client:
        before = len(client.get("/api/jobs").json())
        response = client.post("/api/jobs", json={"settings": settings})
        after = len(client.get("/api/jobs").json())
    assert response.status_code == 422
    assert named in response.json()["detail"]
    assert after == before
