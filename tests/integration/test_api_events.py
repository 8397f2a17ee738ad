"""New rows over HTTP while serving (``POST /api/events``) and the alert feed they feed
(``GET /api/alerts``), on both engines: normalised and checked as a load is, rings updated
incrementally with their ids, verdicts and history kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.api_server import INGEST_KEY, INVESTIGATOR_KEY, READ_KEY, ServedApi

NEW_ACCOUNT = "A9990001"


@pytest.fixture
def ingest(api: ServedApi) -> Iterator[httpx.Client]:
    with api.client(INGEST_KEY) as client:
        yield client


def get(api: ServedApi, path: str, **params: Any) -> Any:
    with api.client(READ_KEY) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def a_device_farm(api: ServedApi) -> dict[str, Any]:
    """The best device-farm ring, in detail."""
    listed = get(api, "/api/rings", typology="device_farm", limit=1)["rings"]
    return dict(get(api, f"/api/rings/{listed[0]['ring_id']}"))


def sign_up_and_log_in(account: str, devices: list[str]) -> dict[str, Any]:
    """A sign-up, then a login from each of ``devices``."""
    signup = {"account_id": account, "created_at": "2026-01-16T14:02:11Z",
              "account_type": "buyer", "email": f"{account.lower()}@example.org",
              "phone": "", "country": "US", "signup_ip": "", "known_bad": ""}  # fmt: skip
    logins = [
        {"account_id": account, "ts": f"2026-01-16T14:0{i}:00Z", "device_fingerprint": device,
         "ip": ""}
        for i, device in enumerate(devices)
    ]  # fmt: skip
    return {"tables": {"accounts": [signup], "logins": logins}}


def test_a_read_key_may_not_send_rows(api: ServedApi) -> None:
    with api.client(READ_KEY) as client:
        answer = client.post("/api/events", json=sign_up_and_log_in("A9990009", []))
    assert answer.status_code == 403
    assert "ingest or investigator key" in answer.json()["detail"]


def test_an_ingest_key_may_not_read(api: ServedApi) -> None:
    with api.client(INGEST_KEY) as client:
        answer = client.get("/api/rings")
    assert answer.status_code == 403


def test_rows_joining_a_ring_grow_it_under_its_id_with_its_verdict(
    api: ServedApi, ingest: httpx.Client
) -> None:
    farm = a_device_farm(api)
    with api.client(INVESTIGATOR_KEY) as investigator:
        marked = investigator.put(
            f"/api/rings/{farm['ring_id']}/status", json={"status": "under_review"}
        )
        assert marked.status_code == 200, marked.text
    devices = [s["key"] for s in farm["evidence"]["shared_identifiers"] if s["kind"] == "Device"]

    answer = ingest.post("/api/events", json=sign_up_and_log_in(NEW_ACCOUNT, devices))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"], body["rejects"]) == (1 + len(devices), 0, [])
    assert farm["ring_id"] in body["detection"]["rings"]
    grown = get(api, f"/api/rings/{farm['ring_id']}")
    assert NEW_ACCOUNT in [member["account"] for member in grown["members"]]
    assert grown["size"] == farm["size"] + 1
    assert grown["status"] == "under_review"
    history = get(api, f"/api/rings/{farm['ring_id']}/history")["appearances"]
    assert (history[-1]["change"], history[-1]["joined"]) == ("grown", [NEW_ACCOUNT])


def test_the_grown_ring_is_the_newest_alert(api: ServedApi) -> None:
    farm = next(
        ring for ring in get(api, "/api/rings", account=NEW_ACCOUNT)["rings"]
    )  # the ring the test above grew
    alerts = get(api, "/api/alerts", limit=1)
    newest = alerts["alerts"][0]
    assert (newest["ring_id"], newest["change"], newest["joined"]) == (
        farm["ring_id"], "grown", [NEW_ACCOUNT]
    )  # fmt: skip
    assert (alerts["offset"], alerts["limit"]) == (0, 1)
    assert alerts["total"] > 1  # the first run's new rings are alerts too
    assert datetime.fromisoformat(newest["time"]).utcoffset() is not None


def test_alerts_since_an_alert_id_or_a_time_are_only_later_ones(api: ServedApi) -> None:
    newest = get(api, "/api/alerts", limit=1)["alerts"][0]
    assert get(api, "/api/alerts", since=newest["alert_id"])["alerts"] == []
    assert get(api, "/api/alerts", since=newest["time"])["total"] == 0
    everything = get(api, "/api/alerts", limit=1000)
    earlier = everything["alerts"][-1]
    later = get(api, "/api/alerts", since=earlier["time"], limit=1000)
    assert later["total"] == len(
        [alert for alert in everything["alerts"] if alert["time"] > earlier["time"]]
    )
    assert later["total"] >= 1


def test_alerts_since_something_not_a_time_is_refused(api: ServedApi) -> None:
    with api.client(READ_KEY) as client:
        answer = client.get("/api/alerts", params={"since": "yesterday-ish"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "since"


def test_alerts_since_an_unknown_alert_id_is_a_404(api: ServedApi) -> None:
    with api.client(READ_KEY) as client:
        answer = client.get("/api/alerts", params={"since": "nosuchrun:R-1"})
    assert answer.status_code == 404
    assert "nosuchrun:R-1" in answer.json()["detail"]


def test_a_bad_field_is_rejected_and_the_rest_loaded(ingest: httpx.Client) -> None:
    rows = sign_up_and_log_in("A9990002", ["d00d00d00d00d001"])
    rows["tables"]["accounts"][0]["email"] = "not-an-email"

    answer = ingest.post("/api/events", json=rows)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"], body["with_rejected_fields"]) == (2, 0, 1)
    (reject,) = body["rejects"]
    assert (reject["table"], reject["row"], reject["column"], reject["dropped"]) == (
        "accounts", 1, "email", "field"
    )  # fmt: skip


def test_rows_that_are_all_bad_are_a_422_naming_row_and_field(ingest: httpx.Client) -> None:
    rows = {"tables": {"logins": [{"account_id": "", "ts": "2026-01-16T14:00:00Z",
                                   "device_fingerprint": "abc", "ip": ""}]}}  # fmt: skip

    answer = ingest.post("/api/events", json=rows)

    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "nothing was written" in body["detail"]
    assert [(e["field"], e["location"]) for e in body["errors"]] == [
        ("tables.logins.1.account_id", "body")
    ]
    assert "missing account id" in body["errors"][0]["message"]


def test_a_table_the_mapping_lacks_is_refused_naming_its_tables(ingest: httpx.Client) -> None:
    answer = ingest.post("/api/events", json={"tables": {"widgets": [{"id": "1"}]}})
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "tables.widgets"
    assert "logins" in error["message"]


def test_a_column_the_mapping_does_not_read_is_refused(ingest: httpx.Client) -> None:
    rows = {"tables": {"logins": [{"account_id": "A0000001", "device": "abc"}]}}
    answer = ingest.post("/api/events", json=rows)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "tables.logins.1.device"
    assert "device_fingerprint" in error["message"]


def test_no_rows_is_refused(ingest: httpx.Client) -> None:
    answer = ingest.post("/api/events", json={"tables": {}})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "tables"


def test_the_openapi_document_shows_a_real_example(api: ServedApi) -> None:
    with api.client(None) as client:
        document = client.get("/openapi.json").json()
    body = document["paths"]["/api/events"]["post"]["requestBody"]["content"]
    example = body["application/json"]["example"]
    assert set(example["tables"]) == {"accounts", "logins", "orders", "transfers"}
