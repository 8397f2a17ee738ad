"""Rings over HTTP: listing with filters, detail with explanation, graph, status, pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.api_server import INVESTIGATOR_KEY, READ_KEY, ServedApi


def get(api: ServedApi, path: str, **params: Any) -> Any:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def top(api: ServedApi) -> dict[str, Any]:
    """The best-scoring ring's detail."""
    ring_id = get(api, "/api/rings", limit=1)["rings"][0]["ring_id"]
    detail: dict[str, Any] = get(api, f"/api/rings/{ring_id}")
    return detail


def test_rings_are_listed_best_score_first(api: ServedApi) -> None:
    listed = get(api, "/api/rings", limit=20)
    scores = [ring["score"] for ring in listed["rings"]]
    assert listed["total"] >= 10
    assert scores == sorted(scores, reverse=True)


def test_rings_paginate_without_overlap(api: ServedApi) -> None:
    first = get(api, "/api/rings", limit=3, offset=0)["rings"]
    second = get(api, "/api/rings", limit=3, offset=3)["rings"]
    assert len(first) == len(second) == 3
    assert not {r["ring_id"] for r in first} & {r["ring_id"] for r in second}


def test_rings_sort_by_size_ascending(api: ServedApi) -> None:
    sizes = [r["size"] for r in get(api, "/api/rings", sort="size", order="asc")["rings"]]
    assert sizes == sorted(sizes)


def test_rings_filter_by_min_score_and_size(api: ServedApi) -> None:
    everything = get(api, "/api/rings", limit=500)["rings"]
    cut = sorted(r["score"] for r in everything)[len(everything) // 2]
    listed = get(api, "/api/rings", min_score=cut, min_size=4, max_size=30, limit=500)
    expected = [r for r in everything if r["score"] >= cut and 4 <= r["size"] <= 30]
    assert listed["total"] == len(expected)
    assert all(r["score"] >= cut and 4 <= r["size"] <= 30 for r in listed["rings"])


def test_rings_filter_by_typology(api: ServedApi) -> None:
    typology = get(api, "/api/rings", limit=1)["rings"][0]["typology"]
    listed = get(api, "/api/rings", typology=typology, limit=500)["rings"]
    assert listed
    assert {r["typology"] for r in listed} == {typology}


def test_rings_filter_by_member_account(api: ServedApi, top: dict[str, Any]) -> None:
    account = top["members"][0]["account"]
    listed = get(api, "/api/rings", account=account)["rings"]
    assert [r["ring_id"] for r in listed] == [top["ring_id"]]


def test_ring_detail_has_members_evidence_and_explanation(top: dict[str, Any]) -> None:
    assert len(top["members"]) == top["size"]
    assert top["evidence"]["size"] == top["size"]
    assert top["explanation"]["summary"].startswith(f"{top['size']} accounts")
    contributions = sum(c["value"] for c in top["explanation"]["contributions"])
    assert contributions == pytest.approx(top["score"], abs=0.01)


def test_ring_detail_lists_its_members_once_with_all_they_carry(top: dict[str, Any]) -> None:
    assert "members" not in top["evidence"]
    assert "members" not in top["explanation"]
    assert len({m["account"] for m in top["members"]}) == top["size"]
    assert {"role", "pagerank", "degree", "betweenness", "created_at", "known_bad"} <= set(
        top["members"][0]
    )
    assert any(m["created_at"] for m in top["members"])


def test_ring_graph_holds_every_member_and_their_shared_identifiers(
    api: ServedApi, top: dict[str, Any]
) -> None:
    graph = get(api, f"/api/rings/{top['ring_id']}/graph")
    members = {n["key"] for n in graph["nodes"] if n["in_ring"]}
    assert members == {m["account"] for m in top["members"]}
    identifiers = [n for n in graph["nodes"] if not n["in_ring"]]
    assert identifiers
    assert all(n["members"] >= 2 for n in identifiers)
    ids = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])


def test_ring_graph_roles_name_the_organisers(api: ServedApi, top: dict[str, Any]) -> None:
    graph = get(api, f"/api/rings/{top['ring_id']}/graph")
    roles = {n["key"]: n["role"] for n in graph["nodes"] if n["in_ring"]}
    assert roles == {m["account"]: m["role"] for m in top["members"]}


def test_ring_graph_surroundings_add_outside_nodes(api: ServedApi, top: dict[str, Any]) -> None:
    plain = get(api, f"/api/rings/{top['ring_id']}/graph")
    wide = get(api, f"/api/rings/{top['ring_id']}/graph", surroundings=True)
    assert len(wide["nodes"]) > len(plain["nodes"])
    assert {n["role"] for n in wide["nodes"]} >= {"outside"}


