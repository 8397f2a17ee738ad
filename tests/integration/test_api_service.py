"""The service around the data: API keys and roles, errors, OpenAPI, health, detection jobs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api_server import INVESTIGATOR_KEY, READ_KEY, ServedApi


def first_ring(api: ServedApi) -> str:
    with api.client() as client:
        ring_id: str = client.get("/api/rings", params={"limit": 1}).json()["rings"][0]["ring_id"]
    return ring_id


@pytest.mark.parametrize("path", ["/api/rings", "/api/jobs", "/"])
def test_no_key_is_401_saying_where_the_key_goes(api: ServedApi, path: str) -> None:
    with api.client(None) as client:
        response = client.get(path)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_wrong_key_is_401(api: ServedApi) -> None:
    with api.client("not-a-key") as client:
        response = client.get("/api/rings")
    assert response.status_code == 401
    assert response.json() == {"detail": "API key not recognised"}


def test_key_in_the_query_opens_pages_only(api: ServedApi) -> None:
    with api.client(None) as client:
        page = client.get("/", params={"key": READ_KEY})
        data = client.get("/api/rings", params={"key": READ_KEY})
    assert page.status_code == 200
    assert data.status_code == 401


def test_read_key_cannot_change_a_ring(api: ServedApi) -> None:
    with api.client(READ_KEY) as client:
        response = client.put(f"/api/rings/{first_ring(api)}/status", json={"status": "confirmed"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_read_key_cannot_start_detection(api: ServedApi) -> None:
    with api.client(READ_KEY) as client:
        response = client.post("/api/jobs")
    assert response.status_code == 403


def test_bad_query_value_is_422_naming_field_and_reason(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/rings", params={"min_score": "high", "limit": 0})
    assert response.status_code == 422
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"min_score", "limit"}
    assert "min_score" in body["detail"]
    assert "limit" in body["detail"]


def test_unknown_query_parameter_is_422_naming_it(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/rings", params={"min_scor": 3})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "min_scor"


def test_a_parameter_given_twice_is_422_naming_it(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/rings", params=[("account", "a"), ("account", "b")])
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "account"
    assert "given 2 times" in error["message"]


def test_unknown_sort_is_422(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/rings", params={"sort": "members; drop table rings"})
    assert response.status_code == 422


def test_openapi_declares_every_error_status(api: ServedApi) -> None:
    with api.client(None) as client:
        schema = client.get("/openapi.json").json()
    operations = {
        (method.upper(), path): op
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    }
    expected = {
        ("GET", "/api/rings/{ring_id}"): {"200", "401", "404", "422", "503"},
        ("PUT", "/api/rings/{ring_id}/status"): {"200", "400", "401", "403", "404", "422", "503"},
        ("POST", "/api/jobs"): {"202", "400", "401", "403", "409", "422"},
        ("GET", "/api/settings/detection"): {"200", "401"},
        ("GET", "/api/accounts/{account}/linkage"): {"200", "400", "401", "404", "422", "503"},
    }
    for operation, statuses in expected.items():
        assert set(operations[operation]["responses"]) == statuses, operation


def test_health_needs_no_key_and_counts_rings(api: ServedApi) -> None:
    with api.client(None) as client:
        health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["engine"] == api.engine
    assert health["rings"] >= 10


def wait_for(api: ServedApi, job_id: str, *, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    with api.client() as client:
        while True:
            job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
            if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.2)


def test_detection_job_runs_and_keeps_labels(api: ServedApi) -> None:
    ring_id = first_ring(api)
    with api.client(INVESTIGATOR_KEY) as client:
        client.put(f"/api/rings/{ring_id}/status", json={"status": "confirmed", "note": "seen"})
        started = client.post("/api/jobs", json={"seed": 11})
    assert started.status_code == 202
    job = wait_for(api, started.json()["job_id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["rings"] >= 10
    with api.client() as client:
        ring = client.get(f"/api/rings/{ring_id}").json()
    assert (ring["status"], ring["note"]) == ("confirmed", "seen")


def test_second_detection_while_one_runs_is_409(api: ServedApi) -> None:
    with api.client(INVESTIGATOR_KEY) as client:
        first = client.post("/api/jobs")
        second = client.post("/api/jobs")
    assert first.status_code == 202
    assert second.status_code == 409
    assert first.json()["job_id"] in second.json()["detail"]
    wait_for(api, first.json()["job_id"])


def test_jobs_are_listed_newest_first(api: ServedApi) -> None:
    with api.client(INVESTIGATOR_KEY) as client:
        for _ in range(2):
            wait_for(api, client.post("/api/jobs").json()["job_id"])
        jobs = client.get("/api/jobs").json()
    submitted = [job["submitted_at"] for job in jobs]
    assert len(jobs) >= 2
    assert submitted == sorted(submitted, reverse=True)


def test_unknown_job_is_404(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/jobs/nope")
    assert response.status_code == 404
