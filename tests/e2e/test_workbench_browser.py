"""The investigator workbench in real headless Chromium: find, filter, act, explore.

Each test drives the pages as an investigator would (typing, clicking, double-clicking,
dragging a slider) on a served DuckDB store of the generated marketplace, and checks what the
page then shows. Pages may only reach 127.0.0.1 (``offline_page``). Screenshots go to
``test-artifacts/workbench-*.png``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Page

from api.workbench import EXPAND_LIMIT
from graphfraud.settings import Settings
from loaders.normalise import NormaliseOptions, normalise
from tests.api_server import (
    INVESTIGATOR,
    INVESTIGATOR_KEY,
    READ_KEY,
    ServedApi,
    api_settings,
    duckdb_marketplace,
    serving,
)
from tests.e2e.conftest import ARTIFACTS, OfflinePage

pytestmark = pytest.mark.browser

SETTLE_MS = 15_000


@pytest.fixture(scope="module")
def served(marketplace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    """The API over a store of this module's own: these tests change verdicts."""
    store_url = duckdb_marketplace(marketplace, tmp_path_factory.mktemp("workbench"))
    with serving(api_settings(), store_url, engine="duckdb") as api:
        yield api


@pytest.fixture(scope="module")
def rings(served: ServedApi) -> list[dict[str, Any]]:
    with served.client() as client:
        found: list[dict[str, Any]] = client.get("/api/rings", params={"limit": 500}).json()[
            "rings"
        ]
    return found


@pytest.fixture
def page(offline_page: Callable[[], OfflinePage]) -> Iterator[Page]:
    """A fresh offline page; the test fails if it logged an error or left the machine."""
    opened = offline_page()
    yield opened.page
    assert opened.console_errors == []
    assert opened.left_the_machine == []


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"workbench-{name}.png"))


def open_view(page: Page, served: ServedApi, ring_id: str, key: str, **params: str) -> None:
    query = "".join(f"&{name}={value}" for name, value in params.items())
    page.goto(f"{served.url}/rings/{ring_id}/view?key={key}{query}")
    settled(page)


def settled(page: Page) -> None:
    page.wait_for_function("window.ringView && window.ringView.stabilised", timeout=SETTLE_MS)


def send(page: Page, form: str) -> None:
    """Submit a form of the ring page and wait for the page it leads back to."""
    with page.expect_navigation():
        page.click(f"{form} button")
    settled(page)


def search(page: Page, served: ServedApi, text: str) -> None:
    page.goto(f"{served.url}/?key={READ_KEY}")
    page.fill("#search-q", text)
    page.click("#search button")
    page.wait_for_load_state()


def visible_nodes(page: Page, kind: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        """(kind) => window.ringView.data.nodes.get({filter: (n) =>
            !n.hidden && (kind === null || n.kind === kind)})""",
        kind,
    )
    return found


# -- find ----------------------------------------------------------------------------------


def test_search_by_ring_id_opens_the_ring(page: Page, served: ServedApi, rings: list) -> None:
    ring_id = rings[3]["ring_id"]
    search(page, served, ring_id)
    assert f"/rings/{ring_id}/view" in page.url
    assert ring_id in page.inner_text("h1")


def test_search_finds_an_email_written_as_the_source_had_it(
    page: Page, served: ServedApi, rings: list, marketplace: Path
) -> None:
    members = {m["account"] for ring in rings for m in _members(served, ring["ring_id"])}
    with (marketplace / "accounts.csv").open() as source:
        email = next(
            row["email"]
            for row in csv.DictReader(source)
            if row["account_id"] in members and row["email"].endswith("@gmail.com")
        )
    local, domain = email.split("@")
    typed = f"{local.title()}+promo@{domain.upper()}"
    canonical = _normalised("Email", typed, served)
    search(page, served, typed)
    shot(page, "search-email")
    hits = page.inner_text("#hits")
    assert canonical in hits
    assert "ring" in hits.lower()


def test_search_finds_a_card_by_its_number(
    page: Page, served: ServedApi, rings: list, marketplace: Path
) -> None:
    members = {m["account"] for ring in rings for m in _members(served, ring["ring_id"])}
    with (marketplace / "payment_methods.csv").open() as source:
        row = next(r for r in csv.DictReader(source) if r["account_id"] in members)
    search(page, served, row["card_number"])
    hits = page.inner_text("#hits")
    assert _normalised("PaymentInstrument", row["card_number"], served) in hits
    assert row["account_id"] in hits
    # The number typed never shows in the URL (and so in history or access logs).
    assert row["card_number"] not in page.url