def test_ring_graph_cap_says_how_many_were_left_out(api: ServedApi, top: dict[str, Any]) -> None:
    graph = get(api, f"/api/rings/{top['ring_id']}/graph", max_nodes=3)
    assert len(graph["nodes"]) == 3
    assert graph["truncated"]
    assert graph["total_nodes"] > 3
    assert all(n["in_ring"] for n in graph["nodes"])


def test_unknown_ring_is_404_with_a_message(api: ServedApi) -> None:
    with api.client() as client:
        response = client.get("/api/rings/R-does-not-exist")
    assert response.status_code == 404
    assert "R-does-not-exist" in response.json()["detail"]


def test_investigator_sets_status_and_note(api: ServedApi) -> None:
    ring_id = get(api, "/api/rings", limit=1, offset=2)["rings"][0]["ring_id"]
    with api.client(INVESTIGATOR_KEY) as client:
        response = client.put(
            f"/api/rings/{ring_id}/status", json={"status": "benign", "note": "family household"}
        )
    assert response.status_code == 200, response.text
    detail = get(api, f"/api/rings/{ring_id}")
    assert (detail["status"], detail["note"]) == ("benign", "family household")
    assert ring_id in {r["ring_id"] for r in get(api, "/api/rings", status="benign")["rings"]}
    # Seen at once wherever the ring shows, the linkage of its members too (on DuckDB these
    # are read from the server's memory, which the change must have reached).
    member = detail["members"][0]["account"]
    linkage = get(api, f"/api/accounts/{member}/linkage")
    assert [(m["ring_id"], m["status"]) for m in linkage["rings"]] == [(ring_id, "benign")]


def test_unknown_status_is_422_naming_the_field(api: ServedApi, top: dict[str, Any]) -> None:
    with api.client(INVESTIGATOR_KEY) as client:
        response = client.put(f"/api/rings/{top['ring_id']}/status", json={"status": "fraudy"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_status_of_unknown_ring_is_404(api: ServedApi) -> None:
    with api.client(INVESTIGATOR_KEY) as client:
        response = client.put("/api/rings/R-nope/status", json={"status": "confirmed"})
    assert response.status_code == 404


def test_ring_view_needs_nothing_but_this_server(api: ServedApi, top: dict[str, Any]) -> None:
    with api.client(None) as client:
        response = client.get(f"/rings/{top['ring_id']}/view", params={"key": READ_KEY})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert "vis.Network" in page
        assert top["ring_id"] in page
        assert 'rel="stylesheet"' not in page
        # The one script loaded is vis-network, from this server, kept by the browser.
        (script,) = re.findall(r'<script src="([^"]+)"', page)
        assert script.startswith("/assets/")
        served = client.get(script)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert "immutable" in served.headers["cache-control"]
    assert "vis" in served.text[:2000]


def test_ring_view_links_carry_the_key(api: ServedApi, top: dict[str, Any]) -> None:
    with api.client(None) as client:
        page = client.get(f"/rings/{top['ring_id']}/view", params={"key": READ_KEY}).text
    links = re.findall(r'href="(/[^"]*)"', page)
    assert any("surroundings=true" in link for link in links)
    assert all(link.endswith(f"key={READ_KEY}") for link in links)


def test_ring_view_export_links_download_the_case_file(api: ServedApi, top: dict[str, Any]) -> None:
    with api.client(None) as client:
        page = client.get(f"/rings/{top['ring_id']}/view", params={"key": READ_KEY}).text
        exports = re.findall(r'class="export" href="([^"]*)"', page)
        types = [client.get(html.unescape(link)).headers["content-type"] for link in exports]
    assert [t.split(";")[0] for t in types] == ["text/html", "application/pdf", "application/zip"]


def test_ring_view_of_a_capped_ring_says_showing_n_of_m(
    api: ServedApi, top: dict[str, Any]
) -> None:
    with api.client() as client:
        page = client.get(f"/rings/{top['ring_id']}/view", params={"max_nodes": 3}).text
    assert "Showing 3 of" in page


def test_index_page_links_the_top_rings_to_their_views(api: ServedApi) -> None:
    ring_ids = [r["ring_id"] for r in get(api, "/api/rings", limit=5)["rings"]]
    with api.client(None) as client:
        page = client.get("/", params={"key": READ_KEY}).text
    for ring_id in ring_ids:
        assert f'href="/rings/{ring_id}/view?key={READ_KEY}"' in page
