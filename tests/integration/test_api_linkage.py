"""Linkage over HTTP: an account's rings and neighbours, paths, accounts sharing an identifier."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graphfraud.model import EntityRef
from tests.api_server import ServedApi


def get(api: ServedApi, path: str, *, status: int = 200, **params: Any) -> Any:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def ring(api: ServedApi) -> dict[str, Any]:
    ring_id = get(api, "/api/rings", limit=1)["rings"][0]["ring_id"]
    detail: dict[str, Any] = get(api, f"/api/rings/{ring_id}")
    return detail


@pytest.fixture(scope="module")
def graph(api: ServedApi, ring: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = get(api, f"/api/rings/{ring['ring_id']}/graph")
    return found


def test_member_linkage_names_its_ring_and_role(api: ServedApi, ring: dict[str, Any]) -> None:
    member = ring["members"][0]
    linkage = get(api, f"/api/accounts/{member['account']}/linkage")
    assert linkage["account"]["key"] == member["account"]
    assert [(m["ring_id"], m["role"]) for m in linkage["rings"]] == [
        (ring["ring_id"], member["role"])
    ]


def test_linkage_lists_the_neighbours_and_links(api: ServedApi, ring: dict[str, Any]) -> None:
    account = ring["members"][0]["account"]
    linkage = get(api, f"/api/accounts/{account}/linkage")
    neighbours = {n["ref"] for n in linkage["neighbours"]}
    assert neighbours
    ends = {ref for link in linkage["links"] for ref in (link["source"], link["target"])}
    assert neighbours <= ends


def test_linkage_times_carry_a_utc_offset(api: ServedApi, ring: dict[str, Any]) -> None:
    """The schema says date-time (RFC 3339), which needs an offset; stores keep UTC."""
    account = ring["members"][0]["account"]
    linkage = get(api, f"/api/accounts/{account}/linkage")
    stamps = [link["first_seen"] for link in linkage["links"] if link["first_seen"]]
    stamps += [n["created_at"] for n in linkage["neighbours"] if n.get("created_at")]
    assert stamps
    assert all(stamp.endswith(("Z", "+00:00")) for stamp in stamps), stamps[:3]


def test_linkage_accepts_the_kind_prefix(api: ServedApi, ring: dict[str, Any]) -> None:
    account = ring["members"][0]["account"]
    linkage = get(api, f"/api/accounts/Account:{account}/linkage")
    assert linkage["account"]["key"] == account


def test_linkage_of_an_account_in_no_ring_lists_no_ring(api: ServedApi) -> None:
    candidates = (f"A{i:07d}" for i in range(1, 200))
    outsider = next(a for a in candidates if get(api, "/api/rings", account=a)["total"] == 0)
    linkage = get(api, f"/api/accounts/{outsider}/linkage")
    assert linkage["account"]["key"] == outsider
    assert linkage["rings"] == []


def test_linkage_of_unknown_account_is_404(api: ServedApi) -> None:
    body = get(api, "/api/accounts/no-such-account/linkage", status=404)
    assert "no-such-account" in body["detail"]


def test_linkage_of_another_kind_is_400(api: ServedApi) -> None:
    body = get(api, "/api/accounts/Device:abc/linkage", status=400)
    assert "not an account" in body["detail"]


def test_linkage_hops_out_of_range_is_422_naming_hops(api: ServedApi, ring: dict[str, Any]) -> None:
    account = ring["members"][0]["account"]
    body = get(api, f"/api/accounts/{account}/linkage", status=422, hops=9)
    assert [e["field"] for e in body["errors"]] == ["hops"]


@pytest.fixture(scope="module")
def quiet_pair(api: ServedApi) -> tuple[str, str]:
    """Two ring members that share an identifier and have no direct account links at all, so
    any path of two links between them runs through an identifier."""
    for listed in get(api, "/api/rings", limit=20)["rings"]:
        graph = get(api, f"/api/rings/{listed['ring_id']}/graph")
        direct = {
            ref
            for e in graph["edges"]
            if e["target"].startswith("Account:")
            for ref in (e["source"], e["target"])
        }
        for shared in (n for n in graph["nodes"] if n["role"] == "shared"):
            users = sorted(e["source"] for e in graph["edges"] if e["target"] == shared["id"])
            quiet = [ref.split(":", 1)[1] for ref in users if ref not in direct]
            if len(quiet) >= 2:
                return quiet[0], quiet[1]
    raise AssertionError("no ring has two members tied only through identifiers")


def test_path_between_members_sharing_an_identifier_runs_through_it(
    api: ServedApi, quiet_pair: tuple[str, str]
) -> None:
    a, b = quiet_pair
    path = get(api, f"/api/accounts/{a}/path", to=b)
    assert path["linked"]
    assert path["hops"] == 2
    assert [n["key"] for n in path["nodes"]][0::2] == [a, b]
    assert path["shared_identifiers"] == [path["nodes"][1]]
    assert path["nodes"][1]["kind"] != "Account"


def test_path_links_follow_the_nodes(api: ServedApi, ring: dict[str, Any]) -> None:
    a, b = ring["members"][0]["account"], ring["members"][-1]["account"]
    path = get(api, f"/api/accounts/{a}/path", to=b, max_hops=6)
    assert path["linked"]
    refs = [n["ref"] for n in path["nodes"]]
    for link, (here, there) in zip(path["links"], itertools.pairwise(refs), strict=True):
        assert {link["source"], link["target"]} == {here, there}


def test_no_path_within_the_hops_is_not_linked(api: ServedApi, ring: dict[str, Any]) -> None:
    a = ring["members"][0]["account"]
    far = get(api, "/api/rings", limit=1, offset=5)["rings"][0]["ring_id"]
    b = get(api, f"/api/rings/{far}")["members"][0]["account"]
    path = get(api, f"/api/accounts/{a}/path", to=b, max_hops=1)
    assert path == {
        "source": a, "target": b, "linked": False, "hops": None, "nodes": [], "links": [],
        "shared_identifiers": [], "hubs_crossed": [], "through_hubs": False,
    }  # fmt: skip


def test_path_to_unknown_account_is_404(api: ServedApi, ring: dict[str, Any]) -> None:
    a = ring["members"][0]["account"]
    get(api, f"/api/accounts/{a}/path", status=404, to="nobody")


def test_path_without_target_is_422_naming_to(api: ServedApi, ring: dict[str, Any]) -> None:
    body = get(api, f"/api/accounts/{ring['members'][0]['account']}/path", status=422)
    assert [e["field"] for e in body["errors"]] == ["to"]


def test_accounts_sharing_an_identifier_include_the_ring_members(
    api: ServedApi, graph: dict[str, Any]
) -> None:
    shared = next(n for n in graph["nodes"] if n["role"] == "shared")
    sharing = get(api, "/api/identifiers/accounts", ref=shared["ref"])
    assert sharing["identifier"]["ref"] == shared["ref"]
    members = {e["source"].split(":", 1)[1] for e in graph["edges"] if e["target"] == shared["id"]}
    assert members <= {a["account"] for a in sharing["accounts"]}
    assert sharing["total"] >= shared["members"]


def test_identifier_is_found_as_the_source_spelled_it(api: ServedApi, ring: dict[str, Any]) -> None:
    wide = get(api, f"/api/rings/{ring['ring_id']}/graph", surroundings=True, max_nodes=5000)
    email = next(n for n in wide["nodes"] if n["kind"] == "Email")
    sharing = get(api, "/api/identifiers/accounts", ref=f"Email: {email['key'].upper()} ")
    assert sharing["identifier"]["key"] == email["key"]


def test_unknown_identifier_is_404(api: ServedApi) -> None:
    get(api, "/api/identifiers/accounts", status=404, ref="Device:not-a-device")


def test_identifier_without_kind_is_422_naming_ref(api: ServedApi) -> None:
    body = get(api, "/api/identifiers/accounts", status=422, ref="just-a-key")
    assert [e["field"] for e in body["errors"]] == ["ref"]


@pytest.fixture(scope="module")
def hub_pair(api: ServedApi) -> tuple[str, str, str]:
    """Two accounts whose shortest tie is a hub IP they both logged in from, and the hub."""
    with api.open_store() as store:
        hubs = store.hubs()
        ip = hubs[hubs["kind"] == "IP"].iloc[0]["key"]
        users = store.accounts_sharing(EntityRef("IP", ip))["account"].tolist()
    return users[0], users[-1], ip


def test_paths_step_around_hubs_unless_asked(
    api: ServedApi, hub_pair: tuple[str, str, str]
) -> None:
    a, b, ip = hub_pair
    through = get(api, f"/api/accounts/{a}/path", to=b, through_hubs=True, max_hops=2)
    assert through["linked"]
    assert [n["ref"] for n in through["hubs_crossed"]] == [f"IP:{ip}"]
    assert through["nodes"][1]["hub"]
    around = get(api, f"/api/accounts/{a}/path", to=b, max_hops=6)
    assert f"IP:{ip}" not in [n["ref"] for n in around["nodes"]]
    assert around["hubs_crossed"] == []


def test_entities_carry_their_degree_and_hub_flag(
    api: ServedApi, hub_pair: tuple[str, str, str]
) -> None:
    a, _, ip = hub_pair
    linkage = get(api, f"/api/accounts/{a}/linkage")
    hub = next(n for n in linkage["neighbours"] if n["ref"] == f"IP:{ip}")
    assert hub["hub"]
    assert hub["degree"] >= 10
    mine = linkage["account"]["ref"]
    touching = [li for li in linkage["links"] if mine in (li["source"], li["target"])]
    assert linkage["account"]["degree"] == len(touching)
    assert not linkage["account"]["hub"]


def test_identifier_listings_are_paginated(api: ServedApi, hub_pair: tuple[str, str, str]) -> None:
    _, _, ip = hub_pair
    first = get(api, "/api/identifiers/accounts", ref=f"IP:{ip}", limit=5)
    assert (first["offset"], first["limit"], len(first["accounts"])) == (0, 5, 5)
    assert first["total"] > 5
    assert first["identifier"]["hub"]
    assert first["identifier"]["degree"] == first["total"]
    second = get(api, "/api/identifiers/accounts", ref=f"IP:{ip}", limit=5, offset=5)
    assert not {a["account"] for a in first["accounts"]} & {
        a["account"] for a in second["accounts"]
    }


def test_a_malformed_identifier_is_a_422_saying_why(api: ServedApi) -> None:
    body = get(api, "/api/identifiers/accounts", status=422, ref="Email:notanemail")
    assert "@" in body["errors"][0]["message"]


def test_an_unknown_kind_is_a_422_naming_the_kinds(api: ServedApi) -> None:
    body = get(api, "/api/identifiers/accounts", status=422, ref="Widget:x1")
    assert "Device" in body["errors"][0]["message"]
    assert "Email" in body["errors"][0]["message"]


def test_a_card_number_is_looked_up_by_its_fingerprint(api: ServedApi, marketplace: Path) -> None:
    cards = pd.read_csv(marketplace / "payment_methods.csv", dtype=str)
    number = cards["card_number"].iloc[0]
    found = get(api, "/api/identifiers/accounts", ref=f"PaymentInstrument:{number}")
    assert found["identifier"]["key"].startswith("pi_")
    assert cards["account_id"].iloc[0] in {a["account"] for a in found["accounts"]}
    unknown = get(api, "/api/identifiers/accounts", status=404, ref="PaymentInstrument:1234")
    assert "looked up by the fingerprint" in unknown["detail"]


def test_an_unknown_typology_is_a_422_listing_the_typologies(api: ServedApi) -> None:
    body = get(api, "/api/rings", status=422, typology="nonsense")
    assert "device_farm" in body["errors"][0]["message"]


def test_account_ids_with_a_slash_reach_the_account_lookup(api: ServedApi) -> None:
    for written in ("shop/7", "shop%2F7"):
        with api.client() as client:
            response = client.get(f"/api/accounts/{written}/linkage")
        assert response.status_code == 404, response.text
        assert "shop/7" in response.json()["detail"], "the store was asked, not the router"