def test_search_for_nothing_known_says_so(page: Page, served: ServedApi) -> None:
    search(page, served, "no-such-thing-anywhere")
    assert page.is_visible("#no-hits")


def test_filtering_by_typology_lists_only_that_typology(page: Page, served: ServedApi) -> None:
    page.goto(f"{served.url}/?key={READ_KEY}")
    page.select_option("select[name=typology]", "device_farm")
    page.click("#apply-filters")
    page.wait_for_load_state()
    shot(page, "index-filtered")
    typologies = page.locator("#rings td.typology").all_inner_texts()
    assert typologies
    assert set(typologies) == {"device farm"}
    assert "typology=device_farm" in page.url


def test_a_bad_filter_value_is_explained_on_the_page(page: Page, served: ServedApi) -> None:
    answer = page.goto(f"{served.url}/?key={READ_KEY}&typology=device_farms&min_size=lots")
    assert answer is not None
    assert answer.status == 200
    assert "text/html" in answer.headers["content-type"]
    errors = page.locator("p.error").all_inner_texts()
    assert any("typology 'device_farms' was ignored" in e for e in errors)
    assert any("min size 'lots' was ignored" in e for e in errors)
    assert page.locator("#rings tr").count() > 1


def test_sorting_by_size_ascending(page: Page, served: ServedApi) -> None:
    page.goto(f"{served.url}/?key={READ_KEY}")
    page.select_option("select[name=sort]", "size")
    page.select_option("select[name=order]", "asc")
    page.click("#apply-filters")
    page.wait_for_load_state()
    sizes = [int(text) for text in page.locator("#rings td:nth-child(3)").all_inner_texts()]
    assert sizes == sorted(sizes)


def test_pagination_keeps_the_filters(page: Page, served: ServedApi, rings: list) -> None:
    page.goto(f"{served.url}/?key={READ_KEY}&limit=3&sort=ring_id&order=asc")
    first = page.locator("a.ring-link").all_inner_texts()
    page.click("#next")
    page.wait_for_load_state()
    second = page.locator("a.ring-link").all_inner_texts()
    ordered = sorted(ring["ring_id"] for ring in rings)
    assert first == ordered[:3]
    assert second == ordered[3:6]


# -- act -----------------------------------------------------------------------------------


def test_status_change_appears_in_the_audit_trail(
    page: Page, served: ServedApi, rings: list
) -> None:
    ring_id = rings[0]["ring_id"]
    open_view(page, served, ring_id, INVESTIGATOR_KEY)
    page.select_option("#status-form select[name=status]", "confirmed")
    page.fill("#status-form input[name=note]", "same farm as case 12")
    send(page, "#status-form")
    shot(page, "status-changed")
    assert page.inner_text("#ring-status") == "confirmed"
    latest = page.locator("#audit tr").all_inner_texts()
    assert any(INVESTIGATOR in row and "new → confirmed" in row for row in latest)
    assert "same farm as case 12" in page.inner_text("#notes")
    with served.client() as client:
        trail = client.get(f"/api/rings/{ring_id}/audit").json()
    assert any(
        (e["field"], e["old"], e["new"], e["actor"]) == ("status", "new", "confirmed", INVESTIGATOR)
        for e in trail
    )


def test_assigning_the_ring_shows_who_and_the_change(
    page: Page, served: ServedApi, rings: list
) -> None:
    ring_id = rings[1]["ring_id"]
    open_view(page, served, ring_id, INVESTIGATOR_KEY)
    page.fill("#assignee-form input[name=assignee]", "Ada Analyst")
    send(page, "#assignee-form")
    assert page.inner_text("#ring-assignee") == "Ada Analyst"
    assert any("— → Ada Analyst" in row for row in page.locator("#audit tr").all_inner_texts())


def test_notes_are_added_never_replaced(page: Page, served: ServedApi, rings: list) -> None:
    ring_id = rings[2]["ring_id"]
    open_view(page, served, ring_id, INVESTIGATOR_KEY)
    for text in ("first look: shared card", "second look: same device too"):
        page.fill("#note-form textarea", text)
        send(page, "#note-form")
    notes = page.locator("#notes li").all_inner_texts()
    assert "first look: shared card" in notes[0]
    assert "second look: same device too" in notes[1]
    assert all(INVESTIGATOR in note for note in notes)
    shot(page, "notes")


