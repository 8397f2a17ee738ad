"""Verdicts over HTTP: status, assignee, an append-only note thread, the audit trail naming who
did what, ring history and detection runs — and no acknowledged verdict lost to a detection
job running at the same time, on either engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_server import (
    INVESTIGATOR,
    INVESTIGATOR_KEY,
    READ_KEY,
    SEED,
    ServedApi,
    api_settings,
    duckdb_marketplace,
    serving,
)
from tests.integration.test_api_service import wait_for


def get(api: ServedApi, path: str, **params: Any) -> Any:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def some_rings(api: ServedApi, count: int, *, offset: int) -> list[str]:
    """Ring ids no other test here changes (each takes its own slice of the listing)."""
    listed = get(api, "/api/rings", limit=count, offset=offset, sort="ring_id")["rings"]
    assert len(listed) == count
    return [ring["ring_id"] for ring in listed]


@pytest.fixture
def investigator(api: ServedApi) -> Iterator[httpx.Client]:
    with api.client(INVESTIGATOR_KEY) as client:
        yield client


def test_a_status_note_is_added_to_the_thread_under_the_keys_name(
    api: ServedApi, investigator: httpx.Client
) -> None:
    (ring_id,) = some_rings(api, 1, offset=0)
    for status, note in (("under_review", "same farm as case 12"), ("benign", "a household")):
        body = {"status": status, "note": note}
        answer = investigator.put(f"/api/rings/{ring_id}/status", json=body)
        assert answer.status_code == 200, answer.text
    assert answer.json()["note"] == "a household"
    thread = get(api, f"/api/rings/{ring_id}/notes")
    assert [(n["actor"], n["text"]) for n in thread] == [
        (INVESTIGATOR, "same farm as case 12"),
        (INVESTIGATOR, "a household"),
    ]
    trail = get(api, f"/api/rings/{ring_id}/audit")
    assert [(e["actor"], e["field"], e["old"], e["new"]) for e in trail] == [
        (INVESTIGATOR, "status", "new", "under_review"),
        (INVESTIGATOR, "note", None, "same farm as case 12"),
        (INVESTIGATOR, "status", "under_review", "benign"),
        (INVESTIGATOR, "note", None, "a household"),
    ]
    assert all(datetime.fromisoformat(e["time"]).utcoffset() is not None for e in trail)
    assert get(api, f"/api/rings/{ring_id}")["note"] == "a household"


def test_a_ring_is_given_to_an_investigator_and_listed_by_assignee(
    api: ServedApi, investigator: httpx.Client
) -> None:
    (ring_id,) = some_rings(api, 1, offset=1)
    answer = investigator.put(f"/api/rings/{ring_id}/assignee", json={"assignee": "Ana Lima"})
    assert (answer.status_code, answer.json()["assignee"]) == (200, "Ana Lima")
    listed = get(api, "/api/rings", assignee="Ana Lima")["rings"]
    assert [r["ring_id"] for r in listed] == [ring_id]
    cleared = investigator.put(f"/api/rings/{ring_id}/assignee", json={"assignee": None})
    assert cleared.json()["assignee"] is None
    trail = get(api, f"/api/rings/{ring_id}/audit")
    assert [(e["old"], e["new"]) for e in trail] == [(None, "Ana Lima"), ("Ana Lima", None)]


def test_a_note_is_posted_to_the_thread(api: ServedApi, investigator: httpx.Client) -> None:
    (ring_id,) = some_rings(api, 1, offset=2)
    answer = investigator.post(f"/api/rings/{ring_id}/notes", json={"text": "called the seller"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["actor"], answer.json()["text"]) == (INVESTIGATOR, "called the seller")
    assert [n["text"] for n in get(api, f"/api/rings/{ring_id}/notes")] == ["called the seller"]


@pytest.mark.parametrize(
    ("key", "path", "body", "status"),
    [
        (READ_KEY, "/api/rings/{ring}/notes", {"text": "hello"}, 403),
        (READ_KEY, "/api/rings/{ring}/assignee", {"assignee": "me"}, 403),
        (INVESTIGATOR_KEY, "/api/rings/{ring}/notes", {"text": ""}, 422),
        (INVESTIGATOR_KEY, "/api/rings/{ring}/notes", {"text": "   "}, 400),
        (INVESTIGATOR_KEY, "/api/rings/R-nope/notes", {"text": "hello"}, 404),
        (INVESTIGATOR_KEY, "/api/rings/R-nope/assignee", {"assignee": "me"}, 404),
        (INVESTIGATOR_KEY, "/api/rings/{ring}/assignee", {"assignee": "x" * 201}, 422),
    ],
    ids=["read-key-note", "read-key-assignee", "empty-note", "blank-note", "unknown-ring-note",
         "unknown-ring-assignee", "long-assignee"],
)  # fmt: skip
def test_verdict_changes_refused_say_why(
    api: ServedApi, key: str, path: str, body: dict[str, Any], status: int
) -> None:
    (ring_id,) = some_rings(api, 1, offset=3)
    with api.client(key) as client:
        method = client.post if path.endswith("notes") else client.put
        answer = method(path.format(ring=ring_id), json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert get(api, f"/api/rings/{ring_id}/audit") == []


def test_the_audit_trail_across_rings_between_times(
    api: ServedApi, investigator: httpx.Client
) -> None:
    first, second = some_rings(api, 2, offset=4)
    investigator.put(f"/api/rings/{first}/status", json={"status": "confirmed"})
    middle = datetime.now(UTC).isoformat()
    investigator.put(f"/api/rings/{second}/status", json={"status": "benign"})
    later = get(api, "/api/audit", since=middle)
    assert [(e["ring_id"], e["new"]) for e in later] == [(second, "benign")]
    assert (first, "confirmed") in [(e["ring_id"], e["new"]) for e in get(api, "/api/audit")]
    assert [e["ring_id"] for e in get(api, "/api/audit", ring_id=first)] == [first]
    with api.client() as client:
        refused = client.get("/api/audit", params={"until": "0.5"})
    assert refused.status_code == 422


def test_runs_and_ring_history(api: ServedApi, investigator: httpx.Client) -> None:
    started = investigator.post("/api/jobs", json={"seed": SEED})
    job = wait_for(api, started.json()["job_id"])
    assert job["state"] == "succeeded", job
    runs = get(api, "/api/runs")
    assert runs[0]["run_id"] == job["job_id"] == job["result"]["run_id"]
    assert runs[0]["rings"] == job["result"]["rings"]
    assert len(runs) >= 2  # the fixture's own detection, then this job
    ring = get(api, "/api/rings", limit=1)["rings"][0]
    history = get(api, f"/api/rings/{ring['ring_id']}/history")
    assert history["last_seen"] == ring["last_seen"] == runs[0]["finished_at"]
    assert history["appearances"][-1]["run_id"] == job["job_id"]
    assert history["appearances"][0]["change"] == "new"
    assert sum(len(a["joined"]) - len(a["left"]) for a in history["appearances"]) == ring["size"]


# -- a verdict is never lost ---------------------------------------------------------------

ROUNDS = 3
INVESTIGATORS = 3
STATUSES = ("under_review", "confirmed", "benign")


def test_verdicts_acknowledged_during_detection_jobs_are_never_lost(api: ServedApi) -> None:
    rings = some_rings(api, INVESTIGATORS * 2, offset=5)
    acknowledged: dict[str, tuple[str, str]] = {}
    refused: list[str] = []
    during = 0
    for round_ in range(ROUNDS):
        with api.client(INVESTIGATOR_KEY) as client:
            # The fixture's seed: the same data gives the same rings, so none is retired.
            job_id = client.post("/api/jobs", json={"seed": SEED}).json()["job_id"]
        done = threading.Event()

        def investigate(who: int, round_: int = round_, done: threading.Event = done) -> None:
            nonlocal during
            mine = rings[who::INVESTIGATORS]  # each ring changed by one investigator only
            step = 0
            with api.client(INVESTIGATOR_KEY) as client:
                while not done.is_set():
                    ring_id = mine[step % len(mine)]
                    verdict = (STATUSES[(step + who) % 3], f"round {round_}, change {step}")
                    answer = client.put(
                        f"/api/rings/{ring_id}/status",
                        json={"status": verdict[0], "note": verdict[1]},
                    )
                    if answer.status_code != 200:
                        refused.append(answer.text)
                        return
                    acknowledged[ring_id] = verdict
                    during += not done.is_set()
                    step += 1

        workers = [
            threading.Thread(target=investigate, args=(who,)) for who in range(INVESTIGATORS)
        ]
        for worker in workers:
            worker.start()
        job = wait_for(api, job_id)
        done.set()
        for worker in workers:
            worker.join()
        assert job["state"] == "succeeded", job
        assert not refused
        for ring_id, (status, note) in acknowledged.items():
            served = get(api, f"/api/rings/{ring_id}")
            assert (served["status"], served["note"]) == (status, note), ring_id
            listed = get(api, "/api/rings", account=served["members"][0]["account"])["rings"]
            assert (ring_id, status) in [(r["ring_id"], r["status"]) for r in listed]
        with api.open_store() as store:
            for ring_id, (status, note) in acknowledged.items():
                stored = store.ring(ring_id)
                assert (stored.status.value, stored.note) == (status, note), ring_id
    # Each investigator changes a ring at once, long before a job ends: all raced every job.
    assert during >= ROUNDS * INVESTIGATORS, "changes must have raced the jobs to mean anything"


def test_runs_survive_a_restart_of_the_server(
    marketplace: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store_url = duckdb_marketplace(marketplace, tmp_path_factory.mktemp("restart"))
    with serving(api_settings(), store_url, engine="duckdb") as first:
        with first.client(INVESTIGATOR_KEY) as client:
            job_id = client.post("/api/jobs").json()["job_id"]
        assert wait_for(first, job_id)["state"] == "succeeded"
        before = get(first, "/api/runs")
    with serving(api_settings(), store_url, engine="duckdb") as second:
        after = get(second, "/api/runs")
        assert get(second, "/api/jobs") == []
    assert after == before
    assert after[0]["run_id"] == job_id
