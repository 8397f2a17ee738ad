"""Risk checks over HTTP: raw identifiers and account ids in, risk, ties and reasons out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.api_server import ServedApi


def post(api: ServedApi, path: str, body: dict[str, Any], *, status: int = 200) -> Any:
    with api.client() as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def known_bad(marketplace: Path) -> pd.DataFrame:
    """Known-bad accounts with a card each, as the export has them (raw card numbers)."""
    accounts = pd.read_csv(marketplace / "accounts.csv", dtype=str)
    cards = pd.read_csv(marketplace / "payment_methods.csv", dtype=str)
    bad = accounts[accounts["known_bad"].notna()]
    return bad.merge(cards, on="account_id").drop_duplicates("account_id")


@pytest.fixture(scope="module")
def risk_rows(api: ServedApi) -> pd.DataFrame:
    with api.open_store() as store:
        return store.risk()


def test_a_new_account_using_a_known_bad_accounts_card_is_tied_to_it(
    api: ServedApi, known_bad: pd.DataFrame
) -> None:
    shared_cards = known_bad[known_bad.duplicated("card_number", keep=False)]
    row = (shared_cards if len(shared_cards) else known_bad).iloc[0]
    found = post(
        api, "/api/risk/check", {"card": row["card_number"], "email": "new.person@example.org"}
    )
    assert found["risk"] > 0
    assert not found["known_bad"]
    tied = {a["account"]: a for a in found["known_bad_accounts"]}
    assert row["account_id"] in tied
    assert tied[row["account_id"]]["hops"] == 1
    assert any(ref.startswith("PaymentInstrument:") for ref in tied[row["account_id"]]["shared"])
    kinds = [reason["kind"] for reason in found["reasons"]]
    assert "shares_with_known_bad" in kinds
    card = next(i for i in found["identifiers"] if i["field"] == "card")
    assert card["accounts"] >= 1
    assert row["card_number"] not in str(found), "a card number is never echoed"


def test_an_existing_known_bad_account_has_risk_one(
    api: ServedApi, known_bad: pd.DataFrame
) -> None:
    account = known_bad.iloc[0]["account_id"]
    found = post(api, "/api/risk/check", {"account": account})
    assert found["risk"] == 1.0
    assert found["known_bad"]
    assert found["reasons"][0]["kind"] == "known_bad"


def test_an_existing_account_keeps_its_stored_path_to_the_nearest_known_bad_one(
    api: ServedApi, risk_rows: pd.DataFrame
) -> None:
    near = risk_rows[(risk_rows["hops"] == 2)].iloc[0]
    found = post(api, "/api/risk/check", {"account": near["account"]})
    assert found["risk"] >= near["risk"]
    (path,) = [r for r in found["reasons"] if r["kind"] == "tied_to_known_bad"]
    assert path["account"] == near["nearest"]
    assert path["path"] == [near["account"], near["via"], near["nearest"]]


def test_identifiers_are_normalised_as_the_loader_does(api: ServedApi, marketplace: Path) -> None:
    accounts = pd.read_csv(marketplace / "accounts.csv", dtype=str)
    email = accounts["email"].dropna().iloc[0]
    found = post(api, "/api/risk/check", {"email": f"  {email.upper()} "})
    (checked,) = found["identifiers"]
    assert checked["accounts"] >= 1, "the spelling the export had finds the same entity"


def test_an_invalid_identifier_is_a_422_naming_the_field(api: ServedApi) -> None:
    found = post(api, "/api/risk/check", {"email": "notanemail"}, status=422)
    assert [e["field"] for e in found["errors"]] == ["email"]
    assert "@" in found["errors"][0]["message"]


def test_a_check_with_nothing_to_check_is_a_422(api: ServedApi) -> None:
    post(api, "/api/risk/check", {}, status=422)


def test_an_unknown_field_is_a_422(api: ServedApi) -> None:
    found = post(api, "/api/risk/check", {"emial": "a@b.co"}, status=422)
    assert found["errors"][0]["field"] == "emial"


def test_batch_scores_accounts_in_the_order_given(api: ServedApi, risk_rows: pd.DataFrame) -> None:
    riskiest = risk_rows["account"].tolist()[:3]
    asked = [riskiest[2], "nobody-at-all", riskiest[0]]
    found = post(api, "/api/risk/accounts", {"accounts": asked})
    assert [a["account"] for a in found["accounts"]] == asked
    assert [a["found"] for a in found["accounts"]] == [True, False, True]
    by_key = risk_rows.set_index("account")
    assert found["accounts"][0]["risk"] == pytest.approx(by_key.loc[riskiest[2], "risk"])


def test_a_hub_is_listed_and_ties_no_one(api: ServedApi) -> None:
    with api.open_store() as store:
        hubs = store.hubs()
    ips = hubs[hubs["kind"] == "IP"]
    assert len(ips), "the generated marketplace has carrier-NAT and café IPs"
    found = post(api, "/api/risk/check", {"ip": ips.iloc[0]["key"]})
    assert [h["ref"] for h in found["hubs"]] == [f"IP:{ips.iloc[0]['key']}"]
    assert found["hubs"][0]["accounts"] == ips.iloc[0]["group_accounts"]
    assert found["identifiers"] == []
    assert found["known_bad_accounts"] == []
    assert found["risk"] == 0.0


def test_batch_takes_at_most_a_thousand_accounts(api: ServedApi) -> None:
    post(api, "/api/risk/accounts", {"accounts": [f"A{i}" for i in range(1001)]}, status=422)
    post(api, "/api/risk/accounts", {"accounts": []}, status=422)


def test_ring_members_identifiers_lead_to_their_ring(api: ServedApi) -> None:
    with api.client() as client:
        ring = client.get("/api/rings", params={"limit": 1}).json()["rings"][0]
        detail = client.get(f"/api/rings/{ring['ring_id']}").json()
    member = detail["members"][0]["account"]
    found = post(api, "/api/risk/check", {"account": member})
    assert found["rings"][0]["ring_id"] == ring["ring_id"]
    assert found["rings"][0]["hops"] == 0