def test_a_read_only_key_sees_no_forms(page: Page, served: ServedApi, rings: list) -> None:
    open_view(page, served, rings[0]["ring_id"], READ_KEY)
    assert page.locator("#status-form, #assignee-form, #note-form").count() == 0
    assert page.is_visible("#read-only")


def test_a_form_sent_with_a_forged_token_is_refused(
    offline_page: Callable[[], OfflinePage], served: ServedApi, rings: list
) -> None:
    # Not the ``page`` fixture: the browser rightly logs the 403 as a console error.
    opened = offline_page()
    page = opened.page
    ring_id = rings[4]["ring_id"]
    open_view(page, served, ring_id, INVESTIGATOR_KEY)
    page.eval_on_selector("#status-form input[name=csrf_token]", "(e) => e.value = 'forged'")
    page.click("#status-form button")
    page.wait_for_load_state()
    assert "form refused" in page.inner_text("#error")
    assert opened.left_the_machine == []
    with served.client() as client:
        assert client.get(f"/api/rings/{ring_id}").json()["status"] == "new"


def test_the_graph_json_link_works_in_a_browser(page: Page, served: ServedApi, rings: list) -> None:
    open_view(page, served, rings[0]["ring_id"], READ_KEY)
    page.click("#graph-json")
    page.wait_for_load_state()
    assert '"ring_id"' in page.inner_text("body")


# -- explore -------------------------------------------------------------------------------


def _hub_ring(served: ServedApi, rings: list) -> tuple[str, dict[str, Any]]:
    with served.client() as client:
        for ring in rings:
            graph = client.get(f"/api/rings/{ring['ring_id']}/graph").json()
            hubs = [
                node
                for node in graph["nodes"]
                if node["role"] == "hub" and (node["accounts"] or 0) > EXPAND_LIMIT
            ]
            if hubs:
                return ring["ring_id"], hubs[0]
    raise AssertionError("no ring of the marketplace has a hub")


def _node_point(page: Page, node_id: str) -> dict[str, float]:
    point: dict[str, float] = page.evaluate(
        """(id) => {
            const net = window.ringView.network;
            net.focus(id, {scale: 1.2});
            const dom = net.canvasToDOM(net.getPositions([id])[id]);
            const box = document.getElementById("network").getBoundingClientRect();
            return {x: box.left + dom.x, y: box.top + dom.y};
        }""",
        node_id,
    )
    return point


def test_double_clicking_a_node_expands_it(page: Page, served: ServedApi, rings: list) -> None:
    ring_id = rings[0]["ring_id"]
    open_view(page, served, ring_id, READ_KEY, view="plain")
    before = page.evaluate("window.ringView.data.nodes.length")
    member = page.evaluate(
        "window.ringView.data.nodes.get({filter: (n) => n.kind === 'Account'})[0].id"
    )
    page.wait_for_timeout(600)  # let focus's animation end before aiming
    point = _node_point(page, member)
    page.wait_for_timeout(600)
    point = _node_point(page, member)
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_function(
        "(id) => window.ringView.expanded.includes(id)", arg=member, timeout=10_000
    )
    shot(page, "expanded")
    assert page.evaluate("window.ringView.data.nodes.length") > before
    assert "Expanded" in page.inner_text("#explore-status")


def test_expanding_a_hub_collapses_its_users_into_one_counted_node(
    page: Page, served: ServedApi, rings: list
) -> None:
    ring_id, hub = _hub_ring(served, rings)
    open_view(page, served, ring_id, READ_KEY, view="plain")
    page.evaluate("(id) => window.ringView.expand(id)", hub["id"])
    page.wait_for_function(
        "(id) => window.ringView.expanded.includes(id)", arg=hub["id"], timeout=10_000
    )
    counted = page.evaluate("(id) => window.ringView.data.nodes.get(id + '#more')", hub["id"])
    assert hub["accounts"] > EXPAND_LIMIT
    assert counted is not None
    assert counted["label"] == f"+{hub['accounts'] - EXPAND_LIMIT:,} more"
    shown = page.evaluate(
        "(id) => window.ringView.data.edges.get({filter: (e) => e.to === id}).length", hub["id"]
    )
    assert shown <= EXPAND_LIMIT + len(_members(served, ring_id))
    assert page.evaluate("(id) => window.ringView.data.nodes.get(id).hub", hub["id"]) is True


