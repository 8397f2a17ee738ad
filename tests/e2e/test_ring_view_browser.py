"""The ring view in real headless Chromium: it draws, settles, explains on hover, stays offline.

The page may only reach 127.0.0.1 (``offline_page``), so a page that reached for a CDN fails
here. A screenshot of the view is saved to ``test-artifacts/ring-view.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.api_server import READ_KEY, ServedApi
from tests.e2e.conftest import ARTIFACTS, OfflinePage

pytestmark = pytest.mark.browser

SETTLE_MS = 15_000


@dataclass
class OpenedView:
    """A ring view loaded in the browser, and what happened while it loaded."""

    page: Page
    graph: dict[str, Any]
    console_errors: list[str] = field(default_factory=list)
    left_the_machine: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def view(api: ServedApi, offline_page: Callable[[], OfflinePage]) -> OpenedView:
    """The best ring's view, opened as an investigator would, once settled."""
    headers = {"X-API-Key": READ_KEY}
    with api.client() as client:
        ring_id = client.get("/api/rings", params={"limit": 1}).json()["rings"][0]["ring_id"]
        graph = client.get(f"/api/rings/{ring_id}/graph", headers=headers).json()
    opened = offline_page()
    opened.page.goto(f"{api.url}/rings/{ring_id}/view?key={READ_KEY}")
    opened.page.wait_for_function(
        "window.ringView && window.ringView.stabilised", timeout=SETTLE_MS
    )
    return OpenedView(opened.page, graph, opened.console_errors, opened.left_the_machine)


def test_the_network_draws_every_node_of_the_ring(view: OpenedView) -> None:
    drawn = view.page.evaluate("window.ringView.network.body.data.nodes.length")
    assert drawn == len(view.graph["nodes"])
    placed = view.page.evaluate("Object.keys(window.ringView.network.getPositions()).length")
    assert placed == drawn


def test_physics_stops_once_the_layout_has_settled(view: OpenedView) -> None:
    assert view.page.evaluate("window.ringView.network.physics.options.enabled") is False
    assert "laid out" in view.page.inner_text("#layout-status")


def test_hovering_a_member_shows_its_evidence(view: OpenedView) -> None:
    member = next(n for n in view.graph["nodes"] if n["in_ring"])
    point = view.page.evaluate(
        """(id) => {
            const net = window.ringView.network;
            const dom = net.canvasToDOM(net.getPositions([id])[id]);
            const box = document.getElementById("network").getBoundingClientRect();
            return {x: box.left + dom.x, y: box.top + dom.y};
        }""",
        member["id"],
    )
    view.page.mouse.move(point["x"], point["y"])
    tooltip = view.page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
    assert tooltip is not None
    text = tooltip.inner_text()
    assert member["key"] in text
    assert "PageRank" in text


def test_the_legend_names_every_kind_drawn(view: OpenedView) -> None:
    legend = view.page.inner_text(".legend")
    for kind in {n["kind"] for n in view.graph["nodes"]}:
        assert kind in legend


def test_no_console_errors(view: OpenedView) -> None:
    assert view.console_errors == []


def test_no_request_leaves_the_machine(view: OpenedView) -> None:
    assert view.left_the_machine == []


def test_screenshot_is_saved(view: OpenedView) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "ring-view.png"
    view.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