def test_hiding_hubs_hides_every_hub(page: Page, served: ServedApi, rings: list) -> None:
    ring_id, hub = _hub_ring(served, rings)
    open_view(page, served, ring_id, READ_KEY, view="plain")
    assert any(n["id"] == hub["id"] for n in visible_nodes(page))
    page.check("#hide-hubs")
    shot(page, "hubs-hidden")
    assert not any(n["hub"] for n in visible_nodes(page))
    assert page.evaluate("window.ringView.data.nodes.get({filter: (n) => n.hub}).length") > 0


def test_hubs_are_drawn_dashed(page: Page, served: ServedApi, rings: list) -> None:
    ring_id, hub = _hub_ring(served, rings)
    open_view(page, served, ring_id, READ_KEY, view="plain")
    dashes = page.evaluate(
        "(id) => window.ringView.data.nodes.get(id).shapeProperties.borderDashes", hub["id"]
    )
    assert dashes == [5, 4]


def test_filtering_by_kind_hides_that_kind(page: Page, served: ServedApi, rings: list) -> None:
    ring_id = next(r["ring_id"] for r in rings if r["typology"] == "device_farm")
    open_view(page, served, ring_id, READ_KEY, view="plain")
    assert visible_nodes(page, "Device")
    page.uncheck(".kind-filter[data-kind=Device]")
    assert visible_nodes(page, "Device") == []
    assert visible_nodes(page, "Account")


def test_path_between_two_members_is_highlighted(
    page: Page, served: ServedApi, rings: list
) -> None:
    ring_id = rings[0]["ring_id"]
    members = sorted(m["account"] for m in _members(served, ring_id))
    open_view(page, served, ring_id, READ_KEY, view="plain")
    page.select_option("#path-from", members[0])
    page.select_option("#path-to", members[-1])
    page.click("#path-find")
    shot(page, "path")
    path = page.evaluate("window.ringView.highlighted")
    assert path[0] == f"Account:{members[0]}"
    assert path[-1] == f"Account:{members[-1]}"
    assert "Path of" in page.inner_text("#explore-status")


def test_money_cycle_is_highlighted(page: Page, served: ServedApi, rings: list) -> None:
    with served.client() as client:
        ring = next(
            detail
            for r in rings
            if r["typology"] == "money_cycle"
            and (detail := client.get(f"/api/rings/{r['ring_id']}").json())["evidence"]["links"][
                "cycle"
            ]
        )
    open_view(page, served, ring["ring_id"], READ_KEY, view="plain")
    page.click("#cycle-show")
    cycle = {f"Account:{a}" for a in ring["evidence"]["links"]["cycle"]}
    assert set(page.evaluate("window.ringView.highlighted")) == cycle
    shot(page, "money-cycle")


def test_timeline_filter_hides_nodes_outside_the_window(
    page: Page, served: ServedApi, rings: list
) -> None:
    open_view(page, served, rings[0]["ring_id"], READ_KEY, view="plain")
    before = len(visible_nodes(page))
    low = page.get_attribute("#time-until", "min")
    page.eval_on_selector(
        "#time-until",
        "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }",
        low,
    )
    shot(page, "timeline-filtered")
    after = visible_nodes(page)
    assert len(after) < before
    assert all(not n["times"] or min(n["times"]) <= int(low or 0) for n in after)
    assert page.locator("#timeline circle.out").count() > 0


def test_grouped_view_draws_groups_with_devices_and_cards_on_top(
    page: Page, served: ServedApi, rings: list
) -> None:
    ring = max(rings, key=lambda r: r["size"])
    open_view(page, served, ring["ring_id"], READ_KEY, view="grouped")
    shot(page, "grouped")
    nodes = page.evaluate("window.ringView.data.nodes.get()")
    groups = [n for n in nodes if n["kind"] == "Group"]
    assert groups
    assert sum(len(g["accounts"]) for g in groups) == ring["size"]
    assert all(n["level"] == 0 for n in nodes if n["kind"] in ("Device", "PaymentInstrument"))
    assert all(n["level"] == 2 for n in groups)


# -- helpers -------------------------------------------------------------------------------


def _members(served: ServedApi, ring_id: str) -> list[dict[str, Any]]:
    with served.client() as client:
        members: list[dict[str, Any]] = client.get(f"/api/rings/{ring_id}").json()["members"]
    return members


def _normalised(kind: str, text: str, served: ServedApi) -> str:
    with served.open_store() as store:
        key = store.fingerprint_key()
    options = NormaliseOptions.from_settings(Settings(), fingerprint_key=key)
    return str(normalise(kind, pd.Series([text]), options).values.iloc[0])
